#!/usr/bin/env python3
"""System test: the demo city across every kind of back end.

Usage: test_demo_city.py BUILD_DIR

Generates the demo city (demo/generate.py --export, scale 1) and loads four of
its sources into real servers: the wanted persons into PostgreSQL (a throwaway
schema, psql), the missing persons into slapd (an OU of inetOrgPerson entries
under the test base, ldapadd), vehicles and stolen vehicles into the HTTP JSON
test server (tests/integration/http_server.py, started here on the exported
data).  The other sources stay SQLite.  focald then runs on demo/export.py's
configuration and:

  - the labelled evaluation set (demo/evaluate.py, run as a program) meets its
    targets: every planted officer-safety alert found -- the armed man behind
    plate 1-ABC-123 only through a linked hop from the HTTP vehicle source to
    the PostgreSQL wanted source --, no decoy merged or shown, spelling
    variants found;
  - direct searches show each of the four sources answering from its server,
    with spelling variants across PostgreSQL (Mohamed / MOHAMMED) and LDAP
    (Peeters / PETERS), and focald's name keys equal to the keys stored;
  - a row a source answers at first level and again through a hop (the police
    report on 1-ABC-123) appears once, in the JSON briefing and in the stream.

Needs FOCAL_TEST_PG and FOCAL_TEST_LDAP* (tests/run.sh sets them); skips
without (a failure under FOCAL_REQUIRE_SERVERS).  Drops the schema, deletes the
OU and stops every process it started.  Prints PASS/FAIL per test and closes
with "system: N passed, N failed".
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from harness import ROOT, Focald, Runner, Skip, check, free_port  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "demo"))
import generate as gen  # noqa: E402  (name_key: what the exported sources store)

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
TMP = tempfile.mkdtemp(prefix="focal-city-")
CITY = os.path.join(TMP, "city")
EXPORT = os.path.join(CITY, "export")
TAG = "focal_demo_%d" % os.getpid()
LDAP_ENV = ("FOCAL_TEST_LDAP", "FOCAL_TEST_LDAP_BINDDN", "FOCAL_TEST_LDAP_PASSWORD", "FOCAL_TEST_LDAP_BASE")


class City:
    """The servers loaded with the city, and focald on it; close() undoes all."""

    def __init__(self):
        self.pg = os.environ.get("FOCAL_TEST_PG")
        self.ldap = {k: os.environ.get(k) for k in LDAP_ENV}
        self.http = None
        self.focald = None
        self.schema = None
        self.ou = None

    def ldap_tool(self, tool, *args, stdin=None):
        e = self.ldap
        r = subprocess.run([tool, "-x", "-H", e["FOCAL_TEST_LDAP"], "-D", e["FOCAL_TEST_LDAP_BINDDN"],
                            "-y", self.pwfile, *args], input=stdin, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60, env=dict(os.environ, LDAPNOINIT="1"))
        return r.returncode, r.stdout.decode("utf-8", "replace")

    def psql(self, *args):
        r = subprocess.run(["psql", self.pg, "-X", "-q", "-v", "ON_ERROR_STOP=1", *args],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        return r.returncode, r.stdout.decode("utf-8", "replace")

    def open(self):
        if not self.pg:
            raise Skip("FOCAL_TEST_PG not set")
        if not all(self.ldap.values()):
            raise Skip("FOCAL_TEST_LDAP* not set")
        os.makedirs(TMP, exist_ok=True)
        self.pwfile = os.path.join(TMP, "ldap-password")
        with open(os.open(self.pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(self.ldap["FOCAL_TEST_LDAP_PASSWORD"])
        base = "ou=%s,%s" % (TAG, self.ldap["FOCAL_TEST_LDAP_BASE"])
        http_port = free_port()
        r = subprocess.run([sys.executable, os.path.join(ROOT, "demo", "generate.py"), "--out", CITY,
                            "--scale", "1", "--seed", "1", "--tls", "--export", EXPORT,
                            "--pg-conninfo", "%s options=-csearch_path=%s" % (self.pg, TAG),
                            "--ldap-uri", self.ldap["FOCAL_TEST_LDAP"], "--ldap-base", base,
                            "--ldap-bind-dn", self.ldap["FOCAL_TEST_LDAP_BINDDN"],
                            "--ldap-password-file", self.pwfile,
                            "--http-url", "http://127.0.0.1:%d" % http_port],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=180)
        check(r.returncode == 0, "generate.py --export: " + r.stdout.decode("utf-8", "replace")[-2000:])
        # PostgreSQL: a schema of our own
        rc, out = self.psql("-c", "CREATE SCHEMA %s" % TAG)
        check(rc == 0, "CREATE SCHEMA: " + out)
        self.schema = TAG
        rc, out = self.psql("-c", "SET search_path TO %s" % TAG, "-f", os.path.join(EXPORT, "postgres.sql"))
        check(rc == 0, "loading postgres.sql: " + out)
        # slapd: an OU of our own, the entries under it
        rc, out = self.ldap_tool("ldapadd", stdin=("dn: %s\nobjectClass: organizationalUnit\nou: %s\n" %
                                                   (base, TAG)).encode())
        check(rc == 0, "ldapadd %s: %s" % (base, out))
        self.ou = base
        rc, out = self.ldap_tool("ldapadd", "-f", os.path.join(EXPORT, "ldap.ldif"))
        check(rc == 0, "ldapadd ldap.ldif: " + out[-2000:])
        # the HTTP API on the exported data
        self.http_log = open(os.path.join(TMP, "http.out"), "w+b")
        self.http = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests", "integration", "http_server.py"),
                                      str(http_port), os.path.join(EXPORT, "http.json")],
                                     stdout=self.http_log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        for _ in range(200):
            self.http_log.seek(0)
            if b"listening" in self.http_log.read():
                break
            check(self.http.poll() is None, "http_server.py exited")
            subprocess.run(["sleep", "0.05"])
        else:
            raise AssertionError("http_server.py did not start")
        # focald on the exported configuration
        with open(os.path.join(EXPORT, "focal.yaml"), encoding="utf-8") as f:
            text = f.read()
        defaults = re.search(r"(?ms)^defaults:\n(.*?)^\S", text).group(1)
        self.focald = Focald(BUILD, text.split("\nsources:\n", 1)[1], defaults_yaml=defaults,
                             workdir=os.path.join(TMP, "focald"))
        self.focald.start()

    def close(self):
        errors = []
        if self.focald is not None:
            try:
                self.focald.stop()
            except AssertionError as e:  # a sanitizer report is a failure
                errors.append(str(e))
        if self.http is not None:
            self.http.send_signal(signal.SIGTERM)
            try:
                self.http.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.http.kill()
                self.http.wait()
            self.http_log.close()
        if self.ou is not None:
            rc, out = self.ldap_tool("ldapdelete", "-r", self.ou)
            if rc != 0:
                errors.append("ldapdelete -r %s: %s" % (self.ou, out))
        if self.schema is not None:
            rc, out = self.psql("-c", "DROP SCHEMA %s CASCADE" % self.schema)
            if rc != 0:
                errors.append("DROP SCHEMA: " + out)
        if errors:
            raise AssertionError("; ".join(errors))


CITY_RT = City()


def search(q, **kw):
    body = {"q": q} if isinstance(q, str) else q
    status, doc = CITY_RT.focald.search(body, **kw)
    check(status == 200 and doc is not None, "search %r: HTTP %s" % (q, status))
    return doc


def alerts_of(doc, source):
    return [a for a in doc["alerts"] if a["source"] == source]


def status_of(doc, source, kind=None):
    """The status lines of a source (optionally of one query kind)."""
    return [s for s in doc["sources"] if s["name"] == source and (kind is None or s["query_kind"] == kind)]


def test_load():
    CITY_RT.open()
    # what the servers hold is what the city holds
    rc, out = CITY_RT.psql("-t", "-A", "-c", "SELECT count(*) FROM %s.signalements" % TAG)
    with open(os.path.join(CITY, "planted.json"), encoding="utf-8") as f:
        counts = json.load(f)["counts"]
    check(rc == 0 and int(out.strip()) == counts["wanted"], "PostgreSQL holds %s wanted, want %d" %
          (out.strip(), counts["wanted"]))
    rc, out = CITY_RT.ldap_tool("ldapsearch", "-LLL", "-b", "ou=vermiste-personen," + CITY_RT.ou,
                                "(objectClass=inetOrgPerson)", "uid")
    n = len(re.findall(r"(?m)^uid: ", out))
    check(rc == 0 and n == counts["missing_persons"], "slapd holds %d missing persons, want %d (%s)" %
          (n, counts["missing_persons"], out[-300:]))
    with open(os.path.join(EXPORT, "focal.yaml"), encoding="utf-8") as f:
        kinds = dict(re.findall(r"(?m)^  - name: (\S+)\n    kind: (\S+)", f.read()))
    exported = {"wanted": "postgres", "missing_persons": "ldap", "vehicles": "http", "stolen_vehicles": "http"}
    names = [s[0] for s in gen.config_sources()]
    check(len(names) >= 20 and kinds == {n: exported.get(n, "sqlite") for n in names},
          "source kinds %s" % kinds)


def test_evaluation_targets():
    """The whole labelled set against the mixed back ends (demo/evaluate.py)."""
    r = subprocess.run([sys.executable, os.path.join(ROOT, "demo", "evaluate.py"), "--labels",
                        os.path.join(CITY, "evaluation.json"), "--url",
                        "https://127.0.0.1:%d" % CITY_RT.focald.port, "--cacert", CITY_RT.focald.cert,
                        "--max-seconds", "120", "--jobs", "4"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=180)
    out = r.stdout.decode("utf-8", "replace")
    print("\n".join("    | " + line for line in out.splitlines()), flush=True)
    for target in ("planted alert recall", "merge precision", "variant alert recall", "decoy alerts shown"):
        check(re.search(r"(?m)^PASS %s " % target, out), "%s missed" % target)
    check(r.returncode == 0 and "PASS: every target met" in out, "evaluate.py exit %d" % r.returncode)
    # the planted alerts of the exported sources were among those found
    check(not re.search(r"alert missing: .*(BCS-|CVP/|stolen)", out), "an exported source's alert missed")


def test_hop_through_http_to_postgres():
    """1-ABC-123: the vehicle comes from the HTTP API, its owner's number
    then asks PostgreSQL, which holds the 'armé et dangereux' alert."""
    doc = search({"q": "1-ABC-123", "records": True})
    veh = [r for r in doc["records"] if r["source"] == "vehicles" and r["type"] == "vehicle"]
    check(len(veh) == 1 and veh[0]["fields"]["plate"] == "1ABC123", "vehicle from HTTP: %s" % veh)
    wanted = alerts_of(doc, "wanted")
    check(len(wanted) == 1 and wanted[0]["fields"]["category"] == "armé et dangereux" and
          wanted[0]["rank"] == "armed_dangerous", "armed alert: %s" % wanted)
    check(doc["alerts"][0] is wanted[0] or doc["alerts"][0]["rank"] == "armed_dangerous", "armed first")
    line = status_of(doc, "wanted", "national_number")
    check(len(line) == 1 and line[0]["status"] == "ok" and "1ABC123" in json.dumps(line[0]),
          "wanted asked through the hop: %s" % line)
    check(not status_of(doc, "wanted", "person"), "wanted was only reached by the hop")
    # the alert concerns the owner, one entity with the vehicle's owner number
    owner = [e for e in doc["entities"] if e["id"] in wanted[0]["concerns"]]
    check(len(owner) == 1 and "85073003328" in json.dumps(owner[0]["facts"]["national_number"]),
          "alert concerns %s" % owner)


def test_sources_answer_from_their_servers():
    # PostgreSQL, a spelling variant: MOHAMMED EL AMRANI for Mohamed
    doc = search("Mohamed El Amrani")
    check([a["fields"]["subject_name"] for a in alerts_of(doc, "wanted")] == ["MOHAMMED EL AMRANI"],
          "wanted: %s" % alerts_of(doc, "wanted"))
    # ... and the initial: J. JANSSENS with the birth date
    doc = search("Jozef Janssens 02/02/1970")
    check([a["fields"]["subject_name"] for a in alerts_of(doc, "wanted")] == ["J. JANSSENS"],
          "initial: %s" % alerts_of(doc, "wanted"))
    # LDAP, a spelling variant: LOTTE PETERS for Peeters; by number too
    doc = search("Lotte Peeters")
    miss = alerts_of(doc, "missing_persons")
    check(len(miss) == 1 and miss[0]["fields"]["subject_name"] == "LOTTE PETERS" and
          miss[0]["rank"] == "vulnerable_missing", "missing: %s" % miss)
    doc = search("Marcel Wouters")
    miss = alerts_of(doc, "missing_persons")
    check(len(miss) == 1 and miss[0]["fields"]["reference"].startswith("CVP/") and
          "dementie" in miss[0]["fields"]["reason"], "Marcel Wouters: %s" % miss)
    check(miss[0]["concerns"], "the missing man's alert concerns him")
    # HTTP: a stolen vehicle by plate
    with open(os.path.join(EXPORT, "http.json"), encoding="utf-8") as f:
        stolen = next(r for r in json.load(f)["demo_stolen"] if r["vin"])
    doc = search(gen.plate_dashed(stolen["plate"]))
    got = alerts_of(doc, "stolen_vehicles")
    check(len(got) == 1 and got[0]["fields"]["reference"] == stolen["case_number"], "stolen: %s" % got)
    # every exported source answered OK from its server
    for s in ("wanted", "missing_persons", "vehicles", "stolen_vehicles"):
        check(all(line["status"] == "ok" for line in status_of(doc, s)), "%s: %s" % (s, status_of(doc, s)))


def test_decoy_kept_apart():
    """Jan Peeters of 1962 has the name of the wanted Jan Peeters of 1981."""
    doc = search("Jan Peeters 04/11/1962")
    check(not alerts_of(doc, "wanted"), "the decoy got the wanted alert: %s" % alerts_of(doc, "wanted"))
    doc = search("Jan Peeters")
    wanted = alerts_of(doc, "wanted")
    check(len(wanted) == 1, "Jan Peeters: %s" % wanted)
    subject = [e for e in doc["entities"] if e["id"] in wanted[0]["concerns"]]
    check(len(subject) == 1 and "1981-03-12" in json.dumps(subject[0]["facts"]["birth_date"]) and
          "1962-11-04" not in json.dumps(subject[0]["facts"]), "concerns %s" % subject)


def test_name_keys_match_stored_keys():
    """focald's :family_key / :given_key equal the keys the exported sources
    store (demo/generate.py name_key), accents, case and hyphens included."""
    for q in ("WÓJCIK, Piotr", "Émilie Dubois-Lambert", "Çelik Ayşe", "ÖZTÜRK Elif", "Lefèvre Noël"):
        doc = search(q)
        person = [i for i in doc["query"]["interpretations"] if i["kind"] == "person"]
        check(person, "%s: no person reading" % q)
        p = person[0]["params"]
        check(p["family_key"] == gen.name_key(p["family_name"]) and
              p.get("given_key") == gen.name_key(p.get("given_name")),
              "%s: focald keys %s / %s, generate.py %s / %s" % (q, p["family_key"], p.get("given_key"),
                                                               gen.name_key(p["family_name"]),
                                                               gen.name_key(p.get("given_name"))))


def ids(items):
    return [(x["source"], x["type"], json.dumps(x["fields"], sort_keys=True)) for x in items]


def test_hop_duplicates_shown_once():
    """The police report on 1-ABC-123 is answered twice -- by plate, and
    through the owner's number -- and the vehicle too (HTTP by plate and by
    owner number): each appears once, in JSON and in the stream."""
    doc = search({"q": "1-ABC-123", "records": True})
    calls = status_of(doc, "police_reports")
    check(sorted(c["query_kind"] for c in calls) == ["national_number", "plate"] and
          all(c["rows"] == 1 for c in calls), "police_reports asked twice: %s" % calls)
    for what, items in (("alerts", doc["alerts"]), ("records", doc["records"])):
        keys = ids(items)
        check(len(keys) == len(set(keys)), "%s twice in %s: %s" % (
            [k for k in set(keys) if keys.count(k) > 1], what, keys))
    check(len([a for a in doc["alerts"] if a["source"] == "police_reports"]) == 1, "report alert once")
    check(len([r for r in doc["records"] if r["source"] == "vehicles"]) == 1, "vehicle once")
    events = CITY_RT.focald.search_stream({"q": "1-ABC-123"})
    pushed = ids([d for e, d in events if e == "alert"])
    check(len(pushed) == len(set(pushed)), "an alert pushed twice: %s" % pushed)
    final = [d for e, d in events if e == "briefing"]
    check(len(final) == 1 and sorted(pushed) == sorted(ids(final[0]["alerts"])),
          "pushed %s, briefing %s; focald's log ends: %s" % (
              pushed, final and ids(final[0]["alerts"]), CITY_RT.focald.read_log()[-4000:]))


TESTS = [test_load, test_evaluation_targets, test_hop_through_http_to_postgres,
         test_sources_answer_from_their_servers, test_decoy_kept_apart, test_name_keys_match_stored_keys,
         test_hop_duplicates_shown_once]


def test_cleanup():
    """What was loaded is gone, what was started is stopped."""
    CITY_RT.close()
    if CITY_RT.schema:
        rc, out = CITY_RT.psql("-t", "-A", "-c",
                               "SELECT count(*) FROM pg_namespace WHERE nspname = '%s'" % TAG)
        check(rc == 0 and out.strip() == "0", "schema %s still there" % TAG)
    if CITY_RT.ou:
        rc, out = CITY_RT.ldap_tool("ldapsearch", "-LLL", "-b", CITY_RT.ou, "-s", "base", "(objectClass=*)", "dn")
        check(rc == 32, "OU %s still there (ldapsearch exit %d)" % (CITY_RT.ou, rc))
    check(CITY_RT.http is None or CITY_RT.http.poll() is not None, "http_server.py still running")


if __name__ == "__main__":
    runner = Runner()
    try:
        runner.run(TESTS[0])
        if runner.passed:  # the rest needs the loaded city
            for test in TESTS[1:]:
                runner.run(test)
    finally:
        runner.run(test_cleanup)
        shutil.rmtree(TMP, ignore_errors=True)
    print("system: %d passed, %d failed, %d skipped" % (runner.passed, runner.failed, runner.skipped),
          flush=True)
    sys.exit(1 if runner.failed else 0)
