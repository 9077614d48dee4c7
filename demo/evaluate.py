#!/usr/bin/env python3
"""Measures Focal against the labelled searches of the demo city.

    python3 demo/evaluate.py --labels DIR/evaluation.json --focald build/focald
    python3 demo/evaluate.py --labels DIR/evaluation.json --url https://127.0.0.1:8443 \\
                             --cacert DIR/tls/cert.pem

Runs every search of DIR/evaluation.json (written by demo/generate.py, see
demo/labels.py) through POST /v1/search, then prints, per category of search,
precision and recall of the alerts (must appear / must not appear) and of the
merges (pairs of records that must be one entity / must never be), lists every
miss with what focald understood of the search, and exits non-zero when a
target of evaluation.json is missed:

    planted_alert_recall   every alert of the planted hard cases appears
    merge_precision        no pair labelled "different people" is merged, and
                           no entity holds two national numbers or birth dates
    variant_alert_recall   spelling-variant searches find their alerts (>= 0.95)
    decoy_alerts_shown     a search for the same name with another birth date
                           never shows the alert (0)

With --focald it starts that binary itself on a free port with DIR/focal.yaml
(or --config) and --dev-insecure-no-auth -- synthetic data only -- and stops it
at the end; with --url it uses a running focald (--token for a bearer token).
Python standard library only.  docs/evaluation.md explains the labels and the
figures.
"""

import argparse
import concurrent.futures
import http.client
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse

CATEGORIES = ["planted", "name_dob", "national_number", "variant", "hop_plate", "hop_serial",
              "decoy_name", "decoy"]


# --------------------------------------------------------------------------
# Talking to focald
# --------------------------------------------------------------------------


class Client:
    def __init__(self, url, cacert=None, insecure=False, token=None, timeout=30.0):
        u = urllib.parse.urlsplit(url)
        if u.scheme not in ("https", "http"):
            raise SystemExit("--url must be https://host:port")
        self.scheme, self.host, self.port = u.scheme, u.hostname, u.port or (443 if u.scheme == "https" else 80)
        self.base = u.path.rstrip("/")
        self.ctx = None
        if self.scheme == "https":
            self.ctx = ssl.create_default_context(cafile=cacert)
            if insecure:
                self.ctx.check_hostname, self.ctx.verify_mode = False, ssl.CERT_NONE
        self.token = token
        self.timeout = timeout

    def conn(self):
        if self.scheme == "https":
            return http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=self.timeout)
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def request(self, method, path, body=None):
        c = self.conn()
        try:
            headers = {"Accept": "application/json"}
            if body is not None:
                body = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            if self.token:
                headers["Authorization"] = "Bearer " + self.token
            c.request(method, self.base + path, body=body, headers=headers)
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def search(self, request):
        # as an officer would: purpose, case reference and justification, which
        # an access policy with purpose binding requires (demo/policy.yaml);
        # and the raw records with their entity, which the merge scores need
        # (a briefing has them only when asked)
        request = dict(request, purpose=request.get("purpose", "investigation"),
                       case_ref=request.get("case_ref", "EVAL-1"),
                       justification=request.get("justification", "evaluation of the labelled set"),
                       records=True)
        status, data = self.request("POST", "/v1/search", request)
        if status != 200:
            raise RuntimeError("HTTP %d: %s" % (status, data[:300].decode("utf-8", "replace")))
        return json.loads(data)


