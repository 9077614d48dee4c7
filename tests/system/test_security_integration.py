"""System tests of the seams between identity, policy and audit (issues 4 and 5)
with real accounts (no --dev-insecure-no-auth):

  - an officer with clearance `restricted` never has a strictly confidential
    source queried (an HTTP probe counts its calls; a cleared officer's search
    reaching it proves the probe works) and never sees a redacted field;
  - admin and oversight endpoints are decided by the policy's `administer`
    action: no `auditor` -> 403 on /v1/audit/lookups (admins included:
    separation of duties), no `admin` -> 403 on /v1/admin/users; an auditor's
    query is itself audited;
  - a search's audit entry names the real user, unit, address and the sources
    the policy denied;
  - login failure, lockout, MFA enrolment and logout are in the audit log;
  - `focal user disable` run while focald runs reaches the audit log, and
    `focal audit verify` passes;
  - `focal policy explain --user U` reads the account from the store;
  - an export needs the policy's export action: an officer without it gets
    403, one with it the CSV without the fields view and export withhold (a
    source it may search but not export is not asked), audited with the
    record's digest.

Usage: python3 tests/system/test_security_integration.py build-asan
"""

import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ROOT, Focald, Runner  # noqa: E402
from test_identity import PW, check, make_sqlite, totp  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
PHONE = "+32470111222"

SOURCES = """  - name: rijksregister
    kind: sqlite
    owner: Rijksregister
    classification: restricted
    connection: {path: %(db)s}
    queries:
      person: SELECT *, '%(phone)s' AS tel FROM personen WHERE lower(achternaam) = lower(:family_name)
    map:
      person: {national_number: rijksregisternummer, family_name: achternaam,
               given_name: voornaam, birth_date: geboortedatum, phone: tel}
  - name: intel
    kind: http
    owner: Federal Police
    classification: strictly_confidential
    connection: {}
    queries:
      person: "http://127.0.0.1:%(port)d/p?fam={family_name}"
    map:
      rows: /results
      report: {summary: /note, involved_name: /fam}
policy:
  file: policy.yaml
auth:
  argon2_memory_kib: 19456
  argon2_ops: 2
  address_failures: 1000
audit:
  checkpoint_ms: 200
"""

POLICY = """version: 1
rules:
  - name: officers
    effect: allow
    actions: [search, view]
    subject: {roles: [officer]}
  - name: hide-phone
    effect: deny
    actions: [view]
    resource: {fields: [person.phone]}
  - name: admins
    effect: allow
    actions: [administer]
    subject: {roles: [admin]}
    resource: {admin: [users, roles, sessions, sources, policy, keys, alerts]}
  - name: auditors
    effect: allow
    actions: [administer]
    subject: {roles: [auditor]}
    resource: {admin: [audit, alerts]}
  - name: investigators-export
    effect: allow
    actions: [export]
    subject: {roles: [officer], clearance: strictly_confidential}
    resource: {sources: [rijksregister]}
    context: {case_ref: true}
  - name: no-birth-date-in-exports
    effect: deny
    actions: [export]
    resource: {fields: [person.birth_date]}
"""


