#!/usr/bin/env python3
"""System tests of single sign-on and federated identity (issue 4, points 6-8).

1. focald as an OpenID Connect provider, proven with a real relying party:
   Apache httpd + mod_auth_openidc (Debian packages) on 127.0.0.1, a browser
   emulated with http.client and a cookie jar: protected page -> focald's
   authorize -> sign-in form (password + TOTP computed here, RFC 6238) -> back
   to Apache -> the protected page shows the claims.
2. Attacks on the provider: redirect_uri not registered exactly (prefix,
   other port, extra path, query, fragment, userinfo trick) -> error page and
   never a redirect; missing or wrong PKCE; replayed code (fails, and the
   access token it bought is revoked); code of another client; wrong client
   secret; ID token used as access token; forged tokens at userinfo; login
   form posted without its cookie (login CSRF).
3. Interop: python3-jwcrypto verifies focald's ID token against its JWKS.
4. Federation: bearer tokens of a trusted test IdP (JWKS served over HTTPS
   and fetched by focald with libcurl) are accepted on /v1/search; forged,
   expired, wrong-audience, unknown-issuer and unmapped ones are refused.

Keys are made with openssl at run time; nothing secret is committed.
Usage: python3 tests/system/test_oidc.py build-asan
"""

import base64
import hashlib
import hmac
import html.parser
import http.client
import http.cookiejar
import http.server
import json
import os
import re
import secrets
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ROOT, Focald, Runner, Skip, check, free_port, totp  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
PW = "correct horse battery staple 42"
APACHE = "/usr/sbin/apache2"
MODULES = "/usr/lib/apache2/modules"
FED_ISS = "https://idp.federal.test"
PUBLIC_REDIRECT = "https://app.police.test/cb"

SOURCE = """  - name: rijksregister
    kind: sqlite
    owner: Rijksregister
    classification: restricted
    connection: {path: %s}
    queries:
      person: SELECT 'x' AS achternaam WHERE :family_name = 'Peeters'
    map:
      person: {family_name: achternaam}
"""


# --- small helpers -----------------------------------------------------------

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jwt_parts(token):
    h, p, _ = token.split(".")
    return json.loads(b64url_decode(h)), json.loads(b64url_decode(p))


def pkce():
    verifier = b64url(secrets.token_bytes(32))
    return verifier, b64url(hashlib.sha256(verifier.encode()).digest())


def ec_key(path):
    subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout",
                    "-out", path], check=True, capture_output=True)
    os.chmod(path, 0o600)


def ec_public_jwk(path, kid):
    der = subprocess.run(["openssl", "ec", "-in", path, "-pubout", "-outform", "DER"],
                         check=True, capture_output=True).stdout
    point = der[-65:]  # SubjectPublicKeyInfo of P-256 ends with 04 || X || Y
    check(point[0] == 4, "uncompressed point expected")
    return {"kty": "EC", "crv": "P-256", "x": b64url(point[1:33]), "y": b64url(point[33:]),
            "kid": kid, "use": "sig", "alg": "ES256"}


def es256_sign(key_path, header, claims):
    """A compact JWS signed by openssl (DER ECDSA converted to r||s)."""
    signing_input = (b64url(json.dumps(header).encode()) + "." +
                     b64url(json.dumps(claims).encode())).encode()
    der = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key_path], input=signing_input,
                         check=True, capture_output=True).stdout
    # SEQUENCE { INTEGER r, INTEGER s }
    i = 2 if der[1] < 0x80 else 3
    out = b""
    for _ in range(2):
        check(der[i] == 2, "DER INTEGER expected")
        n = der[i + 1]
        out += der[i + 2:i + 2 + n].lstrip(b"\0").rjust(32, b"\0")
        i += 2 + n
    return signing_input.decode() + "." + b64url(out)


def hs256_sign(key, header, claims):
    signing_input = (b64url(json.dumps(header).encode()) + "." +
                     b64url(json.dumps(claims).encode())).encode()
    return signing_input.decode() + "." + b64url(hmac.new(key, signing_input,
                                                          hashlib.sha256).digest())


class Form(html.parser.HTMLParser):
    """The inputs of the sign-in form."""

    def __init__(self):
        super().__init__()
        self.action, self.inputs, self.scripts = None, {}, 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.action = a.get("action")
        elif tag == "input":
            self.inputs[a.get("name")] = a.get("value", "")
        elif tag == "script" or any(k.startswith("on") for k in a):
            self.scripts += 1


