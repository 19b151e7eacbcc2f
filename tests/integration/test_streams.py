# SPDX-License-Identifier: GPL-2.0-or-later
"""tunnel-mode=streams (docs/streams.md): each TCP connection routed into the
connection's device is redirected by an nftables table to the helper, which
opens a direct-tcpip channel to its original destination. The server has
PermitTunnel no: no tun channel is ever asked for. A far namespace behind
the server is the only place the destinations are."""

import os
import re
import sys
import time

from harness import TUN_CLIENT_IP6, in_ns, run, transfer
from streams_rules import TABLE_PREFIX, streams_script
from test_forwards import ECHO_PORT, TOOLS, ForwardFixtures
from test_helper import HelperTestCase
from test_nm import NetworkManagerTestCase
from test_reconnect import LinkControl

FAR_SERVER_SIDE, FAR_HOST = "203.0.113.129", "203.0.113.130"
FAR_SERVER_SIDE6, FAR_HOST6 = "2001:db8:f::1", "2001:db8:f::2"
FAR_NET, FAR_NET6 = "203.0.113.128/25", "2001:db8:f::/64"
# A client that connects and reports how the connection ended: "reset",
# "closed" (end of file without data) or "data".
PROBE = r"""
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
try:
    s = socket.create_connection((host, port), timeout=20)
    s.settimeout(20)
    data = s.recv(100)
    print("data" if data else "closed")
except (ConnectionResetError, ConnectionRefusedError):
    print("reset")
"""


# Connects, says so, then reports how the connection ends.
HOLD = r"""
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=20)
s.sendall(b"x")
assert s.recv(1) == b"x"
print("connected", flush=True)
s.settimeout(60)
try:
    print("data" if s.recv(100) else "closed", flush=True)
except ConnectionResetError:
    print("reset", flush=True)
"""


# Sends one UDP datagram and reports the error the answer raised, or
# "timeout" when none came.
UDP = r"""
import errno, socket, sys
host = sys.argv[1]
s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
s.connect((host, 53))
s.send(b"query")
s.settimeout(5)
try:
    s.recv(100)
    print("answer")
except socket.timeout:
    print("timeout")
except OSError as e:
    print(errno.errorcode[e.errno])
"""


class StreamsFixtures(ForwardFixtures):
    sshd_options = {"permit_tunnel": "no"}
    make_server_tun = False

    def prepare_network(self):
        super().prepare_network()
        self.far = self.ns.server.replace("sshtun-s-", "sshtun-f-")
        run("ip", "netns", "add", self.far)
        self.ns.created.insert(0, self.far)
        run(*in_ns(self.far, "ip", "link", "set", "lo", "up"))
        run("ip", "link", "add", "veth-far", "netns", self.ns.server, "type", "veth",
            "peer", "name", "veth-far", "netns", self.far)
        for ns, ip4, ip6 in ((self.ns.server, FAR_SERVER_SIDE, FAR_SERVER_SIDE6),
                             (self.far, FAR_HOST, FAR_HOST6)):
            run(*in_ns(ns, "ip", "addr", "add", f"{ip4}/25", "dev", "veth-far"))
            run(*in_ns(ns, "ip", "addr", "add", f"{ip6}/64", "dev", "veth-far", "nodad"))
            run(*in_ns(ns, "ip", "link", "set", "veth-far", "up"))

    def streams_settings(self, **overrides):
        return self.settings(tunnel_mode="streams", remote_tun=None,
                             local_address6=TUN_CLIENT_IP6, **overrides)

    def tables(self):
        out = run(*in_ns(self.ns.client, "nft", "list", "tables")).stdout
        return [line for line in out.splitlines() if TABLE_PREFIX in line]

    def listening(self, port):
        return run(*in_ns(self.ns.client, "ss", "-Hltn", f"sport = :{port}")).stdout.strip()

    def probe(self, host, port):
        result = run(*in_ns(self.ns.client, sys.executable, "-c", PROBE, host, str(port)),
                     timeout=60)
        return result.stdout.strip()

    def connect_streams(self, **overrides):
        helper = self.connect(self.streams_settings(**overrides))
        ports = [arg for name, arg in helper.events if name == "streams"]
        self.assertEqual(len(ports), 1, helper.events)
        port4, port6 = (int(p) for p in ports[0].split())
        self.assertTrue(port4 and port6)
        server = [arg for name, arg in helper.events if name == "server"][0]
        dev = helper.interface
        run(*in_ns(self.ns.client, "ip", "route", "add", FAR_NET, "dev", dev))
        run(*in_ns(self.ns.client, "ip", "-6", "route", "add", FAR_NET6, "dev", dev))
        run(*in_ns(self.ns.client, "nft", "-f", "-"),
            input=streams_script(dev, port4, port6, server))
        self.addCleanup(self.delete_tables)
        return helper, port4, port6

    def delete_tables(self):
        for line in self.tables():
            run(*in_ns(self.ns.client, "nft", "delete", *line.split()), check=False)

    def check_traffic(self):
        """Both directions, sha256-checked, IPv4 and IPv6; and a refused port
        ends that connection alone."""
        self.start_web_server(self.far, FAR_HOST)
        self.assert_page(self.curl(self.ns.client, f"http://{FAR_HOST}:8000/page"))
        self.start_web_server(self.far, FAR_HOST6, port=8001)
        self.assert_page(self.curl(self.ns.client, f"http://[{FAR_HOST6}]:8001/page"))
        sent, received, nbytes, _ = transfer(self.ns.client, self.far, FAR_HOST, 8 << 20)
        self.assertEqual(nbytes, 8 << 20)
        self.assertEqual(sent, received, "the upload did not arrive intact")
        # Nothing listens on port 9 of the far host: the server's connect
        # fails, and the client's connection is reset.
        self.assertEqual(self.probe(FAR_HOST, 9), "reset")
        self.assertEqual(self.probe(FAR_HOST6, 9), "reset")
        # ...and the others go on.
        self.assert_page(self.curl(self.ns.client, f"http://{FAR_HOST}:8000/page"))
        # What is not TCP is refused at once ("administratively
        # prohibited"), not left to time out.
        self.assertEqual(self.udp(FAR_HOST), "EHOSTUNREACH")
        self.assertEqual(self.udp(FAR_HOST6), "EACCES")
        pinged = run(*in_ns(self.ns.client, "ping", "-c", "1", "-W", "3", FAR_HOST), check=False)
        self.assertNotEqual(pinged.returncode, 0)
        self.assertIn("Packet filtered", pinged.stdout)

    def udp(self, host):
        return run(*in_ns(self.ns.client, sys.executable, "-c", UDP, host), timeout=30).stdout.strip()


