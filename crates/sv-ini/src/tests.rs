//! Table-driven tests of the reader's rules. Expected values were checked against CPython 3.11.

use crate::parse::lines;
use crate::{Document, Entry, LineError, LineErrorKind, ParseError};

type Sections = Vec<(String, Vec<(String, String)>)>;
/// (line, text, kind)
type ExpectedError = (usize, &'static str, LineErrorKind);

fn dump(doc: &Document) -> (Sections, Vec<(String, String)>) {
    let pairs = |entries: &[Entry]| {
        entries
            .iter()
            .map(|e| (e.key.clone(), e.value.clone()))
            .collect::<Vec<_>>()
    };
    let sections = doc
        .sections()
        .map(|s| (s.name.clone(), pairs(s.entries())))
        .collect();
    (sections, pairs(doc.defaults().entries()))
}

fn owned(sections: &[(&str, &[(&str, &str)])]) -> Sections {
    sections
        .iter()
        .map(|(name, entries)| {
            (
                name.to_string(),
                entries
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )
        })
        .collect()
}

/// Parse one file and expect success with exactly these sections (DEFAULT excluded).
fn check_ok(src: &str, expected: &[(&str, &[(&str, &str)])]) {
    let mut doc = Document::new();
    if let Err(e) = doc.read_str(src, "test.conf") {
        panic!("{src:?}: unexpected error {e}");
    }
    assert_eq!(dump(&doc).0, owned(expected), "source {src:?}");
}

#[test]
fn values_and_comments() {
    let cases: &[(&str, &str)] = &[
        ("a=b;c", "b;c"),
        ("a=b ;c", "b"),
        ("a=b\t#c", "b"),
        ("a=b#c", "b#c"),
        ("a=#c", "#c"),
        ("a= #c", ""),
        ("a=b\u{1c};c", "b"),
        ("a=b\u{a0}#c", "b"),
        ("a=b\u{3000};c", "b"),
        ("a=b\u{200b};c", "b\u{200b};c"),
        ("a=b ; c ; d", "b"),
        ("a=x;y ;z #w", "x;y ;z"),
        ("a=x#y #z ;w", "x#y #z"),
        ("a=x;y #z", "x;y"),
        ("a=", ""),
        ("a =   ", ""),
        ("a= spaced  value ", "spaced  value"),
        ("a=\u{a0}x\u{85}", "x"),
        ("a=b=c", "b=c"),
        ("a=b:c", "b:c"),
        ("a:b=c", "b=c"),
        ("a : b", "b"),
        ("a\t=\tb", "b"),
        ("a==b", "=b"),
        ("a=%(here)s/x", "%(here)s/x"),
    ];
    for (line, value) in cases {
        check_ok(&format!("[s]\n{line}\n"), &[("s", &[("a", value)])]);
    }
}

#[test]
fn keys() {
    let cases: &[(&str, &str)] = &[
        ("command: /bin/cat", "command"),
        ("Command = x", "command"),
        ("MiXeD_Key=x", "mixed_key"),
        ("a b = x", "a b"),
        ("a\u{1c}=x", "a"),
        ("k ey\u{3000}:x", "k ey"),
        ("ΟΔΟΣ=x", "οδος"),
        ("[x=y", "[x"),
        ("[]=x", "[]"),
        ("x]=y", "x]"),
        ("#k=x", ""), // a comment: no entry at all
    ];
    for (line, key) in cases {
        let src = format!("[s]\n{line}\n");
        let mut doc = Document::new();
        doc.read_str(&src, "f").expect("parses");
        let keys: Vec<&str> = doc.options("s");
        if key.is_empty() {
            assert!(keys.is_empty(), "{line:?}: {keys:?}");
        } else {
            assert_eq!(keys, vec![*key], "{line:?}");
        }
    }
}

#[test]
fn section_headers() {
    let cases: &[(&str, &str)] = &[
        ("[a]", "a"),
        ("[A]", "A"),
        ("[ a ]", " a "),
        ("[ a ] x", " a "),
        ("[a]b]", "a]b"),
        ("[a]b", "a"),
        ("[]]", "]"),
        ("[[x]]", "[x]"),
        ("[x] trailing", "x"),
        ("  [x]  ", "x"),
        ("[x] ;comment", "x"),
        ("[x];y]", "x];y"),
        ("[program:cat]", "program:cat"),
        ("[a=b]", "a=b"),
        ("[\u{a0}]", "\u{a0}"),
    ];
    for (line, name) in cases {
        let src = format!("{line}\nk=v\n");
        let mut doc = Document::new();
        doc.read_str(&src, "f").expect(line);
        let names: Vec<&str> = doc.sections().map(|s| s.name.as_str()).collect();
        assert_eq!(names, vec![*name], "{line:?}");
    }
}

#[test]
fn non_headers_are_option_lines() {
    check_ok(
        "[s]\n[]=x\n[]]\n[ a ] x\n",
        &[("s", &[("[]", "x")]), ("]", &[]), (" a ", &[])],
    );
    let mut doc = Document::new();
    let err = doc.read_str("[s]\n[]\n[x\n", "f").expect_err("no headers");
    let kinds: Vec<(usize, LineErrorKind)> = err.errors.iter().map(|e| (e.line, e.kind)).collect();
    assert_eq!(
        kinds,
        vec![
            (2, LineErrorKind::NoDelimiter),
            (3, LineErrorKind::NoDelimiter)
        ]
    );
}

#[test]
fn continuation_lines() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        (
            "g=h\n  cont\n  # c\n\n  more\n",
            &[("g", "h\ncont\n\nmore")],
        ),
        ("g=h\n  cont\n\n\n", &[("g", "h\ncont")]),
        ("g=h\n \n\t\n", &[("g", "h")]),
        ("g=\n  a\n  b\n", &[("g", "\na\nb")]),
        ("g=h\n  a = b\n", &[("g", "h\na = b")]),
        ("g=h\n  [t]\nk=v", &[("g", "h\n[t]"), ("k", "v")]),
        ("g=h\n\tx ;c\n", &[("g", "h\nx")]),
        ("g=h\n   ;c\n  ;d\n  x", &[("g", "h\nx")]),
        ("g=h\n  x\n    y\n z\n", &[("g", "h\nx\ny\nz")]),
        ("  g=h\n  k=v\n", &[("g", "h"), ("k", "v")]),
        ("  g=h\n   x\nk=v\n", &[("g", "h\nx"), ("k", "v")]),
        ("g=h\n\u{1c}x\n", &[("g", "h\nx")]),
        ("g=h\n\u{3000}x\n", &[("g", "h\nx")]),
        ("g=h\n\u{200b}x=1\n", &[("g", "h"), ("\u{200b}x", "1")]),
        ("g=h\n\u{a0}\n  x\n", &[("g", "h\n\nx")]),
        ("g=h\n\u{0c}\n  x\n", &[("g", "h\n\nx")]),
    ];
    for (body, entries) in cases {
        check_ok(&format!("[s]\n{body}"), &[("s", entries)]);
    }
}

