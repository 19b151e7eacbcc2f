# SPDX-License-Identifier: GPL-2.0-or-later
"""Servers and clients for the forward tests, run inside a namespace.

  forward_tools.py echo ADDRESS            echo server; ADDRESS is HOST:PORT or
                                           a Unix socket path; prints "listening"
  forward_tools.py source ADDRESS BYTES    sends BYTES to each client, then closes
  forward_tools.py echo-clients ADDRESS N BYTES [--socks5 P | --socks4a P | --socks4 P]
                                           N connections at once, each sends BYTES
                                           and checks it comes back intact; prints
                                           "ok N" or "failed ..." and the time
  forward_tools.py idle ADDRESS N         opens N connections that never send a byte;
                                           prints "idle N" and sleeps until killed
  forward_tools.py slowloris ADDRESS       starts a SOCKS5 greeting announcing 255
                                           methods and sends one byte every 5 s;
                                           prints "open after S s" while the proxy
                                           keeps it, "closed after S s" at EOF
  forward_tools.py delay-proxy LISTEN TARGET SECONDS LIFETIME
                                           relays each client to TARGET after
                                           SECONDS of silence, and cuts it after
                                           LIFETIME seconds (0: never); prints
                                           "listening", then "cut" at each cut
  forward_tools.py stall ADDRESS --socks5 P
                                           connects, then never reads; prints
                                           "stalled" and sleeps until killed

Every socket has a time-out: nothing here waits without bound.
"""
import hashlib
import os
import random
import socket
import socketserver
import struct
import sys
import threading
import time

TIMEOUT = 120


def parse_address(text):
    if text.startswith("/"):
        return socket.AF_UNIX, text
    host, _, port = text.rpartition(":")
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return family, (host, int(port))


def serve(address, handler):
    family, where = parse_address(address)
    if family == socket.AF_UNIX:
        server_class = socketserver.ThreadingUnixStreamServer
    else:
        class server_class(socketserver.ThreadingTCPServer):
            address_family = family
            allow_reuse_address = True
    server_class.daemon_threads = True
    server_class.request_queue_size = 512
    with server_class(where, handler) as server:
        if family == socket.AF_UNIX:
            os.chmod(where, 0o666)
        print("listening", flush=True)
        server.serve_forever()


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.settimeout(TIMEOUT)
        while True:
            data = self.request.recv(1 << 16)
            if not data:
                return
            self.request.sendall(data)


def source_handler(nbytes):
    class Source(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.settimeout(TIMEOUT)
            chunk = b"s" * (1 << 16)
            left = nbytes
            try:
                while left > 0:
                    sent = self.request.send(chunk[:left])
                    left -= sent
            except OSError:
                pass
    return Source


def socks_connect(proxy, version, target):
    """A connection to @target through the SOCKS proxy at @proxy."""
    family, where = parse_address(proxy)
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(TIMEOUT)
    sock.connect(where)
    host, _, port = target.rpartition(":")
    host, port = host.strip("[]"), int(port)
    if version == "socks5":
        sock.sendall(b"\x05\x01\x00")
        if recv_exact(sock, 2) != b"\x05\x00":
            raise OSError("SOCKS5 method refused")
        name = host.encode()
        sock.sendall(b"\x05\x01\x00\x03" + bytes([len(name)]) + name + struct.pack(">H", port))
        reply = recv_exact(sock, 10)
        if reply[1] != 0:
            raise OSError(f"SOCKS5 connect refused ({reply[1]})")
    else:
        if version == "socks4a":
            address, tail = b"\x00\x00\x00\x01", host.encode() + b"\x00"
        else:
            address, tail = socket.inet_aton(host), b""
        sock.sendall(b"\x04\x01" + struct.pack(">H", port) + address + b"user\x00" + tail)
        reply = recv_exact(sock, 8)
        if reply[1] != 90:
            raise OSError(f"SOCKS4 connect refused ({reply[1]})")
    return sock


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise OSError("connection closed early")
        data += chunk
    return data


def open_connection(address, proxy):
    if proxy:
        return socks_connect(proxy[1], proxy[0], address)
    family, where = parse_address(address)
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(TIMEOUT)
    sock.connect(where)
    return sock


def echo_once(address, proxy, nbytes, seed, failures):
    try:
        payload = random.Random(seed).randbytes(nbytes)
        sock = open_connection(address, proxy)
        with sock:
            received = hashlib.sha256()
            got = 0

            def reader():
                nonlocal got
                while got < nbytes:
                    data = sock.recv(1 << 16)
                    if not data:
                        break
                    received.update(data)
                    got += len(data)

            thread = threading.Thread(target=reader)
            thread.start()
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)
            thread.join(TIMEOUT)
            if got != nbytes or received.digest() != hashlib.sha256(payload).digest():
                failures.append(f"connection {seed}: {got} of {nbytes} bytes came back intact")
    except OSError as e:
        failures.append(f"connection {seed}: {e}")


