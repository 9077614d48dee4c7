#!/usr/bin/env python3
"""The benchmark of Focal's federated search; run through bench/run.sh,
which builds focald and the load generator, starts PostgreSQL (and slapd
when tests/integration/slapd_server.sh exists) and stops everything at the
end.  This script does the rest, all on 127.0.0.1:

  1. builds 60 sources of mixed kinds (SQLite files, PostgreSQL schemas, HTTP
     data sets served by bench/http_backend.py, LDAP subtrees), each with a
     few thousand persons and 1-3 rows for every person searched for;
     PostgreSQL and HTTP sources answer after --latency-ms (pg_sleep in a
     view / a delay in the HTTP server), SQLite and LDAP at once
  2. starts focald on them (build/focald, --dev-insecure-no-auth) and checks
     one search: every source ok, the expected number of records
  3. measures with bench/loadgen: latency at 1 client, throughput while
     raising the number of clients until it stops growing (saturation), and
     latency at half the saturation rate (open loop)
  4. measures the same searches through postgres_fdw (async_capable foreign
     tables, one foreign server per PostgreSQL source, UNION ALL) with pgbench
  5. prints the figures, with the CPU time each process used

Python standard library only.  Every process it starts is stopped here, and
its pid is written to WORKDIR/pids so that run.sh's trap can stop it too.
"""

import argparse
import atexit
import json
import os
import platform
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
import dataset  # noqa: E402
from harness import Focald  # noqa: E402

CLK = os.sysconf("SC_CLK_TCK")
SQL_COLS = "national_number, family, given, birth_date, alert, instruction"
SWEEP = [2, 4, 8, 16, 32, 64, 128]  # clients, until throughput stops growing


def log(msg):
    print(msg, flush=True)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workdir", required=True)
    p.add_argument("--build", required=True)
    p.add_argument("--loadgen", required=True)
    p.add_argument("--wakeprobe", help="bench/wakeprobe binary: how late threads wake "
                   "on this machine, idle and at half saturation")
    p.add_argument("--pg-dir", required=True)
    p.add_argument("--pg", required=True, help="conninfo of the scratch server")
    p.add_argument("--latency-ms", type=int, default=10)
    p.add_argument("--duration", type=float, default=10)
    p.add_argument("--concurrency", type=int, default=0,
                   help="clients at saturation (default: raise until throughput stops growing)")
    p.add_argument("--rows", type=int, default=dataset.DEFAULT_ROWS)
    p.add_argument("--pool-size", type=int, default=8)
    p.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    p.add_argument("--workers", type=int, default=0,
                   help="focald's worker threads (SQLite); default: focald's own default")
    p.add_argument("--sqlite-immutable", action="store_true",
                   help="open the SQLite sources with immutable: true (no locking; the "
                        "bench's files never change)")
    p.add_argument("--focald-only", action="store_true",
                   help="60 SQLite sources (near-free back-ends, no postgres_fdw): "
                        "focald's own CPU per search, throughput and overhead")
    p.add_argument("--audit-dir", default="",
                   help="focald's audit log here (e.g. under /dev/shm) instead of next to "
                        "its configuration: every search waits for its begin entry's "
                        "fdatasync, so this separates the disk's latency from focald's own")
    p.add_argument("--no-fdw", action="store_true")
    p.add_argument("--no-ldap", action="store_true", help="leave LDAP out even if slapd runs")
    p.add_argument("--callgrind", type=int, default=0, metavar="N",
                   help="instead of timing: run focald under valgrind's callgrind and count "
                        "the instructions it executes for N searches at 1 client (repeatable "
                        "on a shared machine, unlike wall-clock and CPU time)")
    p.add_argument("--hold", type=float, default=0,
                   help="after setting up, keep everything running for this many seconds "
                        "(to look at it by hand) instead of measuring")
    return p.parse_args()


# --- processes ---------------------------------------------------------------

