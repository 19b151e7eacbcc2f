# SPDX-License-Identifier: GPL-2.0-or-later
"""Tools for the frame tests (test_frames.py), run inside their namespaces.

  frame_tools.py send IFACE DST_MAC CLIENT4 CLIENT6 PORT ROUNDS
      From a host behind the server: per round, one of each hostile IPv6
      and IPv4 packet (raw Ethernet frames to the server, which forwards
      them into the tunnel), around valid UDP datagrams and fragments to
      CLIENT4/CLIENT6 PORT. Prints JSON: the IP packets that may arrive at
      the client (as sent, before the server's router touches them), and
      the payloads of the valid datagrams.
  frame_tools.py collect IFACE PORT SECONDS CLIENT4 CLIENT6
      On the client: the UDP payloads that reach PORT, and every packet
      other than TCP that the tunnel device IFACE receives. Prints "ready",
      then after SECONDS one JSON line.
  frame_tools.py send-tagged IFACE zero|random COUNT
      On the LAN: bursts of short 802.1Q-tagged frames (ARP requests and
      small IPv4 datagrams in VLAN 5), padded to 60 bytes as a card pads
      them, to the broadcast address. Prints their bytes as JSON.
  frame_tools.py capture-frames IFACE SECONDS
      Prints "ready", then after SECONDS the frames IFACE received, as JSON.
  frame_tools.py pad-relay TAP VETH zero|random
      A network card that pads: frames the kernel sends on TAP go out on
      VETH padded to the Ethernet minimum (60 bytes, tags included) with
      zeros or random bytes; frames arriving on VETH go in on TAP as they
      are. Prints "relaying", runs until killed.
"""
import errno
import fcntl
import json
import os
import select
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SOL_PACKET, PACKET_AUXDATA = 263, 8
TP_STATUS_VLAN_VALID, TP_STATUS_VLAN_TPID_VALID = 1 << 4, 1 << 6


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f">{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return ~total & 0xffff


def ipv4(src, dst, payload, protocol=17, total_length=None, frag=0, ident=0):
    length = 20 + len(payload) if total_length is None else total_length
    header = struct.pack(">BBHHHBBH4s4s", 0x45, 0, length, ident, frag, 64, protocol, 0,
                         socket.inet_aton(src), socket.inet_aton(dst))
    header = header[:10] + struct.pack(">H", checksum(header)) + header[12:]
    return header + payload


def ipv6(src, dst, payload, next_header=17, payload_length=None):
    length = len(payload) if payload_length is None else payload_length
    return (struct.pack(">IHBB", 6 << 28, length, next_header, 64) +
            socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst) +
            payload)


def udp(port, payload):
    # Checksum 0: none (IPv4); the IPv6 datagrams carry a real one below.
    return struct.pack(">HHHH", port, port, 8 + len(payload), 0) + payload


def udp6(src, dst, port, payload):
    length = 8 + len(payload)
    pseudo = (socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst) +
              struct.pack(">I3xB", length, 17))
    segment = struct.pack(">HHHH", port, port, length, 0) + payload
    return struct.pack(">HHHH", port, port, length, checksum(pseudo + segment) or 0xffff) + payload


