"""Soak mode of the benchmark harness: one of our daemons under a steady,
mixed load for a long time, sampled once a minute. Not part of the test
suite (it takes half an hour); results go to docs/reliability.md `## Soak`.

    python3 bench/sv_bench.py soak                 # 30 minutes, 1000 programs
    python3 bench/sv_bench.py soak --minutes 2 --programs 100 --sample 10

The load: `--programs` programs, of which 10 % crash-loop (exit 3 after a few
seconds, autorestart), `--chatty` print bursts on stdout (to rotating child
logs), the rest sleep; `--clients` client processes poll getAllProcessInfo
over the unix socket; one event listener (this file, `--listener`) records
every PROCESS_STATE event with its serials.

Each sample: the daemon's RSS, open descriptors, CPU % over the interval,
events received, client calls and errors, the machine's load. At the end
the crash-loopers are stopped and, once the listener is idle, the events it
received are checked against the main log: per process, as many STARTING
events as `spawned:`/`spawnerr:` lines, RUNNING as `success:`, EXITED (and
BACKOFF from STARTING) as `exited:`, STOPPED (from STOPPING) as `stopped:`,
FATAL as `gave up:` (a RUNNING event may have no line: a child reaped while
STARTING after startsecs goes RUNNING then EXITED silently, as in
Supervisor); the pool serials without a gap; no `overflowed` line.
Stdlib only; reuses sv_bench's process helpers.
"""
import argparse
import collections
import multiprocessing
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

import sv_bench
from sv_bench import BenchError, UnixTransport, cpu_seconds, kill_tree, rss_mb, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))


# ---------------------------------------------------------------- listener

def listener(out_path):
    """Supervisor's listener protocol; one line per event:
    `serial poolserial eventname processname from_state`."""
    out = open(out_path, "a", buffering=1)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        stdout.write(b"READY\n")
        stdout.flush()
        line = stdin.readline()
        if not line:
            return
        headers = dict(token.split(b":", 1) for token in line.split() if b":" in token)
        payload = stdin.read(int(headers.get(b"len", b"0")))
        fields = dict(token.split(b":", 1) for token in payload.split(b"\n", 1)[0].split()
                      if b":" in token)
        out.write("%s %s %s %s %s\n" % tuple(
            v.decode() for v in (headers.get(b"serial", b"?"), headers.get(b"poolserial", b"?"),
                                 headers.get(b"eventname", b"?"), fields.get(b"processname", b"?"),
                                 fields.get(b"from_state", b"?"))))
        stdout.write(b"RESULT 2\nOK")
        stdout.flush()


# ---------------------------------------------------------------- load

def config(d, args):
    n_crash = args.programs // 10
    n_chatty = min(args.chatty, args.programs - n_crash)
    crash, chatty, idle = [], [], []
    body = []
    for i in range(args.programs):
        if i < n_crash:
            name = "c%04d" % i
            crash.append(name)
            # 3..7 s up, then a non-zero exit: an unexpected exit, a respawn.
            body.append("[program:%s]\ncommand=/bin/sh -c 'sleep %d; exit 3'\nstartsecs=0\n"
                        "autorestart=true\nstdout_logfile=NONE\nstderr_logfile=NONE\n"
                        % (name, 3 + i % 5))
        elif i < n_crash + n_chatty:
            name = "t%04d" % i
            chatty.append(name)
            # Bursts of ~14 KB every 2 s into a small rotating log.
            body.append("[program:%s]\ncommand=/bin/sh -c 'while :; do seq 1 3000; sleep 2; done'\n"
                        "startsecs=0\nstdout_logfile_maxbytes=1MB\nstdout_logfile_backups=1\n"
                        "stderr_logfile=NONE\n" % name)
        else:
            name = "p%04d" % i
            idle.append(name)
            body.append("[program:%s]\ncommand=/bin/sleep 1000000\nstartsecs=0\n"
                        "stdout_logfile=NONE\nstderr_logfile=NONE\n" % name)
    body.append("[group:crash]\nprograms=%s\n" % ",".join(crash))
    body.append("[eventlistener:soaklistener]\ncommand=%s %s --listener %s/events\n"
                "events=PROCESS_STATE\nbuffer_size=1000000\nstartsecs=0\nstderr_logfile=NONE\n"
                "priority=1\n" % (sys.executable, os.path.join(HERE, "soak.py"), d))
    head = ("[supervisord]\nlogfile=%s/sd.log\nlogfile_maxbytes=0\npidfile=%s/sd.pid\n"
            "childlogdir=%s\nnodaemon=true\nsilent=true\nminfds=16384\nloglevel=info\n"
            "[unix_http_server]\nfile=%s/s.sock\n[rpcinterface:supervisor]\n"
            "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n"
            % (d, d, d, d))
    return head + "".join(body), crash, chatty, idle


