#!/usr/bin/env python3
"""System tests of focald: the real daemon, real servers, real TLS.

Usage: test_focald.py BUILD_DIR
Environment (set by tests/run.sh; tests needing an absent one are skipped):
  FOCAL_TEST_PG            libpq conninfo of a scratch PostgreSQL database
  FOCAL_TEST_LDAP          ldap://127.0.0.1:PORT, with FOCAL_TEST_LDAP_BINDDN,
                           FOCAL_TEST_LDAP_PASSWORD and FOCAL_TEST_LDAP_BASE
  FOCAL_TEST_HTTP          http://127.0.0.1:PORT of tests/integration/http_server.py
                           serving tests/system/http_data.json
Prints PASS/FAIL per test and closes with "system: N passed, N failed".
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
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import ROOT, Focald, Runner, Skip, check, free_port  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
PG = os.environ.get("FOCAL_TEST_PG")
LDAP = os.environ.get("FOCAL_TEST_LDAP")
HTTP = os.environ.get("FOCAL_TEST_HTTP")
RUN_ID = "%d" % os.getpid()

INJECTIONS = ["' OR 1=1 --", "*)(uid=*))(|(uid=*", "../../x?y=z&a="]


# --- test data in every kind of source ------------------------------------

def make_sqlite(directory):
    path = os.path.join(directory, "bevolking.db")
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE personen(rijksregisternummer TEXT, achternaam TEXT, voornaam TEXT,
                              geboortedatum TEXT, signalering TEXT, instructie TEXT);
        INSERT INTO personen VALUES
          ('85073003328','Peeters','Jan','30/07/1985','gezocht - aan te houden',
           'Aanhouden en PV opstellen'),
          ('90010100112','Peeters','Jan','01/01/1990',NULL,NULL),
          ('70010100139','Janssens','Marie','01/01/1970',NULL,NULL);
        CREATE TABLE voertuigen(nummerplaat TEXT, merk TEXT, eigenaar_rrn TEXT);
        INSERT INTO voertuigen VALUES('1-ABC-123','Volvo','85073003328');
    """)
    db.commit()
    db.close()
    return path


SQLITE_SOURCE = """
  - name: bevolking
    kind: sqlite
    owner: Rijksregister
    classification: restricted
    connection: {path: %(path)s}
    queries:
      person: >-
        SELECT * FROM personen WHERE lower(achternaam) = lower(:family_name)
        AND (:given_name IS NULL OR lower(voornaam) = lower(:given_name))
      plate: SELECT * FROM voertuigen WHERE upper(replace(nummerplaat, '-', '')) = :plate
      national_number: SELECT * FROM personen WHERE rijksregisternummer = :national_number
    map:
      person: {national_number: rijksregisternummer, family_name: achternaam,
               given_name: voornaam, birth_date: geboortedatum}
      vehicle: {plate: nummerplaat, make: merk, owner_national_number: eigenaar_rrn}
      alert: {when: signalering, category: signalering, instruction: instructie,
              subject_name: achternaam, subject_national_number: rijksregisternummer}
"""


os.environ["PGOPTIONS"] = "-c client_min_messages=warning"


def psql(sql):
    subprocess.run(["psql", PG, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql], check=True,
                   stdout=subprocess.DEVNULL)


def pg_count(table):
    out = subprocess.run(["psql", PG, "-At", "-c", "SELECT count(*) FROM %s" % table],
                         check=True, capture_output=True, text=True)
    return int(out.stdout.strip())


def make_pg():
    table = "sys_personnes_%s" % RUN_ID
    psql("DROP TABLE IF EXISTS %s; CREATE TABLE %s(numero_national text, nom text, "
         "prenom text, date_naissance date, signalement text, consigne text);"
         "INSERT INTO %s VALUES ('85073003328','Peeters','Jan','1985-07-30',"
         "'armé et dangereux','Ne pas intervenir seul'),"
         "('99999999999','Dupont','Luc','1999-09-09',NULL,NULL);" % (table, table, table))
    return table


