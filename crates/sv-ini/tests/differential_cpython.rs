//! Differential test: sv-ini against CPython 3.11's configparser, configured as Supervisor
//! configures it. One long-lived `python3 tests/cpython_oracle.py` answers every query.
//!
//! The interpreter is `python3` unless `SV_INI_PYTHON` names another. A missing interpreter,
//! or one that is not CPython 3.11, fails the tests: they are the crate's definition of
//! correct, so they must not silently pass.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Mutex, OnceLock};

use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};
use sv_ini::{Document, Entry, is_python_whitespace, python_lower};

struct Oracle {
    // Kept so the interpreter lives as long as the test binary.
    _child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Oracle {
    fn start() -> Oracle {
        let python = std::env::var("SV_INI_PYTHON").unwrap_or_else(|_| "python3".to_owned());
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cpython_oracle.py");
        let mut child = Command::new(&python)
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "the differential test needs CPython 3.11 as `{python}` \
                     (or set SV_INI_PYTHON): cannot start it: {e}"
                )
            });
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut oracle = Oracle {
            _child: child,
            stdin,
            stdout,
        };
        let version = oracle.ask(&json!({"op": "version"}));
        assert_eq!(
            version["version"],
            json!([3, 11]),
            "the differential test's reference is CPython 3.11, but `{python}` is {version}; \
             set SV_INI_PYTHON to a CPython 3.11 interpreter"
        );
        oracle
    }

    fn ask(&mut self, request: &Value) -> Value {
        let mut line = serde_json::to_string(request).expect("serialisable request");
        line.push('\n');
        self.stdin
            .write_all(line.as_bytes())
            .and_then(|()| self.stdin.flush())
            .expect("the CPython oracle exited (see its stderr above)");
        let mut answer = String::new();
        let n = self
            .stdout
            .read_line(&mut answer)
            .expect("read from the CPython oracle");
        assert!(n > 0, "the CPython oracle exited (see its stderr above)");
        serde_json::from_str(&answer).expect("the CPython oracle answers JSON")
    }
}

fn ask(request: &Value) -> Value {
    static ORACLE: OnceLock<Mutex<Oracle>> = OnceLock::new();
    let oracle = ORACLE.get_or_init(|| Mutex::new(Oracle::start()));
    // A test that failed while holding the lock left the oracle in a consistent state
    // (requests and answers are whole lines), so poisoning is irrelevant.
    let mut guard = oracle.lock().unwrap_or_else(|e| e.into_inner());
    guard.ask(request)
}

fn pairs(entries: &[Entry]) -> Value {
    Value::Array(entries.iter().map(|e| json!([e.key, e.value])).collect())
}

fn state(doc: &Document) -> (Value, Value) {
    let sections = doc
        .sections()
        .map(|s| json!([s.name, pairs(s.entries())]))
        .collect();
    (Value::Array(sections), pairs(doc.defaults().entries()))
}

/// sv-ini's answer in the oracle's format.
fn ours(files: &[(String, String)]) -> Value {
    let mut doc = Document::new();
    for (index, (name, text)) in files.iter().enumerate() {
        if let Err(e) = doc.read_str(text, name) {
            let (sections, defaults) = state(&doc);
            let kind = if e.missing_section_header {
                "MissingSectionHeader"
            } else {
                "Parsing"
            };
            return json!({"error": {
                "kind": kind,
                "file_index": index,
                "lines": e.errors.iter().map(|l| l.line).collect::<Vec<_>>(),
                "texts": e.errors.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(),
                "sections": sections,
                "defaults": defaults,
            }});
        }
    }
    let (sections, defaults) = state(&doc);
    json!({"ok": {"sections": sections, "defaults": defaults}})
}

fn cpython(files: &[(String, String)]) -> Value {
    ask(&json!({ "files": files }))
}

fn named(texts: &[&str]) -> Vec<(String, String)> {
    texts
        .iter()
        .enumerate()
        .map(|(i, t)| (format!("/etc/f{i}.conf"), (*t).to_owned()))
        .collect()
}

