/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The nftables script of tunnel-mode=streams (src/service/streams.c). */
#include "config.h"

#include "streams.h"

#include <string.h>

static void
test_table_name(void)
{
    g_autofree char *plain = sshtun_streams_table_name("sshtun0");
    g_autofree char *odd = sshtun_streams_table_name("vpn-office.1");

    g_assert_cmpstr(plain, ==, "nm_sshtun_sshtun0");
    g_assert_cmpstr(odd, ==, "nm_sshtun_vpn_office_1");
}

/* Rules with the TCP ports @p4 and @p6 and the server @server. */
#define RULES(p4, p6, srv) ((SshtunStreamsRules){ .port4 = (p4), .port6 = (p6), .server = (srv) })

static void
test_script(void)
{
    const SshtunStreamsRules r = RULES(40001, 40002, "192.0.2.2");
    g_autofree char *s = sshtun_streams_script("sshtun3", &r, FALSE);

    g_assert_nonnull(s);
    /* Replaces a table of the same name in one transaction. */
    g_assert_true(g_str_has_prefix(s, "add table inet nm_sshtun_sshtun3\n"
                                      "delete table inet nm_sshtun_sshtun3\n"
                                      "table inet nm_sshtun_sshtun3 {\n"
                                      "    flags owner\n"));
    g_assert_nonnull(strstr(s, "type nat hook output priority -100;"));
    /* The server's address first, so that it is never redirected. */
    g_assert_nonnull(strstr(s, "oifname \"sshtun3\" ip daddr 192.0.2.2 return\n"));
    g_assert_true(strstr(s, "ip daddr 192.0.2.2 return") < strstr(s, "redirect"));
    g_assert_nonnull(strstr(s, "oifname \"sshtun3\" meta nfproto ipv4 meta l4proto tcp "
                               "redirect to :40001\n"));
    g_assert_nonnull(strstr(s, "oifname \"sshtun3\" meta nfproto ipv6 meta l4proto tcp "
                               "redirect to :40002\n"));
    /* Forwarded hosts: by the route their packets are about to take. */
    g_assert_nonnull(strstr(s, "type nat hook prerouting priority -100;"));
    g_assert_nonnull(strstr(s, "fib daddr oifname \"sshtun3\" ip daddr 192.0.2.2 return\n"));
    g_assert_nonnull(strstr(s, "fib daddr oifname \"sshtun3\" meta nfproto ipv4 meta l4proto tcp "
                               "redirect to :40001\n"));
    g_assert_nonnull(strstr(s, "fib daddr oifname \"sshtun3\" meta nfproto ipv6 meta l4proto tcp "
                               "redirect to :40002\n"));
    /* From another machine, only what a redirect sent. */
    g_assert_nonnull(strstr(s, "iifname != \"lo\" meta nfproto ipv4 tcp dport 40001 ct status & "
                               "dnat == 0 drop\n"));
    g_assert_nonnull(strstr(s, "iifname != \"lo\" meta nfproto ipv6 tcp dport 40002 ct status & "
                               "dnat == 0 drop\n"));
    /* No DNS servers: no UDP is redirected. */
    g_assert_null(strstr(s, "udp"));
}

static void
test_script_ipv6_server_and_one_family(void)
{
    const SshtunStreamsRules r = RULES(40001, 0, "2001:db8::2");
    g_autofree char *s = sshtun_streams_script("sshtun0", &r, FALSE);

    g_assert_nonnull(strstr(s, "oifname \"sshtun0\" ip6 daddr 2001:db8::2 return\n"));
    g_assert_null(strstr(s, "nfproto ipv6 meta l4proto tcp"));
    g_assert_null(strstr(s, "dport 0"));
}

/* UDP to the DNS servers' port 53 goes to the resolver, by family; an
 * entry that is not an address (a profile's "1.2.3.4#name") is left out
 * rather than written into the rule. */
static void
test_script_dns(void)
{
    const char *const dns[]
            = { "10.9.0.1", "not an address", "2001:db8::53", "10.9.0.2; flush ruleset", "10.9.0.3",
                NULL };
    SshtunStreamsRules r = RULES(40001, 40002, "192.0.2.2");
    g_autofree char *s = NULL;
    g_autofree char *no_port6 = NULL;

    r.dns_port4 = 40003;
    r.dns_port6 = 40004;
    r.dns_servers = dns;
    s = sshtun_streams_script("sshtun3", &r, FALSE);
    g_assert_nonnull(strstr(s, "oifname \"sshtun3\" ip daddr { 10.9.0.1, 10.9.0.3 } udp dport 53 "
                               "redirect to :40003\n"));
    g_assert_nonnull(strstr(s, "oifname \"sshtun3\" ip6 daddr { 2001:db8::53 } udp dport 53 "
                               "redirect to :40004\n"));
    g_assert_null(strstr(s, "flush"));
    g_assert_null(strstr(s, "not an"));
    g_assert_nonnull(strstr(s, "iifname != \"lo\" meta nfproto ipv4 udp dport 40003 drop\n"));
    g_assert_nonnull(strstr(s, "iifname != \"lo\" meta nfproto ipv6 udp dport 40004 drop\n"));
    /* No resolver socket for a family: its DNS servers' UDP is not
     * redirected (it reaches the device, and is refused there). */
    r.dns_port6 = 0;
    no_port6 = sshtun_streams_script("sshtun3", &r, FALSE);
    g_assert_null(strstr(no_port6, "2001:db8::53"));
    g_assert_nonnull(strstr(no_port6, "redirect to :40003"));
}

