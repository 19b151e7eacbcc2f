/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "nm-config.h"

#include <NetworkManager.h>
#include <arpa/inet.h>
#include <string.h>

static SshtunIpConfig *
parse(const char *text)
{
    g_autoptr(GError) error = NULL;
    SshtunIpConfig *config = sshtun_ip_config_parse(text, strlen(text), NULL, &error);

    g_assert_no_error(error);
    return config;
}

static guint32
ip4(const char *text)
{
    struct in_addr addr;
    g_assert_cmpint(inet_pton(AF_INET, text, &addr), ==, 1);
    return addr.s_addr;
}

static void
test_general(void)
{
    g_autoptr(SshtunIpConfig) c = parse("ADDR 10.0.0.2\nMTU 1400\n");
    g_autoptr(GVariant) v
            = g_variant_ref_sink(sshtun_nm_config_general(c, "tun3", "192.0.2.2", TRUE, NULL));
    const char *dev = NULL;
    guint32 gw = 0, mtu = 0;
    gboolean has4 = FALSE, has6 = TRUE;

    g_assert_true(g_variant_lookup(v, NM_VPN_PLUGIN_CONFIG_TUNDEV, "&s", &dev));
    g_assert_cmpstr(dev, ==, "tun3");
    /* Addresses travel in network byte order, as NetworkManager expects. */
    g_assert_true(g_variant_lookup(v, NM_VPN_PLUGIN_CONFIG_EXT_GATEWAY, "u", &gw));
    g_assert_cmpuint(gw, ==, ip4("192.0.2.2"));
    g_assert_true(g_variant_lookup(v, NM_VPN_PLUGIN_CONFIG_MTU, "u", &mtu));
    g_assert_cmpuint(mtu, ==, 1400);
    g_assert_true(g_variant_lookup(v, NM_VPN_PLUGIN_CONFIG_HAS_IP4, "b", &has4));
    g_assert_true(has4);
    g_assert_true(g_variant_lookup(v, NM_VPN_PLUGIN_CONFIG_HAS_IP6, "b", &has6));
    g_assert_false(has6);
    g_assert_true(g_variant_lookup(v, NM_VPN_PLUGIN_CAN_PERSIST, "b", &has6));
    g_assert_true(has6);
}

static void
test_gateway_from_server_and_ipv6(void)
{
    g_autoptr(SshtunIpConfig) c = parse("ADDR6 fd00::2/64\nGW_ADDR 2001:db8::7\n");
    g_autoptr(GVariant) v
            = g_variant_ref_sink(sshtun_nm_config_general(c, "tun0", "192.0.2.2", FALSE, NULL));
    g_autoptr(GVariant) gw = g_variant_lookup_value(v, NM_VPN_PLUGIN_CONFIG_EXT_GATEWAY,
                                                    G_VARIANT_TYPE_BYTESTRING);
    g_autoptr(SshtunIpConfig) plain = parse("ADDR 10.0.0.2\n");

    g_assert_nonnull(gw);
    g_assert_cmpuint(g_variant_get_size(gw), ==, 16);
    g_assert_false(g_variant_lookup(v, NM_VPN_PLUGIN_CAN_PERSIST, "b", NULL));
    g_assert_null(sshtun_nm_config_general(plain, "tun0", "not-an-address", FALSE, NULL));
    g_assert_null(sshtun_nm_config_ip4(c));
}

/* no-tunnel=yes: no device, no addresses, the forwards as the banner. */
static void
test_forwards_only(void)
{
    g_autoptr(SshtunIpConfig) c = sshtun_ip_config_new();
    g_autoptr(GVariant) v = g_variant_ref_sink(sshtun_nm_config_general(
            c, NULL, "192.0.2.2", TRUE, "dynamic forward 127.0.0.1:1080 -> SOCKS\n"));
    const char *banner = NULL;
    gboolean has4 = TRUE, has6 = TRUE;

    g_assert_false(g_variant_lookup(v, NM_VPN_PLUGIN_CONFIG_TUNDEV, "&s", NULL));
    g_assert_true(g_variant_lookup(v, NM_VPN_PLUGIN_CONFIG_HAS_IP4, "b", &has4));
    g_assert_true(g_variant_lookup(v, NM_VPN_PLUGIN_CONFIG_HAS_IP6, "b", &has6));
    g_assert_false(has4);
    g_assert_false(has6);
    g_assert_true(g_variant_lookup(v, NM_VPN_PLUGIN_CONFIG_BANNER, "&s", &banner));
    g_assert_cmpstr(banner, ==, "dynamic forward 127.0.0.1:1080 -> SOCKS\n");
    g_assert_null(sshtun_nm_config_ip4(c));
    g_assert_null(sshtun_nm_config_ip6(c));
}

