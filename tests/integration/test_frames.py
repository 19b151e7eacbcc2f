# SPDX-License-Identifier: GPL-2.0-or-later
"""Frames no outsider can break, against the real sshd.

A third namespace sits behind the server. In point-to-point mode it sends
what any host the server routes to the client can send: IPv6 headers with
payload length 0 and a Hop-by-Hop header (with and without a Jumbo option)
hiding a whole frame behind them, IPv4 whose total length is shorter or
longer than its data, fragments, all around valid datagrams and during a
100 MB transfer. The same helper process carries on, never reconnects,
and the client's device receives only packets the third namespace sent.

In ethernet mode the server's tap is bridged to that namespace through a
relay that pads every short frame to 60 bytes as a network card does
(random bytes, the hard case): ARP, ping, DHCP and transfers both ways
work across the bridge, and VLAN-tagged frames (sent raw: this kernel may
lack 8021q) arrive exactly as sent."""

import json
import os
import re
import subprocess
import time

from harness import (LIB_DIR, TUN_CLIENT_IP, TUN_CLIENT_IP6, TUN_SERVER_IP6, in_ns, ping, run,
                     stop_process, transfer)
from test_helper import HelperTestCase

TOOLS = os.path.join(LIB_DIR, "frame_tools.py")
BEHIND_SIDE, BEHIND_IP = "203.0.113.1", "203.0.113.2"
BEHIND_SIDE6, BEHIND_IP6 = "2001:db8:3::1", "2001:db8:3::2"
UDP_PORT = 7007


def normalized(packet_hex):
    """An IP packet without what the server's router changes on the way:
    TTL (and so the IPv4 checksum) or hop limit."""
    packet = bytearray.fromhex(packet_hex)
    if packet[0] >> 4 == 4:
        packet[8] = 0
        packet[10:12] = b"\0\0"
    else:
        packet[7] = 0
    return bytes(packet)


class BehindTheServer(HelperTestCase):
    def prepare_network(self):
        self.behind = self.ns.client.replace("sshtun-c-", "sshtun-b-")
        run("ip", "netns", "add", self.behind)
        self.ns.created.insert(0, self.behind)
        run(*in_ns(self.behind, "ip", "link", "set", "lo", "up"))
        run("ip", "link", "add", "veth-sb", "netns", self.ns.server, "type", "veth",
            "peer", "name", "veth-sb", "netns", self.behind)
        for ns in (self.ns.server, self.behind):
            run(*in_ns(ns, "ip", "link", "set", "veth-sb", "up"))

    def server_mac(self):
        link = json.loads(run(*in_ns(self.ns.server, "ip", "-j", "link", "show", "veth-sb")).stdout)
        return link[0]["address"]


