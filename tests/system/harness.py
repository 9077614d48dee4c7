"""Shared pieces of Focal's system tests: start focald on a generated
configuration, talk HTTPS to it, and stop it.  Python standard library only.

A system test exercises the real daemon binary end to end, against real
servers started by tests/run.sh (PostgreSQL, slapd, an HTTP JSON server) and
named in the environment.  Every process started here is stopped here.
"""

import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_cert(directory):
    os.makedirs(directory, exist_ok=True)
    subprocess.run([os.path.join(ROOT, "scripts", "devcert.sh"), directory], check=True)
    return os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")


class Focald:
    """One focald process on a free port with the given sources (YAML text)."""

    def __init__(self, build, sources_yaml, server_extra="", defaults_yaml="",
                 dev_no_auth=True, workdir=None):
        self.build = build
        self.dir = workdir or tempfile.mkdtemp(prefix="focal-sys-")
        self.port = free_port()
        self.cert, self.key = make_cert(os.path.join(self.dir, "tls"))
        self.config = os.path.join(self.dir, "focal.yaml")
        self.server_extra = server_extra
        self.defaults_yaml = defaults_yaml
        self.write_config(sources_yaml)
        self.log_path = os.path.join(self.dir, "focald.log")
        self.dev_no_auth = dev_no_auth
        self.proc = None

    def write_config(self, sources_yaml):
        text = ("server:\n  listen: 127.0.0.1\n  port: %d\n  tls_cert: tls/cert.pem\n"
                "  tls_key: tls/key.pem\n%s" % (self.port, self.server_extra))
        if self.defaults_yaml:
            text += "defaults:\n" + self.defaults_yaml
        text += "sources:\n" + sources_yaml
        with open(self.config, "w") as f:
            f.write(text)

    def start(self, expect_ok=True):
        args = [os.path.join(self.build, "focald"), "-c", self.config]
        if self.dev_no_auth:
            args.append("--dev-insecure-no-auth")
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        if not expect_ok:
            self.proc.wait(timeout=20)
            return self.proc.returncode
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("focald exited at start: " + self.read_log())
            try:
                status, _, _ = self.request("GET", "/healthz")
                if status == 200:
                    return 0
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError("focald did not answer /healthz")

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def ssl_context(self):
        ctx = ssl.create_default_context(cafile=self.cert)
        return ctx

    def connection(self, timeout=30):
        return http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ssl_context(),
                                           timeout=timeout)

    def request(self, method, path, body=None, headers=None, timeout=30):
        conn = self.connection(timeout)
        try:
            hdrs = dict(headers or {})
            if body is not None and not isinstance(body, (bytes, str)):
                body = json.dumps(body)
                hdrs.setdefault("Content-Type", "application/json")
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, dict(resp.getheaders()), data
        finally:
            conn.close()

    def search(self, body, timeout=30):
        status, headers, data = self.request("POST", "/v1/search", body, timeout=timeout)
        try:
            doc = json.loads(data)
        except ValueError:
            doc = None
        return status, doc

    def search_stream(self, body, timeout=30):
        """Returns the list of (event, data) of an SSE search."""
        conn = self.connection(timeout)
        try:
            conn.request("POST", "/v1/search", body=json.dumps(body),
                         headers={"Content-Type": "application/json",
                                  "Accept": "text/event-stream"})
            resp = conn.getresponse()
            if resp.status != 200:
                raise AssertionError("stream status %d" % resp.status)
            events, event = [], None
            for raw in resp:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    events.append((event, json.loads(line[6:])))
            return events
        finally:
            conn.close()

    def rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self):
        """SIGTERM, wait, and return the exit code; kills after 15 s."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("focald did not stop on SIGTERM")
        finally:
            self.log.close()
        log = self.read_log()
        if "ERROR: AddressSanitizer" in log or "runtime error:" in log or \
                "ERROR: LeakSanitizer" in log:
            raise AssertionError("sanitizer report in focald's log:\n" + log[-4000:])
        return self.proc.returncode


class Runner:
    """Runs test functions, prints one line each and the closing counts."""

    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = 0

    def run(self, fn, *args):
        name = fn.__name__
        t0 = time.time()
        try:
            fn(*args)
        except Skip as e:
            if os.environ.get("FOCAL_REQUIRE_SERVERS"):
                self.failed += 1
                print("FAIL %s: a required server is missing: %s" % (name, e), flush=True)
                return
            self.skipped += 1
            print("SKIP %s: %s" % (name, e), flush=True)
            return
        except Exception as e:  # report and go on with the next test
            self.failed += 1
            print("FAIL %s (%.1fs): %s: %s" % (name, time.time() - t0, type(e).__name__, e),
                  flush=True)
            return
        self.passed += 1
        print("PASS %s (%.1fs)" % (name, time.time() - t0), flush=True)


class Skip(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def totp(secret_b32, t=None):
    """RFC 6238 TOTP (SHA-1, 6 digits, 30 s) with the standard library only,
    independent of liboath, for tests that log in."""
    import base64
    import hashlib
    import hmac
    import struct
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    counter = int((time.time() if t is None else t) // 30)
    h = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    o = h[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", h[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)