def client(path, poll, stop, queue):
    """Poll getAllProcessInfo on one kept-alive connection (a new one after
    an error); put (calls, errors, worst seconds) on the queue at the end."""
    body = sv_bench.rpc_body("supervisor.getAllProcessInfo")
    request = (b"POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\n"
               b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    calls = errors = 0
    worst = 0.0
    sock, buf = None, b""
    while not stop.is_set():
        t0 = time.monotonic()
        try:
            if sock is None:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(60)
                sock.connect(path)
                buf = b""
            sock.sendall(request)
            while b"\r\n\r\n" not in buf:
                chunk = sock.recv(65536)
                if not chunk:
                    raise OSError("closed")
                buf += chunk
            head, buf = buf.split(b"\r\n\r\n", 1)
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
            while len(buf) < length:
                chunk = sock.recv(max(65536, length - len(buf)))
                if not chunk:
                    raise OSError("closed")
                buf += chunk
            reply, buf = buf[:length], buf[length:]
            if not head.startswith(b"HTTP/1.1 200") or b"<fault>" in reply:
                errors += 1
        except (OSError, AttributeError, ValueError):
            errors += 1
            if sock is not None:
                sock.close()
            sock = None
        calls += 1
        worst = max(worst, time.monotonic() - t0)
        stop.wait(poll)
    queue.put((calls, errors, worst))


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def event_lines(path):
    try:
        with open(path) as f:
            return [line.split() for line in f if line.count(" ") == 4]
    except FileNotFoundError:
        return []


# ---------------------------------------------------------------- checks

LOG_KINDS = (
    # A spawn error's line does not name the process; one shows as missing.
    ("STARTING", re.compile(r"spawned: '([^']+)' with pid")),
    ("RUNNING", re.compile(r"success: (\S+) entered RUNNING state")),
    ("EXITED", re.compile(r"exited: (\S+) \(")),
    ("STOPPED", re.compile(r"stopped: (\S+) \(")),
    ("FATAL", re.compile(r"gave up: (\S+) entered FATAL state")),
)


def log_counts(log):
    counts = collections.Counter()
    overflows = 0
    with open(log, errors="replace") as f:
        for line in f:
            if "overflowed" in line:
                overflows += 1
            for kind, rx in LOG_KINDS:
                m = rx.search(line)
                if m:
                    name = next((g for g in m.groups() if g), None)
                    if name:
                        counts[(kind, name)] += 1
    return counts, overflows


def event_counts(events, names):
    counts = collections.Counter()
    for _serial, _pool, eventname, name, from_state in events:
        if name not in names:
            continue
        kind = eventname.replace("PROCESS_STATE_", "")
        # A log line per transition that has one: an exit while STARTING
        # is logged as `exited:` and is a BACKOFF event; `stopped:` is the
        # STOPPING -> STOPPED transition (a stop of a BACKOFF process is not
        # logged, by Supervisor either).
        if kind == "BACKOFF" and from_state == "STARTING":
            kind = "EXITED"
        if kind == "STOPPED" and from_state != "STOPPING":
            continue
        if kind in ("STARTING", "RUNNING", "EXITED", "STOPPED", "FATAL"):
            counts[(kind, name)] += 1
    return counts


def serial_gaps(events):
    serials = sorted(int(e[1]) for e in events if e[1].isdigit())
    return sum(b - a - 1 for a, b in zip(serials, serials[1:]) if b != a + 1)


# ---------------------------------------------------------------- driver

def run(args):
    d = tempfile.mkdtemp(prefix="svsoak", dir="/tmp")
    text, crash, chatty, idle = config(d, args)
    conf = os.path.join(d, "sd.conf")
    with open(conf, "w") as f:
        f.write(text)
    sock = os.path.join(d, "s.sock")
    popen = subprocess.Popen([args.ours, "-c", conf], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sv_bench.STARTED.append(popen)
    pid = popen.pid
    names = set(crash) | set(chatty) | set(idle)
    print("# soak: %d programs (%d crash-looping, %d chatty), %d clients every %.1f s, "
          "%s min, dir %s, load %.2f %.2f %.2f" % (
              args.programs, len(crash), len(chatty), args.clients, args.poll,
              args.minutes, d, *os.getloadavg()), flush=True)
    try:
        import xmlrpc.client
        rpc = xmlrpc.client.ServerProxy("http://localhost", transport=UnixTransport(sock))

        def up():
            if popen.poll() is not None:
                raise BenchError("supervisord exited (%s)" % popen.returncode)
            try:
                infos = rpc.supervisor.getAllProcessInfo()
            except (OSError, xmlrpc.client.Error):
                return False
            return sum(i["statename"] == "RUNNING" for i in infos) >= len(chatty) + len(idle)
        wait_for(up, 600, "all steady programs RUNNING", 0.5)

        ctx = multiprocessing.get_context("fork")
        stop, queue = ctx.Event(), ctx.Queue()
        clients = [ctx.Process(target=client, args=(sock, args.poll, stop, queue))
                   for _ in range(args.clients)]
        for c in clients:
            c.start()
        samples = []
        t_start = time.monotonic()
        end = t_start + args.minutes * 60
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        while True:
            if popen.poll() is not None:
                raise BenchError("supervisord exited (%s)" % popen.returncode)
            now = time.monotonic()
            cpu = cpu_seconds(pid)
            sample = {"min": (now - t_start) / 60, "rss_mb": rss_mb(pid), "fds": fd_count(pid),
                      "cpu_pct": 100 * (cpu - cpu0) / max(now - t0, 1e-9),
                      "events": len(event_lines(os.path.join(d, "events"))),
                      "load1": os.getloadavg()[0]}
            samples.append(sample)
            print("  %5.1f min  rss %6.1f MB  fds %5d  cpu %5.1f %%  events %7d  load %.2f" % (
                sample["min"], sample["rss_mb"], sample["fds"], sample["cpu_pct"],
                sample["events"], sample["load1"]), flush=True)
            cpu0, t0 = cpu, now
            if now >= end:
                break
            time.sleep(min(args.sample, max(end - time.monotonic(), 0.01)))
        stop.set()
        results = [queue.get(timeout=120) for _ in clients]
        for c in clients:
            c.join()

        # The cut: stop the crash-loopers (again, for one caught between
        # exit and respawn), then wait until the listener has had everything.
        def crash_stopped():
            rpc.supervisor.stopProcessGroup("crash", True)
            infos = rpc.supervisor.getAllProcessInfo()
            return all(i["statename"] in ("STOPPED", "EXITED", "FATAL")
                       for i in infos if i["group"] == "crash")
        wait_for(crash_stopped, 120, "crash group stopped", 0.5)
        seen = [-1, time.monotonic()]

        def settled():
            n = len(event_lines(os.path.join(d, "events")))
            if n != seen[0]:
                seen[0], seen[1] = n, time.monotonic()
            return time.monotonic() - seen[1] > 5
        wait_for(settled, 300, "listener idle", 0.5)

        events = event_lines(os.path.join(d, "events"))
        logged, overflows = log_counts(os.path.join(d, "sd.log"))
        logged = collections.Counter({k: v for k, v in logged.items() if k[1] in names})
        received = event_counts(events, names)
        missing = logged - received
        extra = received - logged
        gaps = serial_gaps(events)
        calls = sum(r[0] for r in results)
        errors = sum(r[1] for r in results)
        worst = max(r[2] for r in results) if results else 0
        return report(args, samples, events, logged, missing, extra, gaps, overflows,
                      calls, errors, worst)
    finally:
        kill_tree(popen, 30)
        if not args.keep:
            import shutil
            shutil.rmtree(d, ignore_errors=True)


def thirds(samples):
    """The samples after the first (start-up) one, in a first and a last
    third: a trend shows as a difference between them, while the swings of
    a busy daemon (replies in flight, children between exit and respawn)
    fall inside both."""
    body = samples[1:] if len(samples) > 3 else samples
    k = max(1, len(body) // 3)
    return body[:k], body[-k:]


def report(args, samples, events, logged, missing, extra, gaps, overflows, calls, errors, worst):
    head, tail = thirds(samples)
    first, last = head[0], tail[-1]

    def mean(xs, key):
        return sum(x[key] for x in xs) / len(xs)

    def median(xs, key):
        values = sorted(x[key] for x in xs)
        return values[len(values) // 2]
    rss_head, rss_tail = max(s["rss_mb"] for s in head), max(s["rss_mb"] for s in tail)
    fd_head, fd_tail = median(head, "fds"), median(tail, "fds")
    cpu_head, cpu_tail = mean(head, "cpu_pct"), mean(tail, "cpu_pct")
    checks = [
        ("RSS flat (peak of the last third ≤ peak of the first third + 10 %% + 5 MB: %.1f vs %.1f)"
         % (rss_tail, rss_head), rss_tail <= rss_head * 1.1 + 5),
        ("descriptors flat (median of the last third ≤ first third + 10: %d vs %d)"
         % (fd_tail, fd_head), fd_tail <= fd_head + 10),
        ("CPU flat (mean of the last third ≤ 1.5 × first third + 1: %.1f vs %.1f %%)"
         % (cpu_tail, cpu_head), cpu_tail <= 1.5 * cpu_head + 1),
        # A child reaped while STARTING after startsecs (before the actor ran
        # its RUNNING deadline: a busy start-up) goes RUNNING then EXITED
        # with no `success:` line, in Supervisor too (its finish()); so a
        # RUNNING event beyond the log's lines is no missed change.
        ("no missed state change (every logged change received; extra events only such silent RUNNINGs: %d)"
         % sum(extra.values()),
         not missing and all(kind == "RUNNING" for kind, _ in extra)),
        ("pool serials without a gap", gaps == 0),
        ("no event buffer overflow", overflows == 0),
        ("client polls without error", errors == 0 and calls > 0),
    ]
    print()
    print("| minute | RSS (MB) | fds | CPU % | events received | load (1 min) |")
    print("|---|---|---|---|---|---|")
    for s in samples:
        print("| %.1f | %.1f | %d | %.1f | %d | %.2f |" % (
            s["min"], s["rss_mb"], s["fds"], s["cpu_pct"], s["events"], s["load1"]))
    print()
    print("- start (minute %.1f) → end (minute %.1f): RSS %.1f → %.1f MB, fds %d → %d, "
          "CPU (thirds' means) %.1f → %.1f %%" % (
              first["min"], last["min"], first["rss_mb"], last["rss_mb"], first["fds"], last["fds"],
              cpu_head, cpu_tail))
    print("- events: %d PROCESS_STATE received; %d state changes logged for the programs; "
          "missing %d, unexpected %d; pool-serial gaps %d; overflow lines %d" % (
              len(events), sum(logged.values()), sum(missing.values()), sum(extra.values()),
              gaps, overflows))
    print("- clients: %d getAllProcessInfo calls, %d errors, slowest %.3f s" % (calls, errors, worst))
    for what, ok in checks:
        print("- %s: %s" % (what, "yes" if ok else "NO"))
    for (kind, name), n in list(missing.items())[:10]:
        print("  missing %d × %s of %s" % (n, kind, name))
    for (kind, name), n in list(extra.items())[:10]:
        print("  unexpected %d × %s of %s" % (n, kind, name))
    verdict = all(ok for _, ok in checks)
    print("- verdict: %s" % ("PASS" if verdict else "FAIL"))
    return 0 if verdict else 1


def main(argv):
    if argv[:1] == ["--listener"]:
        listener(argv[1])
        return 0
    parser = argparse.ArgumentParser(prog="sv_bench.py soak", description="soak run of our daemon")
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--programs", type=int, default=1000)
    parser.add_argument("--chatty", type=int, default=50)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--poll", type=float, default=1.0, help="seconds between a client's calls")
    parser.add_argument("--sample", type=float, default=60, help="seconds between samples")
    parser.add_argument("--ours", default=os.path.join(sv_bench.ROOT, "target", "release", "supervisord"))
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, events)")
    args = parser.parse_args(argv)
    if not os.access(args.ours, os.X_OK):
        sys.exit("soak: %s is missing (cargo build --release)" % args.ours)
    import atexit
    import signal
    atexit.register(sv_bench.cleanup_all)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        return run(args)
    except BenchError as err:
        print("soak: %s" % err, flush=True)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