class Daemon:
    """focald started on a free port with a copy of the configuration (in the
    configuration's folder, so that its relative paths still hold)."""

    def __init__(self, binary, config):
        self.binary, self.config = os.path.abspath(binary), os.path.abspath(config)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        with open(self.config, encoding="utf-8") as f:
            text = f.read()
        text, n = re.subn(r"(?m)^(\s+port:\s*)\d+", lambda m: m.group(1) + str(self.port), text, count=1)
        if n != 1:
            raise SystemExit("%s: no server port to replace" % config)
        m = re.search(r"(?m)^\s+tls_cert:\s*(\S+)", text)
        if not m:
            raise SystemExit("%s: no server.tls_cert" % config)
        d = os.path.dirname(self.config)
        self.cacert = os.path.join(d, m.group(1))
        fd, self.tmp = tempfile.mkstemp(prefix=".evaluate-", suffix=".yaml", dir=d)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([self.binary, "-c", self.tmp, "--dev-insecure-no-auth"],
                                     stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.url = "https://127.0.0.1:%d" % self.port

    def wait_ready(self, client, seconds=20):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit("focald exited at start:\n" + self.read_log())
            try:
                if client.request("GET", "/healthz")[0] == 200:
                    return
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.05)
        raise SystemExit("focald did not answer /healthz in %d s:\n%s" % (seconds, self.read_log()))

    def read_log(self):
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")[-4000:]

    def stop(self):
        try:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        finally:
            os.unlink(self.tmp)
            self.log.close()


# --------------------------------------------------------------------------
# Reading a briefing (docs/briefing.md)
# --------------------------------------------------------------------------


def as_ids(v):
    """An entity reference or a list of them, as a set of strings."""
    if v is None:
        return set()
    if isinstance(v, list):
        out = set()
        for x in v:
            out |= as_ids(x)
        return out
    if isinstance(v, dict):
        for k in ("entity", "id"):
            if k in v:
                return {str(v[k])}
        return set()
    return {str(v)}


class Answer:
    """One briefing, read for evaluation: every record with the entities it
    belongs to (an alert: the entities it certainly concerns)."""

    def __init__(self, doc):
        self.doc = doc
        self.records = []       # (record, set of entity ids, where)
        self.has_entities = "entities" in doc
        for r in doc.get("records", []):
            self.records.append((r, as_ids(r.get("entity")), "records"))
        for a in doc.get("alerts", []):
            self.records.append((a, self.certain(a), "alerts"))

    @staticmethod
    def certain(alert):
        """The entities an alert certainly concerns ("concerns"; those it
        only possibly concerns, "possibly_concerns", are not a merge)."""
        return as_ids(alert.get("concerns"))

    def find(self, ref):
        """[(record, entity ids, where)] of the records that match a labelled ref."""
        out = []
        for r, ents, where in self.records:
            if r.get("source") != ref["source"] or r.get("type") != ref["type"]:
                continue
            f = r.get("fields", {})
            if all(f.get(k) == v for k, v in ref["match"].items()):
                out.append((r, ents, where))
        return out

    def possible_pair(self, a, b):
        """The reason the briefing gives when it lists an entity of a and one
        of b as possible matches (not merged), or None."""
        ea = set().union(*[e for _, e, _ in self.find(a)] or [set()])
        eb = set().union(*[e for _, e, _ in self.find(b)] or [set()])
        for e in self.doc.get("entities", []) + self.doc.get("possible_matches", []):
            mine = {e.get("id")}
            others = set(as_ids(e.get("possible_matches"))) | as_ids(e.get("may_be"))
            if (mine & ea and others & eb) or (mine & eb and others & ea):
                reasons = [m.get("reason") for m in e.get("may_be", []) if isinstance(m, dict)]
                return ", ".join(r for r in reasons if r) or "listed"
        return None

    def interpretations(self):
        q = self.doc.get("query", {})
        return "; ".join("%s %s" % (i.get("kind"), json.dumps(i.get("params", {}), ensure_ascii=False))
                         for i in q.get("interpretations", []))

    def source_status(self, name):
        st = [s for s in self.doc.get("sources", []) if s.get("name") == name]
        return ", ".join("%s %s rows=%s%s" % (s.get("query_kind"), s.get("status"), s.get("rows"),
                                              " (%s)" % s["reason"] if s.get("reason") else "") for s in st) \
            or "not asked"

    def conflicts(self):
        """Entities that hold person or alert records of two national numbers
        or two birth dates: a wrong merge whatever the labels say."""
        by_entity = {}
        for r, ents, _ in self.records:
            if r.get("type") not in ("person", "alert"):
                continue
            f = r.get("fields", {})
            nn = f.get("national_number") if r["type"] == "person" else f.get("subject_national_number")
            born = f.get("birth_date") if r["type"] == "person" else f.get("subject_birth_date")
            for e in ents:
                d = by_entity.setdefault(e, {"nn": set(), "born": set()})
                if nn:
                    d["nn"].add(nn)
                if born and re.fullmatch(r"\d{4}-\d\d-\d\d", born):
                    d["born"].add(born)
        return {e: d for e, d in by_entity.items() if len(d["nn"]) > 1 or len(d["born"]) > 1}


