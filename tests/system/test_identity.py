"""System tests of identity (issue 4): accounts, Argon2id passwords, TOTP,
lockout, throttling, sessions, CSRF, the admin API and `focal user|login`.

Runs the real focald and focal binaries of the given build (default build/)
on generated configurations with short, configurable timeouts so expiry is
quick to observe.  Attacks are tried and must fail.  Usage:
    python3 tests/system/test_identity.py build-asan
"""

import base64
import hashlib
import hmac
import os
import re
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ROOT, Focald, Runner  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
PW = "correct horse battery staple 42"
DENIED = "invalid username, password or code"


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def totp(secret_b32, t=None):
    """RFC 6238 (SHA-1, 6 digits, 30 s), independent of liboath."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    counter = int((time.time() if t is None else t) // 30)
    h = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    o = h[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", h[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)


def make_sqlite(directory):
    path = os.path.join(directory, "rr.db")
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE personen (rijksregisternummer TEXT, achternaam TEXT,"
               " voornaam TEXT, geboortedatum TEXT)")
    db.execute("INSERT INTO personen VALUES ('85073100123', 'Peeters', 'Jan', '1985-07-31')")
    db.commit()
    db.close()
    return path


SOURCE = """  - name: rijksregister
    kind: sqlite
    owner: Rijksregister
    classification: restricted
    connection: {path: %s}
    queries:
      person: SELECT * FROM personen WHERE lower(achternaam) = lower(:family_name)
    map:
      person: {national_number: rijksregisternummer, family_name: achternaam,
               given_name: voornaam, birth_date: geboortedatum}