class PointToPointFromBehind(BehindTheServer):
    def prepare_network(self):
        super().prepare_network()
        for ns, ip4, ip6 in ((self.ns.server, BEHIND_SIDE, BEHIND_SIDE6),
                             (self.behind, BEHIND_IP, BEHIND_IP6)):
            run(*in_ns(ns, "ip", "addr", "add", f"{ip4}/24", "dev", "veth-sb"))
            run(*in_ns(ns, "ip", "addr", "add", f"{ip6}/64", "dev", "veth-sb", "nodad"))
        run(*in_ns(self.ns.server, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1",
                   "net.ipv6.conf.all.forwarding=1"))
        run(*in_ns(self.behind, "ip", "route", "add", TUN_CLIENT_IP, "via", BEHIND_SIDE))
        run(*in_ns(self.behind, "ip", "-6", "route", "add", TUN_CLIENT_IP6, "via", BEHIND_SIDE6))

    def test_hostile_packets_end_nothing_and_deliver_nothing_forged(self):
        self.server_tun()
        helper = self.connect(self.settings(keepalive="0", local_address6=TUN_CLIENT_IP6,
                                            remote_address6=TUN_SERVER_IP6))
        for args in (("route", "add", "203.0.113.0/24", "dev", helper.interface),
                     ("-6", "route", "add", "2001:db8:3::/64", "dev", helper.interface)):
            run(*in_ns(self.ns.client, "ip", *args))
        pid = helper.proc.pid

        collector = subprocess.Popen(
            in_ns(self.ns.client, "python3", TOOLS, "collect", helper.interface, str(UDP_PORT),
                  "30", TUN_CLIENT_IP, TUN_CLIENT_IP6),
            stdout=subprocess.PIPE, text=True)
        self.addCleanup(stop_process, collector)
        self.assertEqual(collector.stdout.readline().strip(), "ready")
        sender = subprocess.Popen(
            in_ns(self.behind, "python3", TOOLS, "send", "veth-sb", self.server_mac(),
                  TUN_CLIENT_IP, TUN_CLIENT_IP6, str(UDP_PORT), "300"),
            stdout=subprocess.PIPE, text=True)
        self.addCleanup(stop_process, sender)
        # Valid traffic both ways meanwhile: a transfer from behind.
        sent_sum, received_sum, nbytes, _ = transfer(self.behind, self.ns.client, TUN_CLIENT_IP,
                                                     100 * 1000 * 1000, timeout=180)
        sent = json.loads(sender.communicate(timeout=60)[0])
        self.assertEqual(nbytes, 100 * 1000 * 1000)
        self.assertEqual(sent_sum, received_sum)
        self.assertEqual(ping(self.behind, TUN_CLIENT_IP).returncode, 0)
        self.assertEqual(ping(self.behind, TUN_CLIENT_IP6).returncode, 0)
        got = json.loads(collector.communicate(timeout=60)[0])

        # Nothing hidden behind a forged length came through ...
        forged = [p for p in got["payloads"] if p.startswith("INJECTED")]
        self.assertEqual(forged, [])
        # ... every packet the device received is one that was sent, whole
        # (the short one as the server's kernel cut it) ...
        expected = {normalized(p) for p in sent["expected"]}
        for packet in got["captured"]:
            raw = bytes.fromhex(packet)
            if raw[0] >> 4 == 6 and (raw[6] == 58 or raw[8:10] == b"\xfe\x80"):
                continue  # the pings' ICMPv6; the server's own MLD reports
            if raw[0] >> 4 == 4 and raw[9] == 1:
                continue  # the pings' ICMP
            self.assertIn(normalized(packet), expected, packet)
        # ... and the valid datagrams kept arriving (those sharing a read
        # with a forged one are dropped with it).
        for kind in ("valid4-", "valid6-", "short-", "fragmented-"):
            self.assertTrue(any(p.startswith(kind) for p in got["payloads"]), kind)
        self.assertTrue(set(got["payloads"]) <= set(sent["payloads"]))

        # The same process, never reconnected, and it said what it dropped.
        self.assertIsNone(helper.proc.poll())
        self.assertEqual(helper.proc.pid, pid)
        log = helper.log_text()
        self.assertNotIn("reconnect", log)
        self.assertNotIn("session lost", log)
        self.assertIn("payload length 0 and a Hop-by-Hop header", log)
        received = len([p for p in got["payloads"] if not p.startswith("INJECTED")])
        print(f"\n  from behind: {received} of {len(sent['payloads'])} valid datagrams arrived; "
              f"{len(got['captured'])} packets captured", flush=True)


