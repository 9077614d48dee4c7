#!/usr/bin/env python3
"""System tests of the access policy (docs/policy.md) in the real focald.

Usage: test_policy.py BUILD_DIR
focald runs with SQLite sources and a policy file, as the development user
(--dev-insecure-no-auth: roles officer, admin, auditor).  The tests try what
the policy forbids and assert it does not happen: a denied source is never
queried (focald's per-source call counters stay at zero and its secret never
appears), redacted fields are absent from the JSON answer, the SSE stream and
focald's log, searches of restricted sources without purpose and reference
are refused or left out, justification prompts answer 428, a reload applies
at once and an invalid policy on reload keeps the running one.
Prints PASS/FAIL per test and closes with "system: N passed, N failed".
"""

import csv
import hashlib
import io
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import ROOT, Focald, Runner, check  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))

PHONE = "+32470999888"           # redacted field values: must never leave focald
BIRTH = "30/07/1985"
INTEL_SECRET = "TOPSECRET-INFORMANT-7"  # only in the denied source

SOURCES = """
  - name: registry
    kind: sqlite
    owner: Rijksregister
    classification: restricted
    connection: {path: %(dir)s/registry.db}
    queries:
      person: SELECT * FROM p WHERE lower(fam) = lower(:family_name)
      plate: SELECT * FROM v WHERE plate = :plate
    map:
      person: {national_number: nn, family_name: fam, given_name: giv, birth_date: born,
               phone: tel}
      vehicle: {plate: plate, make: make}
  - name: wanted
    kind: sqlite
    owner: Federal Police
    classification: strictly_confidential
    connection: {path: %(dir)s/registry.db}
    queries:
      person: SELECT * FROM w WHERE lower(fam) = lower(:family_name)
    map:
      alert: {category: cat, instruction: instr, subject_name: fam}
  - name: secret_intel
    kind: sqlite
    owner: Intel
    classification: not_sensitive
    connection: {path: %(dir)s/intel.db}
    queries:
      person: SELECT * FROM i WHERE lower(fam) = lower(:family_name)
    map:
      report: {summary: note, involved_name: fam}
  - name: public_notes
    kind: sqlite
    owner: City
    classification: not_sensitive
    connection: {path: %(dir)s/registry.db}
    queries:
      person: SELECT * FROM n WHERE lower(fam) = lower(:family_name)
    map:
      address: {street: street, note: note}
policy:
  file: policy.yaml
"""

POLICY = """version: 1
roles: [officer, admin, auditor]
purpose:
  codes: [intervention, investigation]
%(justification)s
rules:
  - name: officers
    effect: allow
    actions: [search, view]
    subject: {roles: [officer]}
  - name: no-intel
    effect: deny
    actions: [search]
    resource: {sources: [secret_intel]}
    reason: other_unit
  - name: hide-phone-and-birth
    effect: deny
    actions: [view]
    resource: {sources: [registry], fields: [person.phone, person.birth_date]}
%(extra)s"""

GOOD = {"q": "Peeters", "purpose": "intervention", "case_ref": "PV-2026-0001"}


def make_data(directory):
    db = sqlite3.connect(os.path.join(directory, "registry.db"))
    db.executescript("""
        CREATE TABLE p(nn TEXT, fam TEXT, giv TEXT, born TEXT, tel TEXT);
        INSERT INTO p VALUES('85073003328','Peeters','Jan','%s','%s');
        CREATE TABLE v(plate TEXT, make TEXT);
        INSERT INTO v VALUES('1ABC123','Volvo');
        CREATE TABLE w(fam TEXT, cat TEXT, instr TEXT);
        INSERT INTO w VALUES('Peeters','gezocht','Aanhouden');
        CREATE TABLE n(fam TEXT, street TEXT, note TEXT);
        INSERT INTO n VALUES('Peeters','Meir','dog on the premises');
    """ % (BIRTH, PHONE))
    db.commit()
    db.close()
    db = sqlite3.connect(os.path.join(directory, "intel.db"))
    db.executescript("CREATE TABLE i(fam TEXT, note TEXT);"
                     "INSERT INTO i VALUES('Peeters','%s');" % INTEL_SECRET)
    db.commit()
    db.close()


