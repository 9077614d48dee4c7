#!/usr/bin/env python3
"""login_bench: password + TOTP logins per second per core at focald's Argon2id
cost, and what saturating logins does to search latency (issue 4, point 10;
Keycloak documents 15 password logins/s per vCPU).

    python3 bench/login_bench.py [--build build] [--accounts 120] [--clients 8]
                                 [--workers 4] [--search-rate 20] [--duration 10]
                                 [--argon2-memory-kib 65536] [--argon2-ops 3]

What it does (everything on 127.0.0.1, everything it starts is stopped at the
end, also on an error or Ctrl-C):
  1. four SQLite sources of 5,000 made-up persons each (indexed family name),
     and a focald of BUILD (build/, the optimised one: never an ASan build)
     with real accounts made by `focal user add ... --totp` at the configured
     Argon2id cost (default: focald's default, 64 MiB and 3 passes), audit on;
  2. searches alone: an open loop of --search-rate searches/s for --duration s
     (latency counted from when each search was due, so queueing shows);
  3. the same searches while --clients threads log in as fast as focald lets
     them (HTTPS keep-alive, POST /v1/auth/login with password and TOTP);
  4. prints logins/s, logins/s per core of the login pool, the ratio to
     Keycloak's 15/s/vCPU, and search p50/p99 alone vs under login load.

TOTP codes are single-use per account (a later step each time), so each
account logs in at most twice (its current step, then the next one): the
accounts are a queue of credentials; the login phase ends when the queue is
drained or --duration passed.  The login pool is separate from the search
workers (server.workers / 2 threads, at most CPUs - 1: auth_pool_threads in
src/auth/auth.c): "per core" divides by
min(login pool threads, CPUs) — a wall-clock figure that other load on the
machine lowers; "logins per CPU-second" divides by the CPU time focald itself
used during the login phase (/proc/PID/stat: every thread, TLS and audit
included) minus the searches' share (their CPU per search measured alone),
which does not depend on what else runs, and is the figure compared with
Keycloak's.  The client runs on the same machine and takes CPU of its
own.
"""

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import os
import queue
import random
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
from harness import Focald  # noqa: E402

PW = "benchmark passphrase 2026 !"
KEYCLOAK_PER_VCPU = 15.0
FAMILIES = ["Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens"]


