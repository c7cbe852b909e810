#!/usr/bin/env python3
"""Oracle for tests/python_parity.rs: Python's own xmlrpc.client.

Reads one JSON request per line on stdin and writes one JSON answer per
line on stdout. A request is {"ops": [op, ...]}; the answer is
{"results": [result, ...]} in the same order, or {"error": "..."}.

Values travel in a tagged form so that nothing is lost on the way:
  {"t": "int", "v": n}      <int>     (Python int in the 32-bit range)
  {"t": "i8", "v": n}       <i8>      (sent to Python as the I8 class below;
                                       Python's loads answers any other int)
  {"t": "bool", "v": b}
  {"t": "str", "v": s}
  {"t": "double", "v": hex} the IEEE-754 bits, big-endian, so that -0.0,
                            NaN and infinities survive JSON
  {"t": "dt", "v": s}       xmlrpc.client.DateTime(s)
  {"t": "b64", "v": hex}    bytes
  {"t": "struct", "v": [[k, value], ...]}
  {"t": "array", "v": [value, ...]}
  {"t": "nil"}

Ops:
  {"op": "version"}                               -> {"version": "3.11.7"}
  {"op": "dumps_response", "value": v}            -> {"xml": ...}
  {"op": "dumps_call", "name": s, "params": [v]}  -> {"xml": ...}
  {"op": "dumps_fault", "code": n, "string": s}   -> {"xml": ...}
  {"op": "loads", "xml": s}  -> {"method": s|null, "params": [v]}
                                | {"fault": {"code": n, "string": s}}
                                | {"error": "..."}
"""

import json
import struct
import sys
import xmlrpc.client as xc


class I8(int):
    """An int the Rust side wants written as <i8> (Python never does)."""


def _dump_i8(marshaller, value, write):
    # Laid out exactly like Marshaller.dump_long, with the i8 tag.
    write("<value><i8>")
    write(str(int(value)))
    write("</i8></value>\n")


xc.Marshaller.dispatch[I8] = _dump_i8


def to_py(tagged):
    tag = tagged["t"]
    if tag == "int":
        return int(tagged["v"])
    if tag == "i8":
        return I8(tagged["v"])
    if tag == "bool":
        return bool(tagged["v"])
    if tag == "str":
        return tagged["v"]
    if tag == "double":
        return struct.unpack(">d", bytes.fromhex(tagged["v"]))[0]
    if tag == "dt":
        return xc.DateTime(tagged["v"])
    if tag == "b64":
        return bytes.fromhex(tagged["v"])
    if tag == "struct":
        return {key: to_py(value) for key, value in tagged["v"]}
    if tag == "array":
        return [to_py(value) for value in tagged["v"]]
    if tag == "nil":
        return None
    raise ValueError("unknown tag %r" % tag)


def from_py(value):
    if value is None:
        return {"t": "nil"}
    if isinstance(value, bool):
        return {"t": "bool", "v": value}
    if isinstance(value, int):
        tag = "int" if -(2**31) <= value < 2**31 else "i8"
        return {"t": tag, "v": int(value)}
    if isinstance(value, float):
        return {"t": "double", "v": struct.pack(">d", value).hex()}
    if isinstance(value, str):
        return {"t": "str", "v": value}
    if isinstance(value, xc.DateTime):
        return {"t": "dt", "v": value.value}
    if isinstance(value, xc.Binary):
        return {"t": "b64", "v": value.data.hex()}
    if isinstance(value, dict):
        return {"t": "struct", "v": [[k, from_py(v)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return {"t": "array", "v": [from_py(v) for v in value]}
    raise TypeError("cannot tag %r" % type(value))


def run(op):
    kind = op["op"]
    if kind == "version":
        return {"version": "%d.%d.%d" % sys.version_info[:3]}
    if kind == "dumps_response":
        xml = xc.dumps((to_py(op["value"]),), methodresponse=True, allow_none=True)
        return {"xml": xml}
    if kind == "dumps_call":
        params = tuple(to_py(v) for v in op["params"])
        return {"xml": xc.dumps(params, op["name"], allow_none=True)}
    if kind == "dumps_fault":
        return {"xml": xc.dumps(xc.Fault(op["code"], op["string"]), allow_none=True)}
    if kind == "loads":
        try:
            params, method = xc.loads(op["xml"].encode("utf-8"))
        except xc.Fault as fault:
            return {"fault": {"code": fault.faultCode, "string": fault.faultString}}
        except Exception as error:  # noqa: BLE001 - reported to the test
            return {"error": "%s: %s" % (type(error).__name__, error)}
        return {"method": method, "params": [from_py(v) for v in params]}
    raise ValueError("unknown op %r" % kind)


def main():
    sys.stdin.reconfigure(encoding="utf-8")
    for line in sys.stdin:
        try:
            answer = {"results": [run(op) for op in json.loads(line)["ops"]]}
        except Exception as error:  # noqa: BLE001 - reported to the test
            answer = {"error": "%s: %s" % (type(error).__name__, error)}
        # ensure_ascii keeps stdout pure ASCII whatever the locale.
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
