#!/usr/bin/env python3
"""The HTTP/JSON agencies of the benchmark: one small asyncio server that
plays every `http` source, each with its own data set and a latency chosen
per request.

Usage: http_backend.py PORT ROWS SOURCE_NO[,SOURCE_NO...]

Binds 127.0.0.1:PORT (0 = any free port), builds the data of the given
source numbers (bench/dataset.py) and prints "listening 127.0.0.1:<port>"
once it accepts connections.  Stops on SIGTERM or SIGINT.  Standard library
only.

  GET /src/<no>/people?family=<f>&given=<g>&ms=<n>
      rows of source <no> whose family (and given, when not empty) name
      equals, case-insensitively, as {"results": [...], "count": n},
      answered <n> milliseconds after the request arrived (at most 10 s)
  GET /stats
      {"connections": accepted so far, "requests": answered so far}: shows
      whether the client reuses its connections

Why not tests/integration/http_server.py: it is a ThreadingHTTPServer (one
thread per connection, GIL-bound); at a few thousand requests per second it
would be the bottleneck we measure.  This one is a single asyncio protocol
with HTTP/1.1 keep-alive and an answer cache; it understands only the GET
requests the benchmark sends (no bodies, no pipelining beyond in-order
answers).  Its CPU time is reported by the benchmark so one can see it is not
the limit.
"""

import asyncio
import json
import os
import signal
import sys
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dataset  # noqa: E402

INDEX = {}   # source_no -> family_lc -> [row, ...] (already in the agency's JSON shape)
STATS = {"connections": 0, "requests": 0}
CACHE = {}   # (source_no, family_lc, given_lc) -> response body bytes
MAX_HEAD = 8192


def agency_row(r):
    """A row as this (Dutch-speaking) agency's API spells it."""
    return {"rrn": r["national_number"],
            "naam": {"familie": r["family"], "voornaam": r["given"]},
            "geboren": r["birth_date"], "signalering": r["alert"], "advies": r["instruction"]}


def build(source_nos, nrows):
    for no in source_nos:
        idx = {}
        for r in dataset.rows(no, nrows):
            idx.setdefault(r["family"].lower(), []).append(
                (r["given"].lower(), agency_row(r)))
        INDEX[no] = idx


def answer(path):
    """(status, body) for a request path."""
    parts = urlsplit(path)
    if parts.path == "/stats":
        return 200, json.dumps(STATS).encode(), 0
    seg = parts.path.split("/")
    if len(seg) != 4 or seg[1] != "src" or seg[3] != "people" or not seg[2].isdigit():
        return 404, b'{"error":"no such endpoint"}', 0
    no = int(seg[2])
    q = parse_qs(parts.query)
    fam = q.get("family", [""])[-1].lower()
    given = q.get("given", [""])[-1].lower()
    try:
        ms = max(0, min(int(q.get("ms", ["0"])[-1]), 10000))
    except ValueError:
        ms = 0
    if no not in INDEX:
        return 404, b'{"error":"no such source"}', ms
    key = (no, fam, given)
    body = CACHE.get(key)
    if body is None:
        hits = [row for g, row in INDEX[no].get(fam, ()) if not given or g == given]
        body = json.dumps({"results": hits, "count": len(hits)}).encode()
        if len(CACHE) < 100000:
            CACHE[key] = body
    return 200, body, ms


REASONS = {200: b"OK", 400: b"Bad Request", 404: b"Not Found"}


class Agency(asyncio.Protocol):
    def __init__(self):
        self.buf = b""
        self.busy = False  # an answer is pending: answers go out in order
        self.closing = False
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport
        STATS["connections"] += 1

    def connection_lost(self, exc):
        self.closing = True

    def data_received(self, data):
        self.buf += data
        if len(self.buf) > 4 * MAX_HEAD:
            self.transport.close()
            return
        self.next_request()

    def next_request(self):
        if self.busy or self.closing:
            return
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return
        head, self.buf = self.buf[:end], self.buf[end + 4:]
        lines = head.split(b"\r\n")
        try:
            method, target, _ = lines[0].decode("latin-1").split(" ", 2)
        except ValueError:
            self.reply(400, b'{"error":"bad request"}', close=True)
            return
        close = any(ln.lower().startswith(b"connection:") and b"close" in ln.lower()
                    for ln in lines[1:])
        if method != "GET":
            self.reply(400, b'{"error":"GET only"}', close=True)
            return
        status, body, ms = answer(target)
        STATS["requests"] += 1
        self.busy = True
        if ms > 0:
            asyncio.get_running_loop().call_later(ms / 1000.0, self.reply, status, body, close)
        else:
            self.reply(status, body, close)

    def reply(self, status, body, close=False):
        self.busy = False
        if self.closing:
            return
        self.transport.write(b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\n%s\r\n"
                             % (status, REASONS.get(status, b"Error"), len(body),
                                b"Connection: close\r\n" if close else b"") + body)
        if close:
            self.closing = True
            self.transport.close()
            return
        if self.buf:
            self.next_request()


async def serve(port):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Agency, "127.0.0.1", port, backlog=1024,
                                      reuse_address=True)
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    print("listening 127.0.0.1:%d" % server.sockets[0].getsockname()[1], flush=True)
    await stop
    server.close()


def main():
    if len(sys.argv) != 4:
        sys.stderr.write("usage: http_backend.py PORT ROWS SOURCE_NO[,SOURCE_NO...]\n")
        return 2
    build([int(x) for x in sys.argv[3].split(",") if x], int(sys.argv[2]))
    asyncio.run(serve(int(sys.argv[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