PG_SOURCE = """
  - name: signalements
    kind: postgres
    owner: Police fédérale
    classification: strictly_confidential
    connection: {conninfo: "%(conninfo)s"}
    queries:
      person: >-
        SELECT numero_national, nom, prenom, to_char(date_naissance, 'YYYY-MM-DD') AS ne_le,
        signalement, consigne FROM %(table)s WHERE lower(nom) = lower(:family_name)
    map:
      person: {national_number: numero_national, family_name: nom, given_name: prenom,
               birth_date: ne_le}
      alert: {when: signalement, category: signalement, instruction: consigne,
              subject_name: nom}
"""


def ldap_env():
    need = ["FOCAL_TEST_LDAP_BINDDN", "FOCAL_TEST_LDAP_PASSWORD", "FOCAL_TEST_LDAP_BASE"]
    if not LDAP or any(not os.environ.get(k) for k in need):
        raise Skip("no LDAP server (FOCAL_TEST_LDAP*)")
    return os.environ["FOCAL_TEST_LDAP_BINDDN"], os.environ["FOCAL_TEST_LDAP_PASSWORD"], \
        os.environ["FOCAL_TEST_LDAP_BASE"]


LDAP_OUS = []


def make_ldap():
    binddn, password, base = ldap_env()
    LDAP_OUS.append(1)
    ou = "ou=sys%s-%d,%s" % (RUN_ID, len(LDAP_OUS), base)
    ldif = """dn: %(ou)s
objectClass: organizationalUnit
ou: %(ouname)s

dn: uid=jpeeters,%(ou)s
objectClass: inetOrgPerson
uid: jpeeters
cn: Jan Peeters
sn: Peeters
givenName: Jan
employeeNumber: 85073003328
description: geweld tegen politie

dn: uid=other,%(ou)s
objectClass: inetOrgPerson
uid: other
cn: Other Person
sn: Other
""" % {"ou": ou, "ouname": ou.split(",")[0][3:]}
    subprocess.run(["ldapadd", "-x", "-H", LDAP, "-D", binddn, "-w", password],
                   input=ldif.encode(), check=True, stdout=subprocess.DEVNULL)
    return ou


LDAP_SOURCE = """
  - name: gemeentepersoneel
    kind: ldap
    owner: Stad Antwerpen
    classification: not_sensitive
    connection: {uri: "%(uri)s", bind_dn: "%(binddn)s", bind_password: "%(password)s",
                 base: "%(base)s"}
    queries:
      person: "(&(objectClass=inetOrgPerson)(sn={family_name}))"
    map:
      person: {family_name: sn, given_name: givenName, national_number: employeeNumber}
      alert: {when: description, category: description, subject_name: cn}
"""

HTTP_SOURCE = """
  - name: %(name)s
    kind: http
    owner: DIV
    classification: restricted
    deadline_ms: %(deadline)d
    connection: {}
    queries:
      %(kind)s: "%(url)s"
    map:
      rows: /results
      person: {family_name: /family, given_name: /given, birth_date: /details/dob,
               national_number: /details/ids/0}
      alert: {when: /warning, category: /warning, instruction: /advice, subject_name: /family}
"""


def http_source(name, url, deadline=2000, kind="person"):
    return HTTP_SOURCE % {"name": name, "url": url, "deadline": deadline, "kind": kind}


def need_http():
    if not HTTP:
        raise Skip("no HTTP test server (FOCAL_TEST_HTTP)")


def need_pg():
    if not PG:
        raise Skip("no PostgreSQL (FOCAL_TEST_PG)")


def statuses(doc):
    return {s["name"]: s for s in doc["sources"]}


# --- tests -------------------------------------------------------------------

def test_unauthenticated_by_default():
    d = Focald(BUILD, SQLITE_SOURCE % {"path": make_sqlite(tempfile.mkdtemp())},
               dev_no_auth=False)
    d.start()
    try:
        status, doc = d.search({"q": "Jan Peeters"})
        check(status == 401, "expected 401 without login, got %d" % status)
        check(doc["error"]["code"] == "denied", doc)
        check("insecure_mode" not in d.read_log(), "dev warning without the flag")
    finally:
        check(d.stop() == 0, "focald exit code")