class Procs:
    """Processes started here; their pids go to WORKDIR/pids for run.sh."""

    def __init__(self, workdir):
        self.path = os.path.join(workdir, "pids")
        self.procs = []

    def add(self, proc):
        self.procs.append(proc)
        with open(self.path, "a") as f:
            f.write("%d\n" % proc.pid)

    def stop_all(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def sys_ticks(pid):
    """stime of pid in seconds (the kernel's share of its CPU); 0 if gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[12]) / CLK
    except OSError:
        return 0.0


def ticks(pid, children=False):
    """utime+stime (and reaped children's) of pid in seconds; 0 if gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    t = int(fields[11]) + int(fields[12])
    if children:
        t += int(fields[13]) + int(fields[14])
    return t / CLK


def pg_cpu(postmaster):
    """CPU seconds of a PostgreSQL cluster: the postmaster, the children it
    has reaped, and the live ones."""
    total = ticks(postmaster, children=True)
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == postmaster:
            total += (int(fields[11]) + int(fields[12])) / CLK
    return total


def machine_busy():
    """(busy, total, steal) CPU seconds of the whole machine.  Steal is time
    the hypervisor gave this VM's CPUs to others: busy for us, yet no process
    of ours ran, so it is reported apart from other processes."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    steal = v[7] if len(v) > 7 else 0
    return (sum(v) - idle) / CLK, sum(v) / CLK, steal / CLK


class CpuMeter:
    """CPU used by each process group between start() and stop()."""

    def __init__(self, groups):
        self.groups = groups  # name -> function returning CPU seconds

    def start(self):
        self.t0 = time.monotonic()
        self.c0 = {k: f() for k, f in self.groups.items()}
        self.m0 = machine_busy()

    def stop(self, extra=None):
        wall = time.monotonic() - self.t0
        out = {k: f() - self.c0[k] for k, f in self.groups.items()}
        out.update(extra or {})
        busy, total, steal = machine_busy()
        out["_machine_busy"] = (busy - self.m0[0]) / max(total - self.m0[1], 1e-9)
        out["_wall"] = wall
        out["_steal"] = steal - self.m0[2]
        # everything else that ran meanwhile (other jobs on a shared machine)
        ours = sum(v for k, v in out.items() if not k.startswith("_"))
        out["_others"] = max(0.0, (busy - self.m0[0]) - ours - out["_steal"])
        return out


def child_cpu():
    import resource
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


# --- sources -----------------------------------------------------------------

def plan(have_ldap, focald_only=False):
    """Kinds of the 60 sources, interleaved so that every kind is spread
    over the configuration."""
    counts = {"sqlite": 24, "postgres": 18, "http": 12, "ldap": 6} if have_ldap else \
        {"sqlite": 26, "postgres": 20, "http": 14, "ldap": 0}
    if focald_only:  # back-ends that cost next to nothing: focald's own cost shows
        counts = {"sqlite": 60, "postgres": 0, "http": 0, "ldap": 0}
    kinds = []
    left = dict(counts)
    while len(kinds) < 60:
        for k in ("sqlite", "postgres", "http", "ldap"):
            if left[k] > 0:
                kinds.append(k)
                left[k] -= 1
    return kinds, counts


def psql(conninfo, sql, db=None, capture=False):
    ci = conninfo if db is None else re.sub(r"dbname=\S+", "dbname=" + db, conninfo)
    r = subprocess.run(["psql", ci, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At"], input=sql,
                       text=True, capture_output=True)
    if r.returncode != 0:
        raise RuntimeError("psql failed: " + r.stderr[-2000:])
    return r.stdout


def pg_restart(pg_dir, settings, conninfo):
    """Applies settings that need a restart (max_connections) to the
    cluster run.sh started."""
    sql = "".join("ALTER SYSTEM SET %s = '%s';\n" % kv for kv in settings.items())
    psql(conninfo, sql, db="postgres")
    cmd = ["/usr/lib/postgresql/15/bin/pg_ctl", "-D", os.path.join(pg_dir, "data"), "-m", "fast",
           "-w", "-t", "60", "-l", os.path.join(pg_dir, "server.log"), "restart"]
    if os.getuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)


def pg_copy_text(v):
    if v is None:
        return r"\N"
    return v.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def make_pg(conninfo, pg_sources, nrows, latency_ms):
    """One schema per PostgreSQL source in database bench: table people,
    indexed, and view people_q which answers after the source's latency."""
    psql(conninfo, "DROP DATABASE IF EXISTS bench; CREATE DATABASE bench;", db="postgres")
    parts = []
    for no in pg_sources:
        s = "src%02d" % no
        parts.append("CREATE SCHEMA %s;\nCREATE TABLE %s.people(national_number text, "
                     "family text, given text, family_lc text, given_lc text, birth_date text, "
                     "alert text, instruction text);\nCOPY %s.people FROM STDIN;\n" % (s, s, s))
        for r in dataset.rows(no, nrows):
            parts.append("\t".join(pg_copy_text(x) for x in (
                r["national_number"], r["family"], r["given"], r["family"].lower(),
                r["given"].lower(), r["birth_date"], r["alert"], r["instruction"])) + "\n")
        parts.append("\\.\nCREATE INDEX ON %s.people(family_lc);\nANALYZE %s.people;\n" % (s, s))
        # the latency: an InitPlan evaluated once per query whatever the rows
        # (a pg_sleep in FROM would be skipped by a join with no rows)
        wait = " WHERE (SELECT pg_sleep(%.4f)) IS NOT NULL" % (latency_ms / 1000.0) \
            if latency_ms > 0 else ""
        parts.append("CREATE VIEW %s.people_q AS SELECT * FROM %s.people%s;\n" % (s, s, wait))
    psql(conninfo, "".join(parts), db="bench")


def make_sqlite(path, no, nrows):
    if os.path.exists(path):
        os.unlink(path)
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE people(national_number TEXT, family TEXT, given TEXT, "
               "family_lc TEXT, given_lc TEXT, birth_date TEXT, alert TEXT, instruction TEXT)")
    db.executemany("INSERT INTO people VALUES (?,?,?,?,?,?,?,?)",
                   [(r["national_number"], r["family"], r["given"], r["family"].lower(),
                     r["given"].lower(), r["birth_date"], r["alert"], r["instruction"])
                    for r in dataset.rows(no, nrows)])
    db.execute("CREATE INDEX people_family ON people(family_lc)")
    db.commit()
    db.close()


def make_ldap(ldap, ldap_sources, nrows):
    """One organizational unit per LDAP source with its persons."""
    base = ldap["base"]
    out = []
    for no in ldap_sources:
        ou = "ou=src%02d,%s" % (no, base)
        out.append("dn: %s\nobjectClass: organizationalUnit\nou: src%02d\n\n" % (ou, no))
        for i, r in enumerate(dataset.rows(no, nrows)):
            out.append("dn: uid=p%d,%s\nobjectClass: inetOrgPerson\nuid: p%d\ncn: %s %s\n"
                       "sn: %s\ngivenName: %s\nemployeeNumber: %s\n%s\n" % (
                           i, ou, i, r["given"], r["family"], r["family"], r["given"],
                           r["national_number"],
                           "description: %s\n" % r["alert"] if r["alert"] else ""))
    r = subprocess.run(["ldapadd", "-x", "-c", "-H", ldap["uri"], "-D", ldap["binddn"], "-w",
                        ldap["password"]], input="".join(out).encode(),
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if r.returncode not in (0, 68):  # 68: already exists (a rerun)
        raise RuntimeError("ldapadd failed: " + r.stderr.decode()[-500:])


MAP_SQL = """    map:
      person: {national_number: national_number, family_name: family, given_name: given,
               birth_date: birth_date}
      alert: {when: alert, category: alert, instruction: instruction, subject_name: family,
              subject_national_number: national_number}
"""

MAP_HTTP = """    map:
      rows: /results
      person: {national_number: /rrn, family_name: /naam/familie, given_name: /naam/voornaam,
               birth_date: /geboren}
      alert: {when: /signalering, category: /signalering, instruction: /advies,
              subject_name: /naam/familie}
"""

MAP_LDAP = """    map:
      person: {family_name: sn, given_name: givenName, national_number: employeeNumber}
      alert: {when: description, category: description, subject_name: cn}
"""


def source_yaml(no, kind, ctx):
    name = "%s_%02d" % (kind, no)
    head = ("  - name: %s\n    kind: %s\n    owner: Bench agency %d\n"
            "    classification: restricted\n" % (name, kind, no))
    if kind == "sqlite":
        return head + (
            "    connection: {path: %s%s}\n    queries:\n      person: >-\n"
            "        SELECT %s FROM people WHERE family_lc = lower(:family_name)\n"
            "        AND (:given_name IS NULL OR given_lc = lower(:given_name))\n"
            % (ctx["sqlite"][no], ", immutable: true" if ctx.get("sqlite_immutable") else "",
               SQL_COLS)) + MAP_SQL
    if kind == "postgres":
        return head + (
            "    pool_size: %d\n"
            "    connection: {conninfo: \"%s\"}\n    queries:\n      person: >-\n"
            "        SELECT %s FROM src%02d.people_q WHERE family_lc = lower(:family_name)\n"
            "        AND (:given_name::text IS NULL OR given_lc = lower(:given_name))\n"
            % (ctx["pool_size"], ctx["pg_bench"], SQL_COLS, no)) + MAP_SQL
    if kind == "http":
        return head + (
            "    connection: {}\n    queries:\n"
            "      person: \"http://%s/src/%d/people?family={family_name}&given={given_name}"
            "&ms=%d\"\n" % (ctx["http"], no, ctx["latency_ms"])) + MAP_HTTP
    ldap = ctx["ldap"]
    return head + (
        "    connection: {uri: \"%s\", bind_dn: \"%s\", bind_password: \"%s\",\n"
        "                 base: \"ou=src%02d,%s\"}\n    queries:\n"
        "      person: \"(&(objectClass=inetOrgPerson)(sn={family_name})"
        "(givenName={given_name}))\"\n"
        % (ldap["uri"], ldap["binddn"], ldap["password"], no, ldap["base"])) + MAP_LDAP


def start_focald(d, procs):
    """d.start(), and no focald left running if it fails (it may be up but
    not answering)."""
    try:
        d.start()
    except BaseException:
        if d.proc is not None and d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait()
        raise
    if procs is not None:
        procs.add(d.proc)


def ldap_env():
    keys = ("FOCAL_TEST_LDAP", "FOCAL_TEST_LDAP_BINDDN", "FOCAL_TEST_LDAP_PASSWORD",
            "FOCAL_TEST_LDAP_BASE")
    if not all(os.environ.get(k) for k in keys):
        return None
    return {"uri": os.environ[keys[0]], "binddn": os.environ[keys[1]],
            "password": os.environ[keys[2]], "base": os.environ[keys[3]]}


def ldap_usable(args, ldap, workdir):
    """LDAP takes part only when slapd runs and focald's ldap connector
    answers a search (it may not exist yet in this tree)."""
    if ldap is None:
        return False, "no slapd (tests/integration/slapd_server.sh absent or failed)"
    try:
        make_ldap(ldap, [99], 50)
        d = Focald(args.build, source_yaml(99, "ldap", {"ldap": ldap}),
                   workdir=os.path.join(workdir, "ldapcheck"))
        start_focald(d, None)
        try:
            status, doc = d.search({"q": "Jan Peeters"})
        finally:
            d.stop()
        ok = status == 200 and doc["sources"][0]["status"] == "ok" and doc["sources"][0]["rows"] > 0
        return ok, "" if ok else "focald's ldap connector did not answer: %s" % (
            doc["sources"][0] if status == 200 else status)
    except Exception as e:  # noqa: BLE001 - any failure means: leave LDAP out
        return False, "focald's ldap connector is not usable here (%s)" % str(e)[:200]


# --- measuring -----------------------------------------------------------------

def loadgen(args, d, bodies, label, concurrency, duration, warmup=1.0, rate=0.0):
    cmd = [args.loadgen, "--url", "https://127.0.0.1:%d/v1/search" % d.port, "--cacert", d.cert,
           "--bodies", bodies, "--concurrency", str(concurrency), "--duration", str(duration),
           "--warmup", str(warmup), "--label", label]
    if rate > 0:
        cmd += ["--rate", "%.1f" % rate]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if not p.stdout.strip():
        raise RuntimeError("loadgen failed: " + p.stderr[-1000:])
    r = json.loads(p.stdout.strip().splitlines()[-1])
    if p.stderr.strip():
        r["stderr"] = p.stderr.strip()[-300:]
    return r


def wakeprobe_start(args, duration):
    """bench/wakeprobe running for duration s beside whatever runs now, or
    None without --wakeprobe."""
    if not args.wakeprobe:
        return None
    return subprocess.Popen([args.wakeprobe, "--duration", "%.1f" % duration],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wakeprobe_result(p):
    if p is None:
        return None
    out, err = p.communicate(timeout=120)
    if p.returncode != 0 or not out.strip():
        raise RuntimeError("wakeprobe failed: " + err[-500:])
    return json.loads(out.strip().splitlines()[-1])


def pgbench(args, scripts, label, clients, duration, warmup, rate=0.0):
    """pgbench over the fdw hub; percentiles from its per-transaction log,
    leaving out transactions that began in the warm-up (fdw connections to
    every source are opened by each client's first search)."""
    logdir = os.path.join(args.workdir, "pgbench-" + label)
    os.makedirs(logdir, exist_ok=True)
    for f in os.listdir(logdir):
        os.unlink(os.path.join(logdir, f))
    ci = re.sub(r"dbname=\S+", "dbname=bench", args.pg)
    cmd = ["pgbench", "-n", "-c", str(clients), "-j", str(min(2, clients)),
           "-T", str(int(round(duration + warmup))), "-l",
           "--log-prefix=" + os.path.join(logdir, "tx")]
    if rate > 0:
        cmd += ["-R", "%.1f" % rate]
    for s in scripts:
        cmd += ["-f", s]
    env = dict(os.environ, PGHOST="127.0.0.1")
    m = re.search(r"port=(\d+)", args.pg)
    cmd += ["-h", "127.0.0.1", "-p", m.group(1), "-U", "postgres", "bench"]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    time.sleep(0.5)  # backends exit after pgbench: let the postmaster reap (count) them
    if p.returncode != 0:
        raise RuntimeError("pgbench failed: " + (p.stderr or p.stdout)[-1500:])
    lat, ends = [], []
    for f in os.listdir(logdir):
        with open(os.path.join(logdir, f)) as fh:
            for line in fh:
                v = line.split()
                if len(v) < 6:
                    continue
                us = int(v[2])
                end = int(v[4]) + int(v[5]) / 1e6
                ends.append(end)
                lat.append((end - us / 1e6, us / 1000.0))
    if not ends:
        raise RuntimeError("pgbench logged no transaction: " + p.stdout[-800:])
    t0 = min(start for start, _ in lat)  # the first search began
    w0, w1 = t0 + warmup, t0 + warmup + duration
    sel = sorted(ms for start, ms in lat if w0 <= start < w1)
    done = sum(1 for e in ends if w0 <= e < w1)
    failed = re.search(r"number of failed transactions: (\d+)", p.stdout)
    return {"label": label, "concurrency": clients, "rate": rate, "searches": len(sel),
            "searches_per_s": done / duration, "e2e_ms": pcts(sel),
            "failed": int(failed.group(1)) if failed else 0}


def pcts(v):
    import math
    if not v:
        return {"p50": float("nan"), "p90": float("nan"), "p99": float("nan"),
                "max": float("nan"), "mean": float("nan")}

    def p(q):
        return v[max(1, math.ceil(q / 100.0 * len(v))) - 1]
    return {"p50": p(50), "p90": p(90), "p99": p(99), "max": v[-1], "mean": sum(v) / len(v)}


def check_result(r, nsources):
    problems = []
    if r.get("http_errors") or r.get("transport_errors"):
        problems.append("%d HTTP / %d transport errors (%s)" % (
            r["http_errors"], r["transport_errors"], r.get("first_error", "")))
    if r.get("searches_with_failed_calls"):
        problems.append("%d searches had failed source calls (%d calls)" % (
            r["searches_with_failed_calls"], r["failed_calls"]))
    if r.get("searches") and r.get("ok_calls", 0) < r["searches"] * nsources * 0.999:
        problems.append("only %d of %d source calls ok" % (r["ok_calls"], r["searches"] * nsources))
    return problems


def fmt_lat(r, slowest_ms):
    e = r["e2e_ms"]
    return "p50 %7.2f ms  p90 %7.2f  p99 %7.2f  max %7.2f   minus %d ms: p50 %+.2f  p99 %+.2f" % (
        e["p50"], e["p90"], e["p99"], e["max"], slowest_ms, e["p50"] - slowest_ms,
        e["p99"] - slowest_ms)


# --- main ----------------------------------------------------------------------

def main():
    args = parse_args()
    # SIGTERM (run.sh interrupted) unwinds like Ctrl-C, so finally stops focald
    signal.signal(signal.SIGTERM, lambda sig, frame: sys.exit(143))
    os.makedirs(args.workdir, exist_ok=True)
    procs = Procs(args.workdir)
    t_begin = time.time()
    try:
        return run(args, procs, t_begin)
    finally:
        procs.stop_all()


def run(args, procs, t_begin):
    if args.focald_only:
        args.no_fdw = args.no_ldap = True
        args.latency_ms = 0  # no source waits: the slowest is the slowest SQLite call
    lat = args.latency_ms
    ldap = None if args.no_ldap else ldap_env()
    have_ldap, why_no_ldap = ldap_usable(args, ldap, args.workdir) if ldap else \
        (False, "--no-ldap" if args.no_ldap else
         "tests/integration/slapd_server.sh is absent or slapd did not start")
    kinds, counts = plan(have_ldap, args.focald_only)
    by_kind = {k: [i for i, x in enumerate(kinds) if x == k] for k in counts}
    log("sources: %s%s" % (", ".join("%d %s" % (counts[k], k) for k in counts if counts[k]),
                           "" if have_ldap else "; LDAP left out: " + why_no_ldap))

    # --- back-ends ---
    t = time.time()
    npg = counts["postgres"]
    max_clients = max(args.concurrency, SWEEP[-1])  # fdw: one session per client and source
    need = npg * args.pool_size * args.threads + (max_clients + 1) * (npg + 1) + 50
    pg_restart(args.pg_dir, {"max_connections": str(need), "shared_buffers": "128MB"}, args.pg)
    make_pg(args.pg, by_kind["postgres"], args.rows, lat)
    datadir = os.path.join(args.workdir, "data")
    os.makedirs(datadir, exist_ok=True)
    sqlite_paths = {}
    for no in by_kind["sqlite"]:
        sqlite_paths[no] = os.path.join(datadir, "sqlite_%02d.db" % no)
        make_sqlite(sqlite_paths[no], no, args.rows)
    if have_ldap:
        make_ldap(ldap, by_kind["ldap"], min(args.rows, 2000))
    hb_out = open(os.path.join(args.workdir, "http_backend.out"), "w+")
    hb = subprocess.Popen([sys.executable, os.path.join(HERE, "http_backend.py"), "0",
                           str(args.rows), ",".join(str(n) for n in by_kind["http"])],
                          stdout=hb_out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    procs.add(hb)
    http_addr = None
    for _ in range(600):
        hb_out.seek(0)
        m = re.search(r"listening (\S+)", hb_out.read())
        if m:
            http_addr = m.group(1)
            break
        if hb.poll() is not None:
            break
        time.sleep(0.05)
    if http_addr is None:
        hb_out.seek(0)
        raise RuntimeError("http_backend did not start: " + hb_out.read()[-500:])
    log("back-ends ready in %.1f s (PostgreSQL max_connections %d, %d rows per source)" % (
        time.time() - t, need, args.rows))

    # --- focald ---
    ctx = {"sqlite": sqlite_paths, "pg_bench": re.sub(r"dbname=\S+", "dbname=bench", args.pg),
           "http": http_addr, "latency_ms": lat, "ldap": ldap, "pool_size": args.pool_size,
           "sqlite_immutable": args.sqlite_immutable}
    yaml = "".join(source_yaml(no, kinds[no], ctx) for no in range(60))
    focald_dir = args.build
    if args.callgrind:
        focald_dir = callgrind_wrapper(args)
    audit_dir = ""
    if args.audit_dir:
        # a fresh folder of ours inside it, removed at the end
        audit_dir = tempfile.mkdtemp(prefix="focal-bench-audit-", dir=args.audit_dir)
        atexit.register(shutil.rmtree, audit_dir, True)
    d = Focald(focald_dir, yaml, server_extra="  threads: %d\n" % args.threads +
               ("  workers: %d\n" % args.workers if args.workers else "") +
               # valgrind runs focald some 50x slower: no deadline may cut a call
               ("  search_deadline_ms: 60000\n" if args.callgrind else "") +
               # a top-level section after server's lines
               ("audit:\n  dir: \"%s\"\n" % audit_dir if audit_dir else ""),
               defaults_yaml="  deadline_ms: 50000\n" if args.callgrind else "",
               workdir=os.path.join(args.workdir, "focald"))
    start_focald(d, procs)

    bodies = os.path.join(args.workdir, "bodies.jsonl")
    with open(bodies, "w") as f:
        for given, fam in dataset.TARGETS:
            f.write(json.dumps({"q": "%s %s" % (given, fam)}) + "\n")
    # correctness first: every source answers, with the rows it holds
    hits = [dataset.hits(no, args.rows if kinds[no] != "ldap" else min(args.rows, 2000))
            for no in range(60)]
    for given, fam in dataset.TARGETS[:3]:
        status, doc = d.search({"q": "%s %s" % (given, fam)})
        if status != 200:
            raise RuntimeError("sanity search: HTTP %d %s" % (status, doc))
        bad = [s for s in doc["sources"] if s["status"] != "ok"]
        if len(doc["sources"]) != 60 or bad:
            raise RuntimeError("sanity search: %d sources, not ok: %s" % (
                len(doc["sources"]), bad[:3]))
        want = sum(h[(given, fam)] for h in hits)
        got = sum(s["rows"] for s in doc["sources"])
        if got != want:
            raise RuntimeError("sanity search for %s %s: %d rows, expected %d" % (
                given, fam, got, want))
    rows_per_search = sum(sum(h.values()) for h in hits) / len(dataset.TARGETS)
    log("focald up on 127.0.0.1:%d; sanity searches ok (60 sources, %.0f rows per search)" % (
        d.port, rows_per_search))

    if args.callgrind:
        try:
            callgrind_measure(args, d, bodies)
        finally:
            d.stop()
        return 0
    if args.hold > 0:
        log("holding for %.0f s: curl --cacert %s https://127.0.0.1:%d/v1/search "
            "-H 'Content-Type: application/json' -d '{\"q\":\"Jan Peeters\"}'; config %s"
            % (args.hold, d.cert, d.port, d.config))
        with open(os.path.join(args.workdir, "hold.env"), "w") as f:
            f.write("PORT=%d\nCERT=%s\nPG='%s'\nFOCALD_PID=%d\nBODIES=%s\n" % (
                d.port, d.cert, ctx["pg_bench"], d.proc.pid, bodies))
        time.sleep(args.hold)
        d.stop()
        return 0
    postmaster = int(open(os.path.join(args.pg_dir, "data", "postmaster.pid")).readline())
    groups = {"focald": lambda: ticks(d.proc.pid), "_focald_kernel": lambda: sys_ticks(d.proc.pid),
              "postgres": lambda: pg_cpu(postmaster),
              "http_backend": lambda: ticks(hb.pid), "load generator": child_cpu}
    slapd_pidfile = os.path.join(args.workdir, "slapd", "slapd.pid")
    if have_ldap and os.path.exists(slapd_pidfile):
        slapd = int(open(slapd_pidfile).read().split()[0])
        groups["slapd"] = lambda: ticks(slapd)
    meter = CpuMeter(groups)
    res = {}
    dur = args.duration

    def conns():
        """(HTTP connections the back-end accepted, PostgreSQL sessions
        opened) so far: connection churn shows as new ones per search."""
        try:
            with urllib.request.urlopen("http://%s/stats" % http_addr, timeout=5) as f:
                h = json.load(f)["connections"]
        except (OSError, ValueError, KeyError):
            h = 0
        pgs = int(psql(args.pg, "SELECT sum(sessions) FROM pg_stat_database", db="postgres")
                  .strip() or 0)
        return h, pgs

    def measure(label, clients, duration, rate=0.0):
        c0 = conns()
        meter.start()
        r = loadgen(args, d, bodies, label, clients, duration, rate=rate)
        r["cpu"] = meter.stop()
        c1 = conns()
        n = max(r["searches"], 1)
        r["new_http_conns"] = (c1[0] - c0[0]) / n
        r["new_pg_sessions"] = (c1[1] - c0[1]) / n
        return r

    # [0] how late threads wake on this machine with nothing of ours running
    res["wake_idle"] = wakeprobe_result(wakeprobe_start(args, 2.0))

    # [1] low load
    res["low"] = measure("focald 1 client", 1, dur)
    log("  focald, 1 client:         %7.1f searches/s  %s" % (
        res["low"]["searches_per_s"], fmt_lat(res["low"], lat)))

    # [2] saturation sweep
    sweep = []
    levels = [args.concurrency] if args.concurrency else SWEEP
    step = max(3.0, dur / 2) if not args.concurrency else dur
    best, flat = None, 0
    for c in levels:
        r = measure("focald %d clients" % c, c, step)
        sweep.append(r)
        log("  focald, %3d clients:      %7.1f searches/s  p50 %7.2f ms  p99 %7.2f ms  "
            "(focald CPU %.0f%%, machine %.0f%% busy, new conns/search http %.2f pg %.2f)%s" % (
                c, r["searches_per_s"], r["e2e_ms"]["p50"], r["e2e_ms"]["p99"],
                100 * r["cpu"]["focald"] / r["cpu"]["_wall"], 100 * r["cpu"]["_machine_busy"],
                r["new_http_conns"], r["new_pg_sessions"],
                "  !! " + "; ".join(check_result(r, 60)) if check_result(r, 60) else ""))
        if best is None or r["searches_per_s"] > best["searches_per_s"] * 1.05:
            best, flat = r, 0
        else:
            flat += 1
            if flat >= 2:  # two steps without 5% more: saturated
                break
    res["sweep"] = sweep
    res["sat"] = best
    sat_rate = best["searches_per_s"]
    sat_c = best["concurrency"]

    # [1b] half saturation, open loop
    half = sat_rate / 2
    probe = wakeprobe_start(args, dur + 1.0)  # loadgen warms up 1 s first
    res["half"] = measure("focald half", max(2 * sat_c, 16), dur, rate=half)
    res["wake_half"] = wakeprobe_result(probe)
    log("  focald, %.0f/s open loop: %7.1f searches/s  %s" % (
        half, res["half"]["searches_per_s"], fmt_lat(res["half"], lat)))

    # [3] postgres_fdw
    if not args.no_fdw:
        scripts = make_fdw(args, by_kind["postgres"])
        meter.start()
        res["fdw_low"] = pgbench(args, scripts, "fdw-low", 1, dur, 1.0)
        res["fdw_low"]["cpu"] = meter.stop()
        log("  fdw, 1 client:            %7.1f searches/s  %s" % (
            res["fdw_low"]["searches_per_s"], fmt_lat(res["fdw_low"], lat)))
        meter.start()
        res["fdw_sat"] = pgbench(args, scripts, "fdw-sat", sat_c, dur, 3.0)
        res["fdw_sat"]["cpu"] = meter.stop()
        log("  fdw, %3d clients:         %7.1f searches/s  p50 %7.2f ms  p99 %7.2f ms" % (
            sat_c, res["fdw_sat"]["searches_per_s"], res["fdw_sat"]["e2e_ms"]["p50"],
            res["fdw_sat"]["e2e_ms"]["p99"]))
        fdw_half = min(half, res["fdw_sat"]["searches_per_s"] / 2)
        meter.start()
        res["fdw_half"] = pgbench(args, scripts, "fdw-half", sat_c, dur, 3.0, rate=fdw_half)
        res["fdw_half"]["cpu"] = meter.stop()
        log("  fdw, %.0f/s open loop:     %7.1f searches/s  %s" % (
            fdw_half, res["fdw_half"]["searches_per_s"], fmt_lat(res["fdw_half"], lat)))

    rc = d.stop()
    if rc != 0:
        log("focald exited with %d" % rc)
    report(args, res, counts, why_no_ldap if not have_ldap else "", rows_per_search,
           time.time() - t_begin)
    return 0


def callgrind_wrapper(args):
    """A directory whose `focald` runs the real one under callgrind (the
    harness starts DIR/focald)."""
    d = os.path.join(args.workdir, "vg")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "focald")
    with open(path, "w") as f:
        f.write("#!/bin/sh\nexec valgrind --tool=callgrind --callgrind-out-file=%s "
                "%s \"$@\"\n" % (os.path.join(args.workdir, "callgrind.out.%p"),
                                 os.path.join(args.build, "focald")))
    os.chmod(path, 0o755)
    return d


def callgrind_measure(args, d, bodies):
    """Instructions focald executes per search: counters zeroed after a
    warm-up, N searches at 1 client, then dumped and summed over threads."""
    pid = d.proc.pid  # the wrapper exec'd valgrind: same process
    n = args.callgrind

    def run_count(count, label):
        cmd = [args.loadgen, "--url", "https://127.0.0.1:%d/v1/search" % d.port, "--cacert",
               d.cert, "--bodies", bodies, "--concurrency", "1", "--count", str(count),
               "--warmup", "0", "--label", label]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if not p.stdout.strip():
            raise RuntimeError("loadgen failed: " + p.stderr[-1000:])
        r = json.loads(p.stdout.strip().splitlines()[-1])
        problems = check_result(r, 60)
        if problems:
            raise RuntimeError("callgrind run: " + "; ".join(problems))
        return r

    run_count(max(16, n // 4), "callgrind warm-up")
    subprocess.run(["callgrind_control", "-z", str(pid)], check=True, stdout=subprocess.DEVNULL)
    r = run_count(n, "callgrind")
    for f in os.listdir(args.workdir):
        if f.startswith("callgrind.out.%d." % pid):
            os.unlink(os.path.join(args.workdir, f))
    subprocess.run(["callgrind_control", "-d", str(pid)], check=True, stdout=subprocess.DEVNULL)
    dumps = [os.path.join(args.workdir, f) for f in os.listdir(args.workdir)
             if f.startswith("callgrind.out.%d." % pid)]
    total = 0
    for f in dumps:  # one per thread with --separate-threads, else one
        with open(f) as fh:
            found = {}
            for line in fh:
                if line.startswith(("summary:", "totals:")):
                    found[line.split(":")[0]] = int(line.split()[1])
            total += found.get("totals", found.get("summary", 0))
    ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100"] + dumps,
                         capture_output=True, text=True).stdout
    log("")
    log("callgrind: %d searches at 1 client (%d searches done), %d sources" % (
        n, r["searches"], 60))
    log("  focald executed %.2f M instructions per search (all threads)" % (total / n / 1e6))
    log("  focald's own time per search under valgrind is meaningless; compare instruction "
        "counts between builds")
    log("  functions by instructions (inclusive, all searches; the first 25):")
    shown = 0
    for line in ann.splitlines():
        if re.match(r"^\s*[\d,]+ \(", line) and shown < 25:
            log("    " + line.strip()[:150])
            shown += 1
    kept = []
    for f in dumps:  # the work directory is removed at the end
        kept.append("/tmp/focal-" + os.path.basename(f))
        subprocess.run(["cp", f, kept[-1]], check=True)
    if kept:
        log("  profile kept: callgrind_annotate %s" % " ".join(kept))


def make_fdw(args, pg_sources):
    """postgres_fdw in database bench: one foreign server per PostgreSQL
    source (as if each were its own agency), async_capable, and one foreign
    table per source on its people_q view; pgbench scripts, one per person
    searched for, each a UNION ALL over every source."""
    port = re.search(r"port=(\d+)", args.pg).group(1)
    sql = ["CREATE EXTENSION IF NOT EXISTS postgres_fdw;", "CREATE SCHEMA IF NOT EXISTS hub;"]
    for no in pg_sources:
        sql.append("CREATE SERVER fdw_src%02d FOREIGN DATA WRAPPER postgres_fdw OPTIONS "
                   "(host '127.0.0.1', port '%s', dbname 'bench', async_capable 'true');" % (no, port))
        sql.append("CREATE USER MAPPING FOR postgres SERVER fdw_src%02d OPTIONS (user 'postgres');"
                   % no)
        sql.append("CREATE FOREIGN TABLE hub.src%02d (national_number text, family text, "
                   "given text, family_lc text, given_lc text, birth_date text, alert text, "
                   "instruction text) SERVER fdw_src%02d OPTIONS (schema_name 'src%02d', "
                   "table_name 'people_q');" % (no, no, no))
    psql(args.pg, "\n".join(sql), db="bench")
    scripts = []
    for i, (given, fam) in enumerate(dataset.TARGETS):
        q = "\nUNION ALL\n".join(
            "SELECT %s FROM hub.src%02d WHERE family_lc = lower('%s') AND given_lc = lower('%s')"
            % (SQL_COLS, no, fam.replace("'", "''"), given.replace("'", "''"))
            for no in pg_sources)
        path = os.path.join(args.workdir, "fdw_q%02d.sql" % i)
        with open(path, "w") as f:
            f.write(q.replace("\n", " ") + ";\n")
        scripts.append(path)
    # the plan must be an Async Append of every source
    plan_text = psql(args.pg, "EXPLAIN (VERBOSE) " + open(scripts[0]).read(), db="bench")
    n_async = plan_text.count("Async Foreign Scan")
    if n_async != len(pg_sources):
        raise RuntimeError("fdw plan has %d async foreign scans, expected %d:\n%s" % (
            n_async, len(pg_sources), plan_text[:2000]))
    want = sum(dataset.hits(no, args.rows)[dataset.TARGETS[0]] for no in pg_sources)
    got = len(psql(args.pg, open(scripts[0]).read(), db="bench").strip().splitlines())
    if got != want:
        raise RuntimeError("fdw query returned %d rows, expected %d" % (got, want))
    return scripts


def cpu_per_search(r, k):
    """CPU seconds of process group k per search: its CPU rate over the
    search rate.  (CPU over the searches counted would also charge the
    warm-up, which the load generator does not count, to them.)"""
    c = r["cpu"]
    return c[k] / c["_wall"] / max(r["searches_per_s"], 1e-9)


def cpu_line(r, n):
    c = r["cpu"]
    wall = c["_wall"]
    parts = []
    names = {"_others": "other processes", "_steal": "stolen by the hypervisor"}
    for k in ("focald", "postgres", "http_backend", "slapd", "load generator", "_others",
              "_steal"):
        if k in c and c[k] / wall >= 0.005:
            parts.append("%s %.0f%%" % (names.get(k, k), 100 * c[k] / wall))
    per = ""
    if n > 0:
        per = "; per search: " + ", ".join(
            "%s %.2f ms" % (k, 1e3 * cpu_per_search(r, k)) for k in ("focald", "postgres", "http_backend",
                                                         "slapd") if k in c and c[k] / wall >= 0.005)
        if "_focald_kernel" in c and c.get("focald", 0) / wall >= 0.005:
            per += " (focald in the kernel: %.2f ms)" % (1e3 * cpu_per_search(r, "_focald_kernel"))
    return "CPU (100%% = one core): %s; machine %.0f%% busy%s" % (
        ", ".join(parts), 100 * c["_machine_busy"], per)


def wake_lines(P, res):
    """The scheduler's share of the overhead: a search crosses several
    thread wake-ups in series, and none can be faster than one of them."""
    for key, name in (("wake_idle", "before the load"), ("wake_half", "at half saturation")):
        w = res.get(key)
        if w:
            P("    wake-up latency, %-18s timer p50 %.3f / p99 %.3f ms (max %.2f); "
              "woken by another thread p50 %.3f / p99 %.3f ms (max %.2f)" % (
                  name + ":", w["timer_ms"]["p50"], w["timer_ms"]["p99"], w["timer_ms"]["max"],
                  w["wake_ms"]["p50"], w["wake_ms"]["p99"], w["wake_ms"]["max"]))


def report(args, res, counts, why_no_ldap, rows_per_search, elapsed):
    lat = args.latency_ms
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = re.search(r"model name\s*:\s*(.*)", f.read()).group(1)
    except (OSError, AttributeError):
        pass
    buildtype = ""
    try:
        with open(os.path.join(args.build, "meson-info", "intro-buildoptions.json")) as f:
            buildtype = [o["value"] for o in json.load(f) if o["name"] == "buildtype"][0]
    except (OSError, ValueError, IndexError, KeyError):
        pass
    low, half, sat = res["low"], res["half"], res["sat"]
    P = print
    P("")
    P("=" * 78)
    P("Focal federated search benchmark, %s" % time.strftime("%Y-%m-%d %H:%M %Z"))
    P("machine: %s, %d cores (%s), Linux %s; focald %s build, %d loops, %s workers; "
      "everything on 127.0.0.1" % (platform.node(), os.cpu_count(), cpu, platform.release(),
                                   buildtype or "?", args.threads, args.workers or "default"))
    if args.focald_only:
        P("FOCALD-ONLY mode: 60 SQLite sources, nothing waits; the figures are focald's own")
    if args.sqlite_immutable:
        P("SQLite sources opened with immutable: true (no file locks)")
    P("sources: 60 = %s%s" % (", ".join("%d %s" % (counts[k], k) for k in counts if counts[k]),
                             " (LDAP left out: %s)" % why_no_ldap if why_no_ldap else ""))
    P("  PostgreSQL and HTTP sources answer after %d ms (the slowest source); SQLite%s at once."
      % (lat, " and LDAP" if counts["ldap"] else ""))
    P("  %d rows per source, indexed; a search (\"Jan Peeters\", 16 names in turn) finds 1-3 rows"
      " per source, %.0f records in all." % (args.rows, rows_per_search))
    P("  postgres pool_size %d per loop; searches over HTTPS (TLS 1.3, keep-alive), "
      "full JSON briefing." % args.pool_size)
    P("  audit log (every search waits for its begin entry's fdatasync): %s"
      % ("in " + args.audit_dir + " (--audit-dir)" if args.audit_dir
         else "next to focald's configuration, on the work directory's disk"))
    runs = [low, half] + res["sweep"] + [res[k] for k in ("fdw_low", "fdw_sat", "fdw_half")
                                         if k in res]
    others = max(r["cpu"]["_others"] / r["cpu"]["_wall"] for r in runs)
    steal = max(r["cpu"].get("_steal", 0.0) / r["cpu"]["_wall"] for r in runs)
    if others > 0.15:
        P("  WARNING: other processes on this machine used up to %.0f%% of a core during the "
          "measurements; the figures are pessimistic." % (100 * others))
    if steal > 0.05:
        P("  WARNING: the hypervisor took up to %.0f%% of a core from this VM during the "
          "measurements (steal time); the figures are pessimistic." % (100 * steal))
    P("")
    P("[1] Latency, end to end (client: POST /v1/search until the whole briefing is read)")
    P("    1 client (%.0f/s):        %s" % (low["searches_per_s"], fmt_lat(low, lat)))
    P("    half saturation (%.0f/s): %s" % (half["searches_per_s"], fmt_lat(half, lat)))
    P("    focald's own view, from the briefings (ms, p50 / p99):")
    for r, name in ((low, "1 client"), (half, "half saturation")):
        P("      %-16s search %.2f / %.2f; slowest source call %.2f / %.2f; end-to-end minus "
          "that call %.2f / %.2f" % (
              name, r["focald_elapsed_ms"]["p50"], r["focald_elapsed_ms"]["p99"],
              r["slowest_source_ms"]["p50"], r["slowest_source_ms"]["p99"],
              r["over_slowest_ms"]["p50"], r["over_slowest_ms"]["p99"]))
    ov = half["e2e_ms"]["p99"] - lat
    P("    target: p99 overhead <= 2 ms at half saturation: end-to-end p99 - %d ms = %.2f ms -> %s"
      % (lat, ov, "MET" if ov <= 2 else "NOT MET"))
    P("            (per search, end-to-end minus its slowest source call as focald timed it: "
      "p99 %.2f ms)" % half["over_slowest_ms"]["p99"])
    P("    " + cpu_line(half, half["searches"]))
    wake_lines(P, res)
    P("")
    P("[2] Throughput, raising the number of clients (closed loop)")
    for r in res["sweep"]:
        P("    %4d clients: %7.1f searches/s   p50 %7.2f ms  p99 %7.2f ms   focald CPU %3.0f%% "
          "(%.2f ms/search)  machine %3.0f%%  new connections/search: http %.2f, pg %.2f" % (
              r["concurrency"], r["searches_per_s"], r["e2e_ms"]["p50"], r["e2e_ms"]["p99"],
              100 * r["cpu"]["focald"] / r["cpu"]["_wall"], 1e3 * cpu_per_search(r, "focald"),
              100 * r["cpu"]["_machine_busy"],
              r["new_http_conns"], r["new_pg_sessions"]))
    P("    saturation: %.0f searches/s at %d clients (%.0f source calls/s) -> target >= 1000/s %s"
      % (sat["searches_per_s"], sat["concurrency"], sat["searches_per_s"] * 60,
         "MET" if sat["searches_per_s"] >= 1000 else "NOT MET"))
    P("    " + cpu_line(sat, sat["searches"]))
    c = sat["cpu"]
    per = cpu_per_search(sat, "focald")
    P("    focald alone on %d cores at this CPU cost: at most ~%.0f searches/s" % (
        os.cpu_count(), os.cpu_count() / per if per > 0 else float("nan")))
    P("    connections opened per search at saturation: HTTP back-end %.2f, PostgreSQL %.2f "
      "(0 = all reused)" % (sat["new_http_conns"], sat["new_pg_sessions"]))
    problems = [p for r in [low, half] + res["sweep"] for p in check_result(r, 60)]
    P("    failed source calls or errors: %s" % ("none" if not problems else "; ".join(problems)))
    if "fdw_sat" in res:
        fl, fs, fh = res["fdw_low"], res["fdw_sat"], res["fdw_half"]
        P("")
        P("[3] The same searches through PostgreSQL 15 postgres_fdw (async_capable, UNION ALL)")
        P("    covers only the %d PostgreSQL sources (focald: all 60); pgbench, plain TCP, "
          "no TLS, rows as text" % counts["postgres"])
        P("    1 client (%.0f/s):        %s" % (fl["searches_per_s"], fmt_lat(fl, lat)))
        P("    %.0f/s open loop:         %s" % (fh["searches_per_s"], fmt_lat(fh, lat)))
        P("    %d clients: %.0f searches/s  p50 %.2f ms  p99 %.2f ms" % (
            fs["concurrency"], fs["searches_per_s"], fs["e2e_ms"]["p50"], fs["e2e_ms"]["p99"]))
        P("    " + cpu_line(fs, fs["searches"]))
        P("    focald/fdw: latency at 1 client p50 %.2fx, p99 %.2fx; throughput at %d clients "
          "%.2fx" % (low["e2e_ms"]["p50"] / fl["e2e_ms"]["p50"],
                     low["e2e_ms"]["p99"] / fl["e2e_ms"]["p99"], fs["concurrency"],
                     sat["searches_per_s"] / max(fs["searches_per_s"], 1e-9)))
        if fl.get("failed") or fs.get("failed") or fh.get("failed"):
            P("    pgbench failed transactions: %d/%d/%d" % (fl["failed"], fs["failed"],
                                                           fh["failed"]))
    P("")
    P("[4] Outside the fan-out (HTTPS, request parsing, entity resolution, briefing JSON), "
      "per search at 1 client:")
    P("    end-to-end minus focald's search time: p50 %.2f ms" % (
        low["e2e_ms"]["p50"] - low["focald_elapsed_ms"]["p50"]))
    for r, name in ((low, "1 client"), (half, "half saturation"), (sat, "saturation")):
        rs = r.get("resolve_ms", {})
        if rs.get("mean", -1) >= 0:
            P("    entity resolution (summary.resolve_ms), %-16s p50 %.3f ms, p99 %.3f ms, "
              "mean %.3f ms%s" % (name, rs["p50"], rs["p99"], rs["mean"],
                                  " = %.0f%% of focald's CPU per search" % (
                                      100 * rs["mean"] / (1e3 * cpu_per_search(r, "focald")))
                                  if name == "saturation" and r["searches"] else ""))
    if low.get("resolve_ms", {}).get("mean", -1) < 0:
        P("    (this focald does not report summary.resolve_ms)")
    P("")
    P("bench finished in %.0f s" % elapsed)
    P("=" * 78)


if __name__ == "__main__":
    sys.exit(main())