#[test]
fn indentation_is_counted_in_characters() {
    // U+3000 is one (wide) character: `  x` (2) is deeper than `\u{3000}k=v` (1).
    check_ok("[s]\n\u{3000}k=v\n  x\n", &[("s", &[("k", "v\nx")])]);
    // And a tab counts as one character, like a space.
    check_ok("[s]\n\tk=v\n x=1\n", &[("s", &[("k", "v"), ("x", "1")])]);
}

#[test]
fn sections_do_not_continue_values() {
    check_ok(
        "[s]\nk=v\n[t]\n  x=1\n",
        &[("s", &[("k", "v")]), ("t", &[("x", "1")])],
    );
}

#[test]
fn duplicate_sections_merge_and_keys_overwrite_in_place() {
    check_ok(
        "[a]\nx=1\ny=2\n[b]\nz=3\n[a]\nx=4\nw=5\n",
        &[
            ("a", &[("x", "4"), ("y", "2"), ("w", "5")]),
            ("b", &[("z", "3")]),
        ],
    );
    check_ok("[a]\nK=1\nk=2\n", &[("a", &[("k", "2")])]);
    check_ok("[a]\nk=1\n  c\nk=2\n", &[("a", &[("k", "2")])]);
    // Section names are case-sensitive.
    check_ok("[a]\n[A]\n", &[("a", &[]), ("A", &[])]);
}

#[test]
fn entry_positions() {
    let mut doc = Document::new();
    doc.read_str("\n[a]\nx=1\n\ny=2\nx=3\n", "one.conf")
        .expect("parses");
    doc.read_str("[b]\n[a]\ny=4\n", "two.conf").expect("parses");
    let a = doc.section("a").expect("a");
    assert_eq!((a.file.as_ref(), a.line), ("one.conf", 2));
    let b = doc.section("b").expect("b");
    assert_eq!((b.file.as_ref(), b.line), ("two.conf", 1));
    let x = a.get("X").expect("x");
    assert_eq!(
        (x.value.as_str(), x.file.as_ref(), x.line),
        ("3", "one.conf", 6)
    );
    let y = a.get("y").expect("y");
    assert_eq!(
        (y.value.as_str(), y.file.as_ref(), y.line),
        ("4", "two.conf", 3)
    );
    assert_eq!(doc.defaults().line, 0);
}

