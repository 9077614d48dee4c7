#!/usr/bin/env python3
"""A stand-in agency REST API for the HTTP connector's integration tests.

Usage: http_server.py PORT [DATAFILE]

Binds 127.0.0.1:PORT (0 = any free port) and prints one line,
"listening 127.0.0.1:<port>", once it accepts connections.  Stops on SIGTERM
or SIGINT.  Python standard library only.

DATAFILE is JSON: {"<dataset>": [row, row, ...], ...}.  The dataset
"itest_vehicles" (BUILTIN below) is always there as well, so that
test_source_http.c knows what it will find whatever data file the runner gives.

Endpoints
  GET  /v1/<dataset>?<field>=<value>&...  rows whose top-level fields equal
                                          every given value (compared as text),
                                          as {"results": [...], "count": n}
  POST /v1/<dataset>                      same, the filter is the JSON body
  GET|POST /echo[/...]                    {"method", "path" (raw), "query" (raw),
                                          "params" (decoded, name -> [values]),
                                          "headers", "body", "client_port"}: what
                                          arrived (client_port shows keep-alive)
  /fault/hang        accepts the request, never answers (until the client
                     closes, at most 60 s)
  /fault/500         HTTP 500 with a JSON error body
  /fault/redirect    HTTP 302 to a valid /v1/ answer (a client must not follow it)
  /fault/malformed   HTTP 200 with broken JSON
  /fault/huge        streams 100 MB of a valid-looking JSON array as fast as
                     it can, without Content-Length (?length=1 announces it);
                     stops when the client disconnects
  /fault/drip        a small valid JSON body, one byte per second
  /fault/slow?ms=N   valid JSON ({"results": []}) after N ms (at most 60000)

Client disconnects at any point are expected and never stop the server.
"""

import json
import select
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

HUGE_BYTES = 100 * 1024 * 1024
MAX_BODY = 1024 * 1024
MAX_WAIT_S = 60

# Nested objects, arrays, numbers, booleans and nulls: what the connector's
# JSON-pointer mapping must cope with.  Dutch field names, as a real agency.
BUILTIN = {
    "itest_vehicles": [
        {"kenteken": "1ABC123", "merk": "Volvo", "model": "V70", "bouwjaar": 2009,
         "gestolen": True, "kleur": None,
         "houder": {"naam": {"familienaam": "Peeters", "voornaam": "Jan"},
                    "rrn": "81031212345"},
         "aliassen": ["J. Peeters", "Jean Peeters", 7, None, {"x": 1}],
         "signalering": "Gestolen voertuig"},
        {"kenteken": "2XYZ999", "merk": "Tesla", "model": "3", "bouwjaar": 2021,
         "gestolen": False, "houder": {"naam": {"familienaam": "Janssens"}},
         "aliassen": [], "signalering": ""},
    ] + [{"kenteken": "MANY", "merk": "Fiat", "model": "Panda", "volgnummer": i}
         for i in range(30)],
}

