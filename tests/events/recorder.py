"""A recording event listener built on supervisor.childutils.

Appends every envelope it receives (header line + payload, exactly as read
from a text-mode stdin, as Supervisor's own helpers read it) as one JSON
string per line to argv[1], then answers OK.
"""
import json
import sys

from supervisor import childutils


def main():
    out = open(sys.argv[1], "a", buffering=1)
    while True:
        childutils.listener.ready(sys.stdout)
        line = sys.stdin.readline()
        if not line:
            return
        headers = childutils.get_headers(line)
        payload = sys.stdin.read(int(headers["len"]))
        out.write(json.dumps(line + payload) + "\n")
        childutils.listener.ok(sys.stdout)


if __name__ == "__main__":
    main()