def echo_clients(address, count, nbytes, proxy):
    failures = []
    threads = [threading.Thread(target=echo_once, args=(address, proxy, nbytes, i, failures))
               for i in range(count)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT * 2)
    elapsed = time.monotonic() - start
    if failures:
        print(f"failed {len(failures)}: {failures[:5]}", flush=True)
        return 1
    print(f"ok {count} {elapsed:.2f}", flush=True)
    return 0


def stall(address, proxy):
    sock = open_connection(address, proxy)
    print("stalled", flush=True)
    time.sleep(TIMEOUT)
    sock.close()


def idle(address, count):
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, count + 64)), hard))
    family, where = parse_address(address)
    sockets = []
    for _ in range(count):
        sock = socket.socket(family, socket.SOCK_STREAM)
        # Not waiting for each handshake: beyond the listen backlog the
        # kernel keeps retrying them, as real waiting clients would.
        sock.setblocking(False)
        sock.connect_ex(where)
        sockets.append(sock)
    print(f"idle {count}", flush=True)
    time.sleep(TIMEOUT)
    for sock in sockets:
        sock.close()


def slowloris(address):
    family, where = parse_address(address)
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.connect(where)
    start = time.monotonic()
    sock.sendall(b"\x05\xff")
    sock.settimeout(5)
    while time.monotonic() - start < TIMEOUT:
        try:
            data = sock.recv(1)
        except socket.timeout:
            print(f"open after {time.monotonic() - start:.0f} s", flush=True)
            try:
                sock.sendall(b"\x00")
            except OSError:
                break
            continue
        except OSError:
            break
        if data:
            print("answered", flush=True)
            return
        break
    print(f"closed after {time.monotonic() - start:.0f} s", flush=True)


def delay_proxy(listen, target, seconds, lifetime):
    family, where = parse_address(listen)
    server = socket.socket(family, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(where)
    server.listen(8)
    server.settimeout(TIMEOUT)
    print("listening", flush=True)
    while True:
        client, _ = server.accept()
        time.sleep(seconds)
        tfamily, twhere = parse_address(target)
        upstream = socket.create_connection(twhere, timeout=TIMEOUT)
        pair = (client, upstream)

        def pump(src, dst):
            try:
                while True:
                    data = src.recv(65536)
                    if not data:
                        break
                    dst.sendall(data)
            except OSError:
                pass
            for s in pair:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        threading.Thread(target=pump, args=(client, upstream), daemon=True).start()
        threading.Thread(target=pump, args=(upstream, client), daemon=True).start()
        if lifetime:
            def cut():
                time.sleep(lifetime)
                for s in pair:
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                print("cut", flush=True)
            threading.Thread(target=cut, daemon=True).start()


def proxy_option(args):
    for flag in ("--socks5", "--socks4a", "--socks4"):
        if flag in args:
            i = args.index(flag)
            value = args[i + 1]
            del args[i:i + 2]
            return flag[2:], value
    return None


def main(args):
    proxy = proxy_option(args)
    command = args[0]
    if command == "echo":
        serve(args[1], Echo)
    elif command == "source":
        serve(args[1], source_handler(int(args[2])))
    elif command == "echo-clients":
        return echo_clients(args[1], int(args[2]), int(args[3]), proxy)
    elif command == "idle":
        idle(args[1], int(args[2]))
    elif command == "delay-proxy":
        delay_proxy(args[1], args[2], float(args[3]), float(args[4]))
    elif command == "slowloris":
        slowloris(args[1])
    elif command == "stall":
        stall(args[1], proxy)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