def test_dev_flag_is_logged_loudly_and_search_works():
    d = Focald(BUILD, SQLITE_SOURCE % {"path": make_sqlite(tempfile.mkdtemp())})
    d.start()
    try:
        log = d.read_log()
        check('"event":"insecure_mode"' in log and '"level":"warn"' in log, log)
        status, doc = d.search({"q": "Jan Peeters"})
        check(status == 200, status)
        # the raw records only when asked: the officer's views read entities
        check("records" not in doc, sorted(doc))
        check(len(doc["entities"]) == 2, doc["entities"])
        check(doc["alerts"][0]["fields"]["instruction"] == "Aanhouden en PV opstellen",
              doc["alerts"])
        check(doc["sources"][0]["status"] == "ok", doc["sources"])
        status, full = d.search({"q": "Jan Peeters", "records": True})
        check(status == 200, status)
        ids = {e["id"] for e in full["entities"]}
        check(sorted(r["fields"]["national_number"] for r in full["records"]) ==
              ["85073003328", "90010100112"] and
              all(r["source"] == "bevolking" and r["entity"] in ids for r in full["records"]),
              full.get("records"))
        check({k for k in full if k != "records"} == set(doc), (sorted(full), sorted(doc)))
        status, doc = d.search({"q": "Jan Peeters", "records": False})
        check(status == 200 and "records" not in doc, (status, doc))
        for bad in ("yes", 1, None, [True]):
            status, doc = d.search({"q": "Jan Peeters", "records": bad})
            check(status == 400 and doc["error"]["message"] == '"records" must be true or false',
                  (bad, status, doc))
        # the stream's final briefing and its per-source events follow the same rule
        for ask, want in ((None, False), (True, True)):
            body = {"q": "Jan Peeters"} if ask is None else {"q": "Jan Peeters", "records": ask}
            events = d.search_stream(body)
            final = [data for ev, data in events if ev == "briefing"]
            check(len(final) == 1 and ("records" in final[0]) == want and
                  len(final[0].get("records", [])) == (2 if want else 0),
                  (ask, final and sorted(final[0])))
            per_source = [data for ev, data in events if ev == "source"]
            check(per_source and all(("records" in x) == want for x in per_source) and
                  len([r for x in per_source for r in x.get("records", [])
                       if r["type"] != "alert"]) == (2 if want else 0),
                  (ask, per_source))
        _, headers, _ = d.request("GET", "/healthz")
        check("max-age=" in headers.get("Strict-Transport-Security", ""), headers)
        check(headers.get("Cache-Control") == "no-store", headers)
    finally:
        check(d.stop() == 0, "focald exit code")


def test_invalid_config_refuses_start_with_position():
    d = Focald(BUILD, SQLITE_SOURCE % {"path": make_sqlite(tempfile.mkdtemp())}
               + "    deadlin_ms: 5\n")
    rc = d.start(expect_ok=False)
    check(rc != 0, "focald started on an invalid configuration")
    log = d.read_log()
    check("focal.yaml:" in log and "unknown key 'deadlin_ms'" in log, log)
    line = [ln for ln in log.splitlines() if "deadlin_ms" in ln][0]
    # file:LINE:COL: the key is on the last line of the file, column 5
    nlines = open(d.config).read().count("\n")
    check(("focal.yaml:%d:5:" % nlines) in line, line)