"""


class Identity:
    """A focald with an `auth:` section, plus helpers to make users."""

    def __init__(self, client_ca=None, **auth):
        settings = {"argon2_memory_kib": 19456, "argon2_ops": 2,  # OWASP's minimum: fast tests
                    "idle_timeout_s": 30, "absolute_timeout_s": 600}
        settings.update(auth)
        d = tempfile.mkdtemp(prefix="focal-id-")
        extra = "auth:\n" + "".join("  %s: %s\n" % kv for kv in settings.items())
        if client_ca:
            extra = "  tls_client_ca: %s\n" % client_ca + extra
        self.f = Focald(BUILD, SOURCE % make_sqlite(d), server_extra=extra, dev_no_auth=False,
                        workdir=d)
        self.dir = d
        self.f.start()

    def stop(self):
        check(self.f.stop() == 0, "focald exit code")

    def cli(self, *args, stdin=None, env=None):
        e = dict(os.environ)
        e.update(env or {})
        return subprocess.run([os.path.join(BUILD, "focal")] + list(args), input=stdin,
                              capture_output=True, text=True, timeout=60, env=e)

    def user(self, name, roles="officer", enrol=True, password=PW, clearance="restricted"):
        """Creates name with the CLI; returns (secret, recovery codes) or (None, [])."""
        args = ["user", "--config", self.f.config, "add", name, "--name", name.title(),
                "--unit", "ANT-3", "--roles", roles, "--clearance", clearance,
                "--password-file", "-"]
        if enrol:
            args.append("--totp")
        r = self.cli(*args, stdin=password + "\n")
        check(r.returncode == 0, "focal user add: " + r.stderr + r.stdout)
        if not enrol:
            return None, []
        secret = re.search(r"secret=([A-Z2-7]+)", r.stdout).group(1)
        codes = re.findall(r"^\s+([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})$", r.stdout,
                           re.M)
        check(len(codes) == 10, "10 recovery codes expected: " + r.stdout)
        return secret, codes

    def login(self, user, password=PW, code=None, want_token=True, **extra):
        body = {"username": user, "password": password, "want_token": want_token}
        if code is not None:
            body["totp"] = code
        body.update(extra)
        return self.f.request("POST", "/v1/auth/login", body)

    def login_ok(self, user, secret, t=None):
        status, headers, data = self.login(user, code=totp(secret, t))
        check(status == 200, "login of %s: %d %s" % (user, status, data))
        import json
        return json.loads(data), headers

    def get(self, path, token=None, cookie=None, csrf=None, method="GET", body=None):
        h = {}
        if token:
            h["Authorization"] = "Bearer " + token
        if cookie:
            h["Cookie"] = "focal_session=" + cookie
        if csrf:
            h["X-CSRF-Token"] = csrf
        return self.f.request(method, path, body, headers=h)

    def search(self, **kw):
        return self.get("/v1/search", method="POST", body={"q": "Peeters"}, **kw)[0]

    def db(self):
        return sqlite3.connect(os.path.join(self.dir, "focal.db"))


def cookie_of(headers):
    for k, v in headers.items():
        if k.lower() == "set-cookie":
            return v
    return ""


# --- tests -------------------------------------------------------------------

def test_search_needs_a_session_bearer_or_cookie_with_csrf(idy):
    secret, _ = idy.user("anna")
    check(idy.search() == 401, "search without a session must be 401")
    check(idy.search(token="0" * 64) == 401, "a made-up token must be 401")
    doc, headers = idy.login_ok("anna", secret)
    tok = doc["token"]
    check(doc["status"] == "ok" and doc["user"]["username"] == "anna", doc)
    check(doc["user"]["roles"] == ["officer"] and doc["user"]["clearance"] == "restricted", doc)
    check(doc["idle_timeout_s"] == 30 and doc["expires_at"].endswith("Z"), doc)
    c = cookie_of(headers)
    for flag in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/"):
        check(flag in c, "cookie lacks %s: %s" % (flag, c))
    check(idy.search(token=tok) == 200, "bearer search")
    check(idy.search(cookie=tok) == 403, "cookie without X-CSRF-Token must be 403")
    check(idy.search(cookie=tok, csrf="x" * 43) == 403, "wrong CSRF token must be 403")
    check(idy.search(cookie=tok, csrf=doc["csrf_token"]) == 200, "cookie + CSRF search")
    status, _, data = idy.get("/v1/auth/session", cookie=tok)  # GET: no CSRF needed
    check(status == 200 and b'"csrf_token"' in data, data)
    # the token is stored only as its SHA-256
    rows = [r[0] for r in idy.db().execute("SELECT token_hash FROM sessions")]
    check(hashlib.sha256(tok.encode()).digest() in rows, "hash of the token not stored")
    dump = b"".join(open(os.path.join(idy.dir, f), "rb").read()
                    for f in os.listdir(idy.dir) if f.startswith("focal.db"))
    check(tok.encode() not in dump, "the token itself is in the database")


def test_wrong_expired_replayed_totp_and_oathtool_interop(idy):
    secret, _ = idy.user("bert")
    for code in ("000000" if totp(secret) != "000000" else "111111",  # 4 failures: no lockout
                 totp(secret, time.time() - 90),      # expired: 3 steps ago
                 totp(secret, time.time() + 90),      # too far ahead
                 "12345"):
        status, _, data = idy.login("bert", code=code)
        check(status == 401 and DENIED.encode() in data, "code %r: %d" % (code, status))
    code = subprocess.run(["oathtool", "--totp", "-b", secret], capture_output=True,
                          text=True, check=True).stdout.strip()
    status, _, _ = idy.login("bert", code=code)
    check(status == 200, "oathtool's code refused: %d" % status)
    status, _, _ = idy.login("bert", code=code)
    check(status == 401, "a replayed code must be refused")
    status, _, _ = idy.f.request("POST", "/v1/admin/users/bert/unlock")
    check(status == 401, "admin API without a session: %d" % status)


def test_recovery_codes_work_once(idy):
    secret, codes = idy.user("carl")
    status, _, _ = idy.login("carl", recovery_code=codes[0].upper())
    check(status == 200, "recovery code refused: %d" % status)
    status, _, _ = idy.login("carl", recovery_code=codes[0])
    check(status == 401, "a used recovery code must be refused")
    status, _, _ = idy.login("carl", recovery_code="aaaa-aaaa-aaaa-aaaa")
    check(status == 401, "a made-up recovery code must be refused")
    hashes = [bytes(r[0]) for r in idy.db().execute(
        "SELECT hash FROM recovery_codes rc JOIN users u ON u.id = rc.user_id"
        " WHERE u.username = 'carl'")]
    check(len(hashes) == 10 and not any(c.replace("-", "").encode() in h
                                        for c in codes for h in hashes), "codes not hashed")


def test_enrolment_at_first_login(idy):
    import json
    idy.user("dora", enrol=False)
    status, _, data = idy.login("dora", code="")
    check(status == 200, "enrolment offer: %d %s" % (status, data))
    doc = json.loads(data)
    check(doc["status"] == "mfa_enrolment" and doc["otpauth_uri"].startswith("otpauth://totp/"),
          doc)
    check(doc["qr_png"].startswith("data:image/png;base64,"), doc["qr_png"][:40])
    png = base64.b64decode(doc["qr_png"].split(",", 1)[1])
    check(png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG")
    secret = re.search(r"secret=([A-Z2-7]+)", doc["otpauth_uri"]).group(1)
    check(len(base64.b32decode(secret + "=" * (-len(secret) % 8))) >= 20, "secret < 160 bits")
    sealed = idy.db().execute("SELECT totp_secret FROM users WHERE username='dora'").fetchone()[0]
    check(base64.b32decode(secret + "=" * (-len(secret) % 8)) not in bytes(sealed),
          "TOTP secret stored in clear")
    body = {"enrolment_token": doc["enrolment_token"], "totp": "000000", "want_token": True}
    if totp(secret) == "000000":
        body["totp"] = "111111"
    status, _, _ = idy.f.request("POST", "/v1/auth/mfa/enrol", body)
    check(status == 401, "wrong enrolment code must be refused")
    body["totp"] = totp(secret)
    status, headers, data = idy.f.request("POST", "/v1/auth/mfa/enrol", body)
    check(status == 200, "enrolment: %d %s" % (status, data))
    doc = json.loads(data)
    check(len(doc["recovery_codes"]) == 10 and len(doc["token"]) == 64, doc)
    check("Secure" in cookie_of(headers), "no session cookie after enrolment")
    status, _, _ = idy.f.request("POST", "/v1/auth/mfa/enrol", body)
    check(status == 401, "an enrolment token works once")


def test_password_policy_and_no_truncation(idy):
    secret, _ = idy.user("erik", roles="officer,admin")
    tok = idy.login_ok("erik", secret)[0]["token"]

    def create(name, pw):
        return idy.get("/v1/admin/users", token=tok, method="POST",
                       body={"username": name, "name": name, "unit": "X",
                             "roles": ["officer"], "clearance": "not_sensitive",
                             "password": pw})[0]
    check(create("p1", "Short pw 11") == 400, "11 characters accepted")
    check(create("p2", "Sw0rdfish!" * 12 + "Kiwi5678") == 201, "128 characters refused")
    check(create("p3", "Sw0rdfish!" * 12 + "Kiwi56789") == 400, "129 characters accepted")
    check(create("p4", "Password1234") == 400, "a common password (any case) accepted")
    check(create("p5", "qwertyuiop123") == 400, "a keyboard walk accepted")
    long_pw = "".join(chr(97 + (i * 7) % 26) for i in range(99)) + "X"
    check(create("p6", long_pw) == 201, "100-character password refused")
    # not enrolled: the right password is answered with the enrolment offer (200)
    status, _, _ = idy.login("p6", password=long_pw[:-1] + "Y", code="")
    check(status == 401, "a password differing in its 100th character was accepted")
    status, _, _ = idy.login("p6", password=long_pw, code="")
    check(status == 200, "the exact 100-character password was refused")
    r = idy.cli("user", "--config", idy.f.config, "add", "p7", "--roles", "officer",
                "--clearance", "restricted", "--password-file", "-", stdin="letmein\n")
    check(r.returncode != 0 and "at least 12" in r.stderr, "CLI accepted a short password")


def test_lockout_after_5_failures_until_admin_unlock(idy):
    secret, _ = idy.user("fred")
    admin_secret, _ = idy.user("gina", roles="admin")
    for i in range(5):
        status, _, _ = idy.login("fred", password="wrong password number %d" % i,
                                 code=totp(secret))
        check(status == 401, "wrong password accepted")
    locked = idy.db().execute("SELECT locked FROM users WHERE username='fred'").fetchone()[0]
    check(locked == 1, "not locked after 5 failures")
    status, _, data = idy.login("fred", code=totp(secret))
    check(status == 401 and DENIED.encode() in data, "locked account logged in: %d" % status)
    check("account locked" in idy.f.read_log(), "the real reason is not logged")
    check("auth.lockout" in idy.f.read_log(), "the lockout is not audited")
    tok = idy.login_ok("gina", admin_secret)[0]["token"]
    status, _, _ = idy.get("/v1/admin/users/fred/unlock", token=tok, method="POST")
    check(status == 200, "admin unlock: %d" % status)
    status, _, _ = idy.login("fred", code=totp(secret, time.time() + 30))
    check(status == 200, "unlocked account refused: %d" % status)


def test_admin_api_roles_sessions_and_officer_forbidden(idy):
    import json
    secret, _ = idy.user("hugo")
    asecret, _ = idy.user("ines", roles="admin,officer")
    otok = idy.login_ok("hugo", secret)[0]["token"]
    atok = idy.login_ok("ines", asecret)[0]["token"]
    check(idy.get("/v1/admin/users", token=otok)[0] == 403, "officer reached the admin API")
    status, _, data = idy.get("/v1/admin/users", token=atok)
    check(status == 200 and any(u["username"] == "hugo" for u in json.loads(data)["users"]),
          data)
    status, _, data = idy.get("/v1/admin/users/hugo/roles", token=atok, method="PUT",
                              body={"roles": ["officer", "auditor"]})
    check(status == 200 and json.loads(data)["user"]["roles"] == ["officer", "auditor"], data)
    check(idy.search(token=otok) == 401, "a role change must end the user's sessions")
    otok = idy.login_ok("hugo", secret, time.time() + 30)[0]["token"]
    status, _, data = idy.get("/v1/admin/users/hugo/sessions", token=atok, method="DELETE")
    check(status == 200 and json.loads(data)["sessions_ended"] == 1, data)
    check(idy.search(token=otok) == 401, "revoked session still works")
    status, _, _ = idy.get("/v1/admin/users/nobody/disable", token=atok, method="POST")
    check(status == 404, "unknown user: %d" % status)
    check("admin.user.roles" in idy.f.read_log(), "admin change not audited")


def test_disabled_user_session_dead_within_one_second(idy):
    secret, _ = idy.user("jack")
    tok = idy.login_ok("jack", secret)[0]["token"]
    check(idy.search(token=tok) == 200, "search before disabling")
    r = idy.cli("user", "--config", idy.f.config, "disable", "jack")
    t0 = time.time()
    check(r.returncode == 0, r.stderr)
    while idy.get("/v1/auth/session", token=tok)[0] == 200:
        check(time.time() - t0 < 1.0, "session alive 1 s after `focal user disable`")
        time.sleep(0.05)
    check(idy.search(token=tok) == 401, "disabled user's search")
    status, _, _ = idy.login("jack", code=totp(secret, time.time() + 30))
    check(status == 401, "disabled user logged in")


def test_logout_clears_cookie_and_ends_session(idy):
    secret, _ = idy.user("kim")
    doc, _ = idy.login_ok("kim", secret)
    tok = doc["token"]
    status, _, _ = idy.get("/v1/auth/logout", cookie=tok, method="POST")
    check(status == 403, "cookie logout without CSRF must be refused")
    status, headers, _ = idy.get("/v1/auth/logout", cookie=tok, csrf=doc["csrf_token"],
                                 method="POST")
    check(status == 204, "logout: %d" % status)
    check("Max-Age=0" in cookie_of(headers), "cookie not cleared: " + cookie_of(headers))
    check(idy.get("/v1/auth/session", token=tok)[0] == 401, "session alive after logout")
    check("auth.logout" in idy.f.read_log(), "logout not audited")
    check("auth.session.end" in idy.f.read_log(), "session end not audited")
    # bearer clients log out without a CSRF header
    tok = idy.login_ok("kim", secret, time.time() + 30)[0]["token"]
    check(idy.get("/v1/auth/logout", token=tok, method="POST")[0] == 204, "bearer logout")
    check(idy.get("/v1/auth/session", token=tok)[0] == 401, "bearer session alive after logout")


def test_cli_list_roles_enable_reset_mfa(idy):
    """`focal user list|roles|disable|enable|reset-mfa` against the running focald's store."""
    import json
    secret, _ = idy.user("lena")
    tok = idy.login_ok("lena", secret)[0]["token"]
    conf = ["user", "--config", idy.f.config]
    r = idy.cli(*conf, "list", "--json")
    check(r.returncode == 0, r.stderr)
    users = {u["username"]: u for u in json.loads(r.stdout)}
    check(users["lena"]["roles"] == ["officer"] and users["lena"]["status"] == "active" and
          users["lena"]["mfa_enrolled"] is True, users.get("lena"))
    # roles: an officer made auditor can no longer search, and can read the audit status
    check(idy.cli(*conf, "roles", "lena", "auditor").returncode == 0, "roles")
    r = idy.cli(*conf, "list", "--json")
    check({u["username"]: u for u in json.loads(r.stdout)}["lena"]["roles"] ==
          ["auditor"], r.stdout)
    deadline = time.time() + 2
    while idy.search(token=tok) == 200 and time.time() < deadline:
        time.sleep(0.05)
    check(idy.search(token=tok) in (401, 403), "an auditor searched")
    # disable then enable: the old session is gone, a new login works
    check(idy.cli(*conf, "disable", "lena").returncode == 0, "disable")
    t_disable = time.time()
    status, _, _ = idy.login("lena", code="000000")
    check(status == 401, "disabled user logged in")
    check(idy.cli(*conf, "enable", "lena").returncode == 0, "enable")
    check(idy.cli(*conf, "roles", "lena", "officer").returncode == 0, "roles back")
    while idy.get("/v1/auth/session", token=tok)[0] == 200:
        check(time.time() - t_disable < 1.0, "session alive 1 s after `focal user disable`")
        time.sleep(0.05)
    tok = idy.login_ok("lena", secret, time.time() + 30)[0]["token"]
    check(idy.search(token=tok) == 200, "re-enabled officer cannot search")
    # reset-mfa: the old TOTP secret no longer logs in; the next login enrols anew
    check(idy.cli(*conf, "reset-mfa", "lena").returncode == 0, "reset-mfa")
    t_reset = time.time()
    status, _, data = idy.login("lena", code=totp(secret, time.time() - 30))
    doc = json.loads(data) if status == 200 else {}
    check(status == 200 and doc.get("status") == "mfa_enrolment" and "token" not in doc,
          "the TOTP secret before reset-mfa still opens a session: %d %s" % (status, data))
    status, _, data = idy.login("lena", code="")
    doc = json.loads(data) if status == 200 else {}
    check(status == 200 and doc.get("status") == "mfa_enrolment",
          "after reset-mfa the next login must enrol: %d %s" % (status, data))
    # another process's change: focald drops the session within 1 s
    while idy.get("/v1/auth/session", token=tok)[0] == 200:
        check(time.time() - t_reset < 1.0, "session alive 1 s after `focal user reset-mfa`")
        time.sleep(0.05)
    r = idy.cli(*conf, "list", "--json")
    check({u["username"]: u for u in json.loads(r.stdout)}["lena"]["mfa_enrolled"]
          is False, r.stdout)
    for bad in (["roles", "lena", "superuser"], ["enable", "nobody"], ["reset-mfa", "nobody"]):
        r = idy.cli(*conf, *bad)
        check(r.returncode != 0 and r.stderr.strip() != "", "focal user %s accepted" % bad)