class Browser:
    """http.client with a cookie jar; redirects are followed by the caller."""

    def __init__(self, cafile):
        self.jar = http.cookiejar.CookieJar()
        self.ctx = ssl.create_default_context(cafile=cafile)

    def fetch(self, method, url, body=None, headers=None):
        h = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8",  # a browser navigating
             "User-Agent": "focal-test-browser"}
        h.update(headers or {})
        req = urllib.request.Request(url, data=body, method=method, headers=h)
        self.jar.add_cookie_header(req)
        u = urllib.parse.urlsplit(url)
        if u.scheme == "https":
            conn = http.client.HTTPSConnection(u.hostname, u.port, context=self.ctx, timeout=30)
        else:
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        try:
            conn.request(method, u.path + ("?" + u.query if u.query else ""), body=body,
                         headers=dict(req.header_items()))
            resp = conn.getresponse()
            data = resp.read()
            self.jar.extract_cookies(resp, req)
            return resp.status, resp.headers, data
        finally:
            conn.close()

    def follow(self, url, limit=10):
        """GETs url and follows redirects; returns (status, headers, body, url)."""
        for _ in range(limit):
            status, headers, data = self.fetch("GET", url)
            if status not in (301, 302, 303, 307):
                return status, headers, data, url
            url = urllib.parse.urljoin(url, headers["Location"])
        raise AssertionError("too many redirects")


# --- the test IdP's JWKS server ------------------------------------------------

class JwksServer:
    """HTTPS on 127.0.0.1 serving one JWKS document that tests can replace."""

    def __init__(self, cert, key):
        self.doc = b"{}"
        self.hits = 0
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                outer.hits += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(outer.doc)))
                self.end_headers()
                self.wfile.write(outer.doc)

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


# --- Apache with mod_auth_openidc --------------------------------------------

CGI = """#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
echo "REMOTE_USER=$REMOTE_USER"
env | grep '^OIDC_CLAIM_' | sort
"""