def totp(secret_b32, t):
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    h = hmac.new(key, struct.pack(">Q", int(t // 30)), hashlib.sha1).digest()
    o = h[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", h[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)


def make_sources(d, n=4, rows=5000):
    rnd = random.Random(7)
    yaml = ""
    for i in range(n):
        path = os.path.join(d, "src%d.db" % i)
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE p(nn TEXT, fam TEXT, giv TEXT, born TEXT)")
        db.executemany("INSERT INTO p VALUES (?,?,?,?)",
                       [("%011d" % rnd.randrange(10**11), rnd.choice(FAMILIES) + str(k % 500),
                         "Given%d" % k, "1980-01-01") for k in range(rows)]
                       + [("85073003328", f, "Jan", "1985-07-30") for f in FAMILIES])
        db.execute("CREATE INDEX p_fam ON p(lower(fam))")
        db.commit()
        db.close()
        yaml += ("  - name: src%d\n    kind: sqlite\n    owner: Bench\n"
                 "    classification: not_sensitive\n    connection: {path: %s}\n"
                 "    queries:\n      person: SELECT * FROM p WHERE lower(fam) = lower(:family_name)\n"
                 "    map:\n      person: {national_number: nn, family_name: fam, given_name: giv,"
                 " birth_date: born}\n" % (i, path))
    return yaml


def add_user(build, config, name):
    r = subprocess.run([os.path.join(build, "focal"), "user", "--config", config, "add", name,
                        "--name", name, "--unit", "BENCH", "--roles", "officer", "--clearance",
                        "strictly_confidential", "--password-file", "-", "--totp"],
                       input=PW + "\n", capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError("focal user add %s: %s" % (name, r.stderr))
    return r.stdout.split("secret=")[1].split("&")[0]


class Conn:
    """One keep-alive HTTPS connection (reconnects when the server closed it)."""

    def __init__(self, f):
        self.f = f
        self.c = None

    def post(self, path, body, headers=None):
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        for attempt in (0, 1):
            if self.c is None:
                self.c = http.client.HTTPSConnection("127.0.0.1", self.f.port,
                                                     context=self.f.ssl_context(), timeout=60)
            try:
                self.c.request("POST", path, body=json.dumps(body), headers=h)
                r = self.c.getresponse()
                data = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.c.close()
                    self.c = None
                return r.status, data
            except (http.client.HTTPException, OSError):
                self.c.close()
                self.c = None
                if attempt:
                    raise
        raise AssertionError("unreachable")


def cpu_seconds(pid):
    """User + system CPU time of a process so far (all its threads)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))] if v else float("nan")


def search_loop(f, token, rate, duration, stop_evt=None):
    """Open loop: a search due every 1/rate s; latency from when it was due."""
    conn = Conn(f)
    lat, errors = [], 0
    t0 = time.monotonic()
    n = 0
    while True:
        due = t0 + n / rate
        if due - t0 >= duration or (stop_evt is not None and stop_evt.is_set()):
            break
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        status, _ = conn.post("/v1/search", {"q": "Jan " + FAMILIES[n % len(FAMILIES)]},
                              {"Authorization": "Bearer " + token})
        if status != 200:
            errors += 1
        lat.append((time.monotonic() - due) * 1000.0)
        n += 1
    return lat, errors


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--accounts", type=int, default=120)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--search-rate", type=float, default=20.0)
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--argon2-memory-kib", type=int, default=65536)
    ap.add_argument("--argon2-ops", type=int, default=3)
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    if "asan" in os.path.basename(build):
        sys.exit("login_bench: use the optimised build (build/), not an ASan build")

    d = tempfile.mkdtemp(prefix="focal-loginbench-")
    extra = ("  workers: %d\nauth:\n  argon2_memory_kib: %d\n  argon2_ops: %d\n"
             "  address_failures: 100000\n" % (a.workers, a.argon2_memory_kib, a.argon2_ops))
    f = Focald(build, make_sources(d), server_extra=extra, dev_no_auth=False, workdir=d)
    cpus = os.cpu_count() or 1
    pool = max(1, min(a.workers // 2, cpus - 1 if cpus > 1 else 1))  # auth_pool_threads
    try:
        print("login_bench: creating %d accounts (focal user add --totp, Argon2id %d KiB, %d "
              "passes) ..." % (a.accounts + 1, a.argon2_memory_kib, a.argon2_ops), flush=True)
        names = ["bench%03d" % i for i in range(a.accounts)] + ["searcher"]
        with ThreadPoolExecutor(max_workers=cpus) as ex:
            secrets = dict(zip(names, ex.map(lambda n: add_user(build, f.config, n), names)))
        f.start()
        conn = Conn(f)
        status, data = conn.post("/v1/auth/login", {"username": "searcher", "password": PW,
                                                    "totp": totp(secrets["searcher"],
                                                                 time.time()),
                                                    "want_token": True})
        if status != 200:
            raise RuntimeError("login of the searcher: %d %s" % (status, data))
        token = json.loads(data)["token"]
        search_loop(f, token, a.search_rate, 2.0)  # warm-up: pools, page cache
        c0 = cpu_seconds(f.proc.pid)
        alone, err_alone = search_loop(f, token, a.search_rate, a.duration)
        cpu_per_search = (cpu_seconds(f.proc.pid) - c0) / max(1, len(alone))

        creds = queue.Queue()
        for second in (False, True):  # every account's current step, then its next
            for n in names[:-1]:
                creds.put((n, second))
        ok, failed = [0], [0]
        lock = threading.Lock()
        stop = threading.Event()

        def login_client():
            c = Conn(f)
            while not stop.is_set():
                try:
                    n, second = creds.get_nowait()
                except queue.Empty:
                    return
                code = totp(secrets[n], time.time() + (30 if second else 0))
                status, _ = c.post("/v1/auth/login", {"username": n, "password": PW,
                                                      "totp": code, "want_token": True})
                with lock:
                    if status == 200:
                        ok[0] += 1
                    else:
                        failed[0] += 1

        threads = [threading.Thread(target=login_client) for _ in range(a.clients)]
        result = {}
        cpu0 = cpu_seconds(f.proc.pid)
        t0 = time.monotonic()
        for t in threads:
            t.start()
        time.sleep(1.0)  # logins saturate the pool before searches are measured
        st = threading.Thread(target=lambda: result.update(
            zip(("lat", "err"), search_loop(f, token, a.search_rate, a.duration - 1.0, stop))))
        st.start()
        deadline = t0 + a.duration
        while time.monotonic() < deadline and any(t.is_alive() for t in threads):
            time.sleep(0.05)
        stop.set()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - t0
        st.join()
        cpu = cpu_seconds(f.proc.pid) - cpu0
        # the searches' share of that CPU, as measured alone, is not the logins'
        login_cpu = cpu - cpu_per_search * len(result.get("lat", []))
        if not creds.empty() and elapsed < a.duration * 0.9:
            raise RuntimeError("logins ended early")
        if creds.empty() and elapsed < a.duration * 0.5:
            print("login_bench: warning: the accounts ran out after %.1f s; use more "
                  "--accounts" % elapsed, flush=True)
        under, err_under = result.get("lat", []), result.get("err", 0)
        rate = ok[0] / elapsed
        cores = min(pool, cpus)
        out = {
            "argon2id": {"memory_kib": a.argon2_memory_kib, "ops": a.argon2_ops},
            "cpus": cpus, "login_pool_threads": pool, "search_workers": a.workers,
            "logins_ok": ok[0], "logins_failed": failed[0], "seconds": round(elapsed, 2),
            "logins_per_s": round(rate, 1),
            "logins_per_s_per_core": round(rate / cores, 1),
            "focald_cpu_s": round(cpu, 2),
            "focald_cpu_ms_per_search": round(cpu_per_search * 1000, 2),
            "logins_per_cpu_s": round(ok[0] / login_cpu, 1) if login_cpu > 0 else None,
            "ratio_to_keycloak_15_per_vcpu": round(ok[0] / login_cpu / KEYCLOAK_PER_VCPU, 2)
            if login_cpu > 0 else None,
            "search_rate": a.search_rate,
            "search_alone_ms": {"p50": round(pct(alone, 50), 1), "p99": round(pct(alone, 99), 1),
                                "n": len(alone), "errors": err_alone},
            "search_under_logins_ms": {"p50": round(pct(under, 50), 1),
                                       "p99": round(pct(under, 99), 1), "n": len(under),
                                       "errors": err_under},
        }
        print(json.dumps(out, indent=2))
        per_cpu = ok[0] / login_cpu if login_cpu > 0 else float("nan")
        print("login_bench: %.1f logins/s wall clock = %.1f per core (%d login thread(s) on %d "
              "CPU(s)); %.1f logins per CPU-second of focald = %.2f x Keycloak's 15/s/vCPU; "
              "search p50/p99 %.1f/%.1f ms alone, %.1f/%.1f ms under logins"
              % (rate, rate / cores, pool, cpus, per_cpu, per_cpu / KEYCLOAK_PER_VCPU,
                 pct(alone, 50), pct(alone, 99), pct(under, 50), pct(under, 99)), flush=True)
    finally:
        f.stop()


if __name__ == "__main__":
    main()
