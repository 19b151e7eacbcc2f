# SPDX-License-Identifier: GPL-2.0-or-later
"""Prints the CLOCK_MONOTONIC time (seconds) at which TARGET first answers an
ICMP echo, sending one every 2 ms from before the tunnel exists; "nan"
after TIMEOUT seconds. Run inside the client namespace, as root (raw
socket). It prints "ready" once it is sending, so that the caller starts
its clock after this program's own start-up.

Why not ping in a loop: each ping run costs ~10 ms to start in a namespace
and exits at once while there is no route, so the figure would measure
the loop as much as the tunnel. CLOCK_MONOTONIC is the same clock in every
network namespace, so the caller compares the time with its own.

  first_ping.py TARGET TIMEOUT
"""

import os
import select
import socket
import struct
import sys
import time

INTERVAL = 0.002


def checksum(data):
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def echo_request(ident, sequence):
    header = struct.pack("!BBHHH", 8, 0, 0, ident, sequence)
    payload = b"sshtun-1st-ping!"  # even length: the checksum sums 16-bit words
    return struct.pack("!BBHHH", 8, 0, checksum(header + payload), ident, sequence) + payload


def is_our_reply(packet, ident):
    header_length = (packet[0] & 0x0F) * 4
    if len(packet) < header_length + 8:
        return False
    icmp_type, _, _, reply_ident, _ = struct.unpack("!BBHHH",
                                                    packet[header_length:header_length + 8])
    return icmp_type == 0 and reply_ident == ident


def main():
    target, timeout = sys.argv[1], float(sys.argv[2])
    ident = os.getpid() & 0xFFFF
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    sock.setblocking(False)
    print("ready", flush=True)
    deadline = time.monotonic() + timeout
    sequence = 0
    while time.monotonic() < deadline:
        sequence = (sequence + 1) & 0xFFFF
        try:
            sock.sendto(echo_request(ident, sequence), (target, 0))
        except OSError:
            pass  # no route yet
        next_send = time.monotonic() + INTERVAL
        while (wait := next_send - time.monotonic()) > 0:
            if not select.select([sock], [], [], wait)[0]:
                break
            packet = sock.recv(2048)
            if is_our_reply(packet, ident):
                print(f"{time.monotonic():.6f}", flush=True)
                return 0
    print("nan", flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