/// Hand-written edge cases; each is a sequence of files read into one document.
const CORPUS: &[&[&str]] = &[
    &["[s]\na=b;c\nd=e ;f\ng=h\t#i\nj=k#l\n"],
    &["[program:cat]\ncommand: /bin/cat\nautostart = true\n"],
    &["[s]\ng=h\n  cont\n  # c\n\n  more\n\n\n"],
    &["[a]b]\nk=v\n[ a ] x\n[x] trailing\n"],
    &["[a]\nx=1\n[b]\ny=2\n[a]\nx=3\nz=4\n"],
    &["[s]\nKEY=1\nkey=2\nKey:3\n"],
    &["[DEFAULT]\nd=1\n[s]\na=2\n[DEFAULT]\ne=3\n"],
    &["[s]\nk=   \nj=\t\n"],
    &["[s]\n=value\n:x\n  = y\n"],
    &["k=v\n[s]\n"],
    &["\n\n# comment\n; other\n   \nfoo\n"],
    &["[s]\nfoo\nk=v\nbar baz\n=q\n  r\n"],
    &["[s]\r\nk = v\r\n  more\r\n\r\n[t]\rx=1\r"],
    &["[s]\na=\n"],
    &["[s]\nk=a;b ;c #d\nj=x#y #z ;w\n"],
    &["[s]\nk=b\u{1c};c\nj=b\u{85}#c\nl=b\u{a0};c\nm=b\u{3000}#c\nn=b\u{200b};c\n"],
    &["[s]\n\u{3000}k=v\n  x\n \u{a0}y\n"],
    &["[s]\n  a=1\n bogus\n    cont\n"],
    &["[s]\n[]=x\n[]]\n[x\n[]\n"],
    &["[s]\nk=v\n  [t]\nj=w\n"],
    &["[s]\nk=1\n", "[t]\nj=2\n[s]\nk=3\nl=4\n"],
    &["[s]\nk=1\n", "k=2\n[s]\nk=5\n", "[u]\n"],
    &["[s]\nk=1\n", "[s]\nbad\nk=2\n  more\n\n"],
    &["[ΑΣ]\nΟΔΟΣ=1\nΑΣ.Β=2\nİx=3\n\u{1c89}=4\n"],
    &["\u{feff}[s]\nk=v\n"],
    &["[s]\nk=v\x0cw\n\x0c\n  x\u{2028}y\n"],
    &["[s]\n\tk\t=\tv\t\n\t\tcont\t\n"],
    &["[s] ;c\n[t] #c\n[u];c\n[v ;c]\n"],
    &["[s]\nk=%(here)s/foo\n[include]\nfiles = a.conf\n   b.conf\n"],
    &["[s]\nk=v\n; comment\n  ;indented comment\n#\n  x\n"],
    &["[s]\n\n\n"],
    &["[s]\nk=\n\n  \n  v\n"],
    &["[s]\nk==v\nj=:v\nl:=v\n"],
    &["[s]\r\n=x\r\n  y\r\nz\r\n"],
    &["   [s]\nk=v\n  j=w\n   l=x\n"],
    &[""],
    &["[s]"],
    &["[s]\nk=v", "[s]\nk"],
];

fn compare(files: &[(String, String)]) -> Result<(), String> {
    let expected = cpython(files);
    let actual = ours(files);
    if expected == actual {
        Ok(())
    } else {
        Err(format!(
            "mismatch for files {files:?}\n  CPython: {expected}\n  sv-ini:  {actual}"
        ))
    }
}

