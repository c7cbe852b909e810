"""Reference oracle for sv-ini's differential test.

Reads one JSON request per line on stdin and answers with one JSON line on stdout.

Requests:
  {"files": [[name, text], ...]}
      Read the files in sequence into one parser configured like Supervisor's
      (RawConfigParser(inline_comment_prefixes=(';', '#'), strict=False)), stopping at the
      first file that raises. Answers
        {"ok": {"sections": [[name, [[key, value], ...]], ...], "defaults": [[k, v], ...]}}
      or
        {"error": {"kind": "MissingSectionHeader" | "Parsing", "file_index": i,
                   "lines": [lineno, ...], "texts": [raw line, ...],
                   "sections": ..., "defaults": ...}}
      where sections/defaults are what the parser holds after the failed read.
  {"op": "version"}     -> {"version": [major, minor], "unicode": "14.0.0"}
  {"op": "whitespace"}  -> {"whitespace": [code points c with chr(c).isspace()]}
  {"op": "lower"}       -> {"lower": [[c, chr(c).lower()] for every c where it changes]}
"""

import configparser
import json
import sys
import unicodedata


def universal_newlines(text):
    # Supervisor reads files with open() in text mode; this is what that does to line ends.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def state(parser):
    sections = [
        [name, [[k, v] for k, v in parser._sections[name].items()]]
        for name in parser.sections()
    ]
    defaults = [[k, v] for k, v in parser.defaults().items()]
    return sections, defaults


def read_files(files):
    parser = configparser.RawConfigParser(
        inline_comment_prefixes=(";", "#"), strict=False
    )
    for index, (name, text) in enumerate(files):
        text = universal_newlines(text)
        raw_lines = text.split("\n")
        try:
            parser.read_string(text, source=name)
        except configparser.MissingSectionHeaderError as e:
            linenos = [e.lineno]
            kind = "MissingSectionHeader"
        except configparser.ParsingError as e:
            linenos = [lineno for lineno, _ in e.errors]
            kind = "Parsing"
        else:
            continue
        sections, defaults = state(parser)
        return {
            "error": {
                "kind": kind,
                "file_index": index,
                "lines": linenos,
                "texts": [raw_lines[n - 1] for n in linenos],
                "sections": sections,
                "defaults": defaults,
            }
        }
    sections, defaults = state(parser)
    return {"ok": {"sections": sections, "defaults": defaults}}


def handle(request):
    op = request.get("op")
    if op is None:
        return read_files(request["files"])
    if op == "version":
        return {
            "version": list(sys.version_info[:2]),
            "unicode": unicodedata.unidata_version,
        }
    if op == "whitespace":
        return {"whitespace": [c for c in range(0x110000) if chr(c).isspace()]}
    if op == "lower":
        table = []
        for c in range(0x110000):
            lowered = chr(c).lower()
            if lowered != chr(c):
                table.append([c, lowered])
        return {"lower": table}
    raise ValueError("unknown op %r" % op)


def main():
    for raw in sys.stdin.buffer:
        response = handle(json.loads(raw))
        sys.stdout.write(json.dumps(response) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
