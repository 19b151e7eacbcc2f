# SPDX-License-Identifier: GPL-2.0-or-later
"""The recipes of docs/recipes.md, each run for real: a full tunnel with NAT
on the server, a split tunnel with routes and DNS, phoning home through a
remote forward, and restricted keys. (Forwards-only SOCKS browsing, the
stealth tunnel through a proxy and the non-root server account are in
test_nm_forwards, test_proxy and test_server_config.)"""

import os
import subprocess

from harness import (SERVER_IP, Sshd, in_ns, ping, run, stop_process, tun_devices)
from test_forwards import HTTP_PORT, ForwardFixtures
from test_helper import HelperTestCase
from test_nm import NetworkManagerTestCase
from test_reconnect import LinkControl
from test_server_config import ServerConfigFixtures

# The internet behind the server: only the server reaches it, and it has no
# route back to the tunnel addresses.
FAR_SERVER_SIDE, FAR_HOST = "203.0.113.129", "203.0.113.130"


class FarNetwork:
    def add_far_network(self):
        name = self.ns.server.replace("sshtun-s-", "sshtun-f-")
        run("ip", "netns", "add", name)
        self.ns.created.insert(0, name)
        run(*in_ns(name, "ip", "link", "set", "lo", "up"))
        run("ip", "link", "add", "veth-far", "netns", self.ns.server, "type", "veth",
            "peer", "name", "veth-far", "netns", name)
        run(*in_ns(self.ns.server, "ip", "addr", "add", f"{FAR_SERVER_SIDE}/25", "dev", "veth-far"))
        run(*in_ns(name, "ip", "addr", "add", f"{FAR_HOST}/25", "dev", "veth-far"))
        for ns in (self.ns.server, name):
            run(*in_ns(ns, "ip", "link", "set", "veth-far", "up"))
        return name


class FullTunnelWithNat(FarNetwork, ServerConfigFixtures, NetworkManagerTestCase):
    def test_everything_through_the_tunnel_and_out_through_nat(self):
        self.add_far_network()
        # The recipe's server side: forwarding on, the pool masqueraded.
        run(*in_ns(self.ns.server, "sysctl", "-qw", "net.ipv4.ip_forward=1"))
        run(*in_ns(self.ns.server, "nft", "-f", "-"), input="""
table ip sshtun_nat {
    chain postrouting {
        type nat hook postrouting priority srcnat;
        ip saddr 10.99.0.0/24 oifname "veth-far" masquerade
    }
}
""")
        with open(self.config) as f:
            self._write("server.conf", f.read().replace("ROUTES=", "#ROUTES="))
        self.nm.add_vpn("full", self.pool_settings())
        self.up("full")
        default = run(*in_ns(self.ns.client, "ip", "route", "show", "default")).stdout
        self.assertIn(f"dev {tun_devices(self.ns.client)[0]}", default)
        # The far host answers although it knows no route to 10.99.0.0/24.
        self.assertEqual(ping(self.ns.client, FAR_HOST).returncode, 0)
        self.down("full")


class SplitTunnel(ServerConfigFixtures, NetworkManagerTestCase):
    def test_routes_and_dns_from_the_server(self):
        # An address of a network only the server has.
        run(*in_ns(self.ns.server, "ip", "addr", "add", "10.98.0.1/32", "dev", "lo"))
        self.nm.add_vpn("split", self.pool_settings())
        self.up("split")
        fields = self.fields("split", "ip4,ip6", showing=("10.98.0.0/16", "fd98::/64"))
        values = " ".join(fields.values())
        self.assertIn("10.98.0.0/16", values)
        self.assertIn("fd98::/64", values)
        self.assertEqual(fields.get("IP4.DNS[1]"), "10.99.0.1")
        self.assertIn("corp.sshtun.test", fields.get("IP4.DOMAIN[1]", ""))
        # Only the server's networks go through it.
        default = run(*in_ns(self.ns.client, "ip", "route", "show", "default")).stdout
        self.assertIn("dev veth-sst", default)
        self.assertEqual(ping(self.ns.client, "10.98.0.1").returncode, 0)
        self.down("split")