static void
test_ip4(void)
{
    g_autoptr(SshtunIpConfig) c = parse("ADDR 10.0.0.2\nPEER_ADDR 10.0.0.1\nPREFIX 24\n"
                                        "DNS 10.0.0.53\nDOMAIN corp.example\n"
                                        "ROUTE 10.20.0.0/16\n");
    g_autoptr(GVariant) v = g_variant_ref_sink(sshtun_nm_config_ip4(c));
    g_autoptr(GVariant) dns
            = g_variant_lookup_value(v, NM_VPN_PLUGIN_IP4_CONFIG_DNS, G_VARIANT_TYPE("au"));
    g_autoptr(GVariant) routes
            = g_variant_lookup_value(v, NM_VPN_PLUGIN_IP4_CONFIG_ROUTES, G_VARIANT_TYPE("aau"));
    g_autoptr(GVariant) route = NULL;
    guint32 addr = 0, prefix = 0, ptp = 0;
    gboolean never_default = FALSE;
    const guint32 *fields;
    gsize n;

    g_assert_true(g_variant_lookup(v, NM_VPN_PLUGIN_IP4_CONFIG_ADDRESS, "u", &addr));
    g_assert_cmpuint(addr, ==, ip4("10.0.0.2"));
    g_assert_true(g_variant_lookup(v, NM_VPN_PLUGIN_IP4_CONFIG_PREFIX, "u", &prefix));
    g_assert_cmpuint(prefix, ==, 24);
    g_assert_true(g_variant_lookup(v, NM_VPN_PLUGIN_IP4_CONFIG_PTP, "u", &ptp));
    g_assert_cmpuint(ptp, ==, ip4("10.0.0.1"));
    g_assert_cmpuint(g_variant_n_children(dns), ==, 1);
    g_assert_cmpuint(g_variant_n_children(routes), ==, 1);
    route = g_variant_get_child_value(routes, 0);
    fields = g_variant_get_fixed_array(route, &n, sizeof(guint32));
    g_assert_cmpuint(n, ==, 4);
    g_assert_cmpuint(fields[0], ==, ip4("10.20.0.0"));
    g_assert_cmpuint(fields[1], ==, 16);
    g_assert_true(g_variant_lookup(v, NM_VPN_PLUGIN_IP4_CONFIG_NEVER_DEFAULT, "b", &never_default));
    g_assert_true(never_default);
}

static void
test_ip6(void)
{
    g_autoptr(SshtunIpConfig) c = parse("ADDR6 fd00::2/64\nPEER_ADDR6 fd00::1\nDNS fd00::53\n"
                                        "DOMAIN lab.example\nROUTE fd20::/48\n");
    g_autoptr(GVariant) v = g_variant_ref_sink(sshtun_nm_config_ip6(c));
    g_autoptr(GVariant) routes = g_variant_lookup_value(v, NM_VPN_PLUGIN_IP6_CONFIG_ROUTES,
                                                        G_VARIANT_TYPE("a(ayuayu)"));
    g_autoptr(GVariant) dns
            = g_variant_lookup_value(v, NM_VPN_PLUGIN_IP6_CONFIG_DNS, G_VARIANT_TYPE("aay"));
    g_autoptr(GVariant) domains
            = g_variant_lookup_value(v, NM_VPN_PLUGIN_IP6_CONFIG_DOMAINS, G_VARIANT_TYPE("as"));
    guint32 prefix = 0;

    g_assert_true(g_variant_lookup(v, NM_VPN_PLUGIN_IP6_CONFIG_PREFIX, "u", &prefix));
    g_assert_cmpuint(prefix, ==, 64);
    g_assert_cmpuint(g_variant_n_children(routes), ==, 1);
    g_assert_cmpuint(g_variant_n_children(dns), ==, 1);
    /* Without IPv4 the domains go with IPv6. */
    g_assert_cmpuint(g_variant_n_children(domains), ==, 1);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/nm-config/general", test_general);
    g_test_add_func("/nm-config/gateway-from-server-and-ipv6", test_gateway_from_server_and_ipv6);
    g_test_add_func("/nm-config/forwards-only", test_forwards_only);
    g_test_add_func("/nm-config/ip4", test_ip4);
    g_test_add_func("/nm-config/ip6", test_ip6);
    return g_test_run();
}