#[test]
fn corpus_matches_cpython() {
    assert!(CORPUS.len() >= 25);
    let failures: Vec<String> = CORPUS
        .iter()
        .filter_map(|texts| compare(&named(texts)).err())
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn whitespace_set_matches_cpython() {
    let answer = ask(&json!({"op": "whitespace"}));
    let python: Vec<u32> = serde_json::from_value(answer["whitespace"].clone()).expect("list");
    let ours: Vec<u32> = (0..=0x10_ffffu32)
        .filter(|&c| char::from_u32(c).is_some_and(is_python_whitespace))
        .collect();
    assert_eq!(ours, python);
}

#[test]
fn lowercasing_matches_cpython_for_every_character() {
    let answer = ask(&json!({"op": "lower"}));
    let table: Vec<(u32, String)> = serde_json::from_value(answer["lower"].clone()).expect("list");
    let table: HashMap<u32, String> = table.into_iter().collect();
    let mismatches: Vec<String> = (0..=0x10_ffffu32)
        .filter_map(char::from_u32)
        .filter_map(|c| {
            let expected = table
                .get(&u32::from(c))
                .cloned()
                .unwrap_or_else(|| c.to_string());
            let actual = python_lower(&c.to_string());
            (actual != expected).then(|| format!("U+{:04X}: {expected:?} != {actual:?}", c as u32))
        })
        .collect();
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

// ---- generated documents ----

fn pick(items: &'static [&'static str]) -> impl Strategy<Value = String> + Clone {
    proptest::sample::select(items).prop_map(str::to_owned)
}

/// Whitespace as Python sees it, mostly plain spaces and tabs.
fn ws() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        6 => pick(&["", " ", "  ", "\t", " \t "]),
        1 => pick(&["\u{1c}", "\u{1f}", "\u{85}", "\u{a0}", "\u{3000}", "\u{0b}", "\u{0c}", "\u{2028}", "\u{2009}"]),
    ]
}

fn indent() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        6 => Just(String::new()),
        2 => pick(&[" ", "  ", "   ", "    ", "\t", "\t\t"]),
        1 => pick(&["\u{3000}", " \u{a0}", "\u{1c}", "\u{85} ", "\u{200b}"]),
    ]
}

/// Indentation for continuation lines: usually deeper than option lines.
fn deeper_indent() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        6 => pick(&[" ", "  ", "    ", "\t", "      ", " \t"]),
        1 => pick(&["\u{3000}", "\u{a0}\u{a0}", "\u{1d}  ", "\u{2003}"]),
    ]
}

fn section_name() -> impl Strategy<Value = String> + Clone {
    pick(&[
        "s",
        "s",
        "t",
        "S",
        "program:cat",
        " s ",
        "a]b",
        "DEFAULT",
        "DEFAULT",
        "default",
        "\u{a0}s",
        "s;x",
        "s ;x",
        "s#x",
        "ΑΣ",
        "]",
        "[x]",
        "a=b",
    ])
}

fn header() -> impl Strategy<Value = String> + Clone {
    let trailing = prop_oneof![
        6 => Just(String::new()),
        1 => pick(&[" trailing", "x", "]", " ;c", ";c", " #c", "\t# c ]", " ]x"]),
    ];
    prop_oneof![
        20 => (indent(), section_name(), trailing).prop_map(|(i, n, t)| format!("{i}[{n}]{t}")),
        1 => pick(&["[x", "[]", "[]]", "[ ]", "[", "]s[", "[\u{200b}]"]),
    ]
}

fn key() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        8 => pick(&["k", "k", "j", "K", "Key", "command", "a b", "x.y", "k2"]),
        1 => pick(&["ÄÖ", "ΟΔΟΣ", "İ", "\u{200b}k", "k\u{1c}x", "[k", "k]", "#k", "k;", "k #c"]),
    ]
}

fn value() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        6 => pick(&[
            "v", "/bin/cat", "", "true", "b;c", "b ;c", "b\t#c", "#c", ";c", "x = y", "a:b",
            "%(here)s/x", "a;b ;c #d", "x#y #z ;w", "a b  c", "ünï", "=", ":",
        ]),
        2 => pick(&[
            "\u{a0}x\u{a0}", "x\u{1c};c", "x\u{85}#c", "x\u{3000};c", "\u{200b}#c",
            "x\u{2028}y", "x\u{0c};y", "[t]", "  ", "\u{1e}",
        ]),
        2 => "[a-c;# =:\t\u{1c}\u{a0}\u{3000}\\]\\[]{0,8}",
    ]
}

fn comment() -> impl Strategy<Value = String> + Clone {
    (ws(), pick(&[";", "#"]), value()).prop_map(|(w, p, v)| format!("{w}{p}{v}"))
}

fn option_line() -> impl Strategy<Value = String> {
    (
        indent(),
        key(),
        ws(),
        pick(&["=", ":", "=", " = "]),
        ws(),
        value(),
        prop_oneof![3 => Just(String::new()), 1 => comment()],
    )
        .prop_map(|(i, k, w1, d, w2, v, c)| format!("{i}{k}{w1}{d}{w2}{v}{c}"))
}