class PhoneHome(ForwardFixtures, HelperTestCase, LinkControl):
    """A machine behind NAT keeps its own sshd reachable from the server
    through a remote forward, and comes back by itself after an outage."""

    def test_server_reaches_the_clients_sshd_after_an_outage(self):
        home_sshd = Sshd(self.ns.client, self.tmp.path, name="home_sshd", listen=("127.0.0.1",))
        self.addCleanup(home_sshd.stop)
        admin_key = home_sshd.keys.make("id_admin")
        home_sshd.authorize(home_sshd.keys.public(admin_key))
        home_sshd.start()
        known = self._write("home_known_hosts",
                            home_sshd.known_hosts_line("[127.0.0.1]:2222") + "\n")
        helper = self.connect(self.settings(
            no_tunnel="yes", local_address=None, remote_address=None, remote_tun=None,
            remote_forwards="2222:127.0.0.1:22", keepalive="1", keepalive_count="2"))

        def ssh_home():
            return run(*in_ns(self.ns.server, "ssh", "-p", "2222", "-i", admin_key,
                              "-o", f"UserKnownHostsFile={known}", "-o", "BatchMode=yes",
                              "root@127.0.0.1", "echo home reached"), check=False)

        result = ssh_home()
        self.assertEqual(result.stdout.strip(), "home reached", result.stderr)
        self.kill_sshd()
        self.assertEqual(helper.wait_for({"reconnecting"}, timeout=15)[0], "reconnecting")
        self.sshd.start()
        name, arg = helper.wait_for({"ready"}, timeout=30)
        self.assertEqual(name, "ready", f"{arg}\n{helper.log_text()}")
        result = ssh_home()
        self.assertEqual(result.stdout.strip(), "home reached", result.stderr)


class RestrictedKey(ServerConfigFixtures, ForwardFixtures, HelperTestCase):
    """authorized_keys: restrict, a forced tunnel unit and command, and
    only the forwards the line permits."""

    make_server_tun = False  # the forced unit is sshd's own

    def setUp(self):
        super().setUp()
        options = (f'restrict,port-forwarding,tunnel="7",command="{self.command}",'
                   f'permitopen="127.0.0.1:{HTTP_PORT}",permitlisten="localhost:2222"')
        with open(self.sshd.authorized_keys, "w") as f:
            f.write(f"{options} {self.sshd.keys.public(self.key)}\n")

    def test_only_what_the_key_allows(self):
        self.start_web_server(self.ns.server)
        self.start_web_server(self.ns.server, port=8002)
        # Whatever remote-command the client asks for, the forced command
        # runs: the pool configuration arrives.
        helper = self.connect(self.settings(remote_command="echo ignored", remote_tun="any",
                                            local_address=None, remote_address=None,
                                            dynamic_forwards="1080",
                                            remote_forwards="2222:127.0.0.1:22"))
        self.assertTrue(any(line.startswith("ADDR 10.99.0.") for line in helper.config),
                        helper.config)
        # tunnel="7": the server used unit 7 whatever the client asked.
        self.assertEqual(tun_devices(self.ns.server), ["tun7"])
        self.assertEqual(ping(self.ns.client, "10.99.0.1").returncode, 0)
        self.assert_page(self.curl(self.ns.client, "--socks5-hostname", "127.0.0.1:1080",
                                   f"http://127.0.0.1:{HTTP_PORT}/page"))
        refused = self.curl(self.ns.client, "--socks5-hostname", "127.0.0.1:1080",
                            "http://127.0.0.1:8002/page", check=False)
        self.assertNotEqual(refused.returncode, 0)
        self.assertIsNone(helper.proc.poll())

    def test_a_listen_port_the_key_does_not_permit_fails_the_connection(self):
        self.expect_failure(self.settings(remote_command="x", remote_tun="any",
                                          local_address=None, remote_address=None,
                                          remote_forwards="2223:127.0.0.1:22"),
                            "forward-failed", 'remote forward "2223:127.0.0.1:22"')