class Apache:
    def __init__(self, focald_port, cafile, client_secret):
        # its own folder, readable by the unprivileged children (www-data)
        self.dir = tempfile.mkdtemp(prefix="focal-rp-")
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        for d in ("htdocs", "cgi", "run"):
            os.makedirs(os.path.join(self.dir, d))
            os.chmod(os.path.join(self.dir, d), 0o755)
        shutil.copy(cafile, os.path.join(self.dir, "ca.pem"))
        os.chmod(os.path.join(self.dir, "ca.pem"), 0o644)
        cgi = os.path.join(self.dir, "cgi", "claims.cgi")
        with open(cgi, "w") as f:
            f.write(CGI)
        os.chmod(cgi, 0o755)
        self.redirect_uri = "http://127.0.0.1:%d/protected/redirect_uri" % self.port
        run_as = "User www-data\nGroup www-data\n" if os.geteuid() == 0 else ""
        conf = """ServerRoot {d}
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile {d}/run/httpd.pid
DefaultRuntimeDir {d}/run
ErrorLog {d}/error.log
LogLevel warn auth_openidc:info
{run_as}
LoadModule mpm_prefork_module {m}/mod_mpm_prefork.so
LoadModule authn_core_module {m}/mod_authn_core.so
LoadModule authz_core_module {m}/mod_authz_core.so
LoadModule authz_user_module {m}/mod_authz_user.so
LoadModule alias_module {m}/mod_alias.so
LoadModule cgi_module {m}/mod_cgi.so
LoadModule auth_openidc_module {m}/mod_auth_openidc.so
StartServers 2
DocumentRoot {d}/htdocs
OIDCProviderMetadataURL https://127.0.0.1:{fport}/.well-known/openid-configuration
OIDCCABundlePath {d}/ca.pem
OIDCSSLValidateServer On
OIDCClientID apache-rp
OIDCClientSecret {secret}
OIDCRedirectURI {redirect}
OIDCCryptoPassphrase {crypto}
OIDCScope "openid profile"
OIDCPKCEMethod S256
OIDCRemoteUserClaim sub
ScriptAlias /protected/claims {d}/cgi/claims.cgi
<Location /protected>
  AuthType openid-connect
  Require valid-user
</Location>
""".format(d=self.dir, port=self.port, m=MODULES, fport=focald_port, secret=client_secret,
           redirect=self.redirect_uri, crypto=secrets.token_hex(16), run_as=run_as)
        self.conf = os.path.join(self.dir, "httpd.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.proc = None

    def start(self):
        self.log = open(os.path.join(self.dir, "stdout.log"), "wb")
        self.proc = subprocess.Popen([APACHE, "-d", self.dir, "-f", self.conf, "-DFOREGROUND"],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL,
                                     # its own process group: at shutdown apache sends
                                     # SIGTERM to its whole group
                                     start_new_session=True)
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("apache exited: " + self.error_log())
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/")
                c.getresponse().read()
                c.close()
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("apache did not start: " + self.error_log())

    def error_log(self):
        out = ""
        for name in ("stdout.log", "error.log"):
            try:
                with open(os.path.join(self.dir, name)) as f:
                    out += f.read()[-3000:]
            except OSError:
                pass
        return out

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


# --- the deployment under test ------------------------------------------------

class Sso:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="focal-sso-")
        keys = os.path.join(self.dir, "keys")
        os.makedirs(keys)
        ec_key(os.path.join(keys, "old.pem"))
        ec_key(os.path.join(keys, "new.pem"))
        self.idp_key = os.path.join(keys, "idp.pem")
        self.idp_key2 = os.path.join(keys, "idp2.pem")
        self.evil_key = os.path.join(keys, "evil.pem")
        for k in (self.idp_key, self.idp_key2, self.evil_key):
            ec_key(k)
        self.rp_secret = secrets.token_urlsafe(32)
        port = free_port()
        self.issuer = "https://127.0.0.1:%d" % port
        db = os.path.join(self.dir, "src.db")
        import sqlite3
        sqlite3.connect(db).close()
        # the focald object makes the TLS certificate the JWKS server also uses
        self.f = Focald(BUILD, SOURCE % db, dev_no_auth=False, workdir=self.dir)
        self.f.port = port
        self.jwks = JwksServer(self.f.cert, self.f.key)
        self.jwks.doc = json.dumps({"keys": [ec_public_jwk(self.idp_key, "idp-1")]}).encode()
        self.jwks.start()
        self.apache = Apache(port, self.f.cert, self.rp_secret)
        extra = """auth:
  argon2_memory_kib: 19456
  argon2_ops: 2
oidc:
  issuer: {iss}
  signing_keys:
    - {{ file: keys/old.pem, kid: k-old }}
    - {{ file: keys/new.pem, kid: k-new, active: true }}
  clients:
    - client_id: apache-rp
      name: Test intranet (Apache)
      secret_sha256: {sha}
      redirect_uris: ["{rp}"]
      scopes: [openid, profile]
    - client_id: app
      name: Public test app
      public: true
      redirect_uris: ["{pub}", "https://app.police.test/cb?x=1"]
  trusted_issuers:
    - issuer: {fed}
      audience: focal
      jwks_url: https://127.0.0.1:{jp}/jwks.json
      ca_file: tls/cert.pem
      algorithms: [ES256]
      name_claim: name
      unit_claim: unit
      clearance: restricted
      role_mappings:
        - {{ claim: groups, value: federal-patrol, role: officer }}
""".format(iss=self.issuer, sha=hashlib.sha256(self.rp_secret.encode()).hexdigest(),
           rp=self.apache.redirect_uri, pub=PUBLIC_REDIRECT, fed=FED_ISS, jp=self.jwks.port)
        self.f.server_extra = extra
        self.f.write_config(SOURCE % db)
        self.f.start()
        self.secret = self.user("olivia")
        self.browser = Browser(self.f.cert)
        self.logged_in = False

    def user(self, name):
        r = subprocess.run([os.path.join(BUILD, "focal"), "user", "--config", self.f.config,
                            "add", name, "--name", "Olivia Officer", "--unit", "ANT-PATROL-3",
                            "--roles", "officer", "--clearance", "restricted",
                            "--password-file", "-", "--totp"],
                           input=PW + "\n", capture_output=True, text=True, timeout=60)
        check(r.returncode == 0, "focal user add: " + r.stderr + r.stdout)
        return re.search(r"secret=([A-Z2-7]+)", r.stdout).group(1)

    def url(self, path):
        return self.issuer + path

    def stop(self):
        errors = []
        try:
            self.apache.stop()
        except Exception as e:  # keep stopping the others
            errors.append(e)
        self.jwks.stop()
        rc = self.f.stop()
        if rc == 0 and not errors:  # keep the folder (logs) only when something failed
            shutil.rmtree(self.dir, ignore_errors=True)
        if errors:
            raise errors[0]
        check(rc == 0, "focald exit code %s" % rc)


def authorize_url(sso, **params):
    p = {"client_id": "app", "redirect_uri": PUBLIC_REDIRECT, "response_type": "code",
         "scope": "openid", "state": "st-" + secrets.token_hex(4),
         "nonce": "n-" + secrets.token_hex(4)}
    p.update(params)
    p = {k: v for k, v in p.items() if v is not None}
    return sso.url("/oidc/authorize?" + urllib.parse.urlencode(p))


