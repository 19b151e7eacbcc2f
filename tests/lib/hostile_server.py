# SPDX-License-Identifier: GPL-2.0-or-later
"""A hostile SSH server for the tests (Debian's python3-paramiko): it accepts
any public key, opens tun@openssh.com, and then misbehaves as told.

  /usr/bin/python3 hostile_server.py ADDRESS PORT HOST_KEY SCENARIO

prints "listening", serves one client, and exits. Scenarios:
  truncated       half an IPv4 header, then EOF and close
The next four wait for a line on stdin (the client's device is up), send
what they name, then after a pause three valid IPv4 packets, one message
each, and print "sent":
  oversized       a frame claiming 60000 bytes (over the MTU and the
                  channel packet), sent in full
  bad-family      frames with address family 99
  zero-length     a frame of only the 4-byte family, then an IPv4 header
                  claiming length 0
  forged-ipv6     an IPv6 header with payload length 0 and a Hop-by-Hop
                  header, and behind it in the same message a whole valid
                  frame (which must never be delivered)
  garbage-config  remote-command answered with 8 MiB of garbage
  endless-command remote-command that never answers nor ends
  channel-flood   2000 channel opens towards the client, then an idle tunnel
  window-flood    8 MiB of valid tunnel frames sent without regard to the
                  window the client offered (raw CHANNEL_DATA messages)
"""
import os
import socket
import struct
import sys
import threading
import time

import paramiko

from frame_tools import checksum


def ipv4_header(total_length, protocol=17):
    header = struct.pack(">BBHHHBBH4s4s", 0x45, 0, total_length, 0, 0, 64, protocol, 0,
                         bytes([198, 51, 100, 2]), bytes([198, 51, 100, 1]))
    return header[:10] + struct.pack(">H", checksum(header)) + header[12:]


def valid_frame(number):
    """A UDP datagram to 198.51.100.1 port 9 (discard), checksum 0."""
    payload = b"valid-%d" % number
    return (struct.pack(">I", 2) + ipv4_header(28 + len(payload)) +
            struct.pack(">HHHH", 9, 9, 8 + len(payload), 0) + payload)


def forged_ipv6():
    """Payload length 0, Hop-by-Hop (next: none, PadN), then a frame."""
    header = (struct.pack(">IHBB", 6 << 28, 0, 0, 64) + bytes([0x20, 0x01, 0x0d, 0xb8, 0, 2] +
              [0] * 9 + [2]) + bytes([0x20, 0x01, 0x0d, 0xb8, 0, 2] + [0] * 9 + [1]))
    hop_by_hop = bytes([59, 0, 1, 4, 0, 0, 0, 0])
    return struct.pack(">I", 24) + header + hop_by_hop + valid_frame(666)


class Server(paramiko.ServerInterface):
    def __init__(self):
        self.exec_event = threading.Event()
        self.command = None

    def get_allowed_auths(self, username):
        return "publickey"

    def check_auth_publickey(self, username, key):
        return paramiko.AUTH_SUCCESSFUL

    def check_channel_request(self, kind, chanid):
        if kind in ("tun@openssh.com", "session"):
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_exec_request(self, channel, command):
        self.command = command
        self.exec_event.set()
        return True


def misbehave(transport, server, scenario):
    tun = transport.accept(30)
    if tun is None:
        return
    if scenario in ("garbage-config", "endless-command"):
        session = transport.accept(30)
        if session is None or not server.exec_event.wait(30):
            return
        if scenario == "garbage-config":
            chunk = b"\xff\x00GARBAGE " * 4096
            try:
                for _ in range(8 * 1024 * 1024 // len(chunk)):
                    session.sendall(chunk)
            except (OSError, EOFError, paramiko.SSHException):
                pass
            session.send_exit_status(0)
            session.close()
        else:
            time.sleep(120)
        return
    if scenario == "truncated":
        tun.sendall(struct.pack(">I", 2) + ipv4_header(60)[:10])
        tun.shutdown_write()
        time.sleep(1)
        tun.close()
    elif scenario in ("oversized", "bad-family", "zero-length", "forged-ipv6"):
        sys.stdin.readline()
        if scenario == "oversized":
            tun.sendall(struct.pack(">I", 2) + ipv4_header(60000) + bytes(60000 - 20))
        elif scenario == "bad-family":
            for _ in range(100):
                tun.sendall(struct.pack(">I", 99) + ipv4_header(28) + bytes(8))
        elif scenario == "zero-length":
            tun.sendall(struct.pack(">I", 2))
            tun.sendall(ipv4_header(0))
        else:
            for _ in range(20):
                tun.sendall(forged_ipv6())
        time.sleep(1)
        for number in range(3):
            tun.sendall(valid_frame(number))
            time.sleep(0.1)
        print("sent", flush=True)
    elif scenario == "channel-flood":
        # Raw SSH_MSG_CHANNEL_OPEN messages, not waiting for answers
        # (paramiko's open_channel would wait for each).
        for number in range(2000):
            m = paramiko.Message()
            m.add_byte(bytes([90]))  # SSH_MSG_CHANNEL_OPEN
            m.add_string("session")
            m.add_int(100000 + number)
            m.add_int(2 * 1024 * 1024)
            m.add_int(32768)
            transport._send_user_message(m)
        print("flood sent", flush=True)
    elif scenario == "window-flood":
        # paramiko's Channel.send honours the window; these do not.
        frame = struct.pack(">I", 2) + ipv4_header(1400) + bytes(1380)
        for _ in range(8 * 1024 * 1024 // len(frame)):
            m = paramiko.Message()
            m.add_byte(bytes([94]))  # SSH_MSG_CHANNEL_DATA
            m.add_int(tun.remote_chanid)
            m.add_string(frame)
            transport._send_user_message(m)
        print("flood sent", flush=True)
    time.sleep(60)


def main(address, port, host_key, scenario):
    if os.environ.get("HOSTILE_LOG"):
        paramiko.util.log_to_file(os.environ["HOSTILE_LOG"])
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((address, int(port)))
    listener.listen(1)
    listener.settimeout(60)
    print("listening", flush=True)
    conn, _ = listener.accept()
    transport = paramiko.Transport(conn)
    transport.add_server_key(paramiko.Ed25519Key(filename=host_key))
    server = Server()
    transport.start_server(server=server)
    try:
        misbehave(transport, server, scenario)
    finally:
        transport.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
