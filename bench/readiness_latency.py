#!/usr/bin/env python3
"""How soon a ready child is RUNNING (docs/readiness.md).

Usage: bench/readiness_latency.py PATH/TO/supervisord

Starts the daemon on a temp dir with two children, one ready_when=notify and
one ready_when=tcp, opens their gate 2.5 s after the spawn (so the tcp probe
has slowed to its longest pause), and prints, for each, the time between the
child's own timestamp of becoming ready and the main log's `success:` line
(whose clock has millisecond resolution). Not a test: figures only.
"""
import tempfile
import os, subprocess, sys, time, re, socket
d = tempfile.mkdtemp(prefix="sv-readiness-")
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
child = r'''
import os, socket, sys, time
mode = sys.argv[1]; d = sys.argv[2]
while not os.path.exists(d + "/gate"): time.sleep(0.001)
if mode == "notify":
    t = time.time()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.sendto(b"READY=1", os.environ["NOTIFY_SOCKET"])
else:
    k = socket.socket(); k.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); k.bind(("127.0.0.1", int(sys.argv[3]))); k.listen(5); t = time.time()
open(d + "/t-" + mode, "w").write(repr(t))
time.sleep(3600)
'''
open(d + "/c.py", "w").write(child)
conf = f"""[supervisord]
logfile={d}/sd.log
pidfile={d}/sd.pid
childlogdir={d}
nodaemon=true
[program:n]
command=python3 {d}/c.py notify {d}
ready_when=notify
startsecs=0
[program:t]
command=python3 {d}/c.py tcp {d} {port}
ready_when=tcp:127.0.0.1:{port}
startsecs=0
"""
open(d + "/sd.conf", "w").write(conf)
p = subprocess.Popen([sys.argv[1], "-c", d + "/sd.conf"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
while "spawned: 't'" not in open(d + "/sd.log").read() if os.path.exists(d + "/sd.log") else True: time.sleep(0.01)
time.sleep(2.5)  # let the tcp probe back off to its longest pause
open(d + "/gate", "w").close()
def when(pat):
    while True:
        txt = open(d + "/sd.log").read()
        m = re.search(r"(\d+-\d+-\d+ \d+:\d+:\d+),(\d+) INFO success: " + pat, txt)
        if m:
            return time.mktime(time.strptime(m.group(1), "%Y-%m-%d %H:%M:%S")) + int(m.group(2)) / 1000
        time.sleep(0.01)
for mode, pat in (("notify", "n entered RUNNING"), ("tcp", "t entered RUNNING")):
    r = when(pat)
    t = float(open(d + "/t-" + mode).read())
    print(f"{mode}: ready -> RUNNING {1000*(r - t):.0f} ms")
p.terminate(); p.wait()
import shutil
shutil.rmtree(d, ignore_errors=True)