def sign_in(sso, browser, login_page_url):
    """Fills the sign-in form at login_page_url; returns the redirect Location."""
    status, headers, body = browser.fetch("GET", login_page_url)
    check(status == 200, "sign-in page: %d %s" % (status, body[:300]))
    form = Form()
    form.feed(body.decode())
    check(form.action == "/oidc/login" and "txn" in form.inputs, "no sign-in form")
    # a fresh 30-s step: a TOTP code is accepted only once
    code = totp(sso.secret)
    if getattr(sso, "last_code", None) == code:
        time.sleep(31 - time.time() % 30)
        code = totp(sso.secret)
    sso.last_code = code
    fields = urllib.parse.urlencode({"txn": form.inputs["txn"], "username": "olivia",
                                     "password": PW, "totp": code}).encode()
    status, headers, body = browser.fetch(
        "POST", sso.url("/oidc/login"), fields,
        {"Content-Type": "application/x-www-form-urlencoded"})
    check(status == 303, "sign-in: %d %s" % (status, body[:300]))
    return headers["Location"]


def code_for(sso, **params):
    """A code for the public client, through the browser's existing session."""
    verifier, challenge = pkce()
    url = authorize_url(sso, code_challenge=challenge, code_challenge_method="S256", **params)
    status, headers, body = sso.browser.fetch("GET", url)
    check(status == 302, "authorize with a session: %d %s" % (status, body[:200]))
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(headers["Location"]).query)
    check("code" in q, "no code: " + headers["Location"])
    return q["code"][0], verifier


def token(sso, body, headers=None):
    h = {"Content-Type": "application/x-www-form-urlencoded"}
    h.update(headers or {})
    status, _, data = sso.f.request("POST", "/oidc/token", urllib.parse.urlencode(body), h)
    return status, json.loads(data)


def exchange(sso, code, verifier, redirect=PUBLIC_REDIRECT):
    return token(sso, {"grant_type": "authorization_code", "code": code, "client_id": "app",
                       "redirect_uri": redirect, "code_verifier": verifier})


def userinfo(sso, access):
    status, headers, data = sso.f.request("GET", "/oidc/userinfo",
                                          headers={"Authorization": "Bearer " + access})
    return status, data


# --- tests ---------------------------------------------------------------------

def test_discovery_and_jwks(sso):
    status, _, data = sso.f.request("GET", "/.well-known/openid-configuration")
    check(status == 200, "discovery %d" % status)
    d = json.loads(data)
    check(d["issuer"] == sso.issuer, d)
    check(d["authorization_endpoint"] == sso.issuer + "/oidc/authorize", d)
    check(d["code_challenge_methods_supported"] == ["S256"], d)
    check(d["id_token_signing_alg_values_supported"] == ["ES256"], d)
    status, _, data = sso.f.request("GET", "/oidc/jwks")
    keys = json.loads(data)["keys"]
    check(sorted(k["kid"] for k in keys) == ["k-new", "k-old"], keys)
    for k in keys:
        check(k["kty"] == "EC" and k["crv"] == "P-256" and "d" not in k, k)


def test_apache_mod_auth_openidc_login(sso):
    """The real relying party: Apache + mod_auth_openidc, password + TOTP."""
    sso.apache.start()
    b = sso.browser
    start = "http://127.0.0.1:%d/protected/claims" % sso.apache.port
    status, headers, body = b.fetch("GET", start)
    check(status == 302, "apache should redirect to focald: %d %s %s" %
          (status, body[:200], sso.apache.error_log()))
    loc = headers["Location"]
    check(loc.startswith(sso.issuer + "/oidc/authorize?"), loc)
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query)
    check(q["code_challenge_method"] == ["S256"] and "nonce" in q and "state" in q, q)
    # the sign-in page: strict CSP, no script at all
    status, headers, body = b.fetch("GET", loc)
    csp = headers.get("Content-Security-Policy", "")
    check("default-src 'none'" in csp and "script-src" not in csp and "unsafe" not in csp, csp)
    check("frame-ancestors 'none'" in csp, csp)
    # after the form, the browser may go to focald and the client's redirect_uri only
    check("form-action 'self' " + sso.apache.redirect_uri + ";" in csp, csp)
    form = Form()
    form.feed(body.decode())
    check(form.scripts == 0, "the sign-in page has script")
    back = sign_in(sso, b, loc)
    check(back.startswith(sso.apache.redirect_uri + "?"), back)
    bq = urllib.parse.parse_qs(urllib.parse.urlsplit(back).query)
    check(bq["state"] == q["state"] and bq["iss"] == [sso.issuer], bq)
    status, headers, body, url = b.follow(back)
    text = body.decode(errors="replace")
    check(status == 200, "protected page: %d %s\n%s" % (status, text[:500],
                                                        sso.apache.error_log()))
    check("REMOTE_USER=olivia" in text, text)
    check("OIDC_CLAIM_name=Olivia Officer" in text, text)
    check("OIDC_CLAIM_unit=ANT-PATROL-3" in text, text)
    check("OIDC_CLAIM_roles=officer" in text, text)
    check("OIDC_CLAIM_amr=pwd,otp" in text, text)
    check("OIDC_CLAIM_iss=" + sso.issuer in text, text)
    sso.logged_in = True


