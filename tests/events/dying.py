"""A listener whose first incarnation dies holding its first event.

argv[1]: the record file; argv[2]: a marker file. Without the marker it
creates it, takes one event, records it as {"died_on": ...} and exits 1
without answering. With the marker it records like recorder.py.
"""
import json
import os
import sys

from supervisor import childutils


def take():
    childutils.listener.ready(sys.stdout)
    line = sys.stdin.readline()
    if not line:
        sys.exit(0)
    headers = childutils.get_headers(line)
    return line + sys.stdin.read(int(headers["len"]))


def main():
    out = open(sys.argv[1], "a", buffering=1)
    if not os.path.exists(sys.argv[2]):
        open(sys.argv[2], "w").close()
        out.write(json.dumps({"died_on": take()}) + "\n")
        sys.exit(1)
    while True:
        out.write(json.dumps({"got": take()}) + "\n")
        childutils.listener.ok(sys.stdout)


if __name__ == "__main__":
    main()