def test_session_fixation_refused(idy):
    import json
    secret, _ = idy.user("liam")
    planted = "ab" * 32
    status, headers, data = idy.f.request(
        "POST", "/v1/auth/login",
        {"username": "liam", "password": PW, "totp": totp(secret), "want_token": True},
        headers={"Cookie": "focal_session=" + planted})
    check(status == 200, "login: %d" % status)
    tok = json.loads(data)["token"]
    check(tok != planted and planted not in cookie_of(headers), "planted session id adopted")
    check(idy.get("/v1/auth/session", cookie=planted)[0] == 401, "planted id became a session")


def test_cli_login_and_search():
    idy = Identity()
    try:
        secret, _ = idy.user("lena")
        env = {"FOCAL_TOKEN_FILE": os.path.join(idy.dir, "cli", "token"),
               "FOCAL_URL": "https://127.0.0.1:%d" % idy.f.port, "FOCAL_CACERT": idy.f.cert}
        r = idy.cli("search", "Peeters", env=env)
        check(r.returncode != 0 and "401" in r.stderr, "CLI search without login: " + r.stderr)
        r = idy.cli("login", "--user", "lena", "--password-file", "-", "--totp", totp(secret),
                    stdin=PW + "\n", env=env)
        check(r.returncode == 0, "focal login: " + r.stderr)
        check(os.stat(env["FOCAL_TOKEN_FILE"]).st_mode & 0o077 == 0, "token file not 0600")
        r = idy.cli("search", "--json", "Peeters", env=env)
        check(r.returncode == 0, "CLI search after login: " + r.stderr)
        r = idy.cli("logout", env=env)
        check(r.returncode == 0 and not os.path.exists(env["FOCAL_TOKEN_FILE"]), r.stdout)
    finally:
        idy.stop()


