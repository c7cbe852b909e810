"""Latency of getAllProcessInfo while the daemon is busy.

Usage: python bench/latency.py unix:///path/to/sock CALLS
Prints the median and worst round trip in milliseconds.
"""
import sys
import time

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from rpc import BODY, UnixConnection  # noqa: E402


def main():
    path, calls = sys.argv[1][len("unix://"):], int(sys.argv[2])
    conn = UnixConnection(path)
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        conn.request("POST", "/RPC2", BODY, {"Content-Type": "text/xml"})
        conn.getresponse().read()
        times.append((time.perf_counter() - start) * 1000)
        time.sleep(0.05)
    times.sort()
    print("median %.1f ms, worst %.1f ms over %d calls" % (times[len(times) // 2], times[-1], calls))


if __name__ == "__main__":
    main()
