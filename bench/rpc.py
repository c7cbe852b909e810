"""getAllProcessInfo calls per second against a running supervisord.

Usage: python bench/rpc.py unix:///path/to/sock SECONDS [CLIENTS]
Each client keeps one HTTP/1.1 connection and reads each response whole
without parsing the XML, so the figure measures the daemon, not Python's
XML parser. Every response is checked to be a methodResponse with params.
"""
import http.client
import socket
import sys
import threading
import time

BODY = (b"<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.getAllProcessInfo"
        b"</methodName>\n<params>\n</params>\n</methodCall>\n")


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost")
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


def client(path, deadline, counts, errors, index):
    conn = UnixConnection(path)
    n = 0
    while time.time() < deadline:
        conn.request("POST", "/RPC2", BODY, {"Content-Type": "text/xml"})
        response = conn.getresponse()
        data = response.read()
        if response.status != 200 or b"<params>" not in data:
            errors[index] += 1
        n += 1
    counts[index] = n


def main():
    url, seconds = sys.argv[1], float(sys.argv[2])
    path = url[len("unix://"):]
    clients = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    counts, errors = [0] * clients, [0] * clients
    deadline = time.time() + seconds
    threads = [threading.Thread(target=client, args=(path, deadline, counts, errors, i))
               for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("%.1f%s" % (sum(counts) / seconds, " (%d errors)" % sum(errors) if sum(errors) else ""))


if __name__ == "__main__":
    main()
