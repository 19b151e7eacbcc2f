# SPDX-License-Identifier: GPL-2.0-or-later
"""Roaming through NetworkManager, as a laptop has it: a VPN with
vpn.persistent yes, the default keepalive and sshtun-server-config on the
server. A TCP stream inside the tunnel runs across the change; each case
prints the seconds from the change to the first answered tunnel ping and
asserts the same inner addresses in both families, the stream intact
(sha256 of what arrived = of what was sent), and NetworkManager showing
the VPN activated all along. The long outages are in
test_roaming_nm_long."""

import re
import sys
import time

from harness import CLIENT_IP, SERVER_IP, in_ns, ping, run, tun_devices
from roaming_tools import StateWatch, Stream, seconds_to_first_answer, short_tcp_backoff
from test_nm import NetworkManagerTestCase
from test_server_config import ServerConfigFixtures

NEW_CLIENT_IP = "192.0.2.3"
# The second network: another link to the server, another address.
SECOND_CLIENT_IP, SECOND_GATEWAY = "198.18.0.1", "198.18.0.2"
INNER_PEER, INNER_PEER6 = "10.99.0.1", "fd99::1"

# NetworkManager deactivates an Ethernet device whose carrier is gone for
# a few seconds, and a VPN with the device it started on: then no plugin
# could keep it. With the carrier ignored the device keeps its
# configuration while the cable is out, as a laptop's Wi-Fi keeps its
# connection through a short loss of signal.
IGNORE_CARRIER = """
[device-roaming]
match-device=interface-name:veth-sst
ignore-carrier=yes
"""


class RoamingThroughNetworkManager(ServerConfigFixtures, NetworkManagerTestCase):
    nm_options = {"config": IGNORE_CARRIER}
    # root logs in with /bin/sh: a bash login runs the machine's ~/.bashrc,
    # whose time (a second here, with pyenv) would be in every figure.
    sshd_options = {"root_shell": "/bin/sh"}
    # Small here; tools/bench --roaming moves 200 MB.
    stream_bytes, stream_seconds = 4_000_000, 4

    def setUp(self):
        super().setUp()
        short_tcp_backoff(self.ns.client, self.ns.server)
        self.networks()
        self.nm.add_vpn("tunnel", self.pool_settings(), extra=("vpn.persistent", "yes"))
        self.up("tunnel")
        self.assertEqual(ping(self.ns.client, INNER_PEER).returncode, 0)
        self.before = self.inner_addresses()

    def networks(self):
        """For subclasses: more of the client's networks, before the VPN."""

    def client_ip(self, *args):
        run(*in_ns(self.ns.client, "ip", *args))

    def server_ip(self, *args):
        run(*in_ns(self.ns.server, "ip", *args))

    def inner_addresses(self):
        """The tunnel device's global addresses on the client, both families."""
        (device,) = tun_devices(self.ns.client)
        shown = run(*in_ns(self.ns.client, "ip", "-o", "addr", "show", "dev", device,
                           "scope", "global")).stdout
        found = sorted(line.split()[3] for line in shown.splitlines())
        self.assertEqual([a.count(":") > 0 for a in found], [False, True], shown)
        return found

    def roam(self, change, what, path_change=True, nm_stopped=False):
        """Runs @change (which returns the monotonic moment the new path is
        usable) under a stream and a watch on NetworkManager, then checks
        what the module says; @path_change: the helper must have seen the
        change on rtnetlink (a long outage may end the session before);
        @nm_stopped: NetworkManager itself was stopped a while, and some
        polls of its state went unanswered."""
        stream = Stream(self.ns.client, self.ns.server, INNER_PEER, self.stream_bytes,
                        self.stream_seconds)
        self.addCleanup(stream.stop)
        watch = StateWatch(self.nm, "tunnel")
        # The stream under way before the path changes.
        time.sleep(1)
        start = change()
        seconds = seconds_to_first_answer(self.ns.client, INNER_PEER, start)
        sent, received, nbytes = stream.finish()
        states = watch.seen()
        self.assertIsNotNone(seconds, self.nm.log_text()[-4000:])
        print(f"\n    {what}: tunnel answered again {seconds:.2f} s after it", end=" ",
              file=sys.stderr)
        self.assertEqual(states, ["activated"], self.nm.log_text()[-4000:])
        if not nm_stopped:
            self.assertEqual(watch.unanswered, 0)
        # Nor did it take the VPN down and up again between two polls.
        vpn_states = re.findall(r'"tunnel".*: set state: ([a-z-]+)', self.nm.log_text())
        self.assertEqual(vpn_states[vpn_states.index("activated"):], ["activated"], vpn_states)
        if path_change:
            # The helper saw the change itself (not its keepalive).
            self.assertIn(f"the path to {SERVER_IP} changed", self.nm.log_text())
        self.assertEqual(self.inner_addresses(), self.before)
        self.assertEqual(ping(self.ns.client, INNER_PEER6).returncode, 0)
        self.assertEqual((nbytes, received), (self.stream_bytes, sent))
        # One session on the server, holding the one lease.
        self.assertEqual(len(self.leases_in_use()), 1)
        return seconds

    def blackhole_on_server(self, address):
        """The server never hears from @address again (the network it was
        on is gone), yet nothing tells the client: no address removed."""
        run(*in_ns(self.ns.server, "nft", "-f", "-"), input=f"""
table inet roaming {{
    chain input {{
        type filter hook input priority 0; policy accept;
        ip saddr {address} drop
    }}
}}
""")


