#!/usr/bin/env python3
"""System tests of the audit log (issue 5): focald with --dev-insecure-no-auth
and an `audit:` section.

  - a search's entry is durable before any source is asked (a probe source
    reads the log when it is asked), and its end entry holds per-source
    status and the SHA-256 of every record shown;
  - `focal audit verify` passes on the real log, then fails naming the entry
    after tampering;
  - GET /v1/audit/status is incremental; ?full=1 finds an old entry changed;
  - fail closed: when the log cannot grow (RLIMIT_FSIZE set on the running
    focald, as a full disk would), searches are refused with 503
    audit_unavailable, no source is asked, an alert is logged; it recovers;
  - oversight: who looked up a plate / a national number (API JSON and CSV, CLI);
    the auditor's own query is audited;
  - misuse alerts: rate, flagged person, outside shift;
  - focald refuses to start without a usable audit folder or key;
  - kill -9 under load: every answered search has its entry; the log verifies
    after the restart.

Usage: test_audit.py BUILD_DIR.  Prints "system: N passed, N failed" last.
"""

import hashlib
import http.server
import json
import os
import re
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from harness import ROOT, Focald, Runner, check  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
FOCAL = os.path.join(BUILD, "focal")
DIRS = []  # removed at the end


def tempdir():
    d = tempfile.mkdtemp(prefix="focal-audit-sys-")
    DIRS.append(d)
    return d