# --------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------


class Tally:
    def __init__(self):
        self.queries = 0
        self.must = self.found = 0
        self.must_not = self.shown = 0
        self.beyond = self.beyond_found = 0
        self.pairs = self.merged = 0
        self.not_pairs = self.wrongly_merged = 0
        self.pairs_absent = 0
        self.conflicts = 0
        self.errors = 0


def ratio(a, b):
    return a / b if b else None


def fmt_ratio(v):
    return "  -  " if v is None else "%.3f" % v


def merged(ans, a, b, strict):
    ra, rb = ans.find(a), ans.find(b)
    if not ra or not rb:
        return None  # one side absent: the pair is not evaluated
    ea = [e for _, e, _ in ra]
    eb = [e for _, e, _ in rb]
    if strict:  # every record of both in one and the same entity
        allents = ea + eb
        return all(len(e) == 1 for e in allents) and len(set().union(*allents)) == 1
    return bool(set().union(*ea) & set().union(*eb))


def label(r):
    return r.get("label") or json.dumps(r["match"], ensure_ascii=False)


def score(q, ans, t, misses):
    """Adds one answered search to its tally and its misses to the list."""
    t.queries += 1
    head = "%s %s" % (q["id"], json.dumps(q["request"], ensure_ascii=False))
    for r in q["must_alerts"]:
        t.must += 1
        if ans.find(r):
            t.found += 1
        else:
            misses.append((q["category"], head, "alert missing: %s" % label(r),
                           "read as: %s | %s: %s" % (ans.interpretations() or "nothing", r["source"],
                                                     ans.source_status(r["source"]))))
    for r in q["must_not_alerts"]:
        t.must_not += 1
        if ans.find(r):
            t.shown += 1
            misses.append((q["category"], head, "alert shown but must not be: %s" % label(r), ""))
    for r in q.get("beyond_source_alerts", []):
        t.beyond += 1
        t.beyond_found += bool(ans.find(r))
    if not ans.has_entities:
        return
    for group in q["must_merge"]:
        for i in range(len(group)):
            for j in range(i + 1, len(group)):
                m = merged(ans, group[i], group[j], strict=True)
                if m is None:
                    t.pairs_absent += 1
                    continue
                t.pairs += 1
                if m:
                    t.merged += 1
                else:
                    pm = ans.possible_pair(group[i], group[j])
                    misses.append((q["category"], head, "not merged: %s + %s" % (label(group[i]),
                                                                                label(group[j])),
                                   "entities %s / %s; %s" % (
                                       ",".join(sorted(set().union(*[e for _, e, _ in ans.find(group[i])]))) or
                                       "none", ",".join(sorted(set().union(*[e for _, e, _ in
                                                                            ans.find(group[j])]))) or "none",
                                       "listed as possible matches (%s)" % pm if pm else
                                       "not even listed as possible matches")))
    for a, b in q["must_not_merge"]:
        m = merged(ans, a, b, strict=False)
        if m is None:
            continue
        t.not_pairs += 1
        if m:
            t.wrongly_merged += 1
            misses.append((q["category"], head, "MERGED, must not be: %s + %s" % (label(a), label(b)), ""))
    for e, d in sorted(ans.conflicts().items()):
        t.conflicts += 1
        misses.append((q["category"], head, "entity %s mixes national numbers %s / birth dates %s"
                       % (e, sorted(d["nn"]), sorted(d["born"])), ""))


