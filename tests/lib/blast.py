# SPDX-License-Identifier: GPL-2.0-or-later
"""A bulk TCP transfer with checksums on both ends.

  blast.py receive ADDRESS PORT   prints "listening", then "SHA256 BYTES"
  blast.py send ADDRESS PORT N    sends N pseudo-random bytes, prints "SHA256"
"""
import hashlib
import random
import socket
import sys

CHUNK = 1 << 16


def receive(address, port):
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind((address, port))
        server.listen(1)
        server.settimeout(60)
        print("listening", flush=True)
        conn, _ = server.accept()
        conn.settimeout(60)
        digest, total = hashlib.sha256(), 0
        while True:
            data = conn.recv(1 << 20)
            if not data:
                break
            digest.update(data)
            total += len(data)
        print(digest.hexdigest(), total, flush=True)


def send(address, port, nbytes):
    rng = random.Random(20261122)
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    digest = hashlib.sha256()
    with socket.create_connection((address, port), timeout=60) as conn:
        left = nbytes
        while left:
            data = rng.randbytes(min(CHUNK, left))
            digest.update(data)
            conn.sendall(data)
            left -= len(data)
        conn.shutdown(socket.SHUT_WR)
        conn.recv(1)
    print(digest.hexdigest(), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "receive":
        receive(sys.argv[2], int(sys.argv[3]))
    else:
        send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