#[test]
fn defaults() {
    let mut doc = Document::new();
    doc.read_str(
        "[DEFAULT]\nb=def\nc=def\n[s]\na=own\nc=own\n[default]\nz=1\n",
        "f",
    )
    .expect("parses");
    let names: Vec<&str> = doc.sections().map(|s| s.name.as_str()).collect();
    assert_eq!(names, vec!["s", "default"]);
    assert!(!doc.has_section("DEFAULT"));
    assert!(doc.section("DEFAULT").is_none());
    assert_eq!(doc.defaults().name, "DEFAULT");
    assert_eq!(doc.defaults().line, 1);

    let value = |s: &str, k: &str| doc.get(s, k).map(|e| e.value.as_str());
    assert_eq!(value("s", "a"), Some("own"));
    assert_eq!(value("s", "B"), Some("def"));
    assert_eq!(value("s", "c"), Some("own"));
    assert_eq!(value("s", "missing"), None);
    assert_eq!(value("DEFAULT", "b"), Some("def"));
    assert_eq!(value("DEFAULT", "a"), None);
    assert_eq!(value("nosuch", "b"), None);
    assert!(doc.has_option("default", "b"));

    assert_eq!(doc.options("s"), vec!["a", "c", "b"]);
    assert_eq!(doc.options("default"), vec!["z", "b", "c"]);
    assert!(doc.options("DEFAULT").is_empty());
    assert!(doc.options("nosuch").is_empty());
    let items: Vec<(&str, &str)> = doc
        .items("s")
        .into_iter()
        .map(|e| (e.key.as_str(), e.value.as_str()))
        .collect();
    assert_eq!(items, vec![("b", "def"), ("c", "own"), ("a", "own")]);
}

#[test]
fn set_and_insert() {
    let mut doc = Document::new();
    doc.read_str("[DEFAULT]\nd=%(here)s\n[s]\nK=%(here)s/x\n", "f")
        .expect("parses");
    doc.set("s", "k", "/etc/x".into());
    doc.set("s", "d", "/etc".into()); // inherited: no-op
    doc.set("nosuch", "k", "x".into());
    assert_eq!(doc.get("s", "K").map(|e| e.value.as_str()), Some("/etc/x"));
    assert_eq!(
        doc.get("s", "d").map(|e| e.value.as_str()),
        Some("%(here)s")
    );
    assert!(doc.section("s").expect("s").get("d").is_none());

    let entry = Entry {
        key: "D".into(),
        value: "/etc".into(),
        file: "f".into(),
        line: 2,
    };
    assert!(doc.insert("s", entry.clone()));
    assert!(!doc.insert("nosuch", entry));
    assert_eq!(doc.options("s"), vec!["k", "d"]);
    assert_eq!(doc.get("s", "d").map(|e| e.value.as_str()), Some("/etc"));
}

#[test]
fn errors() {
    use LineErrorKind::*;
    let cases: &[(&str, bool, &[ExpectedError])] = &[
        ("k=v\n", true, &[(1, "k=v", MissingSectionHeader)]),
        (
            "\n# c\n  \n;x\nfoo\n[s]\n",
            true,
            &[(5, "foo", MissingSectionHeader)],
        ),
        ("[s\nk=v\n", true, &[(1, "[s", MissingSectionHeader)]),
        ("[]\n", true, &[(1, "[]", MissingSectionHeader)]),
        // The inline comment eats `;y]`, and `[x` is no header.
        ("[x ;y]\n", true, &[(1, "[x ;y]", MissingSectionHeader)]),
        ("  [s] x\n=v", false, &[(2, "=v", EmptyKey)]),
        ("[s]\n=value\n", false, &[(2, "=value", EmptyKey)]),
        ("[s]\n : v\n", false, &[(2, " : v", EmptyKey)]),
        (
            "[s]\nfoo\nk=v\n  bar\nbaz qux\n=x\n  y\n[t]\n\tz ;=c\n",
            false,
            &[
                (2, "foo", NoDelimiter),
                (5, "baz qux", NoDelimiter),
                (6, "=x", EmptyKey),
                (7, "  y", NoDelimiter),
                (9, "\tz ;=c", NoDelimiter),
            ],
        ),
        (
            "[s]\r\nfoo\r\nbar\rk=v\r",
            false,
            &[(2, "foo", NoDelimiter), (3, "bar", NoDelimiter)],
        ),
    ];
    for (src, missing_header, expected) in cases {
        let mut doc = Document::new();
        let err = doc.read_str(src, "f.conf").expect_err(src);
        let expected_errors: Vec<LineError> = expected
            .iter()
            .map(|&(line, text, kind)| LineError {
                line,
                text: text.to_owned(),
                kind,
            })
            .collect();
        assert_eq!(
            err,
            ParseError {
                file: "f.conf".into(),
                missing_section_header: *missing_header,
                errors: expected_errors,
            },
            "{src:?}"
        );
    }
}