def run(client, queries, jobs, deadline):
    results = {}

    def one(q):
        if time.monotonic() > deadline:
            raise TimeoutError("evaluation deadline passed before this search")
        return client.search(q["request"])

    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as ex:
        futs = {ex.submit(one, q): q["id"] for q in queries}
        for f in concurrent.futures.as_completed(futs):
            try:
                results[futs[f]] = f.result()
            except Exception as e:  # reported per search; one failure does not hide the others
                results[futs[f]] = e
    return results


def report(labels, queries, results, out):
    tallies = {c: Tally() for c in CATEGORIES}
    misses = []
    has_entities = None
    for q in queries:
        t = tallies.setdefault(q["category"], Tally())
        res = results.get(q["id"])
        if isinstance(res, Exception) or res is None:
            t.queries += 1
            t.errors += 1
            t.must += len(q["must_alerts"])
            misses.append((q["category"], "%s %s" % (q["id"], json.dumps(q["request"], ensure_ascii=False)),
                           "search failed: %s" % res, ""))
            continue
        ans = Answer(res)
        has_entities = ans.has_entities if has_entities is None else has_entities and ans.has_entities
        score(q, ans, t, misses)

    p = lambda *a: print(*a, file=out)  # noqa: E731
    p("alerts             searches  must found recall | must-not shown precision | beyond-source found")
    total = Tally()
    for c, t in tallies.items():
        if not t.queries:
            continue
        p("  %-16s %8d %5d %5d  %s | %8d %5d   %s   | %13d %5d%s" % (
            c, t.queries, t.must, t.found, fmt_ratio(ratio(t.found, t.must)), t.must_not, t.shown,
            fmt_ratio(ratio(t.found, t.found + t.shown)), t.beyond, t.beyond_found,
            "   (%d searches failed)" % t.errors if t.errors else ""))
        for k in vars(total):
            setattr(total, k, getattr(total, k) + getattr(t, k))
    p("  %-16s %8d %5d %5d  %s | %8d %5d   %s   | %13d %5d" % (
        "all", total.queries, total.must, total.found, fmt_ratio(ratio(total.found, total.must)),
        total.must_not, total.shown, fmt_ratio(ratio(total.found, total.found + total.shown)),
        total.beyond, total.beyond_found))
    p("")
    if has_entities:
        p("merges (pairs)     must merged recall | must-not merged precision | conflicts | not evaluated")
        for c, t in tallies.items():
            if not t.queries:
                continue
            p("  %-16s %5d %6d  %s | %8d %6d   %s   | %9d | %d" % (
                c, t.pairs, t.merged, fmt_ratio(ratio(t.merged, t.pairs)), t.not_pairs, t.wrongly_merged,
                fmt_ratio(ratio(t.merged, t.merged + t.wrongly_merged + t.conflicts)), t.conflicts,
                t.pairs_absent))
        p("  %-16s %5d %6d  %s | %8d %6d   %s   | %9d | %d" % (
            "all", total.pairs, total.merged, fmt_ratio(ratio(total.merged, total.pairs)), total.not_pairs,
            total.wrongly_merged, fmt_ratio(ratio(total.merged, total.merged + total.wrongly_merged +
                                                  total.conflicts)), total.conflicts, total.pairs_absent))
    else:
        p("merges: the briefing has no 'entities' (focald without entity resolution): not evaluated")
    p("")

    tg = labels["targets"]
    pl, va = tallies["planted"], tallies["variant"]
    dshown = tallies["decoy"].shown + tallies["decoy_name"].shown + pl.shown
    # (name, value, comparison, target, what makes it not applicable)
    checks = [
        ("planted alert recall", ratio(pl.found, pl.must), ">=", tg["planted_alert_recall"],
         "no planted alerts searched" if not pl.must else None),
        ("merge precision", ratio(total.merged, total.merged + total.wrongly_merged + total.conflicts)
         if has_entities else None, ">=", tg["merge_precision"],
         "no labelled pair came back" if has_entities and not (total.merged + total.wrongly_merged +
                                                                 total.conflicts) else None),
        ("variant alert recall", ratio(va.found, va.must), ">=", tg["variant_alert_recall"],
         "no spelling-variant alerts searched" if not va.must else None),
        ("decoy alerts shown", dshown, "<=", tg["decoy_alerts_shown"], None),
    ]
    failed = 0
    for name, v, op, want, skip in checks:
        if skip:  # a subset (--only) without such searches; a missing entities list is no excuse
            p("SKIP %-22s (%s)" % (name, skip))
            continue
        ok = v is not None and (v >= want if op == ">=" else v <= want)
        failed += not ok
        p("%s %-22s %s (target %s %s)" % ("PASS" if ok else "FAIL", name,
                                           "n/a" if v is None else ("%.3f" % v if isinstance(v, float) else v),
                                           op, want))
    if misses:
        p("")
        p("misses (%d):" % len(misses))
        for cat, head, what, why in sorted(misses, key=lambda m: (CATEGORIES.index(m[0])
                                                                  if m[0] in CATEGORIES else 99, m[1])):
            p("  [%s] %s" % (cat, head))
            p("      %s" % what)
            if why:
                p("      %s" % why)
    return failed