def need_session(sso):
    if not sso.logged_in:
        # the Apache test did not get there: sign in through the public client
        verifier, challenge = pkce()
        sign_in(sso, sso.browser, authorize_url(sso, code_challenge=challenge,
                                                code_challenge_method="S256"))
        sso.logged_in = True


def test_redirect_uri_must_match_exactly(sso):
    _, challenge = pkce()
    bad = [PUBLIC_REDIRECT + "x", PUBLIC_REDIRECT + "/../evil", PUBLIC_REDIRECT + "/extra",
           PUBLIC_REDIRECT + "?next=https://evil.test", PUBLIC_REDIRECT + "#frag",
           "https://app.police.test:8443/cb", "https://app.police.test.evil.test/cb",
           "https://app.police.test@evil.test/cb", "https://APP.police.test/cb",
           "http://app.police.test/cb", "https://app.police.test/cb?x=2",
           "https://app.police.test/CB", "https://evil.test/cb", "", None]
    for r in bad:
        status, headers, body = sso.browser.fetch(
            "GET", authorize_url(sso, redirect_uri=r, code_challenge=challenge,
                                 code_challenge_method="S256"))
        check(status == 400 and "Location" not in headers,
              "redirect_uri %r: %d %s" % (r, status, headers.get("Location")))
    # unknown client, duplicated parameters: also no redirect
    for url in (authorize_url(sso, client_id="nobody", code_challenge=challenge,
                              code_challenge_method="S256"),
                authorize_url(sso, code_challenge=challenge, code_challenge_method="S256")
                + "&redirect_uri=" + urllib.parse.quote("https://evil.test/cb")):
        status, headers, _ = sso.browser.fetch("GET", url)
        check(status == 400 and "Location" not in headers, "%s: %d" % (url, status))
    # the registered URI with its own query string works, and keeps it
    need_session(sso)
    code, _ = code_for(sso, redirect_uri="https://app.police.test/cb?x=1")


def test_pkce_is_required(sso):
    for params in ({}, {"code_challenge": pkce()[1]},
                   {"code_challenge": pkce()[1], "code_challenge_method": "plain"},
                   {"code_challenge": "short", "code_challenge_method": "S256"}):
        status, headers, _ = sso.browser.fetch("GET", authorize_url(sso, **params))
        check(status == 302, "no PKCE: %d" % status)
        loc = headers["Location"]
        check(loc.startswith(PUBLIC_REDIRECT + "?") and "error=invalid_request" in loc and
              "code=" not in loc, loc)
    status, headers, _ = sso.browser.fetch(
        "GET", authorize_url(sso, response_type="token", code_challenge=pkce()[1],
                             code_challenge_method="S256"))
    check("error=unsupported_response_type" in headers.get("Location", ""), headers)
    status, headers, _ = sso.browser.fetch(
        "GET", authorize_url(sso, scope="openid admin", code_challenge=pkce()[1],
                             code_challenge_method="S256"))
    check("error=invalid_scope" in headers.get("Location", ""), headers)
    # no session and prompt=none: login_required, not a sign-in page
    fresh = Browser(sso.f.cert)
    status, headers, _ = fresh.fetch("GET", authorize_url(
        sso, prompt="none", code_challenge=pkce()[1], code_challenge_method="S256"))
    check(status == 302 and "error=login_required" in headers["Location"], headers)