def test_search_reaches_all_four_connector_kinds():
    need_http()
    need_pg()
    table = make_pg()
    ou = make_ldap()
    binddn, password, _ = ldap_env()
    sources = (SQLITE_SOURCE % {"path": make_sqlite(tempfile.mkdtemp())}
               + PG_SOURCE % {"conninfo": PG, "table": table}
               + LDAP_SOURCE % {"uri": LDAP, "binddn": binddn, "password": password, "base": ou}
               + http_source("voertuigen_api", HTTP + "/v1/sys_persons?family={family_name}"))
    d = Focald(BUILD, sources)
    d.start()
    try:
        status, doc = d.search({"q": "Jan Peeters"})
        check(status == 200, status)
        st = statuses(doc)
        for name in ["bevolking", "signalements", "gemeentepersoneel", "voertuigen_api"]:
            check(st[name]["status"] == "ok" and st[name]["rows"] >= 1,
                  "%s: %s" % (name, st.get(name)))
        by_source = {}
        _, full = d.search({"q": "Jan Peeters", "records": True})
        for r in full["records"]:
            by_source.setdefault(r["source"], []).append(r)
        for name in ["signalements", "gemeentepersoneel", "voertuigen_api"]:
            check(any(r["fields"].get("family_name") == "Peeters" for r in by_source[name]),
                  "%s records: %s" % (name, by_source.get(name)))
        ranks = [a["rank"] for a in doc["alerts"]]
        check(ranks[0] == "armed_dangerous", ranks)
        check(ranks == sorted(ranks, key=["armed_dangerous", "wanted",
                                          "violence_against_police", "vulnerable_missing",
                                          "other"].index), ranks)
        # the stream carries the same: alerts as they come, one event per source,
        # then the briefing
        events = d.search_stream({"q": "Jan Peeters"})
        kinds = [e for e, _ in events]
        check(kinds[-1] == "briefing", kinds)
        check(kinds.count("source") == 4, kinds)
        check("alert" in kinds and kinds.index("alert") < kinds.index("briefing"), kinds)
    finally:
        check(d.stop() == 0, "focald exit code")
        psql("DROP TABLE %s" % table)


def test_faulty_sources_never_delay_or_break_the_answer():
    need_http()
    dead = free_port()
    sources = SQLITE_SOURCE % {"path": make_sqlite(tempfile.mkdtemp())}
    faults = {"hang": "error_or_timeout", "500": "error", "malformed": "error",
              "huge": "error", "drip": "timeout"}
    for f in faults:
        sources += http_source("fault_" + f, HTTP + "/fault/" + f + "?q={family_name}",
                               deadline=1000)
    sources += http_source("fault_refused", "http://127.0.0.1:%d/x?q={family_name}" % dead,
                           deadline=1000)
    if PG:
        sources += PG_SOURCE.replace("name: signalements", "name: pg_refused") % {
            "conninfo": "host=127.0.0.1 port=%d dbname=x connect_timeout=1" % dead,
            "table": "t"}
    d = Focald(BUILD, sources, server_extra="  search_deadline_ms: 3000\n")
    d.start()
    try:
        rss0 = d.rss_kb()
        for _ in range(2):
            t0 = time.time()
            status, doc = d.search({"q": "Jan Peeters", "records": True})
            elapsed = time.time() - t0
            check(status == 200, status)
            check(elapsed < 1.0 + 0.6, "answer took %.2fs with 1 s source deadlines" % elapsed)
            st = statuses(doc)
            check(st["bevolking"]["status"] == "ok" and st["bevolking"]["rows"] == 2,
                  st["bevolking"])
            check(st["fault_hang"]["status"] == "timeout", st["fault_hang"])
            check(st["fault_drip"]["status"] == "timeout", st["fault_drip"])
            for f in ["500", "malformed", "huge"]:
                check(st["fault_" + f]["status"] == "error" and st["fault_" + f]["reason"],
                      st["fault_" + f])
            check(st["fault_refused"]["status"] == "error", st["fault_refused"])
            if PG:
                check(st["pg_refused"]["status"] == "error", st["pg_refused"])
            check(all(r["source"] == "bevolking" for r in doc["records"]), doc["records"])
        grown = d.rss_kb() - rss0
        check(grown < 64 * 1024, "focald grew by %d KiB after 100 MB answers" % grown)
        check(d.proc.poll() is None, "focald died")
    finally:
        check(d.stop() == 0, "focald exit code")


