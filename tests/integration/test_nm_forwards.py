# SPDX-License-Identifier: GPL-2.0-or-later
"""Forwards through NetworkManager and nmcli: with a tunnel, forwards only
(no-tunnel=yes), and refused specifications."""

import os
import time

from harness import TUN_SERVER_IP, in_ns, ping, run, tun_devices
from test_forwards import HTTP_PORT, SERVER_ONLY_NAME, ForwardFixtures
from test_nm import NetworkManagerTestCase


class ForwardsThroughNetworkManager(ForwardFixtures, NetworkManagerTestCase):
    def listening_ports(self):
        return run(*in_ns(self.ns.client, "ss", "-Hltn")).stdout

    def routes(self):
        return (run(*in_ns(self.ns.client, "ip", "route")).stdout
                + run(*in_ns(self.ns.client, "ip", "-6", "route")).stdout)

    def test_forwards_only_up_fetch_down_nothing_left(self):
        self.start_web_server(self.ns.server)
        socket_dir = self.nobody_dir("sockets")
        web_socket = os.path.join(socket_dir, "web.sock")
        self.nm.add_vpn("forwards", self.nm_settings(
            no_tunnel="yes", local_address=None, remote_address=None, remote_tun=None,
            dynamic_forwards="1080",
            local_forwards=f"18080:127.0.0.1:{HTTP_PORT} {web_socket}:127.0.0.1:{HTTP_PORT}"))
        routes_before = self.routes()
        self.up("forwards")
        self.assertEqual(self.nm.state("forwards"), "activated")
        self.assertEqual(tun_devices(self.ns.client), [])
        # Where the forwards listen, in nmcli's own output.
        shown = self.nm.nmcli("connection", "show", "forwards").stdout
        banner = "".join(line for line in shown.splitlines() if line.startswith("VPN.BANNER:"))
        self.assertIn("dynamic forward", banner)
        self.assertIn(web_socket, banner)

        self.assert_page(self.curl(self.ns.client, "--socks5-hostname", "127.0.0.1:1080",
                                   f"http://{SERVER_ONLY_NAME}:{HTTP_PORT}/page"))
        self.assert_page(self.curl(self.ns.client, "http://127.0.0.1:18080/page"))
        self.assert_page(self.curl(self.ns.client, "--unix-socket", web_socket,
                                   "http://localhost/page"))

        self.down("forwards")
        listening = self.listening_ports()
        self.assertNotIn(":1080 ", listening)
        self.assertNotIn(":18080 ", listening)
        self.assertFalse(os.path.exists(web_socket), "the socket file was left behind")
        self.assertEqual(tun_devices(self.ns.client), [])
        # The route NetworkManager keeps to the server goes with the VPN.
        self.assertEqual(self.routes(), routes_before)

    def test_tunnel_and_forwards_on_one_session(self):
        self.start_web_server(self.ns.server)
        self.nm.add_vpn("tunnel", self.nm_settings(
            local_forwards=f"18080:127.0.0.1:{HTTP_PORT}", remote_forwards="2222:127.0.0.1:22"))
        self.up("tunnel")
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP).returncode, 0)
        self.assert_page(self.curl(self.ns.client, "http://127.0.0.1:18080/page"))
        self.assertIn(":2222 ", run(*in_ns(self.ns.server, "ss", "-Hltn")).stdout)
        self.down("tunnel")
        self.assertNotIn(":2222 ", run(*in_ns(self.ns.server, "ss", "-Hltn")).stdout)

    def test_malformed_forward_refused_with_its_text(self):
        self.nm.add_vpn("tunnel", self.nm_settings(local_forwards="8080:intranet:80 8081:web"))
        self.expect_activation_failure(
            "tunnel", ['invalid forward "8081:web" in key "local-forwards"'])

    def test_forward_that_cannot_listen_fails_the_activation(self):
        self.start_tool(self.ns.client, "echo", "127.0.0.1:18080")
        self.nm.add_vpn("tunnel", self.nm_settings(local_forwards="18080:127.0.0.1:80"))
        self.expect_activation_failure(
            "tunnel", ['forward-failed: local forward "18080:127.0.0.1:80": cannot listen on '
                       "127.0.0.1:18080: Address already in use"])


class ForwardingOnlyServer(ForwardFixtures, NetworkManagerTestCase):
    """sshd's "MaxSessions 0" (forwarding only: no session channel at all),
    where ssh -N -L works."""

    def test_forwards_only_under_maxsessions_zero(self):
        self.sshd.restart("MaxSessions 0")
        self.start_web_server(self.ns.server)
        self.nm.add_vpn("forwards", self.nm_settings(
            no_tunnel="yes", local_address=None, remote_address=None, remote_tun=None,
            local_forwards=f"18080:127.0.0.1:{HTTP_PORT}", keepalive="1", keepalive_count="3"))
        self.up("forwards")
        self.assert_page(self.curl(self.ns.client, "http://127.0.0.1:18080/page"))
        # Keepalive answers are read without a channel: three silent seconds
        # would end the session; eight pass without a connection open.
        time.sleep(8)
        self.assertNotIn("session lost", self.nm.log_text())
        self.assert_page(self.curl(self.ns.client, "http://127.0.0.1:18080/page"))
        self.assertIn("no more sessions", self.sshd.log_text())
        self.down("forwards")