def write_policy(d, justification="", extra=""):
    with open(os.path.join(d.dir, "policy.yaml"), "w") as f:
        f.write(POLICY % {"justification": justification, "extra": extra})


def start():
    d = Focald(BUILD, "")
    make_data(d.dir)
    d.write_config(SOURCES % {"dir": d.dir})
    write_policy(d)
    d.start()
    return d


def calls(d, source):
    """focald's count of calls to source, all outcomes."""
    _, _, text = d.request("GET", "/metrics")
    total = 0
    for m in re.finditer(r'focal_source_calls_total\{source="%s",status="[a-z]+"\} (\d+)' % source,
                         text.decode()):
        total += int(m.group(1))
    return total


def names(doc):
    return sorted(s["name"] for s in doc["sources"])


def reload(d, expect):
    """SIGHUP and wait for the reload's log line ('reloaded' or 'rejected')."""
    before = d.read_log().count(expect)
    d.signal(signal.SIGHUP)
    deadline = time.time() + 10
    while d.read_log().count(expect) == before:
        check(time.time() < deadline, "no reload line %r in the log" % expect)
        time.sleep(0.05)
    time.sleep(0.2)  # each loop swaps its sources on its own thread


def test_denied_source_is_never_queried():
    d = start()
    try:
        for _ in range(3):
            status, doc = d.search(GOOD)
            check(status == 200, "status %d: %s" % (status, doc))
            check("secret_intel" not in names(doc), names(doc))
        check(names(doc) == ["public_notes", "registry", "wanted"], names(doc))
        check(calls(d, "secret_intel") == 0, "a denied source was queried")
        check(calls(d, "registry") == 3, "registry calls: %d" % calls(d, "registry"))
        denied = doc["policy"]["denied"]
        check(denied == [{"source_count": 1, "reason": "other_unit"}], denied)
        check(doc["summary"]["sources_denied_by_policy"] == 1, doc["summary"])
        # the officer learns how many sources and why, never which or what
        status, _, raw = d.request("POST", "/v1/search", GOOD)
        check(b"secret_intel" not in raw and INTEL_SECRET.encode() not in raw, raw[:400])
        events = d.search_stream(GOOD)
        check(all("secret_intel" not in repr(data) for _, data in events), events)
    finally:
        d.stop()
    check(INTEL_SECRET not in d.read_log(), "the denied source's data is in the log")


