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

static void
test_script(void)
{
    g_autofree char *s = sshtun_streams_script("sshtun3", 40001, 40002, "192.0.2.2", FALSE, FALSE);

    g_assert_nonnull(s);
    /* Replaces a table of the same name in one transaction. */
    g_assert_true(g_str_has_prefix(s, "add table inet nm_sshtun_sshtun3\n"
                                      "delete table inet nm_sshtun_sshtun3\n"
                                      "table inet nm_sshtun_sshtun3 {\n"));
    g_assert_nonnull(strstr(s, "type nat hook output priority -100;"));
    /* The server's address first, so that it is never redirected. */
    g_assert_nonnull(strstr(s, "oifname \"sshtun3\" ip daddr 192.0.2.2 return\n"));
    g_assert_true(strstr(s, "ip daddr 192.0.2.2 return") < strstr(s, "redirect"));
    g_assert_nonnull(strstr(s, "oifname \"sshtun3\" meta nfproto ipv4 meta l4proto tcp "
                               "redirect to :40001\n"));
    g_assert_nonnull(strstr(s, "oifname \"sshtun3\" meta nfproto ipv6 meta l4proto tcp "
                               "redirect to :40002\n"));
    g_assert_nonnull(strstr(s, "iifname != \"lo\" meta nfproto ipv4 tcp dport 40001 drop\n"));
    g_assert_nonnull(strstr(s, "iifname != \"lo\" meta nfproto ipv6 tcp dport 40002 drop\n"));
}

static void
test_script_ipv6_server_and_one_family(void)
{
    g_autofree char *s = sshtun_streams_script("sshtun0", 40001, 0, "2001:db8::2", FALSE, FALSE);

    g_assert_nonnull(strstr(s, "oifname \"sshtun0\" ip6 daddr 2001:db8::2 return\n"));
    g_assert_null(strstr(s, "nfproto ipv6 meta l4proto tcp"));
    g_assert_null(strstr(s, "dport 0"));
}

static void
test_script_refuses_odd_devices(void)
{
    g_assert_null(sshtun_streams_script("tun\" accept", 1, 2, NULL, FALSE, FALSE));
    g_assert_null(sshtun_streams_script("", 1, 2, NULL, FALSE, FALSE));
    g_assert_null(sshtun_streams_script("a-device-name-too-long", 1, 2, NULL, FALSE, FALSE));
    g_assert_null(sshtun_streams_script("sshtun0", 70000, 2, NULL, FALSE, FALSE));
}

/* What the service sends nft's interactive mode: one line, one command,
 * the table owned by that nft's socket. */
static void
test_script_one_line_owner(void)
{
    g_autofree char *s = sshtun_streams_script("sshtun3", 40001, 40002, "192.0.2.2", TRUE, TRUE);

    g_assert_cmpstr(s, ==,
                    "add table inet nm_sshtun_sshtun3; delete table inet nm_sshtun_sshtun3; "
                    "table inet nm_sshtun_sshtun3 { flags owner; chain output { type nat hook "
                    "output priority -100; policy accept; oifname \"sshtun3\" ip daddr "
                    "192.0.2.2 return; oifname \"sshtun3\" meta nfproto ipv4 meta l4proto tcp "
                    "redirect to :40001; oifname \"sshtun3\" meta nfproto ipv6 meta l4proto "
                    "tcp redirect to :40002; }; chain input { type filter hook input priority "
                    "filter; policy accept; iifname != \"lo\" meta nfproto ipv4 tcp dport "
                    "40001 drop; iifname != \"lo\" meta nfproto ipv6 tcp dport 40002 drop; "
                    "}; };\n");
}

static void
test_script_without_server(void)
{
    g_autofree char *s = sshtun_streams_script("sshtun0", 1, 2, "not an address", FALSE, FALSE);

    g_assert_null(strstr(s, "return"));
}

/* The helper's ports are not trusted: none below 1024 (22 would have the
 * table drop inbound SSH), and at least one. */
static void
test_ports_check(void)
{
    GError *error = NULL;

    g_assert_true(sshtun_streams_ports_check(40001, 40002, NULL));
    g_assert_true(sshtun_streams_ports_check(40001, 0, NULL));
    g_assert_true(sshtun_streams_ports_check(0, 1024, NULL));
    g_assert_true(sshtun_streams_ports_check(65535, 65535, NULL));
    g_assert_false(sshtun_streams_ports_check(0, 0, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    g_clear_error(&error);
    g_assert_false(sshtun_streams_ports_check(22, 40002, &error));
    g_assert_nonnull(strstr(error->message, "1024 to 65535"));
    g_clear_error(&error);
    g_assert_false(sshtun_streams_ports_check(40001, 1023, NULL));
    g_assert_false(sshtun_streams_ports_check(1, 0, NULL));
    g_assert_false(sshtun_streams_ports_check(40001, 65536, NULL));
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
    g_test_add_func("/streams/script-refuses-odd-devices", test_script_refuses_odd_devices);
    g_test_add_func("/streams/script-without-server", test_script_without_server);
    g_test_add_func("/streams/script-one-line-owner", test_script_one_line_owner);
    return g_test_run();
}
