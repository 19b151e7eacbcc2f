# SPDX-License-Identifier: GPL-2.0-or-later
"""A bulk TCP transfer with checksums on both ends.

  blast.py receive ADDRESS PORT [WAIT]  prints "listening", then "SHA256 BYTES";
                                        gives up after WAIT seconds of silence (60)
  blast.py send ADDRESS PORT N [SECONDS]  sends N pseudo-random bytes, spread
                                          evenly over SECONDS if given; prints "SHA256"
"""
import hashlib
import random
import socket
import sys
import time

CHUNK = 1 << 16


def receive(address, port, wait=60):
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind((address, port))
        server.listen(1)
        server.settimeout(wait)
        print("listening", flush=True)
        conn, _ = server.accept()
        conn.settimeout(wait)
        digest, total = hashlib.sha256(), 0
        while True:
            data = conn.recv(1 << 20)
            if not data:
                break
            digest.update(data)
            total += len(data)
        print(digest.hexdigest(), total, flush=True)


def send(address, port, nbytes, seconds=0):
    rng = random.Random(20261122)
    # Paced: a stream still running while the test changes the path under it.
    start, rate = time.monotonic(), nbytes / seconds if seconds else 0
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    digest = hashlib.sha256()
    with socket.create_connection((address, port), timeout=60) as conn:
        if seconds:
            # A paced stream must outlive an outage of a minute or more.
            conn.settimeout(None)
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
    print(digest.hexdigest(), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "receive":
        receive(sys.argv[2], int(sys.argv[3]), *(float(a) for a in sys.argv[4:5]))
    else:
        send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), *(float(a) for a in sys.argv[5:6]))