def test_circuit_breaker_opens_and_probes_again():
    dead = free_port()
    sources = (SQLITE_SOURCE % {"path": make_sqlite(tempfile.mkdtemp())}
               + http_source("refused", "http://127.0.0.1:%d/x?q={family_name}" % dead))
    d = Focald(BUILD, sources,
               defaults_yaml="  breaker_failures: 2\n  breaker_cooldown_ms: 700\n")
    d.start()
    try:
        seen = [statuses(d.search({"q": "Jan Peeters"})[1])["refused"]["status"]
                for _ in range(3)]
        check(seen == ["error", "error", "unavailable"], seen)
        _, _, metrics = d.request("GET", "/metrics")
        check(b'focal_source_circuit_open{source="refused"} 1' in metrics, metrics[-600:])
        check(b'focal_source_calls_total{source="refused",status="unavailable"} 1' in metrics,
              "unavailable not counted")
        time.sleep(0.8)
        probe = statuses(d.search({"q": "Jan Peeters"})[1])["refused"]
        check(probe["status"] == "error", "after the cooldown one probe goes out: %s" % probe)
    finally:
        check(d.stop() == 0, "focald exit code")


def test_injection_reaches_sources_only_as_data():
    need_http()
    need_pg()
    table = make_pg()
    ou = make_ldap()
    binddn, password, _ = ldap_env()
    sqlite_path = make_sqlite(tempfile.mkdtemp())
    echo = """
  - name: echo
    kind: http
    owner: test
    classification: not_sensitive
    connection: {}
    queries:
      plate: "%s/echo/fixed?plate={plate}&x=1"
    map:
      vehicle: {plate: /params/plate/0, model: /path, make: /params/x/0}
""" % HTTP
    sources = (SQLITE_SOURCE % {"path": sqlite_path}
               + PG_SOURCE % {"conninfo": PG, "table": table}
               + LDAP_SOURCE % {"uri": LDAP, "binddn": binddn, "password": password, "base": ou}
               + echo)
    d = Focald(BUILD, sources)
    d.start()
    try:
        for term in INJECTIONS:
            status, doc = d.search({"fields": {"family_name": term}, "kind": "person"})
            check(status == 200, (term, status, doc))
            st = statuses(doc)
            for name in ["bevolking", "signalements", "gemeentepersoneel"]:
                check(st[name]["status"] == "ok" and st[name]["rows"] == 0,
                      "%r reached %s as code: %s" % (term, name, st[name]))
            status, doc = d.search({"fields": {"plate": term}, "kind": "plate", "records": True})
            rec = [r for r in doc["records"] if r["source"] == "echo"][0]["fields"]
            check(rec["plate"] == term, "echo saw %r for %r" % (rec.get("plate"), term))
            check(rec["model"] == "/echo/fixed" and rec["make"] == "1",
                  "URL structure changed: %s" % rec)
        check(pg_count(table) == 2, "PostgreSQL table changed")
        db = sqlite3.connect(sqlite_path)
        check(db.execute("SELECT count(*) FROM personen").fetchone()[0] == 3, "sqlite changed")
    finally:
        check(d.stop() == 0, "focald exit code")
        psql("DROP TABLE %s" % table)


def test_request_limits_and_bad_requests():
    d = Focald(BUILD, SQLITE_SOURCE % {"path": make_sqlite(tempfile.mkdtemp())},
               server_extra="  max_body_bytes: 1024\n  max_header_bytes: 2048\n")
    d.start()
    try:
        status, _, _ = d.request("POST", "/v1/search", body=json.dumps({"q": "x" * 4000}),
                                 headers={"Content-Type": "application/json"})
        check(status == 413, "oversized body: %d" % status)
        status, _, _ = d.request("GET", "/healthz", headers={"X-Big": "y" * 4000})
        check(status in (400, 413, 431), "oversized header: %d" % status)
        status, doc = d.search(b'{"q": "Jan", "q": "dup"}')
        status, _, data = d.request("POST", "/v1/search", body=b'{"q": "Jan",',
                                    headers={"Content-Type": "application/json"})
        check(status == 400 and b"line 1" in data, (status, data))
        status, doc = d.search({"q": "Jan", "evil": 1})
        check(status == 400 and "evil" in doc["error"]["message"], doc)
        status, doc = d.search({"q": "85.07.30-033.29"})
        check(status == 400 and "check digits" in doc["error"]["message"], doc)
        status, _, _ = d.request("GET", "/nope")
        check(status == 404, status)
        check(d.proc.poll() is None, "focald died")
    finally:
        check(d.stop() == 0, "focald exit code")