def send(iface, dst_mac, client4, client6, port, rounds):
    port, rounds = int(port), int(rounds)
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    sock.bind((iface, 0))
    src_mac = sock.getsockname()[4]
    dst = bytes.fromhex(dst_mac.replace(":", ""))
    src4 = socket.inet_ntoa(struct.pack(">I", 0xcb007102))  # 203.0.113.2
    src6 = "2001:db8:3::2"

    def frame(ethertype, packet):
        sock.send(dst + src_mac + struct.pack(">H", ethertype) + packet)

    expected, payloads = [], []
    for n in range(rounds):
        # What a desynchronized reader would take for the next frames: a
        # point-to-point family word and a whole valid packet.
        hidden4 = struct.pack(">I", 2) + ipv4(src4, client4, udp(port, b"INJECTED-%d" % n))
        hidden6 = struct.pack(">I", 24) + ipv6(src6, client6,
                                               udp6(src6, client6, port, b"INJECTED6-%d" % n))
        hop_by_hop = bytes([59, 0, 1, 4, 0, 0, 0, 0])  # next: none; PadN
        jumbo = bytes([59, 0, 0xc2, 4]) + struct.pack(">I", 70000)
        valid4 = ipv4(src4, client4, udp(port, b"valid4-%d" % n))
        valid6 = ipv6(src6, client6, udp6(src6, client6, port, b"valid6-%d" % n))
        frame(0x0800, valid4)
        frame(0x86dd, ipv6(src6, client6, hop_by_hop + hidden4, next_header=0, payload_length=0))
        frame(0x86dd, ipv6(src6, client6, hop_by_hop + hidden6, next_header=0, payload_length=0))
        frame(0x86dd, ipv6(src6, client6, jumbo + hidden4, next_header=0, payload_length=0))
        # IPv4 whose total length is shorter than the data: the server's
        # kernel cuts it to that length; and one longer, which it drops.
        short = ipv4(src4, client4, udp(port, b"short-%d" % n))
        frame(0x0800, short + hidden4)
        frame(0x0800, ipv4(src4, client4, udp(port, b"long-%d" % n),
                           total_length=20 + 8 + 1000))
        # A datagram in two fragments: each goes through whole.
        body = udp(port, b"fragmented-%d " % n + b"x" * 64)
        frag_id = 0x4000 + n
        first = ipv4(src4, client4, body[:48], frag=0x2000, ident=frag_id)
        second = ipv4(src4, client4, body[48:], frag=48 // 8, ident=frag_id)
        frame(0x0800, first)
        frame(0x0800, second)
        frame(0x86dd, valid6)
        expected += [valid4, short, first, second, valid6]
        payloads += [b"valid4-%d" % n, b"short-%d" % n, b"fragmented-%d " % n + b"x" * 64,
                     b"valid6-%d" % n]
        time.sleep(0.02)
    print(json.dumps({"expected": [p.hex() for p in expected],
                      "payloads": [p.decode() for p in payloads]}), flush=True)


def collect(iface, port, seconds, client4, client6):
    port = int(port)
    receivers = []
    for family, address in ((socket.AF_INET, client4), (socket.AF_INET6, client6)):
        s = socket.socket(family, socket.SOCK_DGRAM)
        s.bind((address, port))
        receivers.append(s)
    capture = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
    capture.bind((iface, 0))
    print("ready", flush=True)
    payloads, captured = [], []
    deadline = time.monotonic() + float(seconds)
    while (left := deadline - time.monotonic()) > 0:
        readable, _, _ = select.select(receivers + [capture], [], [], left)
        for s in readable:
            if s is capture:
                packet, address = s.recvfrom(70000)
                if address[2] == PACKET_OUTGOING:
                    continue
                version = packet[0] >> 4
                protocol = packet[9] if version == 4 else packet[6]
                if protocol != 6:
                    captured.append(packet.hex())
            else:
                payloads.append(s.recv(70000).decode(errors="replace"))
    print(json.dumps({"payloads": payloads, "captured": captured}), flush=True)


def padded(frame, padding):
    if len(frame) >= 60:
        return frame
    fill = os.urandom(60 - len(frame)) if padding == "random" else bytes(60 - len(frame))
    return frame + fill


def send_tagged(iface, padding, count):
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    sock.bind((iface, 0))
    src = sock.getsockname()[4]
    tag = struct.pack(">HH", 0x8100, 5)
    sent = []
    for n in range(int(count)):
        arp = (struct.pack(">HHBBH", 1, 0x0800, 6, 4, 1) + src + socket.inet_aton("10.55.0.3") +
               bytes(6) + socket.inet_aton("10.55.0.%d" % (10 + n % 200)))
        datagram = ipv4("10.55.0.3", "10.55.0.255", udp(9, b"t%d" % n))
        for body in (struct.pack(">H", 0x0806) + arp, struct.pack(">H", 0x0800) + datagram):
            frame = padded(b"\xff" * 6 + src + tag + body, padding)
            sock.send(frame)
            sent.append(frame.hex())
        if n % 10 == 9:
            time.sleep(0.01)
    print(json.dumps(sent), flush=True)


def capture_frames(iface, seconds):
    capture = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    capture.bind((iface, 0))
    capture.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    print("ready", flush=True)
    frames = []
    deadline = time.monotonic() + float(seconds)
    while (left := deadline - time.monotonic()) > 0:
        readable, _, _ = select.select([capture], [], [], left)
        if readable:
            frame = receive_whole(capture)
            if frame is not None:
                frames.append(frame.hex())
    print(json.dumps(frames), flush=True)


def receive_whole(sock):
    """A received frame with its VLAN tag back in place (the kernel hands
    it beside the frame); None for one this host sent."""
    frame, ancillary, _, address = sock.recvmsg(65536, 64)
    if address[2] == PACKET_OUTGOING:
        return None
    for level, kind, data in ancillary:
        if level != SOL_PACKET or kind != PACKET_AUXDATA:
            continue
        status, _, _, _, _, tci, tpid = struct.unpack("=IIIHHHH", data[:20])
        if status & TP_STATUS_VLAN_VALID:
            if not status & TP_STATUS_VLAN_TPID_VALID:
                tpid = 0x8100
            frame = frame[:12] + struct.pack(">HH", tpid, tci) + frame[12:]
    return frame


def write_unless_down(tap, frame):
    """A card that is down drops what arrives: the kernel refuses a frame
    written to a tap that is not up yet (EIO), and frames do come before
    the test brings it up (the bridge's own IPv6 solicitations)."""
    try:
        os.write(tap, frame)
    except OSError as error:
        if error.errno != errno.EIO:
            raise


def pad_relay(tap_name, veth, padding):
    tap = os.open("/dev/net/tun", os.O_RDWR)
    # TUNSETIFF, IFF_TAP | IFF_NO_PI
    fcntl.ioctl(tap, 0x400454ca, struct.pack("16sH", tap_name.encode(), 0x0002 | 0x1000))
    wire = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    wire.bind((veth, 0))
    # The kernel hands a received VLAN tag beside the frame, not in it.
    wire.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    print("relaying", flush=True)
    while True:
        readable, _, _ = select.select([tap, wire], [], [])
        if tap in readable:
            wire.send(padded(os.read(tap, 65536), padding))
        if wire in readable:
            frame = receive_whole(wire)
            if frame is not None:
                write_unless_down(tap, frame)


if __name__ == "__main__":
    {"send": send, "collect": collect, "send-tagged": send_tagged,
     "capture-frames": capture_frames, "pad-relay": pad_relay}[sys.argv[1]](*sys.argv[2:])
