"""A fast event listener for bench/sv_bench.py (stdlib only).

Speaks Supervisor's listener protocol on stdin/stdout: READY, read one
header line and its payload, answer RESULT 2 OK. Every event received is
appended as one line (`<eventname> <processname>`) to the file named by
argv[1], flushed per event so the harness can count arrivals.
"""
import sys


def main():
    out = open(sys.argv[1], "a", buffering=1)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        stdout.write(b"READY\n")
        stdout.flush()
        line = stdin.readline()
        if not line:
            return
        headers = dict(token.split(b":", 1) for token in line.split())
        payload = stdin.read(int(headers.get(b"len", b"0")))
        fields = dict(token.split(b":", 1) for token in payload.split(b"\n", 1)[0].split() if b":" in token)
        out.write("%s %s\n" % (headers.get(b"eventname", b"?").decode(),
                               fields.get(b"processname", b"?").decode()))
        stdout.write(b"RESULT 2\nOK")
        stdout.flush()


if __name__ == "__main__":
    main()
