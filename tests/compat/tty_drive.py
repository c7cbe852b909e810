"""Drive a program on a pseudo-terminal, as a person at the keyboard would.

Usage: tty_drive.py STEPS_JSON PROGRAM ARG...

STEPS_JSON is a list of [text, wait_for] pairs: write `text` (escapes such
as \\t and \\x03 are JSON's), then read until `wait_for` appears in the
output after the write (10 s at most). Prints everything the program wrote,
then its exit status on the last line as `exit <n>`.
"""

import json
import os
import pty
import select
import sys
import time


def main():
    steps = json.loads(sys.argv[1])
    argv = sys.argv[2:]
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["NO_COLOR"] = "1"
        os.execv(argv[0], argv)
    out = b""

    def read_until(marker, start):
        nonlocal out
        deadline = time.time() + 10
        while time.time() < deadline:
            if marker is not None and marker.encode() in out[start:]:
                return
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready:
                try:
                    data = os.read(fd, 65536)
                except OSError:
                    return
                if not data:
                    return
                out += data

    read_until("supervisor> ", 0)
    for text, wait_for in steps:
        start = len(out)
        os.write(fd, text.encode())
        read_until(wait_for, start)
    read_until(None, len(out))
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(out.decode("utf-8", "replace"))
    sys.stdout.write("\nexit %d\n" % os.waitstatus_to_exitcode(status))


main()
