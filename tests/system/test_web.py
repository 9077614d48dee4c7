#!/usr/bin/env python3
"""System test of the officer app and the consoles (issue 6).

Usage: test_web.py BUILD_DIR

1. Serving, from Python over raw HTTPS: Content-Types, the CSP, caching
   headers, 304 on an unchanged ETag, HEAD, 405, and directory traversal
   attempts (`..`, `%2e%2e`, a NUL byte, a symlink to a file and to a folder
   out of the root, hidden files, unknown extensions) that must all fail
   without leaking a byte of what lies outside; a SIGHUP picks up a changed
   file; bad `web:` sections are refused with file:line:col; the admin source
   table needs a principal.
2. The browser: `npm ci` in tests/web (playwright-core, axe-core; offline when
   the npm cache has them), then tests/web/run.js drives Debian's chromium
   headless against focald on the demo city (demo/generate.py, small scale):
   the planted armed suspect by plate shows the alert first, per-source
   status, dark mode, keyboard only, axe-core clean, no CSP violation, idle
   lock, logout; screenshots of the main screens at 360x640 and 1280x800 go to
   tests/out/screenshots/.  The login, TOTP, CSRF and redaction tests of run.js
   are skipped while POST /v1/auth/login answers 404 (no identity module).

Every process started here is stopped here; only 127.0.0.1 is used.
Prints PASS/FAIL/SKIP per test and closes with "system: N passed, N failed".
"""

import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import ROOT, Focald, Runner, check  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
TMP = tempfile.mkdtemp(prefix="focal-web-")
CITY = os.path.join(TMP, "city")
WEBROOT = os.path.join(TMP, "webroot")
OUTSIDE = os.path.join(TMP, "outside.txt")
MARKER = "OUTSIDE-THE-WEB-ROOT-7f3a"
NODE_DIR = os.path.join(ROOT, "tests", "web")
SHOTS = os.path.join(ROOT, "tests", "out", "screenshots")
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
STATE = {}


def make_webroot():
    """A copy of web/ plus every trap a traversal would need."""
    shutil.copytree(os.path.join(ROOT, "web"), WEBROOT)
    with open(OUTSIDE, "w") as f:
        f.write(MARKER)
    os.makedirs(os.path.join(TMP, "outside-dir"))
    with open(os.path.join(TMP, "outside-dir", "secret.txt"), "w") as f:
        f.write(MARKER)
    os.symlink(OUTSIDE, os.path.join(WEBROOT, "link.txt"))
    os.symlink(os.path.join(TMP, "outside-dir"), os.path.join(WEBROOT, "linkdir"))
    with open(os.path.join(WEBROOT, ".hidden.txt"), "w") as f:
        f.write(MARKER)
    with open(os.path.join(WEBROOT, "notes.md"), "w") as f:
        f.write(MARKER)
    with open(os.path.join(WEBROOT, "reload.txt"), "w") as f:
        f.write("before")


def city_focald(dev=True):
    """focald on the generated demo city with our web root.  The harness writes
    its configuration over the city's focal.yaml: the generated one is kept."""
    if "city_yaml" not in STATE:
        with open(os.path.join(CITY, "focal.yaml"), encoding="utf-8") as f:
            STATE["city_yaml"] = f.read()
    text = STATE["city_yaml"]
    defaults = re.search(r"(?ms)^defaults:\n(.*?)^\S", text).group(1)
    sources = text.split("\nsources:\n", 1)[1]
    fd = Focald(BUILD, sources, defaults_yaml=defaults, workdir=CITY, dev_no_auth=dev)
    # a top-level section after sources: (the harness writes server, defaults, sources)
    with open(fd.config, "a", encoding="utf-8") as f:
        f.write("\nweb:\n  root: %s\n  idle_lock_minutes: 1\n" % WEBROOT)
    return fd


