#!/usr/bin/env python3
"""Reference oracle for tests/differential_python.rs.

Reads one JSON request per line on stdin and writes one JSON answer per line
on stdout, until stdin is closed. Requests:

  {"op": "version"}
  {"op": "split", "s": str}          -> shlex.split(s)
  {"op": "kv_tokens", "s": str}      -> list(lexer) as Supervisor builds it
  {"op": "kv_dict", "s": str}        -> Supervisor's dict_of_key_value_pairs
  {"op": "format", "t": str, "vars": {name: str | int}}  -> t % vars

Answers are {"ok": result} or {"err": exception class name, "msg": str(e)},
plus "key" for a KeyError. A format result containing a lone surrogate
(from %c) cannot travel as JSON to Rust, so it is answered as the error
"Surrogate".
"""

import json
import shlex
import sys


def kv_tokens(s):
    # Exactly the lexer supervisor.datatypes.dict_of_key_value_pairs builds.
    lexer = shlex.shlex(s)
    lexer.wordchars += '/.+-():'
    return list(lexer)


def dict_of_key_value_pairs(arg):
    # Re-implementation of Supervisor 4.3.0's datatypes.dict_of_key_value_pairs
    # so that the test does not need Supervisor installed.
    tokens = kv_tokens(str(arg))
    tokens_len = len(tokens)
    result = {}
    i = 0
    while i < tokens_len:
        k_eq_v = tokens[i:i + 3]
        if len(k_eq_v) != 3 or k_eq_v[1] != '=':
            raise ValueError(
                "Unexpected end of key/value pairs in value '%s'" % arg)
        result[k_eq_v[0]] = k_eq_v[2].strip('\'"')
        i += 4
    return result


def has_surrogate(text):
    return any(0xD800 <= ord(c) <= 0xDFFF for c in text)


def handle(req):
    op = req["op"]
    if op == "version":
        return {"ok": list(sys.version_info[:3])}
    try:
        if op == "split":
            return {"ok": shlex.split(req["s"])}
        if op == "kv_tokens":
            return {"ok": kv_tokens(req["s"])}
        if op == "kv_dict":
            pairs = dict_of_key_value_pairs(req["s"])
            return {"ok": [[k, v] for k, v in pairs.items()]}
        if op == "format":
            out = req["t"] % req["vars"]
            if has_surrogate(out):
                return {"err": "Surrogate", "msg": repr(out)}
            return {"ok": out}
    except KeyError as e:
        return {"err": "KeyError", "key": e.args[0], "msg": str(e)}
    except Exception as e:  # every failure is data for the comparison
        return {"err": type(e).__name__, "msg": str(e)}
    return {"err": "BadRequest", "msg": "unknown op %r" % (op,)}


def main():
    for line in sys.stdin.buffer:
        req = json.loads(line.decode("utf-8"))
        sys.stdout.write(json.dumps(handle(req)) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