def main():
    ap = argparse.ArgumentParser(description="Precision and recall of Focal on the demo city's labelled searches.")
    ap.add_argument("--labels", required=True, help="DIR/evaluation.json (demo/generate.py writes it)")
    ap.add_argument("--config", help="DIR/focal.yaml (default: next to --labels); used with --focald")
    ap.add_argument("--url", help="a running focald, e.g. https://127.0.0.1:8443")
    ap.add_argument("--cacert", help="CA certificate of --url (default: the system's)")
    ap.add_argument("--insecure", action="store_true", help="do not check --url's certificate")
    ap.add_argument("--token", help="bearer token for --url")
    ap.add_argument("--focald", help="start this focald binary (with --dev-insecure-no-auth) instead of --url")
    ap.add_argument("--jobs", type=int, default=8, help="searches in flight at once (default 8)")
    ap.add_argument("--timeout", type=float, default=30, help="seconds per search (default 30)")
    ap.add_argument("--max-seconds", type=float, default=120, help="bound on the whole run (default 120)")
    ap.add_argument("--only", help="run only the searches whose id starts with this")
    args = ap.parse_args()
    if bool(args.url) == bool(args.focald):
        ap.error("give exactly one of --url and --focald")
    with open(args.labels, encoding="utf-8") as f:
        labels = json.load(f)
    queries = [q for q in labels["queries"] if not args.only or q["id"].startswith(args.only)]
    t0 = time.monotonic()
    daemon = None
    try:
        if args.focald:
            config = args.config or os.path.join(os.path.dirname(os.path.abspath(args.labels)), "focal.yaml")
            daemon = Daemon(args.focald, config)
            client = Client(daemon.url, cacert=daemon.cacert, timeout=args.timeout)
            daemon.wait_ready(client)
        else:
            client = Client(args.url, cacert=args.cacert, insecure=args.insecure, token=args.token,
                            timeout=args.timeout)
        results = run(client, queries, max(1, args.jobs), t0 + args.max_seconds)
    finally:
        if daemon:
            daemon.stop()
    elapsed = time.monotonic() - t0
    g = labels.get("generator", {})
    print("Focal evaluation: %d searches, demo city scale %s seed %s, %.1f s" % (
        len(queries), g.get("scale"), g.get("seed"), elapsed))
    print("")
    failed = report(labels, queries, results, sys.stdout)
    if elapsed > args.max_seconds:
        print("FAIL the run took %.1f s (bound %.0f s)" % (elapsed, args.max_seconds))
        failed += 1
    print("")
    print("%s: %d target(s) missed" % ("FAIL" if failed else "PASS", failed) if failed else "PASS: every target met")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