class StreamsThroughTheHelper(StreamsFixtures, HelperTestCase):
    """The helper alone, with the table the service would write."""

    def test_tcp_both_ways_without_permit_tunnel(self):
        helper, port4, port6 = self.connect_streams()
        self.check_traffic()
        self.assertIsNone(helper.proc.poll(), "the session ended")
        # Only loopback: the listeners are on 127.0.0.1 and ::1.
        self.assertIn("127.0.0.1:", self.listening(port4))
        self.assertIn("[::1]:", self.listening(port6))
        # A connection to the listener itself (not redirected) is refused.
        self.assertEqual(self.probe("127.0.0.1", port4), "reset")
        self.assertEqual(helper.stop(), 0)
        self.assertEqual(self.listening(port4), "")

    def test_a_thousand_connections_at_once(self):
        many = ("prlimit", "--nofile=4096:4096", sys.executable, TOOLS)
        self.start_in(self.far, *many, "echo", f"{FAR_HOST}:{ECHO_PORT}", wait_line="listening")
        helper, _, _ = self.connect_streams()
        result = run(*in_ns(self.ns.client, *many, "echo-clients", f"{FAR_HOST}:{ECHO_PORT}",
                            "1000", "4096"), check=False, timeout=300)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("ok 1000", result.stdout)
        self.assertIsNone(helper.proc.poll(), "the session ended")

    def test_listeners_go_with_a_killed_helper(self):
        helper, port4, port6 = self.connect_streams()
        helper.proc.kill()
        helper.wait_exit()
        self.assertEqual(self.listening(port4), "")
        self.assertEqual(self.listening(port6), "")


class StreamsAfterReconnect(StreamsFixtures, HelperTestCase, LinkControl):
    def test_connections_reset_listeners_kept(self):
        self.start_tool(self.far, "echo", f"{FAR_HOST}:{ECHO_PORT}")
        helper, port4, _ = self.connect_streams(keepalive="1", keepalive_count="2")
        held = self.start_in(self.ns.client, sys.executable, "-c", HOLD, FAR_HOST, str(ECHO_PORT),
                             wait_line="connected")
        self.kill_sshd()
        name, _ = helper.wait_for({"reconnecting"}, timeout=15)
        self.assertEqual(name, "reconnecting", helper.log_text())
        # The connection went with the session, as the destination's would
        # have gone: reset, not a clean end.
        self.assertEqual(held.stdout.readline().strip(), "reset")
        self.assertIn("127.0.0.1:", self.listening(port4))
        self.sshd.start()
        name, _ = helper.wait_for({"ready"}, timeout=30)
        self.assertEqual(name, "ready", helper.log_text())
        # Same listeners: no second streams event, the table still holds.
        self.assertEqual(len([n for n, _ in helper.events if n == "streams"]), 1)
        self.start_web_server(self.far, FAR_HOST)
        self.assert_page(self.curl(self.ns.client, f"http://{FAR_HOST}:8000/page"))