def test_code_exchange_and_jwcrypto_interop(sso):
    need_session(sso)
    code, verifier = code_for(sso, nonce="nonce-42")
    status, doc = exchange(sso, code, verifier)
    check(status == 200, "exchange: %d %s" % (status, doc))
    check(doc["token_type"] == "Bearer" and doc["expires_in"] == 300, doc)
    h, c = jwt_parts(doc["id_token"])
    check(h["alg"] == "ES256" and h["kid"] == "k-new", h)
    check(c["iss"] == sso.issuer and c["aud"] == "app" and c["sub"] == "olivia", c)
    check(c["nonce"] == "nonce-42" and c["amr"] == ["pwd", "otp"], c)
    check(0 < c["exp"] - c["iat"] <= 300 and c["nbf"] <= time.time() + 1, c)
    check(c["roles"] == ["officer"] and c["unit"] == "ANT-PATROL-3", c)
    status, data = userinfo(sso, doc["access_token"])
    check(status == 200 and json.loads(data)["sub"] == "olivia", data)
    # an independent JOSE implementation verifies the signature with the JWKS
    _, _, jwks = sso.f.request("GET", "/oidc/jwks")
    script = ("import sys,json\nfrom jwcrypto import jwk, jwt\n"
              "ks = jwk.JWKSet.from_json(sys.argv[1])\n"
              "t = jwt.JWT(jwt=sys.argv[2], key=ks, algs=['ES256'])\n"
              "print(json.loads(t.claims)['sub'])\n")
    py = None
    for cand in (sys.executable, "/usr/bin/python3"):
        if subprocess.run([cand, "-c", "import jwcrypto"], capture_output=True).returncode == 0:
            py = cand
            break
    if py is None:
        raise Skip("python3-jwcrypto is not installed")
    r = subprocess.run([py, "-c", script, jwks.decode(), doc["id_token"]],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 0 and r.stdout.strip() == "olivia", "jwcrypto: " + r.stderr)
    # and rejects a modified payload
    parts = doc["id_token"].split(".")
    c["sub"] = "admin"
    forged = parts[0] + "." + b64url(json.dumps(c).encode()) + "." + parts[2]
    r = subprocess.run([py, "-c", script, jwks.decode(), forged], capture_output=True,
                       text=True, timeout=30)
    check(r.returncode != 0, "jwcrypto accepted a modified token")


def test_replayed_code_fails_and_revokes(sso):
    need_session(sso)
    code, verifier = code_for(sso)
    status, doc = exchange(sso, code, verifier)
    check(status == 200, doc)
    check(userinfo(sso, doc["access_token"])[0] == 200, "fresh access token refused")
    status, doc2 = exchange(sso, code, verifier)
    check(status == 400 and doc2["error"] == "invalid_grant", doc2)
    status, _ = userinfo(sso, doc["access_token"])
    check(status == 401, "the access token of a replayed code must be revoked: %d" % status)


def test_code_binding(sso):
    need_session(sso)
    # wrong verifier, then the right one: the code is spent by the first try
    code, verifier = code_for(sso)
    status, doc = exchange(sso, code, pkce()[0])
    check(status == 400 and doc["error"] == "invalid_grant", doc)
    status, doc = exchange(sso, code, verifier)
    check(status == 400, "a code must not survive a failed exchange")
    # missing verifier
    code, verifier = code_for(sso)
    status, doc = token(sso, {"grant_type": "authorization_code", "code": code,
                              "client_id": "app", "redirect_uri": PUBLIC_REDIRECT})
    check(status == 400 and doc["error"] == "invalid_grant", doc)
    # other redirect_uri at the token endpoint
    code, verifier = code_for(sso)
    status, doc = exchange(sso, code, verifier, redirect="https://app.police.test/cb?x=1")
    check(status == 400 and doc["error"] == "invalid_grant", doc)
    # a code issued to "app" redeemed by another (authenticated) client
    code, verifier = code_for(sso)
    status, doc = token(sso, {"grant_type": "authorization_code", "code": code,
                              "redirect_uri": PUBLIC_REDIRECT, "code_verifier": verifier},
                        {"Authorization": "Basic " + base64.b64encode(
                            ("apache-rp:" + sso.rp_secret).encode()).decode()})
    check(status == 400 and doc["error"] == "invalid_grant", doc)
    # client authentication
    for auth in ("apache-rp:wrong", "apache-rp:", "nobody:x"):
        status, doc = token(sso, {"grant_type": "authorization_code", "code": "x",
                                  "redirect_uri": PUBLIC_REDIRECT},
                            {"Authorization": "Basic " + base64.b64encode(
                                auth.encode()).decode()})
        check(status == 401 and doc["error"] == "invalid_client", "%s: %s" % (auth, doc))
    status, doc = token(sso, {"grant_type": "authorization_code", "code": "x",
                              "client_id": "apache-rp", "redirect_uri": PUBLIC_REDIRECT})
    check(status == 401, "a confidential client without its secret: %s" % doc)
    status, doc = token(sso, {"grant_type": "password", "client_id": "app",
                              "username": "olivia", "password": PW})
    check(status == 400 and doc["error"] == "unsupported_grant_type", doc)


