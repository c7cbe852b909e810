"""Long-lived XML-RPC client for the wire-compatibility tests.

Started by tests/support/pair.rs, one per daemon, with the reference venv's
python (so `supervisor.xmlrpc.SupervisorTransport` is importable):

    rpc_client.py <serverurl> [<username> <password>]

It reads one JSON request per line on stdin and writes one JSON answer per
line on stdout (flushed). Requests:

    {"method": "supervisor.getProcessInfo", "params": ["cat"]}
        -> {"ok": <result>} | {"fault": [code, text]}
           | {"error": "<class>[: <status>]", "detail": "<text>"}
    {"eval": "<python expression>"}
        the expression sees `s` (the ServerProxy), `xmlrpc` and `raw`;
        same answers as above
    {"raw": {"verb": "POST", "path": "/RPC2", "body": "<text>",
             "headers": {...}, "content_length": true}}
        one hand-made HTTP request on a fresh connection to the same
        server -> {"status": n, "headers": {lower-case name: value},
        "body": "<text>"} plus, for a 200 text/xml answer, the parsed
        "ok"/"fault"/"error" as above.

Values are plain JSON; xmlrpc Binary travels as {"$base64": "..."} and
DateTime as {"$datetime": "..."} in both directions. `error` names the
exception class (and the HTTP status for ProtocolError); the free-form
text goes to `detail`, which the tests do not compare.
"""

import base64
import http.client
import json
import socket
import sys
import xmlrpc.client

from supervisor.xmlrpc import SupervisorTransport

SERVERURL = sys.argv[1]
USERNAME = sys.argv[2] if len(sys.argv) > 3 else None
PASSWORD = sys.argv[3] if len(sys.argv) > 3 else None
TIMEOUT = 60.0


def make_proxy():
    transport = SupervisorTransport(USERNAME, PASSWORD, SERVERURL)
    return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)


def to_json(value):
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, xmlrpc.client.Binary):
        return {"$base64": base64.b64encode(value.data).decode("ascii")}
    if isinstance(value, xmlrpc.client.DateTime):
        return {"$datetime": value.value}
    if isinstance(value, bytes):
        return {"$base64": base64.b64encode(value).decode("ascii")}
    return {"$repr": repr(value)}


def from_json(value):
    if isinstance(value, list):
        return [from_json(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"$base64"}:
            return xmlrpc.client.Binary(base64.b64decode(value["$base64"]))
        if set(value) == {"$datetime"}:
            return xmlrpc.client.DateTime(value["$datetime"])
        return {k: from_json(v) for k, v in value.items()}
    return value


def describe_exception(exc):
    if isinstance(exc, xmlrpc.client.Fault):
        return {"fault": [exc.faultCode, exc.faultString]}
    if isinstance(exc, xmlrpc.client.ProtocolError):
        return {"error": "ProtocolError: %s" % exc.errcode, "detail": str(exc)}
    return {"error": type(exc).__name__, "detail": str(exc)}


def connect_raw():
    if SERVERURL.startswith("unix://"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(TIMEOUT)
        sock.connect(SERVERURL[len("unix://"):])
        conn = http.client.HTTPConnection("localhost", timeout=TIMEOUT)
        conn.sock = sock
        return conn
    rest = SERVERURL[len("http://"):].rstrip("/")
    host, _, port = rest.partition(":")
    return http.client.HTTPConnection(host, int(port or 80), timeout=TIMEOUT)


def raw_request(spec):
    conn = connect_raw()
    try:
        body = spec.get("body", "").encode("utf-8")
        conn.putrequest(spec.get("verb", "POST"), spec.get("path", "/RPC2"),
                        skip_host=False, skip_accept_encoding=True)
        headers = spec.get("headers", {})
        for name, value in headers.items():
            conn.putheader(name, value)
        if spec.get("content_length", True):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        if body:
            conn.send(body)
        response = conn.getresponse()
        data = response.read()
        answer = {
            "status": response.status,
            "headers": {k.lower(): v for k, v in response.getheaders()},
            "body": data.decode("utf-8", "replace"),
        }
        ctype = response.getheader("Content-Type", "")
        if response.status == 200 and ctype.startswith("text/xml"):
            try:
                params, _ = xmlrpc.client.loads(data)
                answer["ok"] = to_json(params[0])
            except Exception as exc:  # Fault or parse error
                answer.update(describe_exception(exc))
        return answer
    finally:
        conn.close()


def main():
    proxy = make_proxy()
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            request = json.loads(line)
            if "raw" in request:
                answer = raw_request(request["raw"])
            elif "eval" in request:
                env = {"s": proxy, "xmlrpc": xmlrpc, "raw": raw_request}
                answer = {"ok": to_json(eval(request["eval"], env))}
            else:
                params = tuple(from_json(p) for p in request.get("params", []))
                # The private request function accepts any method name,
                # including ones ServerProxy's attribute access would refuse.
                result = proxy._ServerProxy__request(request["method"], params)
                answer = {"ok": to_json(result)}
        except Exception as exc:
            answer = describe_exception(exc)
            # A failed exchange may leave the persistent connection unusable.
            proxy = make_proxy()
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