class StreamsThroughNetworkManager(StreamsFixtures, NetworkManagerTestCase):
    """The whole stack: the service writes the table and removes it."""

    def add_streams_vpn(self):
        self.nm.add_vpn("streams", self.streams_settings(),
                        extra=("ipv4.routes", FAR_NET, "ipv6.routes", FAR_NET6))

    def pid_of(self, program):
        for pid in self.nm.service_pids():
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if program.encode() in f.read():
                    return pid
        self.fail(f"no {program} running")

    def environ(self, pid):
        with open(f"/proc/{pid}/environ", "rb") as f:
            return dict(item.split(b"=", 1) for item in f.read().split(b"\0") if b"=" in item)

    def history_state(self, home):
        try:
            st = os.stat(os.path.join(home, b".nft.history"))
        except FileNotFoundError:
            return None
        return (st.st_size, st.st_mtime_ns)

    def test_table_lives_with_the_connection(self):
        self.add_streams_vpn()
        homes = {os.fsencode(os.environ.get("HOME", "/root")), b"/root"}
        histories = {home: self.history_state(home) for home in homes}
        self.up("streams")
        self.assertEqual(len(self.tables()), 1, self.nm.log_text()[-3000:])
        # nft -i (libedit) would write each line, the rules and the
        # server's address among them, to $HOME/.nft.history: the service
        # gives it a HOME that does not exist, and the service's own HOME
        # (the one nft would have had) gets no history.
        pids = self.nft_processes()
        self.assertEqual(len(pids), 1, pids)
        self.assertEqual(self.environ(pids[0]).get(b"HOME"), b"/nonexistent")
        self.assertFalse(os.path.exists("/nonexistent"))
        service_home = self.environ(self.pid_of("nm-sshtun-service")).get(b"HOME", b"/")
        history = histories.get(service_home)
        self.assertEqual(self.history_state(service_home), history)
        # NetworkManager's view stays true: the routes are on the device.
        routes = run(*in_ns(self.ns.client, "ip", "route", "show", FAR_NET)).stdout
        self.assertIn("dev tun", routes)
        self.check_traffic()
        self.down("streams")
        self.wait_no_tables()
        self.assertEqual(self.history_state(service_home), history)

        # A helper that dies: the service removes the table as it goes.
        self.up("streams")
        self.assertEqual(len(self.tables()), 1)
        table = run(*in_ns(self.ns.client, "nft", "list", *self.tables()[0].split())).stdout
        self.assertIn("flags owner", table)
        ports = re.findall(r"redirect to :(\d+)", table)
        self.assertEqual(len(ports), 2, table)
        os.kill(self.pid_of("nm-sshtun-helper"), 9)
        self.wait_no_service()
        self.wait_no_tables()
        for port in ports:
            self.assertEqual(self.listening(port), "")

        # A killed service: its nft process reads the end of its pipe and
        # exits, and the kernel deletes the table it owned.
        self.up("streams")
        os.kill(self.pid_of("nm-sshtun-service"), 9)
        self.wait_no_service()
        self.wait_no_tables()

        # A table of the plugin's without a device (an older version's, or
        # made by hand) is deleted by the next service as it installs its
        # own table.
        run(*in_ns(self.ns.client, "nft", "add", "table", "inet", TABLE_PREFIX + "gone0"))
        self.up("streams")
        self.assertEqual(len(self.tables()), 1, self.tables())
        self.assertIn(f"removing the nftables table {TABLE_PREFIX}gone0", self.nm.log_text())
        self.down("streams")
        self.wait_no_tables()

    def test_default_route_means_all(self):
        """No routes of its own: the connection takes the default route, and
        every TCP connection goes through the server, the SSH connection's
        own excepted (NetworkManager keeps the server outside)."""
        self.nm.add_vpn("everything", self.streams_settings())
        self.up("everything")
        default = run(*in_ns(self.ns.client, "ip", "route", "show", "default")).stdout
        self.assertIn("dev tun", default)
        self.start_web_server(self.far, FAR_HOST)
        self.assert_page(self.curl(self.ns.client, f"http://{FAR_HOST}:8000/page"))
        self.assertEqual(self.udp(FAR_HOST), "EHOSTUNREACH")
        self.down("everything")
        self.wait_no_tables()

    def nft_processes(self):
        found = []
        for pid in run("ip", "netns", "pids", self.ns.client).stdout.split():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if os.path.basename(argv[0]) == b"nft":
                found.append(pid)
        return found

    def wait_no_tables(self):
        """No table of the plugin's, and no nft process holding one."""
        deadline = time.monotonic() + 5
        while (self.tables() or self.nft_processes()) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.tables(), [])
        self.assertEqual(self.nft_processes(), [])