def test_userinfo_refuses_forged_tokens(sso):
    need_session(sso)
    code, verifier = code_for(sso)
    status, doc = exchange(sso, code, verifier)
    check(status == 200, doc)
    at = doc["access_token"]
    h, c = jwt_parts(at)
    check(h["typ"] == "at+jwt", h)
    sig = at.split(".")[2]
    _, _, jwks = sso.f.request("GET", "/oidc/jwks")
    pub = json.dumps(json.loads(jwks)["keys"][0]).encode()
    forged = [
        doc["id_token"],                                             # ID token as access token
        b64url(json.dumps(dict(h, alg="none")).encode()) + "." +
        b64url(json.dumps(c).encode()) + ".",                         # alg none
        hs256_sign(pub, dict(h, alg="HS256"), c),                     # key confusion
        hs256_sign(jwks, dict(h, alg="HS256"), c),
        b64url(json.dumps(h).encode()) + "." +
        b64url(json.dumps(dict(c, sub="admin")).encode()) + "." + sig,  # modified payload
        es256_sign(sso.evil_key, h, c),                               # another key, same kid
        es256_sign(sso.evil_key, dict(h, kid="k-evil"), c),
        "not-a-token",
    ]
    for i, t in enumerate(forged):
        status, data = userinfo(sso, t)
        check(status == 401, "forgery %d accepted: %s" % (i, data))
    status, _, _ = sso.f.request("GET", "/oidc/userinfo")
    check(status == 401, "userinfo without a token")


def test_login_form_csrf_and_open_redirect(sso):
    fresh = Browser(sso.f.cert)
    _, challenge = pkce()
    status, headers, body = fresh.fetch("GET", authorize_url(
        sso, code_challenge=challenge, code_challenge_method="S256"))
    check(status == 200, status)
    form = Form()
    form.feed(body.decode())
    fields = urllib.parse.urlencode({"txn": form.inputs["txn"], "username": "olivia",
                                     "password": PW, "totp": "000000"}).encode()
    # posted from elsewhere: no txn cookie
    status, headers, body = sso.f.request("POST", "/oidc/login", fields,
                                          {"Content-Type": "application/x-www-form-urlencoded"})
    check(status == 403 and "Location" not in headers, "login CSRF: %d" % status)
    # a wrong password re-shows the form, with a generic message and no redirect
    status, headers, body = fresh.fetch("POST", sso.url("/oidc/login"), fields,
                                        {"Content-Type": "application/x-www-form-urlencoded"})
    check(status == 200 and b"invalid username, password or code" in body and
          "Location" not in headers, "wrong password: %d %s" % (status, body[:200]))


def test_prompt_login_and_max_age_ask_again(sso):
    need_session(sso)
    for params in ({"prompt": "login"}, {"max_age": "0"}):
        time.sleep(1.1 if "max_age" in params else 0)
        status, headers, body = sso.browser.fetch("GET", authorize_url(
            sso, code_challenge=pkce()[1], code_challenge_method="S256", **params))
        check(status == 200 and b'name="password"' in body,
              "%s must show the sign-in page: %d" % (params, status))


def test_disabled_user_loses_tokens(sso):
    """Runs last among the provider tests: it disables olivia."""
    need_session(sso)
    code, verifier = code_for(sso)
    status, doc = exchange(sso, code, verifier)
    check(status == 200, doc)
    pending, pverifier = code_for(sso)
    r = subprocess.run([os.path.join(BUILD, "focal"), "user", "--config", sso.f.config,
                        "disable", "olivia"], capture_output=True, text=True, timeout=60)
    t0 = time.time()
    check(r.returncode == 0, r.stderr)
    while userinfo(sso, doc["access_token"])[0] == 200:
        check(time.time() - t0 < 1.0, "access token alive 1 s after `focal user disable`")
        time.sleep(0.05)
    check(userinfo(sso, doc["access_token"])[0] == 401,
          "the access token of a disabled user still works")
    status, doc2 = exchange(sso, pending, pverifier)
    check(status == 400 and doc2["error"] == "invalid_grant",
          "a code of a disabled user was redeemed: %s" % doc2)
    status, _, body = sso.browser.fetch("GET", authorize_url(
        sso, code_challenge=pkce()[1], code_challenge_method="S256"))
    check(status == 200 and b'name="password"' in body, "the SSO session survived")


# --- federation ----------------------------------------------------------------

def fed_claims(**kw):
    now = int(time.time())
    c = {"iss": FED_ISS, "sub": "fed.agent7", "aud": "focal", "exp": now + 300, "iat": now,
         "nbf": now, "name": "Agent Seven", "unit": "FED-2", "groups": ["federal-patrol"],
         "amr": ["pwd", "otp"]}
    c.update(kw)
    return {k: v for k, v in c.items() if v is not None}