def test_idle_and_slow_clients_are_cut_off():
    d = Focald(BUILD, SQLITE_SOURCE % {"path": make_sqlite(tempfile.mkdtemp())},
               server_extra="  timeout_ms: 800\n")
    d.start()
    try:
        s = socket.create_connection(("127.0.0.1", d.port))
        s.settimeout(5)
        t0 = time.time()
        data = s.recv(100)  # no TLS hello: the server must give up on us
        check(data == b"", data)
        check(time.time() - t0 < 3, "idle connection kept %.1fs" % (time.time() - t0))
        s.close()
        # slowloris: a TLS client that drips its request one byte at a time
        # resets the idle timer with every byte; the request deadline still
        # cuts it off
        raw = socket.create_connection(("127.0.0.1", d.port), timeout=5)
        tls = d.ssl_context().wrap_socket(raw, server_hostname="127.0.0.1")
        t0 = time.time()
        cut = False
        for ch in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 60:
            try:
                tls.send(bytes([ch]))
            except OSError:
                cut = True
                break
            time.sleep(0.1)
            if time.time() - t0 > 4:
                break
        if not cut:
            try:
                tls.settimeout(3)
                cut = tls.recv(100) == b""
            except OSError:
                cut = True
        check(cut and time.time() - t0 < 4, "a dripping client kept its connection %.1fs"
              % (time.time() - t0))
        tls.close()
        status, _, _ = d.request("GET", "/healthz")
        check(status == 200, status)
        # keep-alive: requests after the first still work within the deadline
        conn = d.connection()
        for _ in range(3):
            conn.request("GET", "/healthz")
            check(conn.getresponse().read() != b"", "keep-alive request failed")
            time.sleep(0.3)
        conn.close()
    finally:
        check(d.stop() == 0, "focald exit code")


def test_connection_cap():
    d = Focald(BUILD, SQLITE_SOURCE % {"path": make_sqlite(tempfile.mkdtemp())},
               server_extra="  threads: 1\n  max_connections: 2\n")
    d.start()
    ctx = d.ssl_context()
    held = []
    try:
        for _ in range(2):
            raw = socket.create_connection(("127.0.0.1", d.port), timeout=5)
            held.append(ctx.wrap_socket(raw, server_hostname="127.0.0.1"))
        done = threading.Event()

        def third():
            raw = socket.create_connection(("127.0.0.1", d.port), timeout=10)
            tls = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
            done.set()
            tls.close()

        t = threading.Thread(target=third)
        t.start()
        check(not done.wait(1.0), "a third connection was served above the cap of 2")
        held.pop().close()
        check(done.wait(5.0), "the waiting connection was not served after one closed")
        t.join()
    finally:
        for s in held:
            s.close()
        check(d.stop() == 0, "focald exit code")