/// Lines that may follow an option line inside its value.
fn value_tail_line() -> impl Strategy<Value = String> {
    let continuation = (
        deeper_indent(),
        value(),
        prop_oneof![3 => Just(String::new()), 1 => comment()],
    )
        .prop_map(|(i, v, c)| format!("{i}{v}{c}"));
    let comment_line = (deeper_indent(), comment()).prop_map(|(i, c)| format!("{i}{c}"));
    prop_oneof![
        4 => continuation,
        2 => ws(),
        1 => comment_line,
    ]
}

/// Lines that are wrong on purpose (or random, and then mostly wrong).
fn bad_line() -> impl Strategy<Value = String> {
    let no_delimiter = (
        indent(),
        pick(&["foo", "foo bar", "x;y", "[x", "x #=y", "\u{1c}"]),
    )
        .prop_map(|(i, t)| format!("{i}{t}"));
    let empty_key = (ws(), pick(&["=", ":"]), value()).prop_map(|(w, d, v)| format!("{w}{d}{v}"));
    let random = "[a-cK;#=:\\[\\] \t\r\n\u{1c}\u{85}\u{a0}\u{3000}\u{200b}Σ]{0,12}";
    prop_oneof![
        1 => no_delimiter,
        1 => empty_key,
        1 => value_tail_line(),
        2 => random,
    ]
}

/// A group of lines: a header, an option with its value lines, a blank or comment line, or
/// (sometimes, if `bad`) a deliberately bad line.
fn block(bad: bool) -> BoxedStrategy<Vec<String>> {
    let option_block = (
        option_line(),
        proptest::collection::vec(value_tail_line(), 0..4),
    )
        .prop_map(|(first, mut rest)| {
            rest.insert(0, first);
            rest
        });
    let comment_line = (indent(), comment()).prop_map(|(i, c)| format!("{i}{c}"));
    let good = prop_oneof![
        3 => header().prop_map(|l| vec![l]),
        10 => option_block,
        2 => ws().prop_map(|l| vec![l]),
        2 => comment_line.prop_map(|l| vec![l]),
    ];
    if bad {
        prop_oneof![17 => good, 2 => bad_line().prop_map(|l| vec![l])].boxed()
    } else {
        good.boxed()
    }
}

fn line_end() -> impl Strategy<Value = &'static str> {
    prop_oneof![8 => Just("\n"), 2 => Just("\r\n"), 1 => Just("\r")]
}

fn file(bad: bool) -> impl Strategy<Value = String> {
    let first = prop_oneof![
        30 => header().prop_map(|l| vec![l]),
        1 => block(bad),
    ];
    (
        first,
        proptest::collection::vec(block(bad), 0..12),
        any::<bool>(),
    )
        .prop_flat_map(|(first, rest, final_newline)| {
            let lines: Vec<String> = first
                .into_iter()
                .chain(rest.into_iter().flatten())
                .collect();
            let ends = proptest::collection::vec(line_end(), lines.len());
            (Just(lines), ends, Just(final_newline))
        })
        .prop_map(|(lines, ends, final_newline)| {
            let mut text = String::new();
            for (line, end) in lines.iter().zip(ends) {
                text.push_str(line);
                text.push_str(end);
            }
            if !final_newline {
                // Drop the last terminator so the final line is unterminated.
                let trimmed = text.trim_end_matches(['\n', '\r']).len();
                text.truncate(trimmed);
            }
            text
        })
}

/// One to three files read in sequence; half of the cases contain deliberately bad lines.
fn files() -> impl Strategy<Value = Vec<(String, String)>> {
    any::<bool>()
        .prop_flat_map(|bad| proptest::collection::vec(file(bad), 1..=3))
        .prop_map(|texts| {
            texts
                .into_iter()
                .enumerate()
                .map(|(i, t)| (format!("/etc/f{i}.conf"), t))
                .collect()
        })
}

#[test]
fn generated_documents_match_cpython() {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let mut runner = TestRunner::new(Config {
        cases,
        // Regressions belong in CORPUS; a runner without a source file cannot persist them.
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&files(), |files| {
        compare(&files).map_err(TestCaseError::fail)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