static void
test_script_refuses_odd_devices(void)
{
    const SshtunStreamsRules r = RULES(1, 2, NULL);
    SshtunStreamsRules big = RULES(1, 2, NULL);

    g_assert_null(sshtun_streams_script("tun\" accept", &r, FALSE));
    g_assert_null(sshtun_streams_script("", &r, FALSE));
    g_assert_null(sshtun_streams_script("a-device-name-too-long", &r, FALSE));
    big.port4 = 70000;
    g_assert_null(sshtun_streams_script("sshtun0", &big, FALSE));
    big.port4 = 1;
    big.dns_port6 = 70000;
    g_assert_null(sshtun_streams_script("sshtun0", &big, FALSE));
}

/* What the service sends nft's interactive mode: one line, one command,
 * the table owned by that nft's socket. */
static void
test_script_one_line_owner(void)
{
    const SshtunStreamsRules r = RULES(40001, 40002, "192.0.2.2");
    g_autofree char *s = sshtun_streams_script("sshtun3", &r, TRUE);

    g_assert_cmpstr(s, ==,
                    "add table inet nm_sshtun_sshtun3; delete table inet nm_sshtun_sshtun3; "
                    "table inet nm_sshtun_sshtun3 { flags owner; chain output { type nat hook "
                    "output priority -100; policy accept; oifname \"sshtun3\" ip daddr "
                    "192.0.2.2 return; oifname \"sshtun3\" meta nfproto ipv4 meta l4proto tcp "
                    "redirect to :40001; oifname \"sshtun3\" meta nfproto ipv6 meta l4proto "
                    "tcp redirect to :40002; }; chain prerouting { type nat hook prerouting "
                    "priority -100; policy accept; fib daddr oifname \"sshtun3\" ip daddr "
                    "192.0.2.2 return; fib daddr oifname \"sshtun3\" meta nfproto ipv4 meta "
                    "l4proto tcp redirect to :40001; fib daddr oifname \"sshtun3\" meta nfproto "
                    "ipv6 meta l4proto tcp redirect to :40002; }; chain input { type filter hook "
                    "input priority filter; policy accept; iifname != \"lo\" meta nfproto ipv4 "
                    "tcp dport 40001 ct status & dnat == 0 drop; iifname != \"lo\" meta nfproto "
                    "ipv6 tcp dport 40002 ct status & dnat == 0 drop; }; };\n");
}

static void
test_script_without_server(void)
{
    const SshtunStreamsRules r = RULES(1, 2, "not an address");
    g_autofree char *s = sshtun_streams_script("sshtun0", &r, FALSE);

    g_assert_null(strstr(s, "return"));
}

/* For the tests' one-shot nft: the same rules, no owner. */
static void
test_script_without_owner(void)
{
    SshtunStreamsRules r = RULES(40001, 40002, "192.0.2.2");
    g_autofree char *owned = sshtun_streams_script("sshtun3", &r, FALSE);
    g_autofree char *unowned = NULL;
    g_autofree char *expected = NULL;
    g_auto(GStrv) parts = NULL;

    r.without_owner = TRUE;
    unowned = sshtun_streams_script("sshtun3", &r, FALSE);
    g_assert_null(strstr(unowned, "owner"));
    parts = g_strsplit(owned, "    flags owner\n", -1);
    expected = g_strjoinv("", parts);
    g_assert_cmpstr(unowned, ==, expected);
}

static gboolean
ports_allowed(guint p4, guint p6, guint d4, guint d6, GError **error)
{
    const SshtunStreamsRules r = { .port4 = p4, .port6 = p6, .dns_port4 = d4, .dns_port6 = d6 };

    return sshtun_streams_ports_check(&r, error);
}

/* The helper's ports are not trusted: none below 1024 (22 would have the
 * table drop inbound SSH; 53 for DNS would catch the machine's own
 * resolver), and at least one TCP port. */
static void
test_ports_check(void)
{
    GError *error = NULL;

    g_assert_true(ports_allowed(40001, 40002, 0, 0, NULL));
    g_assert_true(ports_allowed(40001, 0, 40003, 0, NULL));
    g_assert_true(ports_allowed(0, 1024, 0, 1024, NULL));
    g_assert_true(ports_allowed(65535, 65535, 65535, 65535, NULL));
    g_assert_false(ports_allowed(0, 0, 40003, 40004, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    g_clear_error(&error);
    g_assert_false(ports_allowed(22, 40002, 0, 0, &error));
    g_assert_nonnull(strstr(error->message, "1024 to 65535"));
    g_clear_error(&error);
    g_assert_false(ports_allowed(40001, 1023, 0, 0, NULL));
    g_assert_false(ports_allowed(1, 0, 0, 0, NULL));
    g_assert_false(ports_allowed(40001, 65536, 0, 0, NULL));
    g_assert_false(ports_allowed(40001, 40002, 53, 0, NULL));
    g_assert_false(ports_allowed(40001, 40002, 0, 65536, NULL));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/streams/table-name", test_table_name);
    g_test_add_func("/streams/ports-check", test_ports_check);
    g_test_add_func("/streams/script", test_script);
    g_test_add_func("/streams/script-ipv6-server-and-one-family",
                    test_script_ipv6_server_and_one_family);
    g_test_add_func("/streams/script-dns", test_script_dns);
    g_test_add_func("/streams/script-refuses-odd-devices", test_script_refuses_odd_devices);
    g_test_add_func("/streams/script-without-server", test_script_without_server);
    g_test_add_func("/streams/script-without-owner", test_script_without_owner);
    g_test_add_func("/streams/script-one-line-owner", test_script_one_line_owner);
    return g_test_run();
}