def test_session_idle_and_absolute_timeouts():
    idy = Identity(idle_timeout_s=2, absolute_timeout_s=4)
    try:
        secret, _ = idy.user("mona")
        tok = idy.login_ok("mona", secret)[0]["token"]
        time.sleep(2.5)
        check(idy.get("/v1/auth/session", token=tok)[0] == 401, "alive after the idle timeout")
        tok = idy.login_ok("mona", secret, time.time() + 30)[0]["token"]
        t0 = time.time()
        while time.time() - t0 < 3.0:  # active: the idle timer never runs out
            check(idy.get("/v1/auth/session", token=tok)[0] == 200, "active session ended")
            time.sleep(0.5)
        time.sleep(max(0.0, 4.5 - (time.time() - t0)))
        check(idy.get("/v1/auth/session", token=tok)[0] == 401, "alive after the absolute end")
    finally:
        idy.stop()


def test_per_address_throttling():
    idy = Identity(address_failures=3, address_window_s=60)
    try:
        secret, _ = idy.user("nina")
        for i in range(3):
            check(idy.login("ghost%d" % i, code="123456")[0] == 401, "unknown user accepted")
        status, _, _ = idy.login("nina", code=totp(secret))
        check(status == 401, "throttled address logged in: %d" % status)
        check("too many failures from this address" in idy.f.read_log(), "reason not logged")
        locked = idy.db().execute("SELECT locked FROM users WHERE username='nina'").fetchone()[0]
        check(locked == 0, "throttling must not lock the account")
    finally:
        idy.stop()


