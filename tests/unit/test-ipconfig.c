/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "nm-sshtun-ipconfig.h"

#include <arpa/inet.h>
#include <string.h>

static SshtunIpConfig *
parse_ok(const char *text, GPtrArray *warnings)
{
    g_autoptr(GError) error = NULL;
    SshtunIpConfig *config = sshtun_ip_config_parse(text, strlen(text), warnings, &error);

    g_assert_no_error(error);
    g_assert_nonnull(config);
    return config;
}

static void
expect_error(const char *text, gsize len, const char *part)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SshtunIpConfig) config = sshtun_ip_config_parse(text, len, NULL, &error);

    g_assert_null(config);
    g_assert_nonnull(error);
    if (!strstr(error->message, part))
        g_error("\"%s\": message \"%s\" lacks \"%s\"", text, error->message, part);
}

static void
test_full_configuration(void)
{
    const char *text = "ADDR 10.0.1.1            # local tunnel address\n"
                       "PEER_ADDR 10.0.1.3\n"
                       "NETMASK 255.255.255.0\n"
                       "GW_ADDR 192.0.2.7\n"
                       "MTU 1400\n"
                       "ADDR6 fd00::2/64\n"
                       "PEER_ADDR6 fd00::1\n"
                       "DNS 10.0.1.3\n"
                       "DNS fd00::53\n"
                       "DOMAIN corp.example\n"
                       "DOMAIN lab.example\n"
                       "ROUTE 10.20.0.0/16\n"
                       "ROUTE fd20::/48\n";
    g_autoptr(SshtunIpConfig) c = parse_ok(text, NULL);
    g_autofree char *canonical = sshtun_ip_config_to_text(c);
    char buf[INET6_ADDRSTRLEN];

    g_assert_true(c->has_addr4);
    g_assert_cmpstr(inet_ntop(AF_INET, &c->addr4, buf, sizeof buf), ==, "10.0.1.1");
    g_assert_cmpuint(c->prefix4, ==, 24);
    g_assert_true(c->has_peer4);
    g_assert_true(c->has_gateway);
    g_assert_cmpint(c->gateway_family, ==, AF_INET);
    g_assert_cmpuint(c->mtu, ==, 1400);
    g_assert_true(c->has_addr6);
    g_assert_cmpuint(c->prefix6, ==, 64);
    g_assert_cmpuint(c->dns4->len, ==, 1);
    g_assert_cmpuint(c->dns6->len, ==, 1);
    g_assert_cmpuint(c->domains->len, ==, 2);
    g_assert_cmpuint(c->routes->len, ==, 2);
    g_assert_cmpuint(g_array_index(c->routes, SshtunRoute, 1).prefix, ==, 48);
    g_assert_cmpstr(canonical, ==,
                    "ADDR 10.0.1.1\nPEER_ADDR 10.0.1.3\nPREFIX 24\nADDR6 fd00::2/64\n"
                    "PEER_ADDR6 fd00::1\nGW_ADDR 192.0.2.7\nMTU 1400\nDNS 10.0.1.3\nDNS fd00::53\n"
                    "DOMAIN corp.example\nDOMAIN lab.example\nROUTE 10.20.0.0/16\n"
                    "ROUTE fd20::/48\n");
}

static void
test_canonical_form_reads_back(void)
{
    g_autoptr(SshtunIpConfig) first = parse_ok("ADDR 10.0.0.5\nPREFIX 30\nADDR6 fd00::5\n"
                                               "ROUTE 0.0.0.0/0\n",
                                               NULL);
    g_autofree char *text1 = sshtun_ip_config_to_text(first);
    g_autoptr(SshtunIpConfig) second = parse_ok(text1, NULL);
    g_autofree char *text2 = sshtun_ip_config_to_text(second);

    g_assert_cmpstr(text1, ==, text2);
    g_assert_cmpuint(second->prefix6, ==, 128);
}

static void
test_unknown_keys_warn(void)
{
    g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(SshtunIpConfig) c
            = parse_ok("\n  \n# comment\nADDR 10.0.0.1\nWINS 10.0.0.9\n", warnings);

    g_assert_cmpuint(warnings->len, ==, 1);
    g_assert_cmpstr(warnings->pdata[0], ==,
                    "IP configuration line 5: unknown key \"WINS\" skipped");
}

