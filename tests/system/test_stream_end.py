#!/usr/bin/env python3
"""System test: every streamed search ends with its final briefing.

Usage: test_stream_end.py BUILD_DIR

A streamed search (Accept: text/event-stream) writes one chunk per source
as it answers, then the briefing and the chunked terminator.  focald's TLS
connections once ran their bufferevent callbacks deferred, which evhttp does
not expect: when a source's chunk had just been written out and the search
finished in the same loop turn, the deferred "output written" callback ran
after the briefing had been queued and made evhttp take the reply for sent.
The briefing then sat unsent until the connection timed out 10 s later (seen
in test_demo_city's stream about once in 15 searches).  Here SQLite sources
and HTTP sources that all answer after the same short delay (from
tests/integration/http_server.py, started here) end each search with a burst
of answers, so chunks and the end race often; each of many streams must
bring its briefing and terminator within a few seconds, read with a raw TLS
client so a lost ending shows as a timeout, not a hang.

Needs no external server.  Prints PASS/FAIL per test and closes with
"system: N passed, N failed".
"""

import json
import os
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import ROOT, Focald, Runner, check, free_port  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
NSQLITE = 12
NHTTP = 8
HTTP_DELAY_MS = 20
SEARCHES = 150
WAIT_S = 4.0  # the search deadline is 2 s: a stream open longer has lost its end
TERMINATOR = b"\r\n0\r\n\r\n"


def make_sources(directory, http_port):
    path = os.path.join(directory, "reports.db")
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE reports(plate TEXT, note TEXT);
        INSERT INTO reports VALUES('1ABC123', 'signalled: stop and check');
    """)
    db.commit()
    db.close()
    text = ""
    for i in range(NHTTP):
        text += """
  - name: registry_%d
    kind: http
    owner: Police
    classification: restricted
    connection: {}
    queries:
      plate: "http://127.0.0.1:%d/fault/slow?ms=%d&plate={plate}"
    map:
      rows: /results
      vehicle: {plate: /plate}
""" % (i, http_port, HTTP_DELAY_MS)
    for i in range(NSQLITE):
        text += """
  - name: reports_%d
    kind: sqlite
    owner: Police
    classification: restricted
    connection: {path: %s}
    queries:
      plate: SELECT plate, note, note || ' %d' AS what FROM reports WHERE plate = :plate
    map:
      vehicle: {plate: plate}
      alert: {when: what, category: what, instruction: note}
""" % (i, path, i)
    return text


def stream(focald, body):
    """The raw bytes of one streamed search, and whether it ended in time."""
    ctx = ssl.create_default_context(cafile=focald.cert)
    raw = socket.create_connection(("127.0.0.1", focald.port), timeout=WAIT_S)
    sock = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
    data = b""
    try:
        payload = json.dumps(body).encode()
        sock.sendall(b"POST /v1/search HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/json\r\nAccept: text/event-stream\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(payload) + payload)
        deadline = time.time() + WAIT_S
        while not data.endswith(TERMINATOR) and time.time() < deadline:
            sock.settimeout(max(0.01, deadline - time.time()))
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            data += chunk
    finally:
        sock.close()
    return data, data.endswith(TERMINATOR)


def start_http(port, log_path):
    log = open(log_path, "w+b")
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests", "integration", "http_server.py"),
                             str(port)], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    for _ in range(200):
        log.seek(0)
        if b"listening" in log.read() or proc.poll() is not None:
            break
        time.sleep(0.05)
    log.close()
    check(proc.poll() is None, "http_server.py did not start")
    return proc


def test_every_stream_ends_with_its_briefing():
    tmp = tempfile.mkdtemp(prefix="focal-stream-")
    port = free_port()
    http = start_http(port, os.path.join(tmp, "http.out"))
    focald = None
    try:
        focald = Focald(BUILD, make_sources(tmp, port), server_extra="  search_deadline_ms: 2000\n",
                        workdir=os.path.join(tmp, "focald"))
        focald.start()
        lost = []
        for i in range(SEARCHES):
            data, ended = stream(focald, {"q": "1-ABC-123"})
            events = [line[7:] for line in data.decode("utf-8", "replace").split("\n")
                      if line.startswith("event: ")]
            if not ended or events.count("briefing") != 1 or events[-1] != "briefing":
                lost.append((i, len(events), events[-1:] if events else None, ended))
                if len(lost) >= 3:
                    break
            elif i == 0:
                check(events.count("source") == NSQLITE + NHTTP and events.count("alert") >= 1,
                      "first stream: %d source events (want %d), %d alerts" %
                      (events.count("source"), NSQLITE + NHTTP, events.count("alert")))
        check(not lost, "streams without their briefing and end (search, events, last, ended): %s"
              % lost)
    finally:
        http.send_signal(signal.SIGTERM)
        try:
            http.wait(timeout=10)
        except subprocess.TimeoutExpired:
            http.kill()
            http.wait()
        if focald is not None:
            check(focald.stop() == 0, "focald exit code")


if __name__ == "__main__":
    runner = Runner()
    runner.run(test_every_stream_ends_with_its_briefing)
    print("system: %d passed, %d failed" % (runner.passed, runner.failed), flush=True)
    sys.exit(1 if runner.failed else 0)