def raw_get(fd, path, method="GET", headers=""):
    """Sends the request line exactly as given (http.client would refuse a NUL)."""
    ctx = ssl.create_default_context(cafile=fd.cert)
    with socket.create_connection(("127.0.0.1", fd.port), timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
            t.sendall(b"%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s\r\n" %
                      (method.encode(), path, headers.encode()))
            data = b""
            while True:
                chunk = t.recv(65536)
                if not chunk:
                    break
                data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
    return status, head.decode("latin-1"), body


def test_setup():
    subprocess.run([sys.executable, os.path.join(ROOT, "demo", "generate.py"), "--out", CITY,
                    "--scale", "0.2", "--seed", "1"], check=True, stdout=subprocess.DEVNULL, timeout=120)
    make_webroot()
    fd = city_focald()
    fd.start()
    STATE["fd"] = fd


def need_fd():
    if "fd" not in STATE:
        raise AssertionError("focald did not start (see test_setup)")
    return STATE["fd"]


def test_types_csp_cache():
    fd = need_fd()
    for path, ctype in (("/", "text/html; charset=utf-8"), ("/admin/", "text/html; charset=utf-8"),
                        ("/oversight/", "text/html; charset=utf-8"), ("/css/app.css", "text/css; charset=utf-8"),
                        ("/js/officer.js", "text/javascript; charset=utf-8"), ("/icon.svg", "image/svg+xml")):
        status, headers, body = fd.request("GET", path)
        check(status == 200, "%s: %d" % (path, status))
        check(headers.get("Content-Type") == ctype, "%s: Content-Type %s" % (path, headers.get("Content-Type")))
        check(headers.get("Content-Security-Policy") == CSP, "%s: CSP %s" % (path, headers.get("Content-Security-Policy")))
        check(headers.get("X-Content-Type-Options") == "nosniff", path + ": no nosniff")
        check(headers.get("X-Frame-Options") == "DENY", path + ": framable")
        if ctype.startswith("text/html"):
            check(headers.get("Cache-Control") == "no-store", path + ": page not no-store")
            check(b"<script" not in body or b'<script type="module" src="/js/' in body, path + ": inline script")
            check(b"style=" not in body and b"<style" not in body, path + ": inline style")
            check(b"http://" not in body and b"https://" not in body, path + ": a third-party origin")
        else:
            check(headers.get("Cache-Control") == "no-cache" and headers.get("ETag"), path + ": no revalidation")
    status, headers, _ = fd.request("GET", "/css/app.css")
    status2, _, body2 = fd.request("GET", "/css/app.css", headers={"If-None-Match": headers["ETag"]})
    check(status2 == 304 and body2 == b"", "unchanged ETag: %d" % status2)
    status, headers, _ = fd.request("GET", "/v1/web/settings")
    check(status == 200 and headers.get("Cache-Control") == "no-store", "API data not no-store")
    check(headers.get("Content-Security-Policy") == "default-src 'none'; frame-ancestors 'none'",
          "API CSP changed: %s" % headers.get("Content-Security-Policy"))
    status, head, body = raw_get(fd, b"/", "HEAD")
    check(status == 200 and body == b"", "HEAD /: %d, %d bytes" % (status, len(body)))
    status, _, _ = fd.request("POST", "/", body={"x": 1})
    check(status == 405, "POST /: %d" % status)
    status, headers, body = fd.request("GET", "/v1/no-such-endpoint")
    check(status == 404 and headers.get("Content-Type") == "application/json", "unknown API path: %d" % status)
    status, headers, _ = fd.request("GET", "/admin")
    check(status == 301 and headers.get("Location") == "/admin/", "/admin: %d %s" % (status, headers.get("Location")))


def test_traversal_refused():
    fd = need_fd()
    attacks = [b"/../outside.txt", b"/%2e%2e/outside.txt", b"/%2E%2E%2Foutside.txt", b"/..%2foutside.txt",
               b"/js/../../outside.txt", b"/js/%2e%2e/%2e%2e/outside.txt", b"/%252e%252e/outside.txt",
               b"/link.txt", b"/linkdir/secret.txt", b"/linkdir/", b"/.hidden.txt", b"/notes.md",
               b"/index.html%00.js", b"/index.html\x00.js", b"//etc/passwd", b"/..", b"/%00",
               b"/" + b"../" * 20 + b"etc/passwd", b"/js/../index.html", b"/index.html/", b"/./index.html",
               b"/css//app.css", b"/CSS/APP.CSS", b"/js/officer.js?../../outside.txt#x"]
    for a in attacks:
        status, head, body = raw_get(fd, a)
        check(MARKER.encode() not in body and b"root:" not in body, "%r leaked a file" % a)
        if a.startswith(b"/js/officer.js?"):
            # the query string is not part of the file name: the file itself, nothing else
            check(status == 200 and b"import" in body, "%r: %d" % (a, status))
            continue
        check(status in (400, 404), "%r answered %d" % (a, status))


def test_reload_picks_up_changes():
    fd = need_fd()
    status, _, body = fd.request("GET", "/reload.txt")
    check(status == 200 and body == b"before", "reload.txt: %d %r" % (status, body))
    with open(os.path.join(WEBROOT, "reload.txt"), "w") as f:
        f.write("after")
    fd.signal(signal.SIGHUP)
    deadline = time.time() + 10
    while time.time() < deadline:
        status, _, body = fd.request("GET", "/reload.txt")
        if body == b"after":
            return
        time.sleep(0.1)
    raise AssertionError("SIGHUP did not reload the web root")


def test_admin_sources():
    fd = need_fd()
    status, headers, body = fd.request("GET", "/v1/admin/sources")
    doc = json.loads(body)
    check(status == 200 and len(doc["sources"]) >= 5, "admin sources: %d" % status)
    s = doc["sources"][0]
    for k in ("name", "kind", "owner", "classification", "circuit_open", "calls", "latency_p95_ms"):
        check(k in s, "admin sources: no %s" % k)
    check(headers.get("Cache-Control") == "no-store", "admin sources cacheable")
    # without a principal (no development mode, no login) it is refused
    fd2 = Focald(BUILD, "  []\n", dev_no_auth=False)
    with open(fd2.config, "a", encoding="utf-8") as f:
        f.write("web:\n  root: %s\n" % WEBROOT)
    fd2.start()
    try:
        status, _, _ = fd2.request("GET", "/v1/admin/sources")
        check(status == 401, "admin sources without a principal: %d" % status)
        status, _, _ = fd2.request("GET", "/")
        check(status == 200, "the app shell itself is public: %d" % status)
    finally:
        check(fd2.stop() == 0, "second focald did not stop cleanly")


def check_config_error(yaml_web, pattern):
    d = tempfile.mkdtemp(dir=TMP)
    cert = os.path.join(CITY, "tls")
    with open(os.path.join(d, "focal.yaml"), "w") as f:
        f.write("server:\n  listen: 127.0.0.1\n  port: 1\n  tls_cert: %s/cert.pem\n  tls_key: %s/key.pem\n"
                "sources: []\n%s" % (cert, cert, yaml_web))
    r = subprocess.run([os.path.join(BUILD, "focald"), "--check", "-c", os.path.join(d, "focal.yaml")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    out = r.stdout.decode("utf-8", "replace")
    check(r.returncode != 0, "accepted: " + yaml_web)
    check(re.search(pattern, out), "message %r does not match %r" % (out.strip()[-300:], pattern))


def test_config_errors():
    empty = os.path.join(TMP, "empty-root")
    os.makedirs(empty)
    big = os.path.join(TMP, "big-root")
    os.makedirs(big)
    with open(os.path.join(big, "index.html"), "w") as f:
        f.write("<!doctype html>")
    with open(os.path.join(big, "huge.js"), "wb") as f:
        f.write(b"x" * (3 * 1024 * 1024))
    check_config_error("web:\n  root: /nonexistent/web\n", r"focal\.yaml:\d+:\d+: root: cannot open")
    check_config_error("web:\n  root: %s\n" % empty, r"focal\.yaml:\d+:\d+: .*no index\.html")
    check_config_error("web:\n  root: %s\n" % big, r"focal\.yaml:\d+:\d+: .*huge\.js is larger")
    check_config_error("web:\n  root: %s\n  idle_lock_minute: 3\n" % WEBROOT, r"focal\.yaml:\d+:\d+: .*idle_lock_minute")
    check_config_error("web:\n  root: %s\n  idle_lock_minutes: 0\n" % WEBROOT, r"focal\.yaml:\d+:\d+: .*idle_lock_minutes")


def npm_ci():
    lock = os.path.join(NODE_DIR, "package-lock.json")
    stamp = os.path.join(NODE_DIR, "node_modules", ".package-lock.json")
    if os.path.exists(stamp) and os.path.getmtime(stamp) >= os.path.getmtime(lock):
        return
    if shutil.which("npm") is None:
        raise AssertionError("npm is not installed (scripts/deps.sh --test installs it)")
    r = subprocess.run(["npm", "ci", "--prefer-offline", "--no-audit", "--no-fund"], cwd=NODE_DIR,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    if r.returncode != 0:
        raise AssertionError("npm ci failed: " + r.stdout.decode("utf-8", "replace")[-800:])


def run_node(fd, mode, extra_env, min_passed):
    npm_ci()
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not os.path.exists(chromium):
        raise AssertionError("chromium is not installed (scripts/deps.sh --test installs it)")
    env = dict(os.environ, FOCAL_URL="https://127.0.0.1:%d" % fd.port, FOCAL_SHOTS=SHOTS,
               FOCAL_PLATE="1-ABC-123", FOCAL_MODE=mode, CHROMIUM=chromium, **extra_env)
    proc = subprocess.Popen(["node", os.path.join(NODE_DIR, "run.js")], cwd=NODE_DIR, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=600)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise AssertionError("the browser tests took more than 10 minutes")
    text = out.decode("utf-8", "replace")
    for line in text.splitlines():
        print("    | " + line, flush=True)
        m = re.match(r"(PASS|FAIL|SKIP) ", line)
        if m:
            STATE.setdefault("node", []).append(m.group(1))
    last = re.search(r"web: (\d+) passed, (\d+) failed, (\d+) skipped", text)
    check(last is not None, "run.js did not finish")
    check(int(last.group(2)) == 0, "%s browser test(s) failed" % last.group(2))
    check(int(last.group(1)) >= min_passed, "only %s browser tests passed" % last.group(1))


def test_browser():
    """tests/web/run.js; its own PASS/FAIL/SKIP lines are counted too."""
    shutil.rmtree(SHOTS, ignore_errors=True)
    run_node(need_fd(), "dev", {}, min_passed=11)


USERS = {"main": ("web-officer", "Correct-Horse-Battery-9", ["officer", "admin", "auditor"], "strictly_confidential"),
         "low": ("web-low", "Another-Long-Passphrase-7", ["officer"], "restricted")}


def strictly_confidential_values(fd):
    """Values of the plate search that only strictly confidential sources give:
    what a user cleared for `restricted` must never receive."""
    with open(fd.config, encoding="utf-8") as f:
        cfg = f.read()
    secret = set(re.findall(r"(?m)^  - name: (\S+)\n(?:    .*\n)*?    classification: strictly_confidential", cfg))
    status, doc = fd.search({"q": "1-ABC-123"})
    check(status == 200, "dev search: %d" % status)
    seen_elsewhere, found = set(), set()
    for rec in doc.get("records", []) + doc.get("alerts", []):
        for v in rec.get("fields", {}).values():
            (found if rec.get("source") in secret else seen_elsewhere).add(v)
    return sorted(v for v in found - seen_elsewhere if len(v) >= 8)


def provision_users(fd):
    """Creates the test users through the admin contract (POST /v1/admin/users as
    the development principal).  Returns run.js's environment for FOCAL_MODE=auth,
    or raises AssertionError saying what to adapt once the identity module is merged."""
    env = {}
    for who, (user, password, roles, clearance) in USERS.items():
        status, _, body = fd.request("POST", "/v1/admin/users", {
            "username": user, "name": "Web test " + who, "unit": "TEST", "roles": roles,
            "clearance": clearance, "password": password})
        check(status in (200, 201, 409), "provision_users: POST /v1/admin/users answered %d %r "
              "(adapt provision_users() to the identity module)" % (status, body[:200]))
        key = "FOCAL_USER" if who == "main" else "FOCAL_LOW_USER"
        env[key] = user
        env[key.replace("USER", "PASSWORD")] = password
    env["FOCAL_FORBIDDEN"] = json.dumps(strictly_confidential_values(fd))
    return env


def test_browser_with_login():
    """run.js again, against a focald WITHOUT --dev-insecure-no-auth, logging in
    with password and TOTP (first login enrols from the otpauth URI)."""
    fd = need_fd()
    env = provision_users(fd)
    fd.stop()
    del STATE["fd"]
    fd2 = city_focald(dev=False)
    fd2.start()
    STATE["fd"] = fd2
    run_node(fd2, "auth", env, min_passed=12)


def main():
    r = Runner()
    try:
        for t in (test_setup, test_types_csp_cache, test_traversal_refused, test_reload_picks_up_changes,
                  test_admin_sources, test_config_errors, test_browser):
            r.run(t)
        # not a harness Skip: run.sh counts those as failures, and a branch
        # without the identity module is not a missing server
        if "fd" in STATE and STATE["fd"].request("POST", "/v1/auth/login", {
                "username": "x", "password": "x", "totp": "000000"})[0] == 404:
            print("SKIP test_browser_with_login: POST /v1/auth/login answers 404: no identity module "
                  "on this branch", flush=True)
        else:
            r.run(test_browser_with_login)
    finally:
        if "fd" in STATE:
            try:
                rc = STATE["fd"].stop()
                if rc != 0:
                    print("FAIL focald exit code %d" % rc)
                    r.failed += 1
            except AssertionError as e:
                print("FAIL focald stop: %s" % e)
                r.failed += 1
        shutil.rmtree(TMP, ignore_errors=True)
    # each browser test counts on its own (skips are reported, not counted)
    node = STATE.get("node", [])
    passed = r.passed + node.count("PASS")
    failed = r.failed + node.count("FAIL")
    print("system: %d passed, %d failed" % (passed, failed), flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