#[test]
fn what_is_kept_on_error() {
    // Parsing errors: the rest of the file is applied, including the empty key.
    let mut doc = Document::new();
    doc.read_str("[s]\nbogus\na=1\n=x\n  cont\nb=2\n  more\n\n", "f")
        .expect_err("errors");
    assert_eq!(
        dump(&doc).0,
        owned(&[("s", &[("a", "1"), ("", "x"), ("b", "2\nmore")])])
    );

    // A missing header keeps nothing of the file, but earlier reads stay.
    let mut doc = Document::new();
    doc.read_str("[s]\na=1\n", "one").expect("parses");
    let err = doc
        .read_str("\nb=2\n[t]\nc=3\n", "two")
        .expect_err("no header");
    assert!(err.missing_section_header);
    assert_eq!(dump(&doc).0, owned(&[("s", &[("a", "1")])]));
}

#[test]
fn a_later_read_does_not_continue_or_restrip_earlier_values() {
    let mut doc = Document::new();
    doc.read_str("[s]\na=1\n", "one").expect("parses");
    doc.set("s", "a", "kept  ".into());
    doc.read_str("  cont\n[s]\nb=2\n", "two")
        .expect_err("a continuation-looking first line has no section");
    doc.read_str("[s]\n  cont\nb=2\n  x\n\n", "three")
        .expect_err("indented line after a header is an option line");
    assert_eq!(
        dump(&doc).0,
        owned(&[("s", &[("a", "kept  "), ("b", "2\nx")])])
    );
}

#[test]
fn line_endings() {
    let cases: &[(&str, &[&str])] = &[
        ("", &[]),
        ("\n", &[""]),
        ("a", &["a"]),
        ("a\n", &["a"]),
        ("a\r\nb\rc\nd", &["a", "b", "c", "d"]),
        ("a\r\r\nb", &["a", "", "b"]),
        ("a\n\rb", &["a", "", "b"]),
        (
            "a\u{2028}b\u{0c}c\u{1c}d\u{85}e\n",
            &["a\u{2028}b\u{0c}c\u{1c}d\u{85}e"],
        ),
    ];
    for (src, expected) in cases {
        assert_eq!(lines(src).collect::<Vec<_>>(), *expected, "{src:?}");
    }
    check_ok(
        "[s]\r\nk = v\r\n  more\r\n\r\n[t]\rx=1\r",
        &[("s", &[("k", "v\nmore")]), ("t", &[("x", "1")])],
    );
}

#[test]
fn whitespace_only_keys_and_values() {
    check_ok("[s]\nk=   \n", &[("s", &[("k", "")])]);
    check_ok("[s]\nk=\u{1c}\u{1d}\n", &[("s", &[("k", "")])]);
    let mut doc = Document::new();
    let err = doc.read_str("[s]\n   =v\n", "f").expect_err("empty key");
    assert_eq!(err.errors[0].kind, LineErrorKind::EmptyKey);
    let err = doc.read_str("[s]\n\u{1c}:v\n", "f").expect_err("empty key");
    assert_eq!(err.errors[0].kind, LineErrorKind::EmptyKey);
}

/// Small sections are searched in place, large ones through their index
/// (built when the section outgrows `SMALL_SECTION`): the same answers
/// either way, and a repeated key keeps its first position.
#[test]
fn small_and_large_sections_answer_alike() {
    for n in [3usize, 16, 17, 40] {
        let mut text = String::from("[s]\n");
        for i in 0..n {
            text.push_str(&format!("Key{i} = v{i}\n"));
        }
        text.push_str("key1 = again\n");
        let mut doc = Document::new();
        doc.read_str(&text, "f.conf").unwrap();
        let s = doc.section("s").unwrap();
        assert_eq!(s.entries().len(), n, "n={n}");
        for i in 0..n {
            let want = if i == 1 {
                "again".to_string()
            } else {
                format!("v{i}")
            };
            assert_eq!(
                doc.get("s", &format!("KEY{i}")).map(|e| e.value.as_str()),
                Some(want.as_str()),
                "n={n} i={i}"
            );
        }
        assert_eq!(s.entries()[1].key, "key1");
        assert!(doc.get("s", "nokey").is_none());
    }
}