def test_reload_on_sighup_keeps_searches_and_rejects_bad_files():
    need_http()
    base = SQLITE_SOURCE % {"path": make_sqlite(tempfile.mkdtemp())}
    slow = http_source("slow", HTTP + "/fault/slow?ms=900&q={family_name}", deadline=3000)
    d = Focald(BUILD, base + slow)
    d.start()
    try:
        result = {}

        def in_flight():
            result["doc"] = d.search({"q": "Jan Peeters"})[1]

        t = threading.Thread(target=in_flight)
        t.start()
        time.sleep(0.3)
        extra = http_source("nieuw", HTTP + "/v1/sys_persons?family={family_name}")
        d.write_config(base + extra)  # "slow" removed, "nieuw" added
        d.signal(signal.SIGHUP)
        t.join(10)
        st = statuses(result["doc"])
        check(st["slow"]["status"] == "ok", "search in flight broken by reload: %s" % st)
        deadline = time.time() + 5
        while time.time() < deadline:
            st = statuses(d.search({"q": "Jan Peeters"})[1])
            if "nieuw" in st:
                break
            time.sleep(0.05)
        check("nieuw" in st and "slow" not in st, "reload not applied: %s" % list(st))
        d.write_config(base + extra + "  - name: broken\n    kind: nosuchkind\n")
        d.signal(signal.SIGHUP)
        time.sleep(0.5)
        log = d.read_log()
        check('"event":"reload"' in log and "nosuchkind" in log and "focal.yaml:" in log, log)
        st = statuses(d.search({"q": "Jan Peeters"})[1])
        check("nieuw" in st and st["nieuw"]["status"] == "ok", "old config not kept: %s" % st)
    finally:
        check(d.stop() == 0, "focald exit code")


def test_sigterm_drains_searches_in_flight():
    need_http()
    slow = http_source("slow", HTTP + "/fault/slow?ms=800&q={family_name}", deadline=3000)
    d = Focald(BUILD, SQLITE_SOURCE % {"path": make_sqlite(tempfile.mkdtemp())} + slow)
    d.start()
    result = {}

    def in_flight():
        result["r"] = d.search({"q": "Jan Peeters"})

    t = threading.Thread(target=in_flight)
    t.start()
    time.sleep(0.2)
    t0 = time.time()
    rc = d.stop()
    t.join(10)
    check(rc == 0, "exit code %s" % rc)
    check(result["r"][0] == 200, result)
    check(statuses(result["r"][1])["slow"]["status"] == "ok", result["r"][1]["sources"])
    check(time.time() - t0 < 5, "shutdown took %.1fs" % (time.time() - t0))


def test_plate_search_hops_to_the_owners_warnings():
    # the vehicle source knows only the owner's number; the warning lives in
    # the person source, which answers by national number: a linked hop
    d = Focald(BUILD, SQLITE_SOURCE % {"path": make_sqlite(tempfile.mkdtemp())})
    d.start()
    try:
        status, doc = d.search({"q": "1-ABC-123"})
        check(status == 200, status)
        check(doc["alerts"] and
              doc["alerts"][0]["fields"].get("subject_national_number") == "85073003328",
              "owner's warning missing: %s" % doc["alerts"])
        hops = [x for x in doc["sources"] if x.get("hop")]
        check(hops and hops[0]["hop"]["via"] == "owner of vehicle 1-ABC-123" and
              hops[0]["query_kind"] == "national_number" and hops[0]["status"] == "ok",
              "hop status line: %s" % doc["sources"])
        check(doc["summary"]["hops"] == 1, doc["summary"])
        # the owner is one entity, related to the vehicle
        people = [e for e in doc["entities"] if e["type"] == "person"]
        check(len(people) == 1 and any(r["relation"] == "owns" for r in people[0]["related"]),
              "owner entity: %s" % people)
        # a search by the owner's number itself does not hop again
        status, doc = d.search({"q": "85.07.30-033.28"})
        check(doc["summary"]["hops"] == 0, doc["summary"])
    finally:
        check(d.stop() == 0, "focald exit code")