class Probe:
    """The strictly confidential HTTP source: counts the times it is asked."""

    def __init__(self):
        probe = self
        self.calls = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                probe.calls += 1
                body = json.dumps({"results": [{"fam": "Peeters",
                                                "note": "informant"}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class Setup:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="focal-secint-")
        self.probe = Probe()
        with open(os.path.join(self.dir, "policy.yaml"), "w") as f:
            f.write(POLICY)
        self.f = Focald(BUILD, SOURCES % {"db": make_sqlite(self.dir), "phone": PHONE,
                                          "port": self.probe.port},
                        dev_no_auth=False, workdir=self.dir)
        self.audit_log = os.path.join(self.dir, "audit", "audit.log")
        self.f.start()
        self.secrets = {}
        for name, roles, clearance in [("olga", "officer", "restricted"),
                                       ("sam", "officer", "strictly_confidential"),
                                       ("aud", "auditor", "not_sensitive"),
                                       ("adm", "admin", "not_sensitive")]:
            self.secrets[name] = self.user(name, roles, clearance)
        self.tokens = {}
        self.used = {}

    def stop(self):
        try:
            check(self.f.stop() == 0, "focald exit code")
        finally:
            self.probe.stop()

    def cli(self, *args, stdin=None):
        return subprocess.run([os.path.join(BUILD, "focal")] + list(args), input=stdin,
                              capture_output=True, text=True, timeout=60)

    def user(self, name, roles, clearance, totp_now=True):
        args = ["user", "--config", self.f.config, "add", name, "--name", name.title(),
                "--unit", "ANT-3", "--roles", roles, "--clearance", clearance,
                "--password-file", "-"]
        if totp_now:
            args.append("--totp")
        r = self.cli(*args, stdin=PW + "\n")
        check(r.returncode == 0, "focal user add: " + r.stderr + r.stdout)
        if not totp_now:
            return None
        return r.stdout.split("secret=")[1].split("&")[0]

    def token(self, name):
        """A session token of name (each TOTP code works once: a later step each time)."""
        if name not in self.tokens:
            step = self.used.get(name, 0)
            self.used[name] = step + 1
            status, _, data = self.f.request(
                "POST", "/v1/auth/login",
                {"username": name, "password": PW, "want_token": True,
                 "totp": totp(self.secrets[name], time.time() + 30 * step)})
            check(status == 200, "login of %s: %d %s" % (name, status, data))
            self.tokens[name] = json.loads(data)["token"]
        return self.tokens[name]

    def get(self, name, path, method="GET", body=None):
        h = {"Authorization": "Bearer " + self.token(name)}
        return self.f.request(method, path, body, headers=h)

    def entries(self):
        out = []
        try:
            with open(self.audit_log, "rb") as f:
                for line in f:
                    if line.endswith(b"\n"):
                        out.append(json.loads(line))
        except FileNotFoundError:
            pass
        return out

    def wait_for(self, pred, what, timeout=5):
        deadline = time.time() + timeout
        while time.time() < deadline:
            found = [e for e in self.entries() if pred(e)]
            if found:
                return found
            time.sleep(0.05)
        raise AssertionError("no audit entry: " + what)


def test_clearance_and_redaction_with_real_accounts(s):
    status, _, data = s.get("olga", "/v1/search", "POST", {"q": "Peeters"})
    check(status == 200, "olga's search: %d %s" % (status, data))
    text = data.decode() if isinstance(data, bytes) else data
    check("Peeters" in text, "olga sees the registry's record")
    check(PHONE not in text and "informant" not in text, "redacted or denied data shown: " + text)
    check(s.probe.calls == 0, "the strictly confidential source was queried for olga")
    begin = s.wait_for(lambda e: e["type"] == "search.begin" and e["who"]["user"] == "olga",
                       "olga's search.begin")[-1]
    check(begin["who"]["unit"] == "ANT-3", "unit in the entry: %r" % begin["who"])
    check(begin["who"]["addr"] == "127.0.0.1", "address in the entry: %r" % begin["who"])
    check("device" in begin["who"], "no device member")
    denied = [d["source"] for d in begin["sources_denied"]]
    check(denied == ["intel"], "sources_denied: %r" % begin["sources_denied"])
    # the control: a cleared officer's search does reach the probe
    status, _, data = s.get("sam", "/v1/search", "POST", {"q": "Peeters"})
    check(status == 200 and s.probe.calls >= 1, "sam's search did not reach the probe")
    text = data.decode() if isinstance(data, bytes) else data
    check(PHONE not in text, "redacted phone shown to sam")


def test_export_needs_the_export_action(s):
    """olga (restricted) may search but not export; sam (strictly confidential,
    the policy's investigator) may export the registry only."""
    body = {"q": "Peeters", "purpose": "investigation", "case_ref": "PV-2026-0099",
            "export": "csv"}
    status, _, data = s.get("olga", "/v1/search", "POST", body)
    check(status == 403 and b"export not permitted" in data, "olga's export: %d %s"
          % (status, data))
    # sam gets the file, without what view and export withhold; intel, which
    # sam may search but not export, is not even asked
    calls = s.probe.calls
    status, headers, data = s.get("sam", "/v1/search", "POST", body)
    check(status == 200 and headers["Content-Type"].startswith("text/csv"),
          "sam's export: %d %s" % (status, data))
    text = data.decode()
    check("85073100123" in text and "Peeters" in text, text)
    for withheld in (PHONE, "1985-07-31", "birth_date", "informant"):
        check(withheld not in text, "%r in the export: %s" % (withheld, text))
    check(s.probe.calls == calls, "a source not allowed for export was queried")
    check(headers["Focal-Export-Sources-Left-Out"] == "1", headers)
    check(int(headers["Focal-Export-Fields-Removed"]) >= 2, headers)
    # without a case reference: 400
    status, _, data = s.get("sam", "/v1/search", "POST", dict(body, case_ref=""))
    check(status == 400, "export without case: %d %s" % (status, data))
    ent = s.wait_for(lambda e: e["type"] == "search.export" and e["who"]["user"] == "sam",
                     "sam's search.export")
    check(len(ent) == 1 and ent[0]["count"] == 1 and ent[0]["case_ref"] == "PV-2026-0099",
          ent)
    check(ent[0]["records"][0]["sha256"] == text.splitlines()[1].split(",")[0], (ent, text))
    check(not any(e["type"] == "search.export" and e["who"]["user"] == "olga"
                  for e in s.entries()), "olga's refused export left an export entry")


def test_admin_and_oversight_endpoints_follow_the_policy(s):
    check(s.get("olga", "/v1/audit/lookups?user=olga")[0] == 403, "officer read the lookups")
    check(s.get("adm", "/v1/audit/lookups?user=olga")[0] == 403, "admin read the lookups")
    check(s.get("olga", "/v1/admin/users")[0] == 403, "officer listed the users")
    check(s.get("aud", "/v1/admin/users")[0] == 403, "auditor listed the users")
    status, _, data = s.get("adm", "/v1/admin/users")
    check(status == 200, "admin listing users: %d %s" % (status, data))
    status, _, data = s.get("aud", "/v1/audit/lookups?user=olga")
    check(status == 200, "auditor lookups: %d %s" % (status, data))
    s.wait_for(lambda e: e["type"] == "oversight.lookups" and e.get("who", {}).get("user") == "aud",
               "the auditor's own query")


def test_login_events_are_in_the_audit_log(s):
    s.user("lena", "officer", "restricted")
    for _ in range(5):
        status, _, _ = s.f.request("POST", "/v1/auth/login",
                                   {"username": "lena", "password": "wrong password 1234",
                                    "totp": "000000"})
        check(status == 401, "wrong password accepted")
    s.wait_for(lambda e: e["type"] == "auth.login.failure", "login failure")
    s.wait_for(lambda e: e["type"] == "auth.lockout", "lockout")
    # enrolment at first login
    s.user("emma", "officer", "restricted", totp_now=False)
    status, _, data = s.f.request("POST", "/v1/auth/login",
                                  {"username": "emma", "password": PW, "want_token": True})
    check(status == 200, "enrolment offer: %d %s" % (status, data))
    doc = json.loads(data)
    secret = doc["otpauth_uri"].split("secret=")[1].split("&")[0]
    status, _, data = s.f.request("POST", "/v1/auth/mfa/enrol",
                                  {"enrolment_token": doc["enrolment_token"],
                                   "totp": totp(secret), "want_token": True})
    check(status == 200, "enrolment: %d %s" % (status, data))
    s.wait_for(lambda e: e["type"] == "auth.mfa.enrol" and e["who"]["user"] == "emma",
               "MFA enrolment")
    tok = json.loads(data)["token"]
    status, _, _ = s.f.request("POST", "/v1/auth/logout",
                               headers={"Authorization": "Bearer " + tok})
    check(status == 204, "logout: %d" % status)
    s.wait_for(lambda e: e["type"] == "auth.logout" and e["who"]["user"] == "emma", "logout")


def test_cli_admin_change_reaches_the_audit_log(s):
    s.user("carl", "officer", "restricted")
    r = s.cli("user", "--config", s.f.config, "disable", "carl")
    check(r.returncode == 0, r.stderr)
    e = s.wait_for(lambda e: e["type"] == "admin.user.disable" and e.get("target") == "carl",
                   "focal user disable", timeout=5)[-1]
    check(e.get("via") == "cli" and e["who"]["user"].startswith("os:"), "entry: %r" % e)
    s.wait_for(lambda e: e["type"] == "admin.user.create" and e.get("target") == "carl",
               "focal user add")
    # a change that fails leaves no audit record behind
    r = s.cli("user", "--config", s.f.config, "disable", "nobody")
    check(r.returncode != 0, "disabling an unknown user succeeded")
    time.sleep(0.6)
    check(not any(e.get("target") == "nobody" for e in s.entries()), "failed change audited")
    # the outbox is empty once focald moved the events
    import sqlite3
    db = sqlite3.connect(os.path.join(s.dir, "focal.db"))
    left = db.execute("SELECT count(*) FROM audit_outbox").fetchone()[0]
    db.close()
    check(left == 0, "%d events left in the outbox" % left)
    time.sleep(0.5)  # a checkpoint covers the newest entries
    r = s.cli("audit", "verify", "--log", os.path.join(s.dir, "audit"))
    check(r.returncode == 0, "verify: " + r.stdout + r.stderr)


def test_policy_explain_reads_the_account(s):
    r = s.cli("policy", "explain", "--config", s.f.config, "--user", "olga", "--source", "intel")
    check(r.returncode != 0 or "deny" in r.stdout, "olga allowed intel: " + r.stdout)
    check("restricted" in r.stdout and "ANT-3" in r.stdout and "officer" in r.stdout,
          "subject not from the store: " + r.stdout + r.stderr)
    r = s.cli("policy", "explain", "--config", s.f.config, "--user", "sam", "--source", "intel")
    check(r.returncode == 0 and "allow" in r.stdout, "sam denied intel: " + r.stdout + r.stderr)
    r = s.cli("policy", "explain", "--config", s.f.config, "--user", "nobody", "--source",
              "intel")
    check(r.returncode != 0 and "nobody" in r.stderr, "unknown user: " + r.stdout + r.stderr)


def test_cli_oversight_goes_through_focald_and_is_audited(s):
    api = ["--url", "https://127.0.0.1:%d" % s.f.port, "--cacert", s.f.cert]
    tokfile = os.path.join(s.dir, "aud.token")
    env = dict(os.environ, FOCAL_TOKEN_FILE=tokfile)

    def focal(*args, stdin=None):
        return subprocess.run([os.path.join(BUILD, "focal")] + list(args), input=stdin, env=env,
                              capture_output=True, text=True, timeout=60)

    # without a token: focald refuses, nothing is read
    r = focal("audit", "user-activity", "olga", *api)
    check(r.returncode != 0 and "401" in r.stderr, "no token: " + r.stdout + r.stderr)
    # an officer's token: 403 from the policy
    step = s.used.get("olga", 0)
    s.used["olga"] = step + 1
    r = focal("login", "--user", "olga", "--password-file", "-", "--totp",
              totp(s.secrets["olga"], time.time() + 30 * step), *api, stdin=PW + "\n")
    check(r.returncode == 0, "focal login olga: " + r.stdout + r.stderr)
    r = focal("audit", "user-activity", "sam", *api)
    check(r.returncode != 0 and "403" in r.stderr, "officer's oversight: " + r.stdout + r.stderr)
    # the auditor's: answered, and the query is in the log under the auditor's name
    step = s.used.get("aud", 0)
    s.used["aud"] = step + 1
    r = focal("login", "--user", "aud", "--password-file", "-", "--totp",
              totp(s.secrets["aud"], time.time() + 30 * step), *api, stdin=PW + "\n")
    check(r.returncode == 0, "focal login aud: " + r.stdout + r.stderr)
    r = focal("audit", "user-activity", "olga", "--format", "jsonl", *api)
    check(r.returncode == 0 and '"search.begin"' in r.stdout, "auditor: " + r.stdout + r.stderr)
    s.wait_for(lambda e: e["type"] == "oversight.lookups" and e["who"]["user"] == "aud"
               and e.get("user") == "olga", "the CLI auditor's query")
    r = focal("audit", "alerts", "--log", os.path.join(s.dir, "audit"))
    check(r.returncode == 2, "direct, unaudited oversight read allowed: " + r.stdout)


def test_jwks_url_not_fetched_while_parsing():
    """focald --check (and the config fuzzer: the same parser) opens no connection
    to a trusted issuer's jwks_url; focald's start does."""
    import socket
    d = tempfile.mkdtemp(prefix="focal-secint-fed-")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    extra = ("oidc:\n  trusted_issuers:\n    - issuer: https://idp.test\n      audience: focal\n"
             "      jwks_url: https://127.0.0.1:%d/jwks.json\n      role_mappings:\n"
             "        - {claim: groups, value: patrol, role: officer}\n" % port)
    f = Focald(BUILD, SOURCES.split("policy:")[0] % {"db": make_sqlite(d), "phone": PHONE,
                                                    "port": 9}, server_extra=extra,
               dev_no_auth=False, workdir=d)

    def connections(seconds):
        n, deadline = 0, time.time() + seconds
        while time.time() < deadline:
            try:
                c, _ = listener.accept()
                c.close()  # a failed TLS handshake: focald logs it, retries on first use
                n += 1
            except socket.timeout:
                pass
        return n

    try:
        r = subprocess.run([os.path.join(BUILD, "focald"), "--check", "-c", f.config],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 0, "focald --check: " + r.stdout + r.stderr)
        check(connections(0.5) == 0, "focald --check fetched the JWKS URL")
        f.start()
        check(connections(3) >= 1, "focald did not fetch the JWKS URL at start")
    finally:
        listener.close()
        check(f.stop() == 0, "focald exit code")


TESTS = [
    test_clearance_and_redaction_with_real_accounts,
    test_export_needs_the_export_action,
    test_admin_and_oversight_endpoints_follow_the_policy,
    test_login_events_are_in_the_audit_log,
    test_cli_admin_change_reaches_the_audit_log,
    test_policy_explain_reads_the_account,
    test_cli_oversight_goes_through_focald_and_is_audited,
]
OWN = [test_jwks_url_not_fetched_while_parsing]

if __name__ == "__main__":
    only = os.environ.get("FOCAL_SYSTEM_ONLY")
    runner = Runner()
    s = None
    try:
        s = Setup()
        for test in TESTS:
            if only and only not in test.__name__:
                continue
            runner.run(test, s)
    except AssertionError as e:
        runner.failed += 1
        print("FAIL setup: %s" % e, flush=True)
    finally:
        if s is not None:
            try:
                s.stop()
            except AssertionError as e:
                runner.failed += 1
                print("FAIL stop: %s" % e, flush=True)
    for test in OWN:
        if only and only not in test.__name__:
            continue
        runner.run(test)
    print("system: %d passed, %d failed, %d skipped" % (runner.passed, runner.failed,
                                                         runner.skipped), flush=True)
    sys.exit(1 if runner.failed else 0)
