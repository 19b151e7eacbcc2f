# SPDX-License-Identifier: GPL-2.0-or-later
"""The HTTP side of tools/bench --http: a tiny server and a client that
opens many connections at once.

  http_probe.py serve PORT
    answers every request on PORT (all addresses) with the same small page
    and closes the connection; prints "ready" once it listens.
  http_probe.py burst ADDRESS PORT COUNT BATCHES
    BATCHES times: COUNT requests to ADDRESS:PORT started at once, each on a
    fresh connection; prints one JSON line per batch: the seconds from the
    start to the last answer, how many failed, and the first few reasons.

Why not python3 -m http.server: it listens with a backlog of 5, so a burst
of 100 connections would measure the server's queue (SYNs dropped and sent
again a second later) rather than the paths. Why not curl --parallel for
the burst: the figure would include starting curl in the namespace, about
as long as a whole batch on a fast path; here the clock starts once the
client runs.
"""

import asyncio
import json
import sys
import time

BODY = b"sshtun benchmark page\n" * 24  # 528 bytes: one segment, a small page
RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(BODY)) + BODY
# Each request gives up after this long: a lost one counts as failed.
REQUEST_TIMEOUT = 20


async def answer(reader, writer):
    try:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(RESPONSE)
        await writer.drain()
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        pass
    finally:
        writer.close()


async def serve(port):
    # A backlog well above any burst, so the server never drops a SYN.
    server = await asyncio.start_server(answer, None, port, backlog=1024, reuse_address=True)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


async def fetch(address, port, index):
    reader, writer = await asyncio.open_connection(address, port)
    try:
        writer.write(f"GET /{index} HTTP/1.1\r\nHost: {address}\r\n"
                     "Connection: close\r\n\r\n".encode())
        response = await reader.read()  # the server closes after the page
    finally:
        writer.close()
    if response != RESPONSE:
        raise ValueError(f"unexpected answer of {len(response)} bytes: {response[:40]!r}")


async def batch(address, port, count):
    start = time.monotonic()
    results = await asyncio.gather(
        *(asyncio.wait_for(fetch(address, port, i), REQUEST_TIMEOUT) for i in range(count)),
        return_exceptions=True)
    seconds = time.monotonic() - start
    errors = [f"{type(r).__name__}: {r}" for r in results if isinstance(r, BaseException)]
    return {"seconds": seconds, "failures": len(errors), "errors": sorted(set(errors))[:5]}


async def burst(address, port, count, batches):
    for i in range(batches):
        if i:
            await asyncio.sleep(0.2)  # the last batch's connections closed
        print(json.dumps(await batch(address, port, count)), flush=True)


def main():
    if sys.argv[1] == "serve":
        asyncio.run(serve(int(sys.argv[2])))
    else:
        address, port, count, batches = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), \
            int(sys.argv[5])
        asyncio.run(burst(address, port, count, batches))


if __name__ == "__main__":
    main()