static void
test_original_sshtun_config_output(void)
{
    /* As the sshtun_config script of the original NetworkManager-sshtun prints. */
    g_autoptr(SshtunIpConfig) c = parse_ok("ADDR 10.0.1.1\r\nPEER_ADDR 10.0.1.3\r\n"
                                           "NETMASK 255.255.255.255\r\n",
                                           NULL);
    g_assert_cmpuint(c->prefix4, ==, 32);
}

static void
test_malformed(void)
{
    expect_error("ADDR 10.0.0.300\n", 16, "line 1 \"ADDR 10.0.0.300\"");
    expect_error("ADDR 10.0.0.1\nADDR 10.0.0.2\n", 28, "line 2");
    expect_error("ADDR 10.0.0.1\nNETMASK 255.0.255.0\n", 34, "netmask");
    expect_error("ADDR 10.0.0.1\nPREFIX 33\n", 24, "line 2");
    expect_error("ADDR 10.0.0.1\nPREFIX -1\n", 24, "line 2");
    expect_error("ADDR 10.0.0.1\nMTU 100\n", 22, "MTU");
    expect_error("ADDR 10.0.0.1\nMTU 40000\n", 24, "MTU");
    expect_error("ADDR 10.0.0.1\nROUTE 10.0.0.0\n", 29, "ROUTE");
    expect_error("ADDR 10.0.0.1\nROUTE 10.0.0.0/40\n", 32, "ROUTE");
    expect_error("ADDR 10.0.0.1\nDNS dns.example\n", 30, "DNS");
    expect_error("ADDR 10.0.0.1\nDOMAIN bad;domain\n", 32, "DOMAIN");
    expect_error("ADDR6 fd00::1/0\n", 16, "ADDR6");
    expect_error("ADDR\n", 5, "value is missing");
    expect_error("DNS 10.0.0.1\n", 13, "neither ADDR nor ADDR6");
    expect_error("", 0, "neither ADDR nor ADDR6");
    expect_error("ADDR 10.0.0.1\0\n", 15, "NUL");
    expect_error("ADDR 10.0.0.1\nDOMAIN \xff\xfe\n", 24, "UTF-8");
}

static void
test_bounds(void)
{
    g_autoptr(GString) big = g_string_new("ADDR 10.0.0.1\n");
    g_autoptr(GString) dns = g_string_new("ADDR 10.0.0.1\n");

    while (big->len <= SSHTUN_IP_CONFIG_MAX_BYTES)
        g_string_append(big, "# padding padding padding padding\n");
    expect_error(big->str, big->len, "larger than");
    for (int i = 0; i < 17; i++)
        g_string_append_printf(dns, "DNS 10.0.0.%d\n", i + 1);
    expect_error(dns->str, dns->len, "line 18");
}

/* The DNS servers as text, for streams mode's resolver and table. */
static void
test_dns_text(void)
{
    g_autoptr(SshtunIpConfig) config
            = parse_ok("ADDR 10.0.0.2\nDNS 2001:db8::53\nDNS 10.0.0.53\nDNS 10.0.0.54\n", NULL);
    g_autoptr(SshtunIpConfig) none = parse_ok("ADDR 10.0.0.2\n", NULL);
    g_auto(GStrv) text = sshtun_ip_config_dns_text(config);
    g_auto(GStrv) empty = sshtun_ip_config_dns_text(none);
    const char *const expected[] = { "10.0.0.53", "10.0.0.54", "2001:db8::53", NULL };

    g_assert_true(g_strv_equal((const char *const *)text, expected));
    g_assert_nonnull(empty);
    g_assert_null(empty[0]);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ipconfig/full", test_full_configuration);
    g_test_add_func("/ipconfig/dns-text", test_dns_text);
    g_test_add_func("/ipconfig/canonical-reads-back", test_canonical_form_reads_back);
    g_test_add_func("/ipconfig/unknown-keys-warn", test_unknown_keys_warn);
    g_test_add_func("/ipconfig/original-sshtun-config", test_original_sshtun_config_output);
    g_test_add_func("/ipconfig/malformed", test_malformed);
    g_test_add_func("/ipconfig/bounds", test_bounds);
    return g_test_run();
}