DATA = {}


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True  # a hanging handler must not keep the process alive
    allow_reuse_address = True
    request_queue_size = 128  # the default 5 drops bursts of concurrent connects

    def handle_error(self, request, client_address):
        # Disconnects are part of the tests; anything else goes to stderr
        # in one line, without a traceback flood.
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, OSError)):
            return
        sys.stderr.write("http_server: %r\n" % (exc,))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a real API
    server_version = "FocalTestAPI/1.0"
    sys_version = ""

    def log_message(self, fmt, *args):  # no access log
        pass

    # -- helpers ---------------------------------------------------------
    def send_json(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_raw(status, body)

    def send_raw(self, status, body, ctype="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0 or n > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(n) if n else b""

    def client_gone(self, timeout):
        """Waits up to timeout s; True when the client closed (EOF/error)."""
        sock = self.connection
        try:
            r, _, _ = select.select([sock], [], [], timeout)
            if not r:
                return False
            return sock.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    # -- dispatch --------------------------------------------------------
    def do_GET(self):
        self.dispatch(b"")

    def do_POST(self):
        try:
            body = self.read_body()
        except ValueError:
            self.send_json(413, {"error": "body too large"})
            return
        self.dispatch(body)

    def dispatch(self, body):
        parts = urlsplit(self.path)
        path, query = parts.path, parts.query
        params = parse_qs(query, keep_blank_values=True)
        try:
            if path == "/echo" or path.startswith("/echo/"):
                self.send_json(200, {
                    "method": self.command,
                    "path": path,
                    "client_port": self.client_address[1],
                    "query": query,
                    "params": params,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body.decode("utf-8", "replace"),
                })
            elif path.startswith("/v1/"):
                self.dataset(path[4:], params, body)
            elif path == "/fault/hang":
                self.hang()
            elif path == "/fault/500":
                self.send_json(500, {"error": "internal failure at the agency"})
            elif path == "/fault/redirect":
                self.send_response(302)
                self.send_header("Location", "/v1/itest_vehicles?kenteken=1ABC123")
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif path == "/fault/malformed":
                self.send_raw(200, b'{"results": [{"plate": "1ABC123", "make": }')
            elif path == "/fault/huge":
                self.huge("length" in params)
            elif path == "/fault/drip":
                self.drip()
            elif path == "/fault/slow":
                self.slow(params)
            else:
                self.send_json(404, {"error": "no such endpoint"})
        except (ConnectionError, TimeoutError, OSError):
            self.close_connection = True

    def dataset(self, name, params, body):
        rows = DATA.get(name)
        if rows is None:
            self.send_json(404, {"error": "no such dataset"})
            return
        if self.command == "POST":
            try:
                filt = json.loads(body or b"{}")
                if not isinstance(filt, dict):
                    raise ValueError
                filt = {k: str(v) for k, v in filt.items()}
            except ValueError:
                self.send_json(400, {"error": "body must be a JSON object"})
                return
        else:
            filt = {k: v[-1] for k, v in params.items()}
        hits = [r for r in rows
                if all(k in r and str(r[k]) == v for k, v in filt.items())]
        self.send_json(200, {"results": hits, "count": len(hits)})

    def hang(self):
        deadline = time.monotonic() + MAX_WAIT_S
        while time.monotonic() < deadline:
            if self.client_gone(0.2):
                break
        self.close_connection = True

    def huge(self, announce):
        item = b'{"plate": "1ABC123", "make": "Volvo", "model": "V70"},'
        head, tail = b'{"results": [', b'{}]}'
        n = (HUGE_BYTES - len(head) - len(tail)) // len(item)
        total = len(head) + n * len(item) + len(tail)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if announce:
            self.send_header("Content-Length", str(total))
        else:
            self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        chunk = item * 1024
        self.wfile.write(head)
        sent = 0
        while sent < n:
            k = min(1024, n - sent)
            self.wfile.write(chunk if k == 1024 else item * k)
            sent += k
        self.wfile.write(tail)
        self.wfile.flush()

    def drip(self):
        body = b'{"results": [{"plate": "1ABC123"}]}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        for i in range(len(body)):
            self.wfile.write(body[i:i + 1])
            self.wfile.flush()
            if self.client_gone(1.0):
                return

    def slow(self, params):
        try:
            ms = int(params.get("ms", ["0"])[-1])
        except ValueError:
            ms = 0
        ms = max(0, min(ms, MAX_WAIT_S * 1000))
        if self.client_gone(ms / 1000.0):
            self.close_connection = True
            return
        self.send_json(200, {"results": [], "count": 0})


def main():
    global DATA
    if len(sys.argv) not in (2, 3):
        sys.stderr.write("usage: http_server.py PORT [DATAFILE]\n")
        return 2
    port = int(sys.argv[1])
    if len(sys.argv) == 3:
        with open(sys.argv[2], "rb") as f:
            DATA = json.load(f)
        if not isinstance(DATA, dict):
            sys.stderr.write("http_server: DATAFILE must hold a JSON object\n")
            return 2
    DATA.update(BUILTIN)
    server = QuietServer(("127.0.0.1", port), Handler)

    def stop(signum, frame):
        # shutdown() waits for serve_forever() to return: not from the
        # thread that runs it.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("listening 127.0.0.1:%d" % server.server_address[1], flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
