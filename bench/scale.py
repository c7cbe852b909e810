"""Scale mode of the benchmark harness: one daemon with N programs, for
N = 100, 1000 and as many as the descriptor limit allows, ours against
Supervisor 4.3.0, with the physical baseline (bench/forkexec.c) measured in
the same run. Results go to docs/performance.md `## Scale`; the plots are
drawn from the JSON by bench/plot_scale.py.

    python3 bench/sv_bench.py scale --json /tmp/scale.json      # ≈ 15 min
    python3 bench/sv_bench.py scale --sizes 100,1000 --reps 3
    python3 bench/sv_bench.py scale --sizes 20 --idle 0.5       # the smoke run

Every program is `sleep` with startsecs=0, its stdout (and stderr, redirected)
in a log file of its own, one program per group, as a large installation
writes them; `minfds = 3·N + 256` (a pipe to stdin, one from stdout, the
log). The largest size is the most the hard descriptor limit allows with
that, at most 10,000 (rounded down to a thousand); run as root, the harness
first raises its hard limit to what 10,000 need (as `ulimit -Hn` would).

One daemon lifetime per size and daemon, phases in this order, each with a
deadline (`--cap`): a phase that runs past it is reported as "> T s" and the
daemon is then killed (Supervisor 4.3.0 needs minutes for some of them at
6000 programs):

  load     launch -> `supervisord started with pid` in the main log
  rpc      launch -> first answer to getState on the unix socket
  boot     launch -> N `entered RUNNING state` lines in the main log
  idle     RSS after start-up settles; CPU over the idle window
  gapi     getAllProcessInfo: wall time and daemon CPU per call
  ctl      `supervisorctl status`, our client and Supervisor's
  web      GET / (the whole page: what a browser needs for first paint)
  stopall  stopAllProcesses(wait) once every child has exec'd
  startall startAllProcesses(wait); meanwhile the page's live stream
           (`/events`, ours only) is read: updates/s and the lag of the
           last RUNNING behind the call's answer
  shutdown SIGTERM -> the daemon has exited and every child is gone
  conf     (a second, short lifetime with autostart=false) RSS with N
           programs configured and none running

Bounded: every wait has a deadline; only processes this harness started are
signalled, by pid. Stdlib only; reuses sv_bench's process helpers.
"""
import argparse
import http.client
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time

import sv_bench
from sv_bench import BenchError, cpu_seconds, descendants, kill_tree, rss_mb

HERE = os.path.dirname(os.path.abspath(__file__))
SLEEP = os.path.realpath("/bin/sleep")
# Descriptors a daemon needs besides its programs' (sockets, logs, epoll ...).
SPARE_FDS = 256
FDS_PER_PROGRAM = 3


class Capped(Exception):
    """A phase ran past its deadline; `seconds` is the deadline."""

    def __init__(self, seconds):
        super().__init__("> %g s" % seconds)
        self.seconds = seconds


# ---------------------------------------------------------------- sizes

def max_programs():
    """The most programs `minfds = 3·N + 256` allows under the hard limit,
    rounded down to a thousand, at most 10,000."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard == resource.RLIM_INFINITY:
        return 10000
    return max(1000, min(10000, (hard - SPARE_FDS) // FDS_PER_PROGRAM // 1000 * 1000))


def raise_limits():
    """The daemons inherit the harness's limits. Supervisor refuses to start
    when minfds is above the soft limit and it cannot raise it; both daemons
    raise the hard limit themselves only when run as root. So: the soft
    limit up to the hard one, and, where the harness may (root, or
    CAP_SYS_RESOURCE), the hard limit up to what 10,000 programs need
    (bounded by the kernel's fs.nr_open). Returns the hard limit before."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = FDS_PER_PROGRAM * 10000 + SPARE_FDS
    if hard != resource.RLIM_INFINITY and hard < want:
        try:
            with open("/proc/sys/fs/nr_open") as f:
                want = min(want, int(f.read()))
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
        except (OSError, ValueError):
            pass  # not privileged: the sizes stop where the hard limit does
    soft, new_hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != new_hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (new_hard, new_hard))
    return hard


