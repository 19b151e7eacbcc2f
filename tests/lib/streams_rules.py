# SPDX-License-Identifier: GPL-2.0-or-later
"""The nftables table the service writes for tunnel-mode=streams
(src/service/streams.c), for the tests and the benchmark that run the
helper without the service."""

TABLE_PREFIX = "nm_sshtun_"


def table_name(device):
    """The table's name for @device, as the service makes it."""
    return TABLE_PREFIX + "".join(c if c.isalnum() else "_" for c in device)


def streams_script(device, port4, port6, server):
    """The service's script for @device, the helper's @port4 and @port6
    and the address of its SSH connection @server."""
    table = table_name(device)
    family = "ip6" if ":" in server else "ip"
    lines = [f"add table inet {table}", f"delete table inet {table}",
             f"table inet {table} {{",
             "    chain output {",
             "        type nat hook output priority -100; policy accept;",
             f'        oifname "{device}" {family} daddr {server} return']
    if port4:
        lines.append(f'        oifname "{device}" meta nfproto ipv4 meta l4proto tcp '
                     f"redirect to :{port4}")
    if port6:
        lines.append(f'        oifname "{device}" meta nfproto ipv6 meta l4proto tcp '
                     f"redirect to :{port6}")
    lines += ["    }", "    chain input {",
              "        type filter hook input priority filter; policy accept;"]
    if port4:
        lines.append(f'        iifname != "lo" meta nfproto ipv4 tcp dport {port4} drop')
    if port6:
        lines.append(f'        iifname != "lo" meta nfproto ipv6 tcp dport {port6} drop')
    lines += ["    }", "}", ""]
    return "\n".join(lines)