def test_redacted_fields_never_leave_focald():
    d = start()
    try:
        status, _, raw = d.request("POST", "/v1/search", GOOD)
        check(status == 200, raw[:300])
        check(PHONE.encode() not in raw and BIRTH.encode() not in raw and b"1985-07-30" not in raw,
              "redacted value in the JSON answer")
        check(b"Peeters" in raw and b"85073003328" in raw, "visible fields missing: %s" % raw[:600])
        doc = __import__("json").loads(raw)
        check(doc["policy"]["redacted_fields"] == 2, doc["policy"])
        events = d.search_stream(GOOD)
        text = repr(events)
        check(events and events[-1][0] == "briefing", [e for e, _ in events])
        check(PHONE not in text and BIRTH not in text and "1985-07-30" not in text,
              "redacted value in the SSE stream")
        # the CLI, rendered and as JSON
        env = dict(os.environ, FOCAL_URL="https://127.0.0.1:%d" % d.port, FOCAL_CACERT=d.cert,
                   NO_COLOR="1")
        for extra in ([], ["--json"]):
            r = subprocess.run([os.path.join(BUILD, "focal"), "search", "--purpose", "intervention",
                                "--case", "PV-1"] + extra + ["Peeters"], env=env, timeout=30,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            out = r.stdout.decode("utf-8", "replace")
            check(r.returncode == 0 and "Peeters" in out, out)
            check(PHONE not in out and BIRTH not in out and "1985-07-30" not in out,
                  "redacted value in the CLI's output")
            if not extra:  # the rendered briefing says what was kept out
                check("1 sources not searched: other_unit" in out, out)
    finally:
        d.stop()
    log = d.read_log()
    check(PHONE not in log and BIRTH not in log, "redacted value in focald's log")


def test_purpose_binding():
    d = start()
    try:
        # person search without purpose: only the not-sensitive source answers,
        # the briefing says what the others need
        status, doc = d.search({"q": "Peeters"})
        check(status == 200, "status %d: %s" % (status, doc))
        check(names(doc) == ["public_notes"], names(doc))
        needs = [e for e in doc["policy"]["denied"] if e["reason"] == "needs_purpose"]
        check(needs == [{"source_count": 2, "reason": "needs_purpose",
                         "required": ["purpose", "case_ref"]}], doc["policy"])
        # plate search: only the restricted registry answers plates -> 400 naming the field
        status, doc = d.search({"q": "1-ABC-123", "purpose": "intervention"})
        check(status == 400, "status %d: %s" % (status, doc))
        msg = doc["error"]["message"]
        check("missing case_ref" in msg and "intervention" in msg, msg)
        status, doc = d.search({"q": "1-ABC-123", "case_ref": "PV-1"})
        check(status == 400 and "missing purpose" in doc["error"]["message"], doc)
        # an unknown purpose code is refused, with the list
        status, doc = d.search({"q": "Peeters", "purpose": "curiosity", "case_ref": "PV-1"})
        check(status == 400 and "curiosity" in doc["error"]["message"] and
              "investigation" in doc["error"]["message"], doc)
        registry_before = calls(d, "registry")
        status, doc = d.search({"q": "1-ABC-123", "purpose": "intervention", "case_ref": "PV-1"})
        check(status == 200 and names(doc) == ["registry"], doc)
        check(calls(d, "registry") == registry_before + 1, "registry not asked")
    finally:
        d.stop()


def test_reload_applies_at_once_and_invalid_keeps_old():
    d = start()
    try:
        status, doc = d.search(GOOD)
        check("registry" in names(doc), names(doc))
        # a stricter policy: registry denied too
        write_policy(d, extra="  - {name: no-registry, effect: deny, actions: [search],\n"
                              "     resource: {sources: [registry]}}\n")
        reload(d, "configuration reloaded")
        before = calls(d, "registry")
        status, doc = d.search(GOOD)
        check(status == 200 and "registry" not in names(doc), names(doc))
        check(calls(d, "registry") == before, "registry queried after the reload denied it")
        # an invalid policy: rejected with its positions (every error, not
        # only the first), the stricter one stays
        write_policy(d, extra="  - {name: bad, effect: allow, actions: [search],\n"
                              "     resource: {sources: [no_such_source]}}\n")
        reload(d, "configuration rejected")
        log = d.read_log()
        check("policy.yaml:" in log and "no_such_source" in log, log[-800:])
        # two errors in the file: both in the one log line
        write_policy(d, extra="  - {name: bad, effect: allow, actions: [serch]}\n"
                              "  - {name: worse, effect: allow, actions: [search], subjet: {}}\n")
        reload(d, "configuration rejected")
        line = [l for l in d.read_log().splitlines() if "configuration rejected" in l][-1]
        check(re.search(r'policy\.yaml:\d+:\d+: actions: unknown \\"serch\\"', line) and
              re.search(r"\\npolicy\.yaml:\d+:\d+: unknown key 'subjet'", line.replace(d.dir + "/", "")),
              line)
        status, doc = d.search(GOOD)
        check(status == 200 and "registry" not in names(doc), names(doc))
        check(calls(d, "registry") == before, "old policy lost on an invalid reload")
        # justification prompts (1 in 1 here): 428 until the search carries one
        write_policy(d, justification="  justification: {one_in: 1}")
        reload(d, "configuration reloaded")
        status, doc = d.search(GOOD)
        check(status == 428 and "justification" in doc["error"]["message"], (status, doc))
        body = dict(GOOD, justification="suspect seen near the burglary at Meir 12")
        status, doc = d.search(body)
        check(status == 200 and "registry" in names(doc), (status, doc))
        check(doc["policy"].get("justification_checked") is True, doc["policy"])
    finally:
        d.stop()


def audit_entries(d, type_):
    """The entries of type_ in focald's audit log (the default folder)."""
    out = []
    path = os.path.join(d.dir, "audit", "audit.log")
    with open(path) as f:
        for line in f:
            if line.endswith("\n"):
                e = json.loads(line)
                if e["type"] == type_:
                    out.append(e)
    return out


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_policy_changes_are_audited():
    d = start()
    policy = os.path.join(d.dir, "policy.yaml")
    try:
        old = sha256_file(policy)
        loads = audit_entries(d, "admin.policy.load")
        check(len(loads) == 1 and loads[0]["trigger"] == "start", loads)
        check(loads[0]["policy"]["sha256"] == old and loads[0]["policy"]["rules"] == 3, loads)
        check(loads[0]["policy"]["file"] == policy, loads)
        srcs = audit_entries(d, "admin.sources.load")
        check(len(srcs) == 1 and "registry" in srcs[0]["sources"], srcs)
        # a reload that changes nothing is not a policy change
        reload(d, "configuration reloaded")
        check(audit_entries(d, "admin.policy.reload") == [], "unchanged policy audited")
        check(audit_entries(d, "admin.sources.reload") == [], "unchanged sources audited")
        # SIGHUP with a changed policy: one entry with both digests
        write_policy(d, extra="  - {name: no-registry, effect: deny, actions: [search],\n"
                              "     resource: {sources: [registry]}}\n")
        new = sha256_file(policy)
        check(new != old, "the policy did not change")
        reload(d, "configuration reloaded")
        ent = audit_entries(d, "admin.policy.reload")
        check(len(ent) == 1, ent)
        e = ent[0]
        check(e["old_sha256"] == old and e["new_sha256"] == new, e)
        check(e["file"] == policy and e["rules"] == 4 and e["old_rules"] == 3, e)
        check(e["trigger"] == "SIGHUP" and e["by"] == "os", e)
        # an invalid policy: rejected, and that is audited with the error and
        # the digest of the refused text
        write_policy(d, extra="  - {name: bad, effect: allow, actions: [search],\n"
                              "     resource: {sources: [no_such_source]}}\n")
        bad = sha256_file(policy)
        reload(d, "configuration rejected")
        rej = audit_entries(d, "admin.policy.reload_rejected")
        check(len(rej) == 1 and "no_such_source" in rej[0]["error"], rej)
        check(rej[0]["running_sha256"] == new and rej[0]["file_sha256"] == bad, rej)
        check(len(audit_entries(d, "admin.policy.reload")) == 1, "a rejected reload applied")
        # a source removed: audited by name
        cfg = SOURCES % {"dir": d.dir}
        cut = cfg.index("  - name: public_notes")
        d.write_config(cfg[:cut] + cfg[cfg.index("policy:"):])
        write_policy(d)
        reload(d, "configuration reloaded")
        src = audit_entries(d, "admin.sources.reload")
        check(len(src) == 1 and src[0]["removed"] == ["public_notes"] and src[0]["added"] == [],
              src)
        check(src[0]["new_config_sha256"] == sha256_file(d.config) and
              src[0]["old_config_sha256"] == srcs[0]["config_sha256"], (src, srcs))
        check(len(audit_entries(d, "admin.policy.reload")) == 2, "the policy went back: audited")
    finally:
        d.stop()
    # the log with these entries verifies
    r = subprocess.run([os.path.join(BUILD, "focal"), "audit", "verify", "--log",
                        os.path.join(d.dir, "audit")], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    check(r.returncode == 0 and r.stdout.decode().startswith("OK"), r.stdout.decode())
    # every entry, the reload entries among them, is under a signature
    check("not yet signed" not in r.stdout.decode(), r.stdout.decode())


EXPORT_RULES = """  - name: investigators-export
    effect: allow
    actions: [export]
    subject: {roles: [officer]}
    resource: {sources: [registry, public_notes]}
  - name: no-given-name-export
    effect: deny
    actions: [export]
    resource: {sources: [registry], fields: [person.given_name]}
"""


def test_export_needs_permission_and_withholds_fields():
    d = start()
    env = dict(os.environ, FOCAL_URL="https://127.0.0.1:%d" % d.port, FOCAL_CACERT=d.cert)
    try:
        body = dict(GOOD, export="csv")
        # no export rule: the officer may search but not export
        status, _, data = d.request("POST", "/v1/search", body)
        check(status == 403 and b"export not permitted" in data, (status, data))
        check(audit_entries(d, "search.export") == [], "a refused export was exported")
        write_policy(d, extra=EXPORT_RULES)
        reload(d, "configuration reloaded")
        # purpose and case reference are required
        status, _, data = d.request("POST", "/v1/search", {"q": "Peeters", "export": "csv"})
        check(status == 400 and b"case_ref" in data, (status, data))
        status, _, data = d.request("POST", "/v1/search", dict(GOOD, export="xml"))
        check(status == 400 and b"export" in data, (status, data))
        wanted_before = calls(d, "wanted")
        status, headers, data = d.request("POST", "/v1/search", body)
        check(status == 200 and headers["Content-Type"].startswith("text/csv"), (status, headers))
        check("attachment" in headers.get("Content-Disposition", ""), headers)
        text = data.decode()
        rows = list(csv.reader(io.StringIO(text)))
        check(rows[0][:3] == ["sha256", "type", "source"], rows[0])
        check("85073003328" in text and "Peeters" in text, text)
        # withheld from export (given_name) and from view (phone, birth date)
        for secret in ("Jan", PHONE, BIRTH, INTEL_SECRET, "given_name", "Aanhouden"):
            check(secret not in text, "%r in the export" % secret)
        # wanted may be searched but not exported: never asked, counted
        check(calls(d, "wanted") == wanted_before, "a source not allowed for export was asked")
        check(headers["Focal-Export-Sources-Left-Out"] == "1", headers)
        check(int(headers["Focal-Export-Fields-Removed"]) >= 3, headers)
        check(headers["Focal-Export-Records"] == str(len(rows) - 1), headers)
        # its own audit entry, naming every record that left by digest
        ent = audit_entries(d, "search.export")
        check(len(ent) == 1 and ent[0]["format"] == "csv" and ent[0]["case_ref"] == "PV-2026-0001",
              ent)
        check(sorted(r["sha256"] for r in ent[0]["records"]) == sorted(r[0] for r in rows[1:]),
              (ent, rows))
        check(ent[0]["count"] == len(rows) - 1 and ent[0]["sources_left_out"] == 1, ent)
        check(headers["Focal-Audit-Entry"] == str(ent[0]["seq"]), headers)
        begins = [e for e in audit_entries(d, "search.begin") if e.get("export") == "csv"]
        check(begins and begins[-1]["seq"] == ent[0]["search"], (begins, ent))
        # JSON lines: each line's own SHA-256 is its digest in the audit log
        status, headers, data = d.request("POST", "/v1/search", dict(GOOD, export="jsonl"))
        check(status == 200 and headers["Content-Type"] == "application/x-ndjson", headers)
        lines = data.decode().splitlines()
        ent = audit_entries(d, "search.export")[-1]
        check(sorted(hashlib.sha256(l.encode()).hexdigest() for l in lines) ==
              sorted(r["sha256"] for r in ent["records"]), (lines, ent))
        check(all("phone" not in json.loads(l)["fields"] for l in lines), lines)
        # the CLI writes the file as sent
        r = subprocess.run([os.path.join(BUILD, "focal"), "search", "--export", "csv",
                            "--purpose", "intervention", "--case", "PV-2026-0001", "Peeters"],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        out = r.stdout.decode()
        check(r.returncode == 0 and out.startswith("sha256,type,source") and "Peeters" in out
              and PHONE not in out and "Jan" not in out, out + r.stderr.decode())
        r = subprocess.run([os.path.join(BUILD, "focal"), "search", "--export", "csv", "Peeters"],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        check(r.returncode != 0 and b"HTTP 400" in r.stderr, r.stderr)
    finally:
        d.stop()


def test_missing_policy_file_refuses_to_start():
    d = Focald(BUILD, "")
    make_data(d.dir)
    d.write_config(SOURCES % {"dir": d.dir})
    rc = d.start(expect_ok=False)
    d.log.close()
    check(rc != 0, "focald started without its policy file")
    check("policy.yaml" in d.read_log(), d.read_log()[-500:])


def test_cli_policy_check_and_explain():
    d = Focald(BUILD, "")
    make_data(d.dir)
    d.write_config(SOURCES % {"dir": d.dir})
    write_policy(d)
    focal = os.path.join(BUILD, "focal")
    policy = os.path.join(d.dir, "policy.yaml")

    def run(*args):
        r = subprocess.run([focal, "policy"] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=30)
        return r.returncode, r.stdout.decode()

    rc, out = run("check", policy, "--config", d.config)
    check(rc == 0 and "valid, 3 rules" in out, out)
    rc, out = run("explain", "--config", d.config, "--roles", "officer", "--clearance",
                  "strictly_confidential", "--source", "secret_intel")
    check(rc == 1 and "deny" in out and "no-intel (" in out and "policy.yaml:" in out, out)
    rc, out = run("explain", "--config", d.config, "--roles", "officer", "--clearance",
                  "restricted", "--source", "registry", "--purpose", "intervention", "--case", "PV-1")
    check(rc == 0 and "allow_redacted" in out and "person.phone by hide-phone-and-birth" in out, out)
    rc, out = run("explain", "--config", d.config, "--roles", "officer", "--source", "registry")
    check(rc == 1 and "clearance" in out, out)
    # --user alone: the account in the store (test_security_integration.py explains
    # real accounts); an unknown one is an error, not a guess
    rc, out = run("explain", "--config", d.config, "--user", "jdoe", "--source", "registry")
    check(rc == 1 and "no such user: jdoe" in out, out)
    # a candidate file, checked before it replaces the running one
    with open(policy) as f:
        text = f.read()
    policy = os.path.join(d.dir, "candidate.yaml")
    with open(policy, "w") as f:
        f.write(text)
        f.write("  - {name: typo, effect: allow, actions: [search], subjet: {}}\n"
                "  - {name: typo2, effect: allow, actions: [search], resource: {sources: [nope]}}\n"
                "  - {name: typo3, effect: allow, actions: [serch]}\n")
    rc, out = run("check", policy)
    check(rc == 1 and re.search(r"candidate\.yaml:\d+:\d+: unknown key 'subjet'", out), out)
    # every error, each with its position; source names only with --config
    check(re.search(r'candidate\.yaml:\d+:\d+: actions: unknown "serch"', out) and
          "2 errors" in out and "nope" not in out, out)
    rc, out = run("check", policy, "--config", d.config)
    check(rc == 1 and re.search(r'candidate\.yaml:\d+:\d+: unknown source "nope"', out) and
          "3 errors" in out, out)


TESTS = [
    test_denied_source_is_never_queried,
    test_redacted_fields_never_leave_focald,
    test_purpose_binding,
    test_reload_applies_at_once_and_invalid_keeps_old,
    test_policy_changes_are_audited,
    test_export_needs_permission_and_withholds_fields,
    test_missing_policy_file_refuses_to_start,
    test_cli_policy_check_and_explain,
]

if __name__ == "__main__":
    only = os.environ.get("FOCAL_SYSTEM_ONLY")
    runner = Runner()
    for test in TESTS:
        if only and only not in test.__name__:
            continue
        runner.run(test)
    print("system: %d passed, %d failed, %d skipped" % (runner.passed, runner.failed,
                                                         runner.skipped), flush=True)
    sys.exit(1 if runner.failed else 0)