def test_unknown_and_known_users_take_comparable_time():
    """Statistical, generous: medians of interleaved samples within a factor 3."""
    idy = Identity(lockout_failures=0, address_failures=0)
    try:
        idy.user("olga")
        known, unknown = [], []
        for i in range(16):
            for name, bucket in (("olga", known), ("nobody%d" % i, unknown)):
                t0 = time.perf_counter()
                status, _, data = idy.login(name, password="wrong password %d!" % i,
                                            code="123456")
                bucket.append(time.perf_counter() - t0)
                check(status == 401 and DENIED.encode() in data, "answers differ")
        mk, mu = statistics.median(known), statistics.median(unknown)
        check(1 / 3 < mk / mu < 3, "medians differ: known %.3fs unknown %.3fs" % (mk, mu))
        check(mu > 0.005, "unknown users answered too fast (%.4fs): no dummy hash?" % mu)
    finally:
        idy.stop()


def client_cert(directory, cn):
    """A self-signed client certificate (it is its own CA in tls_client_ca)."""
    cert, key = os.path.join(directory, cn + ".pem"), os.path.join(directory, cn + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=" + cn,
                    "-addext", "extendedKeyUsage=clientAuth", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    return cert, key


def test_session_bound_to_client_certificate():
    import http.client
    import json
    import ssl
    d = tempfile.mkdtemp(prefix="focal-id-certs-")
    a, b = client_cert(d, "vehicle-a"), client_cert(d, "vehicle-b")
    ca = os.path.join(d, "clients.pem")
    with open(ca, "w") as out:
        out.write(open(a[0]).read() + open(b[0]).read())
    idy = Identity(client_ca=ca)
    try:
        secret, _ = idy.user("pia")

        def call(method, path, cert, body=None, token=None):
            ctx = ssl.create_default_context(cafile=idy.f.cert)
            if cert:
                ctx.load_cert_chain(*cert)
            conn = http.client.HTTPSConnection("127.0.0.1", idy.f.port, context=ctx, timeout=30)
            try:
                h = {"Content-Type": "application/json"}
                if token:
                    h["Authorization"] = "Bearer " + token
                conn.request(method, path, json.dumps(body) if body else None, h)
                r = conn.getresponse()
                return r.status, r.read()
            finally:
                conn.close()
        status, data = call("POST", "/v1/auth/login", a,
                            {"username": "pia", "password": PW, "totp": totp(secret),
                             "want_token": True})
        check(status == 200, "login with a client certificate: %d %s" % (status, data))
        tok = json.loads(data)["token"]
        check(call("GET", "/v1/auth/session", a, token=tok)[0] == 200, "same certificate")
        check(call("GET", "/v1/auth/session", b, token=tok)[0] == 401,
              "a session bound to certificate A worked with certificate B")
        check(call("GET", "/v1/auth/session", None, token=tok)[0] == 401,
              "a session bound to a certificate worked without one")
    finally:
        idy.stop()


SHARED = [
    test_search_needs_a_session_bearer_or_cookie_with_csrf,
    test_wrong_expired_replayed_totp_and_oathtool_interop,
    test_recovery_codes_work_once,
    test_enrolment_at_first_login,
    test_password_policy_and_no_truncation,
    test_lockout_after_5_failures_until_admin_unlock,
    test_admin_api_roles_sessions_and_officer_forbidden,
    test_disabled_user_session_dead_within_one_second,
    test_cli_list_roles_enable_reset_mfa,
    test_logout_clears_cookie_and_ends_session,
    test_session_fixation_refused,
]
OWN = [
    test_session_bound_to_client_certificate,
    test_cli_login_and_search,
    test_session_idle_and_absolute_timeouts,
    test_per_address_throttling,
    test_unknown_and_known_users_take_comparable_time,
]

if __name__ == "__main__":
    only = os.environ.get("FOCAL_SYSTEM_ONLY")
    runner = Runner()
    # one focald for the tests that only need distinct users; the address
    # throttle is high there because they all come from 127.0.0.1
    shared = None
    try:
        for test in SHARED:
            if only and only not in test.__name__:
                continue
            if shared is None:
                shared = Identity(address_failures=1000)
            runner.run(test, shared)
    finally:
        if shared is not None:
            try:
                shared.stop()
            except AssertionError as e:
                runner.failed += 1
                print("FAIL shared focald: %s" % e, flush=True)
    for test in OWN:
        if only and only not in test.__name__:
            continue
        runner.run(test)
    print("system: %d passed, %d failed, %d skipped" % (runner.passed, runner.failed,
                                                         runner.skipped), flush=True)
    sys.exit(1 if runner.failed else 0)
