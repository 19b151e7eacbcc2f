# SPDX-License-Identifier: GPL-2.0-or-later
"""A bulk TCP transfer with checksums on both ends.

  blast.py receive ADDRESS PORT [WAIT]  prints "listening", then "SHA256 BYTES";
                                        gives up after WAIT seconds of silence (60)
  blast.py send ADDRESS PORT N [SECONDS]  sends N pseudo-random bytes, spread
                                          evenly over SECONDS if given; prints "SHA256"
  blast.py serve ADDRESS PORT N         prints "listening", sends N pseudo-random
                                        bytes to the one client, then "SHA256"
  blast.py fetch ADDRESS PORT           connects, prints "SHA256 BYTES" of what came
"""
import hashlib
import random
import socket
import sys
import time

CHUNK = 1 << 16


def listener(address, port, wait):
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    server = socket.socket(family, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((address, port))
    server.listen(1)
    server.settimeout(wait)
    print("listening", flush=True)
    return server


def take_all(conn):
    """Reads to the end; the SHA-256 and count of what came."""
    digest, total = hashlib.sha256(), 0
    while True:
        data = conn.recv(1 << 20)
        if not data:
            break
        digest.update(data)
        total += len(data)
    return digest.hexdigest(), total


def give(conn, nbytes, seconds=0):
    """Sends @nbytes, paced over @seconds if given, then ends the stream and
    waits for the other end's; the SHA-256 of what was sent."""
    rng = random.Random(20261122)
    # Paced: a stream still running while the test changes the path under it.
    start, rate = time.monotonic(), nbytes / seconds if seconds else 0
    digest = hashlib.sha256()
    left = nbytes
    while left:
        data = rng.randbytes(min(CHUNK, left))
        digest.update(data)
        conn.sendall(data)
        left -= len(data)
        if rate:
            ahead = (nbytes - left) / rate - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(ahead)
    conn.shutdown(socket.SHUT_WR)
    conn.recv(1)
    return digest.hexdigest()


def receive(address, port, wait=60):
    with listener(address, port, wait) as server:
        conn, _ = server.accept()
        conn.settimeout(wait)
        print(*take_all(conn), flush=True)


def send(address, port, nbytes, seconds=0):
    with socket.create_connection((address, port), timeout=60) as conn:
        if seconds:
            # A paced stream must outlive an outage of a minute or more.
            conn.settimeout(None)
        print(give(conn, nbytes, seconds), flush=True)


def serve(address, port, nbytes, wait=60):
    with listener(address, port, wait) as server:
        conn, _ = server.accept()
        conn.settimeout(wait)
        print(give(conn, nbytes), flush=True)


def fetch(address, port):
    with socket.create_connection((address, port), timeout=60) as conn:
        digest, total = take_all(conn)
        conn.shutdown(socket.SHUT_WR)
        print(digest, total, flush=True)


if __name__ == "__main__":
    mode, address, port, rest = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    if mode == "receive":
        receive(address, port, *(float(a) for a in rest[:1]))
    elif mode == "serve":
        serve(address, port, int(rest[0]))
    elif mode == "fetch":
        fetch(address, port)
    else:
        send(address, port, int(rest[0]), *(float(a) for a in rest[1:2]))
