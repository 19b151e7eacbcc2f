# SPDX-License-Identifier: GPL-2.0-or-later
"""The outer connection through a SOCKS5 proxy (OpenSSH's own ssh -D) and an
HTTP CONNECT proxy (tinyproxy). The SSH server listens where only the
proxies can reach it: 127.0.0.1 of the server namespace."""

import os
import subprocess
import time

from harness import SERVER_IP, TUN_SERVER_IP, in_ns, ping, run, stop_process
from test_helper import HelperTestCase
from test_nm import NetworkManagerTestCase

SOCKS_PORT, HTTP_PORT = 1080, 8888


class ProxyFixtures:
    sshd_options = {"extra": "ListenAddress 127.0.0.1"}

    def wait_listening(self, port):
        for _ in range(200):
            if run(*in_ns(self.ns.server, "ss", "-Hltn", f"sport = :{port}")).stdout.strip():
                return
            time.sleep(0.05)
        self.fail(f"nothing listens on port {port}")

    def start_socks_proxy(self):
        """ssh -D in the server namespace, logged in to its own sshd."""
        known = self._write("proxy_known_hosts", self.sshd.known_hosts_line("127.0.0.1") + "\n")
        key = self.sshd.keys.make("id_proxy")
        self.sshd.authorize(self.sshd.keys.public(key))
        proc = subprocess.Popen(in_ns(self.ns.server, "ssh", "-N", "-D", f"{SERVER_IP}:{SOCKS_PORT}",
                                      "-i", key, "-o", f"UserKnownHostsFile={known}",
                                      "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
                                      "root@127.0.0.1"),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(stop_process, proc)
        self.wait_listening(SOCKS_PORT)

    def start_http_proxy(self, connect_port=22):
        config = self._write("tinyproxy.conf", f"""User nobody
Group nogroup
Port {HTTP_PORT}
Listen {SERVER_IP}
Allow 192.0.2.0/24
ConnectPort {connect_port}
MaxClients 20
""")
        proc = subprocess.Popen(in_ns(self.ns.server, "tinyproxy", "-d", "-c", config),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(stop_process, proc)
        self.wait_listening(HTTP_PORT)

    def proxied_settings(self, proxy):
        self._write("known_hosts", self.sshd.known_hosts_line("127.0.0.1") + "\n")
        return self.settings(host="127.0.0.1", proxy=proxy)


class HelperThroughProxy(ProxyFixtures, HelperTestCase):
    def setUp(self):
        super().setUp()
        self.server_tun()

    def test_server_unreachable_without_the_proxy(self):
        self._write("known_hosts", self.sshd.known_hosts_line("127.0.0.1") + "\n")
        self.expect_failure(self.settings(host="127.0.0.1"), "connect-failed", "127.0.0.1")

    def test_socks5(self):
        self.start_socks_proxy()
        helper = self.connect(self.proxied_settings(f"socks5://{SERVER_IP}:{SOCKS_PORT}"))
        # NetworkManager must route the proxy, not the unreachable server,
        # outside the tunnel.
        self.assertIn(("server", SERVER_IP), helper.events)
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP).returncode, 0)

    def test_http_connect(self):
        self.start_http_proxy()
        helper = self.connect(self.proxied_settings(f"http://{SERVER_IP}:{HTTP_PORT}"))
        self.assertIn(("server", SERVER_IP), helper.events)
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP).returncode, 0)

    def test_http_proxy_refusing_the_port(self):
        self.start_http_proxy(connect_port=443)
        self.expect_failure(self.proxied_settings(f"http://{SERVER_IP}:{HTTP_PORT}"),
                            "connect-failed", "refused CONNECT 127.0.0.1:22", "403")

    def test_socks5_proxy_that_cannot_reach_the_server(self):
        self.start_socks_proxy()
        settings = self.proxied_settings(f"socks5://{SERVER_IP}:{SOCKS_PORT}")
        settings["port"] = "2222"
        # ssh -D closes the connection rather than answering with a reason.
        self.expect_failure(settings, "connect-failed", "SOCKS5 proxy 192.0.2.2",
                            "to 127.0.0.1 port 2222")

    def test_proxy_not_running(self):
        self.expect_failure(self.proxied_settings(f"socks5://{SERVER_IP}:{SOCKS_PORT}"),
                            "connect-failed", "cannot connect to proxy 192.0.2.2 port 1080")


class NetworkManagerThroughProxy(ProxyFixtures, NetworkManagerTestCase):
    def test_socks5_through_nmcli(self):
        self.server_tun()
        self.start_socks_proxy()
        self.nm.add_vpn("tunnel", self.proxied_settings(f"socks5://{SERVER_IP}:{SOCKS_PORT}"))
        self.up("tunnel")
        self.assertEqual(ping(self.ns.client, TUN_SERVER_IP).returncode, 0)
        self.down("tunnel")