class EthernetBridgedToPaddingLan(BehindTheServer):
    """server: br0 = {tap7 (sshd's), veth-sb}; behind: veth-sb -> relay
    that pads -> lan0 (198.51.100.3)."""

    LAN_IP = "198.51.100.3"

    def bridge(self, padding):
        self.server_tun("tap7", "tap")
        server = lambda *a: run(*in_ns(self.ns.server, "ip", *a))
        server("addr", "flush", "dev", "tap7")
        server("link", "add", "br0", "type", "bridge")
        for port in ("tap7", "veth-sb"):
            server("link", "set", port, "master", "br0")
        server("link", "set", "br0", "up")
        relay = subprocess.Popen(in_ns(self.behind, "python3", TOOLS, "pad-relay", "lan0",
                                       "veth-sb", padding),
                                 stdout=subprocess.PIPE, text=True)
        self.addCleanup(stop_process, relay)
        self.assertEqual(relay.stdout.readline().strip(), "relaying")
        behind = lambda *a: run(*in_ns(self.behind, "ip", *a))
        behind("addr", "add", f"{self.LAN_IP}/24", "dev", "lan0")
        behind("link", "set", "lan0", "up")

        helper = self.start_helper(self.settings(tunnel_mode="ethernet", local_address=None,
                                                 remote_address=None, keepalive="0"))
        helper.wait_ready()
        run(*in_ns(self.ns.client, "ip", "link", "set", helper.interface, "up"))
        return helper

    def tagged_frames_arrive_whole(self, helper, padding):
        """Short VLAN-tagged frames, padded by the LAN's card, joined with
        others in bursts: the client's tap gets each exactly as sent."""
        capture = subprocess.Popen(in_ns(self.ns.client, "python3", TOOLS, "capture-frames",
                                         helper.interface, "8"),
                                   stdout=subprocess.PIPE, text=True)
        self.addCleanup(stop_process, capture)
        self.assertEqual(capture.stdout.readline().strip(), "ready")
        sent = json.loads(run(*in_ns(self.behind, "python3", TOOLS, "send-tagged", "veth-sb",
                                     padding, "200")).stdout)
        got = json.loads(capture.communicate(timeout=30)[0])
        tagged = [f for f in got if f[24:28] == "8100"]
        self.assertTrue(tagged, "no tagged frame arrived")
        # Each exactly as sent; or, where padding could be read either way
        # (random bytes can be made to), the frame without its padding.
        trimmed = 0
        for frame in tagged:
            if frame not in sent:
                trimmed += 1
                self.assertTrue(any(s.startswith(frame) and len(frame) >= 2 * 42 for s in sent),
                                frame)
        return len(tagged), len(sent), trimmed

    def dhcp(self, helper):
        """dnsmasq on the LAN leases the client's tap its address."""
        leases = os.path.join(self.tmp.path, "dnsmasq.leases")
        server = subprocess.Popen(
            in_ns(self.behind, "dnsmasq", "--keep-in-foreground", "--no-daemon", "--port=0",
                  "--interface=lan0", "--bind-interfaces", "--user=root", f"--dhcp-leasefile={leases}",
                  "--dhcp-range=198.51.100.50,198.51.100.60,255.255.255.0,1h",
                  f"--pid-file={os.path.join(self.tmp.path, 'dnsmasq.pid')}"),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(stop_process, server)
        # dnsmasq listens only after it has read its options; a DISCOVER
        # sent before that is lost, and on a loaded machine (CI builds in
        # the background) all of udhcpc's tries could be.
        for _ in range(100):
            if run(*in_ns(self.behind, "ss", "-Hlun", "sport = :67")).stdout.strip():
                break
            self.assertIsNone(server.poll(), "dnsmasq exited")
            time.sleep(0.1)
        script = self._write("udhcpc.sh", "#!/bin/sh\n"
                             "[ \"$1\" = bound ] && ip addr add \"$ip/$mask\" dev \"$interface\"\n"
                             "exit 0\n", mode=0o755)
        run(*in_ns(self.ns.client, "busybox", "udhcpc", "-i", helper.interface, "-n", "-q",
                   "-t", "10", "-T", "3", "-s", script), timeout=60)
        addresses = run(*in_ns(self.ns.client, "ip", "-4", "-o", "addr", "show", "dev",
                               helper.interface)).stdout
        leased = re.search(r"inet (198\.51\.100\.(?:5\d|60))/24", addresses)
        self.assertIsNotNone(leased, addresses)
        return leased.group(1)

    def test_padded_frames_cross_the_bridge(self):
        helper = self.bridge("random")
        pid = helper.proc.pid
        client_ip = self.dhcp(helper)
        # ARP from the LAN (42 bytes + 18 of padding) and back; ICMP,
        # small and large; TCP whose bare ACKs are padded.
        self.assertEqual(ping(self.behind, client_ip).returncode, 0)
        self.assertEqual(ping(self.ns.client, self.LAN_IP).returncode, 0)
        self.assertEqual(ping(self.behind, client_ip, size=4).returncode, 0)
        for sender, receiver, address in ((self.behind, self.ns.client, client_ip),
                                          (self.ns.client, self.behind, self.LAN_IP)):
            sent, received, nbytes, _ = transfer(sender, receiver, address, 20 * 1000 * 1000)
            self.assertEqual(nbytes, 20 * 1000 * 1000)
            self.assertEqual(sent, received)
        tagged, sent_tagged, trimmed = self.tagged_frames_arrive_whole(helper, "random")
        print(f"\n  padded LAN: {tagged} of {sent_tagged} tagged frames arrived, {trimmed} of "
              "them without their padding", flush=True)
        self.assertIsNone(helper.proc.poll())
        self.assertEqual(helper.proc.pid, pid)
        log = helper.log_text()
        self.assertNotIn("session lost", log)
        dropped = [line for line in log.splitlines() if "bytes from the server" in line]
        print(f"\n  padded LAN: {len(dropped)} drop lines in the log", flush=True)

    def test_zero_padding_is_never_taken_for_a_frame(self):
        helper = self.bridge("zero")
        run(*in_ns(self.ns.client, "ip", "addr", "add", "198.51.100.1/24", "dev",
                   helper.interface))
        self.assertEqual(ping(self.behind, "198.51.100.1", count=10).returncode, 0)
        sent, received, nbytes, _ = transfer(self.behind, self.ns.client, "198.51.100.1",
                                             20 * 1000 * 1000)
        self.assertEqual(sent, received)
        tagged, sent_tagged, trimmed = self.tagged_frames_arrive_whole(helper, "zero")
        self.assertEqual((tagged, trimmed), (sent_tagged, 0))
        # (A frame that came before the device was up is "dropped a packet".)
        self.assertNotIn("bytes from the server", helper.log_text())
