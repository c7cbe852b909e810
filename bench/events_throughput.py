"""Event delivery throughput: supervisor-rs against Supervisor 4.3.0.

N programs are started and stopped while the listener pool's only listener
(bench/listener.py, autostart=false) is down, so 4N PROCESS_STATE events
(STARTING, RUNNING, STOPPING, STOPPED) wait in its buffer. Then the
listener is started and the time until it has received all of them is
measured: events/s is what the daemon can push through the listener
protocol (one envelope, one RESULT, one READY per event) to a fast
listener. Listener start-up (a Python interpreter) is included.

    python3 bench/events_throughput.py            # N=2000, 3 runs each
    python3 bench/events_throughput.py 5000 5

Needs target/release/supervisord and target/reference-venv (created by
`cargo test --release`). Stdlib only; each daemon runs in its own temp dir
and is stopped by pid.
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import xmlrpc.client

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, "target", "reference-venv")
sys.path.insert(0, os.path.join(VENV, "lib", "python%d.%d" % sys.version_info[:2], "site-packages"))
from supervisor.xmlrpc import SupervisorTransport  # noqa: E402

IMPLS = {
    "supervisor-rs": os.path.join(ROOT, "target", "release", "supervisord"),
    "Supervisor 4.3.0": os.path.join(VENV, "bin", "supervisord"),
}


def config(d, n):
    out = ["[supervisord]\nlogfile=%s/sd.log\npidfile=%s/sd.pid\nloglevel=info\n"
           "[unix_http_server]\nfile=%s/s.sock\n[rpcinterface:supervisor]\n"
           "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n" % (d, d, d)]
    for i in range(n):
        out.append("[program:p%04d]\ncommand=/bin/cat\nautostart=false\nstartsecs=0\n"
                   "stdout_logfile=NONE\nstderr_logfile=NONE\n" % i)
    out.append("[group:g]\nprograms=%s\n" % ",".join("p%04d" % i for i in range(n)))
    out.append("[eventlistener:fast]\ncommand=%s %s %s/events\nevents=PROCESS_STATE\n"
               "buffer_size=1000000\nstartsecs=0\nautostart=false\nstderr_logfile=NONE\n"
               % (sys.executable, os.path.join(ROOT, "bench", "listener.py"), d))
    return "".join(out)


def run(binary, n):
    d = tempfile.mkdtemp(prefix="svev")
    conf = os.path.join(d, "sv.conf")
    with open(conf, "w") as f:
        f.write(config(d, n))
    p = subprocess.Popen([binary, "-n", "-c", conf], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, cwd=d)

    def proxy():
        return xmlrpc.client.ServerProxy(
            "http://x", transport=SupervisorTransport(None, None, "unix://%s/s.sock" % d))

    def count():
        try:
            with open(os.path.join(d, "events")) as f:
                return sum(1 for line in f if line.split(" ")[-1].startswith("p"))
        except FileNotFoundError:
            return 0
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                proxy().supervisor.getState()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        s = proxy()
        s.supervisor.startProcessGroup("g", True)
        s.supervisor.stopProcessGroup("g", True)
        t0 = time.monotonic()
        s.supervisor.startProcess("fast", False)
        while count() < 4 * n and time.monotonic() - t0 < 300:
            time.sleep(0.002)
        elapsed = time.monotonic() - t0
        return count() / elapsed
    finally:
        p.terminate()
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        shutil.rmtree(d, ignore_errors=True)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    results = {name: [] for name in IMPLS}
    for _ in range(reps):
        for name, binary in IMPLS.items():
            results[name].append(run(binary, n))
    print("PROCESS_STATE events delivered to a fast listener (%d buffered, median of %d):" % (4 * n, reps))
    for name, rates in results.items():
        print("  %-18s %8.0f events/s   (runs: %s)" % (name, statistics.median(rates),
                                                      ", ".join("%.0f" % r for r in rates)))


if __name__ == "__main__":
    main()