# ---------------------------------------------------------------- wire

class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


def http_call(path, method, url, body=None, timeout=60):
    """(status, body) of one request on a new connection; Capped past `timeout`."""
    conn = UnixHTTP(path, timeout)
    try:
        headers = {"Content-Type": "text/xml"} if body else {}
        conn.request(method, url, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    except socket.timeout:
        raise Capped(timeout)
    finally:
        conn.close()


def xmlrpc(path, method, *args, timeout=60):
    status, data = http_call(path, "POST", "/RPC2", sv_bench.rpc_body(method, *args), timeout)
    if status != 200 or b"<fault>" in data:
        raise BenchError("%s: HTTP %d %s" % (method, status, data[:200]))
    return data


def wait_deadline(cond, seconds, step):
    """Like sv_bench.wait_for, but a timeout is a Capped (a figure, "> T s")."""
    deadline = time.monotonic() + seconds
    while not cond():
        if time.monotonic() > deadline:
            raise Capped(seconds)
        time.sleep(step)


# ---------------------------------------------------------------- config

def body(n, autostart):
    out = []
    for i in range(n):
        out.append("[program:p%05d]\ncommand=/bin/sleep 100000\nstartsecs=0\nautostart=%s\n"
                   "redirect_stderr=true\nstdout_logfile={dir}/logs/p%05d.log\n"
                   % (i, "true" if autostart else "false", i))
    return "".join(out)


def launch(ctx, impl, n, autostart):
    d = sv_bench.Daemon.__new__(sv_bench.Daemon)
    # Daemon's own constructor writes minfds=4096; the log directory must
    # exist before the daemon starts, so build the config here.
    d.impl, d.grace = impl, ctx.grace
    d.dir = tempfile.mkdtemp(prefix="svs", dir="/tmp")
    os.mkdir(os.path.join(d.dir, "logs"))
    d.sock, d.log, d.conf = (os.path.join(d.dir, x) for x in ("s.sock", "sd.log", "sd.conf"))
    with open(d.conf, "w") as f:
        f.write("[supervisord]\nlogfile=%s\npidfile=%s/sd.pid\nchildlogdir=%s\nnodaemon=true\n"
                "silent=true\nminfds=%d\nloglevel=info\n[unix_http_server]\nfile=%s\n"
                "[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = "
                "supervisor.rpcinterface:make_main_rpcinterface\n[supervisorctl]\n"
                "serverurl=unix://%s\n%s" % (d.log, d.dir, d.dir, FDS_PER_PROGRAM * n + SPARE_FDS,
                                            d.sock, d.sock, body(n, autostart).replace("{dir}", d.dir)))
    d._log_offset, d._log_counts = 0, {}
    d.t0 = time.monotonic()
    d.popen = subprocess.Popen([ctx.binaries[impl], "-c", d.conf], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sv_bench.STARTED.append(d.popen)
    d.pid = d.popen.pid
    return d


def first_answer(d, seconds, out):
    """Thread: poll getState until the daemon answers; out['rpc_s']."""
    deadline = d.t0 + seconds
    while time.monotonic() < deadline and d.popen.poll() is None:
        try:
            status, data = http_call(d.sock, "POST", "/RPC2",
                                     sv_bench.rpc_body("supervisor.getState"),
                                     max(0.1, deadline - time.monotonic()))
            if status == 200:
                out["rpc_s"] = time.monotonic() - d.t0
                return
        except (OSError, Capped, http.client.HTTPException):
            pass
        time.sleep(0.002)


def children(d):
    return [p for p in sv_bench.proc_children().get(d.pid, [])]


def all_execd(d, n):
    kids = children(d)
    if len(kids) != n:
        return False
    for pid in kids:
        try:
            if os.readlink("/proc/%d/exe" % pid) != SLEEP:
                return False
        except OSError:
            return False
    return True


def gone(pids):
    """No pid of `pids` is alive (a zombie left to init counts as gone)."""
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                if f.read().rsplit(")", 1)[1].split()[0] != "Z":
                    return False
        except OSError:
            pass
    return True


# ---------------------------------------------------------------- live stream

class LiveReader(threading.Thread):
    """Reads our `/events` stream: every `state` / `resync` message with its
    arrival time and how many changes to RUNNING it carried."""

    def __init__(self, d, n, seconds):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(seconds)
        self.sock.connect(d.sock)
        # HTTP/1.0: no chunked framing between the SSE lines.
        self.sock.sendall(b"GET /events HTTP/1.0\r\nHost: localhost\r\n\r\n")
        self.n, self.messages, self.running, self.resyncs = n, [], 0, 0
        self.ok = None
        self.stop = False

    def run(self):
        buf = b""
        try:
            while not self.stop and self.running < self.n:
                chunk = self.sock.recv(1 << 16)
                if not chunk:
                    break
                buf += chunk
                if self.ok is None and b"\r\n\r\n" in buf:
                    head, buf = buf.split(b"\r\n\r\n", 1)
                    self.ok = head.startswith(b"HTTP/1.") and b" 200 " in head.split(b"\r\n")[0]
                    if not self.ok:
                        return
                while self.ok and b"\n\n" in buf:
                    msg, buf = buf.split(b"\n\n", 1)
                    if msg.startswith(b"event: state"):
                        self.messages.append(time.monotonic())
                        self.running += msg.count(b'"statename":"RUNNING"')
                    elif msg.startswith(b"event: resync"):
                        self.messages.append(time.monotonic())
                        self.resyncs += 1
        except OSError:
            pass
        finally:
            self.sock.close()


# ---------------------------------------------------------------- one lifetime

def phase(out, name, fn):
    """Run one phase; a Capped phase is recorded as `name` = None and
    `name_capped` = T, so the report prints "> T"."""
    try:
        fn()
        return True
    except Capped as capped:
        out[name + "_capped"] = capped.seconds
        return False


def lifetime(ctx, impl, n):
    out = {}
    cap = ctx.cap
    d = launch(ctx, impl, n, True)
    try:
        poll = threading.Thread(target=first_answer, args=(d, ctx.boot_cap, out), daemon=True)
        poll.start()
        booted = {}

        def boot():
            def check():
                d.alive()
                if "load_s" not in booted and d.log_count(b"supervisord started with pid"):
                    booted["load_s"] = time.monotonic() - d.t0
                return d.log_count(b"entered RUNNING state") >= n
            d._log_counts.setdefault(b"entered RUNNING state", 0)
            d._log_counts.setdefault(b"supervisord started with pid", 0)
            wait_deadline(check, ctx.boot_cap, 0.005)
            out["boot_s"] = time.monotonic() - d.t0
        if not phase(out, "boot_s", boot):
            poll.join(0)
            out.update(booted)
            if "rpc_s" not in out:
                out["rpc_s_capped"] = ctx.boot_cap
            return out
        out.update(booted)
        poll.join(ctx.boot_cap)
        if "rpc_s" not in out:
            out["rpc_s_capped"] = ctx.boot_cap

        time.sleep(ctx.settle)
        c0 = cpu_seconds(d.pid)
        time.sleep(ctx.idle)
        out["idle_cpu_s"] = cpu_seconds(d.pid) - c0
        out["rss_mb"] = rss_mb(d.pid)

        def gapi():
            walls = []
            t_end = time.monotonic() + ctx.gapi_seconds
            c0 = cpu_seconds(d.pid)
            while len(walls) < ctx.gapi_calls and (not walls or time.monotonic() < t_end):
                t0 = time.monotonic()
                data = xmlrpc(d.sock, "supervisor.getAllProcessInfo", timeout=cap)
                walls.append(time.monotonic() - t0)
                if data.count(b"<name>statename</name>") != n:
                    raise BenchError("%s: getAllProcessInfo of %d processes" % (impl, n))
            # CPU ticks are 10 ms: the whole series, divided, not per call.
            out["gapi_cpu_ms"] = (cpu_seconds(d.pid) - c0) / len(walls) * 1000
            out["gapi_s"] = statistics.median(walls)
        phase(out, "gapi_s", gapi)

        for client, ctl in ctx.ctls.items():
            def status(client=client, ctl=ctl):
                times = []
                for _ in range(ctx.ctl_runs if n <= 1000 else 1):
                    t0 = time.monotonic()
                    try:
                        r = subprocess.run([ctl, "-c", d.conf, "status"], capture_output=True,
                                           timeout=cap)
                    except subprocess.TimeoutExpired:
                        raise Capped(cap)
                    times.append(time.monotonic() - t0)
                    if r.stdout.count(b"RUNNING") != n:
                        raise BenchError("%s status against %s: %d RUNNING lines"
                                         % (client, impl, r.stdout.count(b"RUNNING")))
                out["ctl_s_" + client] = statistics.median(times)
            phase(out, "ctl_s_" + client, status)

        def web():
            t0 = time.monotonic()
            status, page = http_call(d.sock, "GET", "/", timeout=cap)
            out["web_paint_s"] = time.monotonic() - t0
            if status != 200 or page.count(b"p%05d" % (n - 1)) == 0:
                raise BenchError("%s: GET / answered %d without the last program" % (impl, status))
        phase(out, "web_paint_s", web)

        def stopall():
            wait_deadline(lambda: all_execd(d, n), cap, 0.02)
            kids = children(d)
            t0 = time.monotonic()
            xmlrpc(d.sock, "supervisor.stopAllProcesses", timeout=cap)
            out["stopall_s"] = time.monotonic() - t0
            if not gone(kids):
                raise BenchError("%s: children left after stopAllProcesses" % impl)
        if not phase(out, "stopall_s", stopall):
            return out

        def startall():
            live = LiveReader(d, n, cap) if impl == "ours" else None
            if live:
                live.start()
                time.sleep(0.2)  # the stream is subscribed before the first change
            t0 = time.monotonic()
            xmlrpc(d.sock, "supervisor.startAllProcesses", timeout=cap)
            t1 = time.monotonic()
            out["startall_s"] = t1 - t0
            if live:
                live.join(max(1.0, ctx.settle))
                live.stop = True
                if live.ok and live.messages and (live.running >= n or live.resyncs):
                    # Rows brought up to date per second, as the page sees
                    # them (a resync reloads the table: every row).
                    rows = n if live.resyncs else live.running
                    span = live.messages[-1] - t0
                    out["web_rows_per_s"] = rows / span if span > 0 else None
                    out["web_lag_s"] = max(0.0, live.messages[-1] - t1)
                    out["web_resyncs"] = live.resyncs
                else:
                    raise BenchError("%s: /events showed %d of %d RUNNING"
                                     % (impl, live.running, n))
        phase(out, "startall_s", startall)

        def shutdown():
            if "startall_s" in out:
                wait_deadline(lambda: all_execd(d, n), cap, 0.02)
            kids = descendants(d.pid)
            t0 = time.monotonic()
            d.popen.send_signal(signal.SIGTERM)
            wait_deadline(lambda: d.popen.poll() is not None and gone(kids), ctx.shutdown_cap, 0.002)
            out["shutdown_s"] = time.monotonic() - t0
        phase(out, "shutdown_s", shutdown)
        return out
    finally:
        kill_tree(d.popen, 2)
        shutil.rmtree(d.dir, ignore_errors=True)


def configured(ctx, impl, n):
    """RSS with N programs configured (autostart=false), once RPC answers."""
    d = launch(ctx, impl, n, False)
    try:
        answered = {}
        first_answer(d, ctx.boot_cap, answered)
        if "rpc_s" not in answered:
            raise BenchError("%s with %d programs configured: no answer in %g s"
                             % (impl, n, ctx.boot_cap))
        time.sleep(ctx.settle)
        return {"conf_rss_mb": rss_mb(d.pid)}
    finally:
        kill_tree(d.popen, 2)
        shutil.rmtree(d.dir, ignore_errors=True)


# ---------------------------------------------------------------- baseline

def forkexec_binary():
    exe = os.path.join(os.path.dirname(HERE), "target", "forkexec")
    src = os.path.join(HERE, "forkexec.c")
    if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(src):
        subprocess.run(["cc", "-O2", "-o", exe, src], check=True)
    return exe


def baseline(n):
    """bench/forkexec.c: N children started (pipes, a new process group,
    exec, in its three ways: fork, vfork, posix_spawn) and stopped (SIGTERM
    all, reap), in seconds. `startall_s` is fork+exec, the baseline the
    targets name; the stop figure is fork's."""
    runs = [subprocess.run([forkexec_binary(), str(n), "all"], capture_output=True, text=True,
                           timeout=900, check=True).stdout
            for _ in range(3 if n <= 1000 else 1)]  # cheap below 1000: a median of 3
    samples = [baseline_figures(stdout) for stdout in runs]
    return {k: statistics.median(s[k] for s in samples) for k in samples[0]}


def baseline_figures(stdout):
    out = {}
    for line in stdout.splitlines():
        words = line.split()
        mode = words[-1].strip("[]")
        start = float(words[words.index("start") + 1])
        if mode == "fork":
            out["startall_s"] = start
            out["stopall_s"] = float(words[words.index("stop") + 1])
        else:
            out[mode + "_start_s"] = start
    if "startall_s" not in out:
        raise BenchError("forkexec printed %r" % stdout)
    return out


# ---------------------------------------------------------------- report

# metric -> (label, unit)
METRICS = [
    ("load_s", "config load: launch -> `started` logged", "s"),
    ("rpc_s", "launch -> RPC answered", "s"),
    ("boot_s", "launch -> all RUNNING", "s"),
    ("startall_s", "startAllProcesses (baseline: fork+exec)", "s"),
    ("vfork_start_s", "baseline: N children by vfork+exec", "s"),
    ("posix_spawn_start_s", "baseline: N children by posix_spawn", "s"),
    ("stopall_s", "stopAllProcesses", "s"),
    ("shutdown_s", "SIGTERM -> exit, children gone", "s"),
    ("rss_mb", "idle RSS, all RUNNING", "MB"),
    ("conf_rss_mb", "RSS, all configured, none running", "MB"),
    ("idle_cpu_s", "idle CPU over the window", "s"),
    ("gapi_s", "getAllProcessInfo wall", "s"),
    ("gapi_cpu_ms", "getAllProcessInfo daemon CPU per call", "ms"),
    ("ctl_s_our-ctl", "our `supervisorctl status`", "s"),
    ("ctl_s_ref-ctl", "Supervisor's `supervisorctl status`", "s"),
    ("web_paint_s", "web page GET / (first paint)", "s"),
    ("web_rows_per_s", "web page: rows updated live per second during startAll", "1/s"),
    ("web_lag_s", "web page: last RUNNING shown after startAll answered", "s"),
]


def median_of(samples, metric):
    """(median, capped) over the samples: a capped sample makes the figure
    "> T" (the largest deadline) unless none was measured at all."""
    vals = [s[metric] for s in samples if s.get(metric) is not None]
    caps = [s[metric + "_capped"] for s in samples if s.get(metric + "_capped") is not None]
    if caps:
        return None, max(caps)
    return (statistics.median(vals) if vals else None), None


def cell(value, capped):
    if capped is not None:
        return "> %g" % capped
    return sv_bench.fmt(value)


def report(results, sizes):
    impls = ("ours", "reference")
    head = "| metric | " + " | ".join("%s %d" % (i if i == "ours" else "Supervisor", n)
                                      for i in impls for n in sizes)
    head += " | " + " | ".join("fork+exec %d" % n for n in sizes) + " |"
    print(head)
    print("|" + "---|" * (1 + 3 * len(sizes)))
    for metric, label, unit in METRICS:
        cells = []
        for impl in impls:
            for n in sizes:
                cells.append(cell(*median_of(results[impl].get(str(n), []), metric)))
        for n in sizes:
            cells.append(cell(*median_of(results["baseline"].get(str(n), []), metric)))
        if all(c == "—" for c in cells):
            continue
        print("| %s (%s) | %s |" % (label, unit, " | ".join(cells)))
    derived(results, sizes)


def derived(results, sizes):
    """The figures the targets of issue 19 are stated in: start-up against
    fork+exec, memory per program (the slope from the smallest size)."""
    def med(impl, n, metric):
        return median_of(results[impl].get(str(n), []), metric)[0]
    lines = []
    for impl in ("ours", "reference"):
        for n in sizes:
            base = med("baseline", n, "startall_s")
            best = min([b for b in (base, med("baseline", n, "vfork_start_s"),
                                    med("baseline", n, "posix_spawn_start_s")) if b] or [None])
            for metric in ("startall_s", "boot_s"):
                v = med(impl, n, metric)
                if v is not None and base:
                    lines.append("%s %d: %s = %.2f× fork+exec, %.2f× the fastest baseline"
                                 % (impl, n, metric, v / base, v / best))
            conf, run = med(impl, n, "conf_rss_mb"), med(impl, n, "rss_mb")
            conf0 = med(impl, sizes[0], "conf_rss_mb")
            if conf is not None and conf0 is not None and n != sizes[0]:
                lines.append("%s %d: %.2f KB per configured program (slope from %d)"
                             % (impl, n, (conf - conf0) * 1024 / (n - sizes[0]), sizes[0]))
            if conf is not None and run is not None:
                lines.append("%s %d: %.2f KB more per running program"
                             % (impl, n, (run - conf) * 1024 / n))
    if lines:
        print()
        for line in lines:
            print("- " + line)


def uptime():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main(argv):
    parser = argparse.ArgumentParser(prog="sv_bench.py scale", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", help="comma-separated program counts (default 100,1000,max)")
    parser.add_argument("--reps", type=int, default=1, help="lifetimes per size and daemon")
    parser.add_argument("--impls", default="ours,reference",
                        help="daemons to measure: ours, reference or both (default)")
    parser.add_argument("--no-baseline", action="store_true", help="skip bench/forkexec.c")
    parser.add_argument("--idle", type=float, default=10, help="idle window in seconds")
    parser.add_argument("--cap", type=float, default=90, help="deadline of each phase (s)")
    parser.add_argument("--boot-cap", type=float, default=240, help="deadline of the boot (s)")
    parser.add_argument("--shutdown-cap", type=float, default=60, help="deadline of shutdown (s)")
    parser.add_argument("--ours", default=os.path.join(sv_bench.ROOT, "target", "release", "supervisord"))
    parser.add_argument("--ours-ctl", default=os.path.join(sv_bench.ROOT, "target", "release", "supervisorctl"))
    parser.add_argument("--venv", default=os.path.join(sv_bench.ROOT, "target", "reference-venv"))
    parser.add_argument("--label", default="", help="a name for this run in the JSON (e.g. the commit)")
    parser.add_argument("--json", help="write the raw results to this file")
    parser.add_argument("--report", nargs="+", metavar="JSON",
                        help="measure nothing: print the table of these runs' JSON, merged")
    args = parser.parse_args(argv)
    if args.report:
        return report_files(args.report)
    hard_before = raise_limits()
    sizes = ([int(x) for x in args.sizes.split(",")] if args.sizes
             else sorted({100, 1000, max_programs()}))
    need = FDS_PER_PROGRAM * max(sizes) + SPARE_FDS
    if need > resource.getrlimit(resource.RLIMIT_NOFILE)[1]:
        raise SystemExit("sv_bench scale: %d programs need %d descriptors, the hard limit is %d"
                         % (max(sizes), need, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))

    class Ctx:
        pass
    ctx = Ctx()
    ctx.binaries = {"ours": args.ours, "reference": os.path.join(args.venv, "bin", "supervisord")}
    ctx.ctls = {"our-ctl": args.ours_ctl, "ref-ctl": os.path.join(args.venv, "bin", "supervisorctl")}
    ctx.grace, ctx.settle, ctx.idle = 5, min(2.0, max(0.2, args.idle)), args.idle
    ctx.cap, ctx.boot_cap, ctx.shutdown_cap = args.cap, args.boot_cap, args.shutdown_cap
    ctx.gapi_calls, ctx.gapi_seconds, ctx.ctl_runs = 200, 3.0, 3
    impls = [i for i in ("ours", "reference") if i in args.impls.split(",")]

    import atexit
    atexit.register(sv_bench.cleanup_all)
    signal.signal(signal.SIGTERM, lambda *_: sys_exit(143))
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    print("# sv_bench scale, %s, %d cores, load %s, sizes %s, %d reps, cap %g s, "
          "RLIMIT_NOFILE hard %s (was %s)"
          % (platform.node(), os.cpu_count(), uptime(), sizes, args.reps, args.cap, hard,
             hard_before), flush=True)
    results = {"ours": {}, "reference": {}, "baseline": {}}
    loads, failures = {}, []
    for n in sizes:
        before = uptime()
        t0 = time.monotonic()
        for _ in range(args.reps):
            # The baseline first, next to ours in time: the load of a shared
            # machine drifts within minutes.
            if not args.no_baseline:
                results["baseline"].setdefault(str(n), []).append(baseline(n))
            for impl in impls:
                try:
                    sample = lifetime(ctx, impl, n)
                    sample.update(configured(ctx, impl, n))
                    results[impl].setdefault(str(n), []).append(sample)
                except BenchError as err:
                    failures.append("%d/%s: %s" % (n, impl, err))
                    print("  ! %d/%s: %s" % (n, impl, err), flush=True)
        loads[str(n)] = {"before": before, "after": uptime()}
        print("- %d programs done in %.1f s (load %s -> %s)"
              % (n, time.monotonic() - t0, before, loads[str(n)]["after"]), flush=True)
    print()
    report(results, sizes)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"label": args.label, "sizes": sizes, "reps": args.reps, "cap": args.cap,
                       "machine": platform.node(), "cores": os.cpu_count(), "loads": loads,
                       "nofile_hard": hard, "nofile_hard_before": hard_before,
                       "results": results, "failures": failures}, f, indent=1)
    if failures:
        print("\n%d measurement(s) failed:" % len(failures))
        for failure in failures:
            print("  " + failure)
        return 1
    return 0


def report_files(paths):
    """One table from several runs (e.g. Supervisor's figures from an
    earlier run of the same day): later files add sizes and daemons."""
    results, sizes = {"ours": {}, "reference": {}, "baseline": {}}, set()
    for path in paths:
        with open(path) as f:
            run = json.load(f)
        sizes.update(run["sizes"])
        for impl, by_size in run["results"].items():
            results[impl].update(by_size)
        print("# %s: %s, loads %s" % (path, run.get("label", ""), run.get("loads")))
    report(results, sorted(sizes))
    return 0


def sys_exit(code):
    raise SystemExit(code)