def test_metrics_and_healthz():
    d = Focald(BUILD, SQLITE_SOURCE % {"path": make_sqlite(tempfile.mkdtemp())})
    d.start()
    try:
        d.search({"q": "Jan Peeters"})
        status, headers, body = d.request("GET", "/metrics")
        text = body.decode()
        check(status == 200 and headers["Content-Type"].startswith("text/plain"), headers)
        check("focal_searches_total 1" in text, text[:500])
        check('focal_source_duration_seconds_count{source="bevolking"} 1' in text, text)
        check('focal_source_calls_total{source="bevolking",status="ok"} 1' in text, text)
        status, _, body = d.request("GET", "/healthz")
        check(status == 200 and json.loads(body)["sources"] == 1, body)
    finally:
        check(d.stop() == 0, "focald exit code")
    # only server.metrics_allow may read them: 127.0.0.1 is not in 10.0.0.0/8
    d = Focald(BUILD, SQLITE_SOURCE % {"path": make_sqlite(tempfile.mkdtemp())},
               server_extra="  metrics_allow: [10.0.0.0/8, 192.168.1.7]\n")
    d.start()
    try:
        status, _, body = d.request("GET", "/metrics")
        check(status == 403 and b"metrics_allow" in body and b"focal_" not in body,
              "metrics served outside metrics_allow: %d %s" % (status, body[:200]))
        check(d.request("GET", "/healthz")[0] == 200, "healthz stays public")
    finally:
        check(d.stop() == 0, "focald exit code")


def test_cli_prints_warnings_first_and_json():
    d = Focald(BUILD, SQLITE_SOURCE % {"path": make_sqlite(tempfile.mkdtemp())})
    d.start()
    try:
        env = dict(os.environ, FOCAL_URL="https://127.0.0.1:%d" % d.port, FOCAL_CACERT=d.cert)
        out = subprocess.run([os.path.join(BUILD, "focal"), "search", "1-ABC-123"], env=env,
                             capture_output=True, text=True, timeout=30)
        check(out.returncode == 0, out.stderr)
        check("number plate 1ABC123" in out.stdout and "Volvo" in out.stdout, out.stdout)
        out = subprocess.run([os.path.join(BUILD, "focal"), "search", "Jan Peeters"],
                             env=env, capture_output=True, text=True, timeout=30)
        check(out.stdout.index("WARNINGS") < out.stdout.index("Records") <
              out.stdout.index("Sources"), out.stdout)
        out = subprocess.run([os.path.join(BUILD, "focal"), "search", "--json", "Jan Peeters"],
                             env=env, capture_output=True, text=True, timeout=30)
        doc = json.loads(out.stdout)
        check(len(doc["alerts"]) == 1, doc)
        check("records" not in doc, sorted(doc))
        out = subprocess.run([os.path.join(BUILD, "focal"), "search", "--json", "--records",
                              "Jan Peeters"], env=env, capture_output=True, text=True, timeout=30)
        check(out.returncode == 0 and len(json.loads(out.stdout)["records"]) == 2,
              out.stdout + out.stderr)
        out = subprocess.run([os.path.join(BUILD, "focal"), "search", "--records", "Jan Peeters"],
                             env=env, capture_output=True, text=True, timeout=30)
        check(out.returncode == 2 and "--records goes with --json" in out.stderr, out.stderr)
        bad = subprocess.run([os.path.join(BUILD, "focal"), "search", "Jan"],
                             env=dict(env, FOCAL_CACERT="/etc/hostname"),
                             capture_output=True, text=True, timeout=30)
        check(bad.returncode != 0 and "cannot reach" in bad.stderr, bad.stderr)
    finally:
        check(d.stop() == 0, "focald exit code")


TESTS = [
    test_unauthenticated_by_default,
    test_dev_flag_is_logged_loudly_and_search_works,
    test_invalid_config_refuses_start_with_position,
    test_search_reaches_all_four_connector_kinds,
    test_faulty_sources_never_delay_or_break_the_answer,
    test_circuit_breaker_opens_and_probes_again,
    test_injection_reaches_sources_only_as_data,
    test_request_limits_and_bad_requests,
    test_idle_and_slow_clients_are_cut_off,
    test_connection_cap,
    test_reload_on_sighup_keeps_searches_and_rejects_bad_files,
    test_sigterm_drains_searches_in_flight,
    test_plate_search_hops_to_the_owners_warnings,
    test_metrics_and_healthz,
    test_cli_prints_warnings_first_and_json,
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