class Probe:
    """An HTTP/JSON source that, each time it is asked, reads focald's audit log
    and notes whether the search's begin entry is already there."""

    def __init__(self, audit_log):
        probe = self
        self.audit_log = audit_log
        self.calls = []  # (plate, begin entry present when asked)

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
                plate = q.get("plate", [""])[0]
                probe.calls.append((plate, probe.begin_logged(plate)))
                body = json.dumps({"results": [{"plate": plate, "make": "Volvo",
                                                "owner": "85073003328"}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def begin_logged(self, plate):
        for e in read_log(self.audit_log):
            if e.get("type") == "search.begin" and plate in e.get("subjects", []):
                return True
        return False

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def read_log(path):
    out = []
    try:
        with open(path, "rb") as f:
            for line in f:
                if line.endswith(b"\n"):
                    out.append(json.loads(line))
    except FileNotFoundError:
        pass
    return out


def make_sqlite(directory):
    path = os.path.join(directory, "bevolking.db")
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE personen(rijksregisternummer TEXT, achternaam TEXT, voornaam TEXT);
        INSERT INTO personen VALUES ('85073003328','Peeters','Jan'),
                                    ('70010100139','Janssens','Marie');
    """)
    db.commit()
    db.close()
    return path


SOURCES = """
  - name: bevolking
    kind: sqlite
    owner: Rijksregister
    classification: restricted
    connection: {path: %(db)s}
    queries:
      person: SELECT * FROM personen WHERE lower(achternaam) = lower(:family_name)
      national_number: SELECT * FROM personen WHERE rijksregisternummer = :national_number
    map:
      person: {national_number: rijksregisternummer, family_name: achternaam,
               given_name: voornaam}
  - name: probe
    kind: http
    owner: test
    classification: restricted
    connection: {}
    queries:
      plate: "http://127.0.0.1:%(port)d/v?plate={plate}"
    map:
      rows: /results
      vehicle: {plate: /plate, make: /make, owner_national_number: /owner}
"""

AUDIT = """audit:
  checkpoint_ms: 200
%s"""


class Setup:
    def __init__(self, alerts=""):
        self.dir = tempdir()
        self.audit_dir = os.path.join(self.dir, "audit")
        self.log = os.path.join(self.audit_dir, "audit.log")
        self.probe = Probe(self.log)
        db = make_sqlite(self.dir)
        self.d = Focald(BUILD, SOURCES % {"db": db, "port": self.probe.port}
                        + AUDIT % alerts, workdir=self.dir)

    def __enter__(self):
        self.d.start()
        return self

    def __exit__(self, *exc):
        try:
            self.d.stop()
        finally:
            self.probe.stop()
        return False

    def entries(self, type_=None):
        return [e for e in read_log(self.log) if type_ is None or e["type"] == type_]

    def wait_for(self, pred, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            found = [e for e in read_log(self.log) if pred(e)]
            if found:
                return found
            time.sleep(0.05)
        raise AssertionError("no such audit entry")


def focal(*args):
    return subprocess.run([FOCAL, "audit"] + list(args), capture_output=True, text=True,
                          timeout=60)


def digest(record):
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


# --- tests -----------------------------------------------------------------

def test_search_is_audited_before_sources_and_completed_with_digests():
    with Setup() as s:
        events = s.d.search_stream({"q": "1-ABC-123", "purpose": "traffic_stop",
                                    "case_ref": "PV-2026-0042", "records": True})
        check(s.probe.calls == [("1ABC123", True)],
              "the probe source must be asked once, after the entry: %r" % s.probe.calls)
        begin = s.entries("search.begin")[-1]
        check(begin["who"]["user"] == "dev" and begin["purpose"] == "traffic_stop" and
              begin["case_ref"] == "PV-2026-0042", begin)
        check("1ABC123" in begin["subjects"] and "probe" in begin["sources"], begin)
        check(begin["who"]["addr"] == "127.0.0.1", begin["who"])
        check(len(begin["ts"]) == 24 and begin["ts"].endswith("Z"), begin["ts"])
        end = s.wait_for(lambda e: e["type"] == "search.end" and e["search"] == begin["seq"])[0]
        shown = [r for ev, data in events if ev == "source" for r in data.get("records", [])]
        check(len(shown) >= 2, events)
        want = sorted(digest(r) for r in shown)
        got = sorted(r["sha256"] for r in end["records"])
        check(got == want, "digests %r != %r" % (got, want))
        statuses = {x["name"]: x["status"] for x in end["sources"]}
        check(statuses.get("probe") == "ok" and statuses.get("bevolking") == "ok", statuses)
        # the hop revealed the owner: the end entry names him
        check("85073003328" in end["subjects"], end["subjects"])


def test_verify_passes_then_detects_tampering():
    s = Setup()
    with s:
        for plate in ("1-ABC-123", "2-XYZ-999", "3-DEF-456"):
            status, _ = s.d.search({"q": plate})
            check(status == 200, status)
    pub = os.path.join(s.audit_dir, "audit-key.pub.pem")
    # keep the auditors' copy of the key outside the folder
    own = os.path.join(s.dir, "auditors.pub.pem")
    with open(pub) as f, open(own, "w") as g:
        g.write(f.read())
    r = focal("verify", "--log", s.audit_dir, "--key", own)
    check(r.returncode == 0 and r.stdout.startswith("OK"), r.stdout + r.stderr)
    # the newest tree head, as the service log (the SIEM's copy) has it
    heads = [json.loads(l) for l in s.d.read_log().splitlines()
             if '"event":"audit_checkpoint"' in l]
    witness = "%d:%s" % (heads[-1]["size"], heads[-1]["root"])
    r = focal("verify", "--log", s.audit_dir, "--key", own, "--witness", witness)
    check(r.returncode == 0, r.stdout + r.stderr)
    # both files cut back together to their first checkpoint: consistent in
    # itself, so only the witness shows it
    ck = os.path.join(s.audit_dir, "checkpoints.log")
    with open(s.log, "rb") as f:
        saved_log = f.read()
    with open(ck, "rb") as f:
        saved_ck = f.read()
    first = json.loads(saved_ck.splitlines()[0])
    with open(s.log, "wb") as f:
        f.write(b"".join(saved_log.splitlines(True)[:first["size"]]))
    with open(ck, "wb") as f:
        f.write(saved_ck.splitlines(True)[0])
    r = focal("verify", "--log", s.audit_dir, "--key", own)
    check(r.returncode == 0, "a consistent rollback passes without a witness: " + r.stdout)
    r = focal("verify", "--log", s.audit_dir, "--key", own, "--witness", witness)
    check(r.returncode == 1 and "cut back" in r.stdout, r.stdout)
    with open(s.log, "wb") as f:
        f.write(saved_log)
    with open(ck, "wb") as f:
        f.write(saved_ck)
    entries = s.entries()
    with open(s.log, "rb") as f:
        lines = f.readlines()
    target = 3
    lines[target] = lines[target].replace(b'"dev"', b'"eve"', 1)
    check(b'"eve"' in lines[target], "tamper did not apply")
    with open(s.log, "wb") as f:
        f.writelines(lines)
    r = focal("verify", "--log", s.log, "--key", own)
    check(r.returncode == 1 and "first bad entry: %d" % target in r.stdout, r.stdout)
    # truncation of the newest entries is caught by the closing checkpoint
    with open(s.log, "wb") as f:
        f.writelines(lines[:target])
    r = focal("verify", "--log", s.audit_dir, "--key", own)
    check(r.returncode == 1 and "truncated" in r.stdout and
          "first bad entry: %d" % target in r.stdout, r.stdout)
    # another key does not verify the checkpoints
    other = os.path.join(s.dir, "other.pem")
    check(focal("keygen", other).returncode == 0, "keygen")
    with open(s.log, "wb") as f:
        f.writelines(lines[:target] + [l for l in lines[target:]])
    r = focal("verify", "--log", s.audit_dir, "--key", other)
    check(r.returncode == 1 and "signature" in r.stdout, r.stdout)
    check(len(entries) >= 8, len(entries))


def test_status_is_incremental_and_full_finds_old_tampering():
    """GET /v1/audit/status verifies only what was appended since its last
    call; ?full=1 (and any call after a problem) reads the whole log and names
    an old entry changed in place."""
    def status(query=""):
        code, _, body = s.d.request("GET", "/v1/audit/status" + query)
        check(code == 200, (code, body))
        return json.loads(body)

    with Setup() as s:
        for plate in ("1-ABC-123", "2-XYZ-999"):
            code, _ = s.d.search({"q": plate})
            check(code == 200, code)
        time.sleep(0.5)  # checkpoint_ms 200: the searches are signed
        first = status()
        check(first["ok"] and first["verification"] == "full" and
              first["verified_entries"] == first["entries"] and first["full_verified_at"], first)
        again = status()
        check(again["ok"] and again["verification"] == "incremental" and
              again["entries"] > first["entries"] and again["verified_entries"] < 5, again)
        for plate in ("3-DEF-456", "4-GHI-789", "5-JKL-012"):
            code, _ = s.d.search({"q": plate})
            check(code == 200, code)
        time.sleep(0.5)
        grown = status()
        # the new searches' entries (begin and end each) are covered
        check(grown["ok"] and grown["verification"] == "incremental" and
              grown["entries"] >= again["entries"] + 6 and
              6 <= grown["verified_entries"] < grown["entries"], grown)
        # an old entry changed in place, same length
        with open(s.log, "rb") as f:
            lines = f.readlines()
        target = next(i for i, l in enumerate(lines) if b'"search.begin"' in l and b'"dev"' in l)
        off = sum(len(l) for l in lines[:target]) + lines[target].index(b'"dev"')
        with open(s.log, "r+b") as f:
            f.seek(off)
            f.write(b'"eve"')
        quick = status()
        check(quick["ok"] and quick["verification"] == "incremental", quick)
        full = status("?full=1")
        check(not full["ok"] and full["verification"] == "full" and full["bad_entry"] == target and
              "modified" in full["error"] and full["full_verified_at"] is None, full)
        # once a problem is found, every call looks again from the start
        after = status()
        check(not after["ok"] and after["verification"] == "full" and after["bad_entry"] == target,
              after)
        with open(s.log, "r+b") as f:
            f.seek(off)
            f.write(b'"dev"')
        healed = status()
        check(healed["ok"] and healed["verification"] == "full", healed)
        code, _, body = s.d.request("GET", "/v1/audit/status?full=maybe")
        check(code == 400, (code, body))


def test_fail_closed_when_the_log_cannot_grow():
    with Setup() as s:
        status, _ = s.d.search({"q": "1-ABC-123"})
        check(status == 200, status)
        time.sleep(0.5)
        size = os.path.getsize(s.log)
        # the service log shares the limit: start it afresh so it has room
        os.truncate(s.d.log_path, 0)
        calls = len(s.probe.calls)
        old = resource.prlimit(s.d.proc.pid, resource.RLIMIT_FSIZE)
        resource.prlimit(s.d.proc.pid, resource.RLIMIT_FSIZE, (size + 40, old[1]))
        try:
            status, doc = s.d.search({"q": "2-XYZ-999"})
            check(status == 503 and doc["error"]["code"] == "audit_unavailable",
                  (status, doc))
            check(len(s.probe.calls) == calls, "a source was asked without an audit entry")
            check(os.path.getsize(s.log) == size, "a half-written entry stayed in the log")
        finally:
            resource.prlimit(s.d.proc.pid, resource.RLIMIT_FSIZE, old)
        log = s.d.read_log()
        check('"event":"audit_unavailable"' in log and '"alert":"audit_unavailable"' in log,
              log[-2000:])
        status, _ = s.d.search({"q": "2-XYZ-999"})
        check(status == 200, "did not recover: %d" % status)
        check(len(s.probe.calls) == calls + 1, s.probe.calls)
    r = focal("verify", "--log", s.audit_dir, "--key",
              os.path.join(s.audit_dir, "audit-key.pub.pem"))
    check(r.returncode == 0, r.stdout + r.stderr)


def test_oversight_finds_who_looked_up_a_plate():
    with Setup() as s:
        status, _ = s.d.search({"q": "1-ABC-123", "purpose": "patrol", "case_ref": "I-77"})
        check(status == 200, status)
        status, _ = s.d.search({"q": "Marie Janssens"})
        check(status == 200, status)
        s.wait_for(lambda e: e["type"] == "search.end" and "85073003328" in e["subjects"])
        status, _, body = s.d.request("GET", "/v1/audit/lookups?subject=1abc-123")
        check(status == 200, (status, body))
        rows = json.loads(body)["rows"]
        check(len(rows) == 1 and rows[0]["user"] == "dev" and rows[0]["match"] == "query" and
              rows[0]["purpose"] == "patrol" and rows[0]["case_ref"] == "I-77", rows)
        # the owner was shown through the hop: who saw him?
        status, _, body = s.d.request(
            "GET", "/v1/audit/lookups?subject=85.07.30-033.28&format=csv")
        check(status == 200, (status, body))
        text = body.decode()
        check(text.startswith("seq,ts,type,user,") and ",result," in text, text)
        # a row from the results still says why the lookup was made
        check(",patrol,I-77,1-ABC-123,result," in text, text)
        # a name in either order
        status, _, body = s.d.request("GET", "/v1/audit/lookups?subject=JANSSENS%2C%20marie")
        rows = json.loads(body)["rows"]
        check(any(r["match"] == "query" for r in rows), rows)
        # what did dev look up, as JSON lines
        status, _, body = s.d.request("GET", "/v1/audit/lookups?user=dev&format=jsonl")
        lines = [json.loads(l) for l in body.decode().splitlines()]
        check(status == 200 and sum(l["type"] == "search.begin" for l in lines) == 2, lines)
        status, _, body = s.d.request("GET", "/v1/audit/lookups?from=yesterday")
        check(status == 400, (status, body))
        # the auditor's own queries are in the log
        over = s.wait_for(lambda e: e["type"] == "oversight.lookups")
        check(any(e.get("subject") == "1abc-123" for e in over), over)
        # an inclusion proof of the first search's entry
        seq = s.entries("search.begin")[0]["seq"]
        time.sleep(0.5)
        status, _, body = s.d.request("GET", "/v1/audit/proof?entry=%d" % seq)
        proof = json.loads(body)
        check(status == 200 and proof["proof"] == "inclusion" and proof["signed"], proof)
        # the CLI's oversight queries go through focald, which audits them
        api = ["--url", "https://127.0.0.1:%d" % s.d.port, "--cacert", s.d.cert]
        r = focal("who-looked-up", "1-ABC-123", "--format", "csv", *api)
        check(r.returncode == 0 and r.stdout.count("\n") == 2 and ",dev," in r.stdout,
              r.stdout + r.stderr)
        r = focal("user-activity", "dev", "--from", "2020-01-01", *api)
        check(r.returncode == 0 and r.stdout.count('"search.begin"') == 2, r.stdout + r.stderr)
        s.wait_for(lambda e: e["type"] == "oversight.lookups" and e.get("user") == "dev"
                   and e.get("from_ms", 0) > 0)
        r = focal("who-looked-up", "1-ABC-123", "--log", s.audit_dir)
        check(r.returncode == 2 and "through focald" in r.stderr,
              "a direct, unaudited query: " + r.stdout + r.stderr)
    r = focal("prove", "--log", s.audit_dir, "--key",
              os.path.join(s.audit_dir, "audit-key.pub.pem"), "--from", "2")
    check(r.returncode == 0 and '"consistency"' in r.stdout, r.stdout + r.stderr)


def test_oversight_by_record_digest_and_time_range():
    with Setup() as s:
        status, doc = s.d.search({"q": "1-ABC-123", "records": True})
        check(status == 200, status)
        first = s.wait_for(lambda e: e["type"] == "search.end" and e["records"])[-1]
        # a record of the first search, by the digest an auditor computes
        # from the record as shown
        shown = [{k: v for k, v in r.items() if k != "entity"} for r in doc["records"]]
        check(shown, doc)
        rec = digest(shown[0])
        check(rec in [r["sha256"] for r in first["records"]], (rec, first["records"]))
        time.sleep(1.1)  # entries of the second search are a second later
        status, _ = s.d.search({"q": "Marie Janssens"})
        check(status == 200, status)
        second = s.wait_for(lambda e: e["type"] == "search.end" and e["search"] > first["search"])[-1]
        check(rec not in [r["sha256"] for r in second["records"]], second["records"])
        # who was shown this record: the first search only, matched by record
        status, _, body = s.d.request("GET", "/v1/audit/lookups?subject=" + rec.upper())
        check(status == 200, (status, body))
        rows = json.loads(body)["rows"]
        check(len(rows) == 1 and rows[0]["match"] == "record" and
              rows[0]["search"] == first["search"], rows)
        # a digest nobody was shown finds nothing
        status, _, body = s.d.request("GET", "/v1/audit/lookups?subject=" + "ab" * 32)
        check(status == 200 and json.loads(body)["rows"] == [], body)
        # to= bounds the range: a time between the two searches keeps the first
        # and drops the second (and from= the other way round)
        cut = second["ts_ms"] - 500
        check(first["ts_ms"] < cut < [e for e in s.entries("search.begin")
                                      if e["seq"] == second["search"]][0]["ts_ms"],
              (first["ts_ms"], cut))
        q = urllib.parse.quote(time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(cut // 1000)) +
                               ".%03dZ" % (cut % 1000))
        status, _, body = s.d.request("GET", "/v1/audit/lookups?user=dev&to=" + q)
        seqs = {r["search"] for r in json.loads(body)["rows"]}
        check(status == 200 and first["search"] in seqs and second["search"] not in seqs,
              (seqs, first["search"], second["search"]))
        status, _, body = s.d.request("GET", "/v1/audit/lookups?user=dev&from=" + q)
        seqs = {r["search"] for r in json.loads(body)["rows"]}
        check(status == 200 and second["search"] in seqs and first["search"] not in seqs,
              (seqs, first["search"], second["search"]))
        # a date alone as to= is that whole day; the day before holds nothing
        yesterday = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400))
        status, _, body = s.d.request("GET", "/v1/audit/lookups?user=dev&to=" + yesterday)
        check(status == 200 and json.loads(body)["rows"] == [], body)
        today = time.strftime("%Y-%m-%d", time.gmtime())
        status, _, body = s.d.request("GET", "/v1/audit/lookups?user=dev&from=%s&to=%s"
                                      % (today, today))
        seqs = {r["search"] for r in json.loads(body)["rows"]}
        check({first["search"], second["search"]} <= seqs, seqs)
        # a digest bounded by time: the entry that showed it is inside or out
        def iso_ms(ms):
            return urllib.parse.quote(time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000))
                                      + ".%03dZ" % (ms % 1000))
        for to_ms, want in ((first["ts_ms"] - 1, 0), (first["ts_ms"], 1)):
            status, _, body = s.d.request("GET", "/v1/audit/lookups?subject=%s&to=%s"
                                          % (rec, iso_ms(to_ms)))
            check(status == 200 and len(json.loads(body)["rows"]) == want, (to_ms, body))


def test_misuse_alerts():
    now = time.localtime()
    # a shift that ends an hour ago: every search now is outside it
    start = (now.tm_hour + 20) % 24
    end = (now.tm_hour + 23) % 24
    alerts = """  alerts:
    rate_per_minute: 3
    no_hit_streak: 2
    flagged: ["85.07.30-033.28", "Jan Peeters"]
    shifts:
      users: {dev: "%02d:00-%02d:00"}
""" % (start, end)
    with Setup(alerts) as s:
        for plate in ("1-AAA-001", "1-AAA-002", "1-AAA-003", "1-AAA-004"):
            status, _ = s.d.search({"q": plate})
            check(status == 200, status)
        status, _ = s.d.search({"fields": {"national_number": "85073003328"}})
        check(status == 200, status)
        status, _ = s.d.search({"q": "Onbekend Niemand"})
        status, _ = s.d.search({"q": "Nobody Nowhere"})
        s.wait_for(lambda e: e["type"] == "alert.no_hits")
        status, _, body = s.d.request("GET", "/v1/audit/alerts")
        check(status == 200, (status, body))
        rules = {r["details"]["rule"] for r in json.loads(body)["rows"]}
        check({"rate", "flagged_person", "outside_shift", "no_hits"} <= rules, rules)
        check(sum(e["type"] == "alert.rate" for e in s.entries()) == 1, "one rate alert a minute")
        log = s.d.read_log()
        check('"event":"audit_alert"' in log and '"rule":"rate"' in log, log[-2000:])


def test_refuses_to_start_without_a_usable_audit_log():
    d = tempdir()
    db = make_sqlite(d)
    f = Focald(BUILD, SOURCES % {"db": db, "port": 9} + "audit:\n  dir: /dev/null/audit\n",
               workdir=d)
    check(f.start(expect_ok=False) == 1, "started without a writable audit folder")
    check("audit folder /dev/null/audit" in f.read_log(), f.read_log())
    f = Focald(BUILD, SOURCES % {"db": db, "port": 9} + "audit:\n  key: missing.pem\n",
               workdir=d)
    check(f.start(expect_ok=False) == 1, "started without its signing key")
    check("focal audit keygen" in f.read_log(), f.read_log())
    f = Focald(BUILD, SOURCES % {"db": db, "port": 9} + "audit:\n  checkpoint_ms: 5000\n",
               workdir=d)
    check(f.start(expect_ok=False) == 1, "accepted checkpoint_ms 5000")
    check("focal.yaml:" in f.read_log() and "checkpoint_ms" in f.read_log(), f.read_log())


def test_kill_9_under_load_loses_no_answered_search():
    s = Setup()
    answered, lock, stop = [], threading.Lock(), threading.Event()

    def client(n):
        i = 0
        while not stop.is_set():
            ref = "K-%d-%d" % (n, i)
            i += 1
            try:
                status, _ = s.d.search({"q": "Peeters", "case_ref": ref}, timeout=5)
            except Exception:
                continue
            if status == 200:
                with lock:
                    answered.append(ref)

    with s:
        threads = [threading.Thread(target=client, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        time.sleep(2)
        s.d.proc.send_signal(signal.SIGKILL)
        s.d.proc.wait()
        stop.set()
        for t in threads:
            t.join()
        logged = {e.get("case_ref") for e in s.entries("search.begin")}
        missing = [r for r in answered if r not in logged]
        check(len(answered) > 3, "too little load: %d" % len(answered))
        check(not missing, "answered without an audit entry: %r" % missing[:5])
        # a checkpoint is signed with every commit before it is acknowledged:
        # the log as the crash left it signs every answered search's entry
        r = focal("verify", "--log", s.audit_dir, "--key",
                  os.path.join(s.audit_dir, "audit-key.pub.pem"))
        m = re.search(r"signs (\d+) entries", r.stdout)
        check(r.returncode == 0 and m, r.stdout + r.stderr)
        seqs = {e.get("case_ref"): e["seq"] for e in s.entries("search.begin")}
        unsigned = [ref for ref in answered if seqs[ref] >= int(m.group(1))]
        check(not unsigned, "answered but unsigned after the crash: %r (%s)"
              % (unsigned[:5], r.stdout))
        # the restart checks the log, repairs a torn tail, and goes on
        s.d.log.close()
        s.d.start()
        status, _ = s.d.search({"q": "Peeters"})
        check(status == 200, status)
    r = focal("verify", "--log", s.audit_dir, "--key",
              os.path.join(s.audit_dir, "audit-key.pub.pem"))
    check(r.returncode == 0, r.stdout + r.stderr)


def main():
    r = Runner()
    for t in (test_search_is_audited_before_sources_and_completed_with_digests,
              test_verify_passes_then_detects_tampering,
              test_status_is_incremental_and_full_finds_old_tampering,
              test_fail_closed_when_the_log_cannot_grow,
              test_oversight_finds_who_looked_up_a_plate,
              test_oversight_by_record_digest_and_time_range,
              test_misuse_alerts,
              test_refuses_to_start_without_a_usable_audit_log,
              test_kill_9_under_load_loses_no_answered_search):
        r.run(t)
    for d in DIRS:
        shutil.rmtree(d, ignore_errors=True)
    print("system: %d passed, %d failed" % (r.passed, r.failed))
    return 1 if r.failed else 0


if __name__ == "__main__":
    sys.exit(main())