def fed_search(sso, tok):
    status, _, data = sso.f.request("POST", "/v1/search", {"q": "Peeters"},
                                    headers={"Authorization": "Bearer " + tok})
    return status, data


def test_federated_tokens(sso):
    hdr = {"alg": "ES256", "kid": "idp-1", "typ": "JWT"}
    status, data = fed_search(sso, es256_sign(sso.idp_key, hdr, fed_claims()))
    check(status == 200, "genuine federated token: %d %s" % (status, data[:300]))
    now = int(time.time())
    pub = json.dumps({"keys": [ec_public_jwk(sso.idp_key, "idp-1")]}).encode()
    bad = {
        "other key": es256_sign(sso.evil_key, hdr, fed_claims()),
        "alg none": b64url(json.dumps(dict(hdr, alg="none")).encode()) + "." +
        b64url(json.dumps(fed_claims()).encode()) + ".",
        "HS256 with the public JWKS": hs256_sign(pub, dict(hdr, alg="HS256"), fed_claims()),
        "expired": es256_sign(sso.idp_key, hdr, fed_claims(exp=now - 3600)),
        "not yet valid": es256_sign(sso.idp_key, hdr, fed_claims(nbf=now + 3600)),
        "wrong audience": es256_sign(sso.idp_key, hdr, fed_claims(aud="other")),
        "unknown issuer": es256_sign(sso.idp_key, hdr, fed_claims(iss="https://evil.test")),
        "unmapped user": es256_sign(sso.idp_key, hdr, fed_claims(groups=["traffic"])),
        "no expiry": es256_sign(sso.idp_key, hdr, fed_claims(exp=None)),
    }
    good = es256_sign(sso.idp_key, hdr, fed_claims())
    p = good.split(".")
    bad["modified payload"] = p[0] + "." + b64url(json.dumps(
        fed_claims(sub="someone.else")).encode()) + "." + p[2]
    for name, t in bad.items():
        status, data = fed_search(sso, t)
        check(status == 401, "%s accepted: %d %s" % (name, status, data[:200]))
    log = sso.f.read_log()
    check(log.count("auth.federation.denied") >= len(bad), "denials not audited")


def test_federated_key_rotation_via_url(sso):
    hdr = {"alg": "ES256", "kid": "idp-2", "typ": "JWT"}
    status, data = fed_search(sso, es256_sign(sso.idp_key, {"alg": "ES256", "kid": "idp-1"},
                                              fed_claims()))
    check(status == 200, "federated token before rotation: %d %s" % (status, data[:300]))
    hits = sso.jwks.hits
    sso.jwks.doc = json.dumps({"keys": [ec_public_jwk(sso.idp_key2, "idp-2")]}).encode()
    tok = es256_sign(sso.idp_key2, hdr, fed_claims())
    status, _ = fed_search(sso, tok)  # unknown kid: refused, and a refetch starts
    check(status == 401, "a kid not yet fetched must be refused")
    deadline = time.time() + 10
    while time.time() < deadline:
        status, _ = fed_search(sso, tok)
        if status == 200:
            break
        time.sleep(0.2)
    check(status == 200, "rotated key not picked up from the JWKS URL")
    check(sso.jwks.hits > hits, "JWKS not fetched again")


def main():
    if not os.path.exists(APACHE) or not os.path.exists(
            os.path.join(MODULES, "mod_auth_openidc.so")):
        print("SKIP apache2 / libapache2-mod-auth-openidc not installed")
        print("system: 0 passed, 0 failed")
        return 0
    r = Runner()
    sso = Sso()
    try:
        for t in (test_discovery_and_jwks, test_apache_mod_auth_openidc_login,
                  test_redirect_uri_must_match_exactly, test_pkce_is_required,
                  test_code_exchange_and_jwcrypto_interop, test_replayed_code_fails_and_revokes,
                  test_code_binding, test_userinfo_refuses_forged_tokens,
                  test_login_form_csrf_and_open_redirect,
                  test_prompt_login_and_max_age_ask_again, test_disabled_user_loses_tokens,
                  test_federated_tokens, test_federated_key_rotation_via_url):
            r.run(t, sso)
    finally:
        try:
            sso.stop()
        except Exception as e:
            r.failed += 1
            print("FAIL stop: %s" % e, flush=True)
    print("system: %d passed, %d failed" % (r.passed, r.failed))
    return 1 if r.failed else 0


if __name__ == "__main__":
    sys.exit(main())