class Roaming(RoamingThroughNetworkManager):
    def test_new_address_on_the_same_device_old_one_blackholed(self):
        def change():
            self.blackhole_on_server(CLIENT_IP)
            start = time.monotonic()
            # The new address, and the route to the server leaving from it.
            self.client_ip("addr", "add", f"{NEW_CLIENT_IP}/24", "dev", "veth-sst")
            self.client_ip("route", "add", f"{SERVER_IP}/32", "dev", "veth-sst", "src",
                           NEW_CLIENT_IP, "metric", "1")
            return start

        self.roam(change, "new address, old one blackholed")


class DeviceSwitch(RoamingThroughNetworkManager):
    def prepare_network(self):
        # A second link to the server, for the device switch.
        run("ip", "link", "add", "veth-sst2", "netns", self.ns.client, "type", "veth", "peer",
            "name", "veth-sst2", "netns", self.ns.server)
        for ns, address in ((self.ns.client, SECOND_CLIENT_IP), (self.ns.server, SECOND_GATEWAY)):
            run(*in_ns(ns, "ip", "addr", "add", f"{address}/24", "dev", "veth-sst2"))
            run(*in_ns(ns, "ip", "link", "set", "veth-sst2", "up"))

    def networks(self):
        # The second network, as NetworkManager has it: a default route
        # through its gateway, at a worse metric than the first device's.
        self.nm.wait_device("veth-sst2")
        self.nm.nmcli("connection", "add", "type", "ethernet", "ifname", "veth-sst2", "con-name",
                      "second", "ipv4.method", "manual", "ipv4.addresses",
                      f"{SECOND_CLIENT_IP}/24", "ipv4.gateway", SECOND_GATEWAY, "ipv4.route-metric", "500",
                      "ipv6.method", "disabled", "connection.autoconnect", "no")
        self.nm.nmcli("connection", "up", "second")
        # Routes over a link without carrier are not taken (as for a Wi-Fi
        # out of range, whose routes go with its connection).
        run(*in_ns(self.ns.client, "sysctl", "-qw", "net.ipv4.conf.all.ignore_routes_with_linkdown=1"))
        route = run(*in_ns(self.ns.client, "ip", "route", "get", SERVER_IP)).stdout
        self.assertIn(f"src {CLIENT_IP}", route)

    def test_switch_to_another_device_when_the_first_loses_carrier(self):
        def change():
            start = time.monotonic()
            self.server_ip("link", "set", "veth-sst", "down")
            return start

        self.roam(change, "switch to another device")
