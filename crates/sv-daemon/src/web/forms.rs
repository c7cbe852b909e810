//! The page's request fields and URL quoting: reading a query string and a
//! form body as Supervisor's Python reads them, and quoting a redirect's
//! message as Python's `urllib.parse.quote` does, so the URLs scripts see
//! are byte for byte Supervisor's.

use std::collections::BTreeMap;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// The request's fields, by name.
pub type Form = BTreeMap<String, String>;

/// The request's fields: the query string as Python's `parse_qs` reads it
/// (blank values dropped, the first of duplicates kept), then a POST body
/// as `parse_qsl` reads it, overriding (the last of duplicates kept).
pub fn form(query: Option<&str>, body: &[u8]) -> Form {
    let mut fields = Form::new();
    for (key, value) in pairs(query.unwrap_or("").as_bytes()) {
        fields.entry(key).or_insert(value);
    }
    // The body is taken as text first (invalid UTF-8 replaced) and only
    // then unquoted, as it always was here, so a `%XX` never joins a raw
    // byte into one character.
    for (key, value) in pairs(String::from_utf8_lossy(body).as_bytes()) {
        fields.insert(key, value);
    }
    fields
}

/// `name=value` pairs with a value: `+` is a space, `%XX` a byte, invalid
/// UTF-8 becomes U+FFFD (Python's `unquote_plus` with `errors='replace'`);
/// a field without `=` or with an empty value is dropped, as `parse_qs`
/// without `keep_blank_values` drops it.
fn pairs(text: &[u8]) -> impl Iterator<Item = (String, String)> + '_ {
    form_urlencoded::parse(text)
        .filter(|(_, value)| !value.is_empty())
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
}

/// What Python's `urllib.parse.quote(text)` leaves as it is: letters,
/// digits, `_.-~` (always safe) and `/` (its default `safe`). Everything
/// else is percent-encoded as UTF-8 with upper-case hex, as Python does.
const PYTHON_QUOTE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'_')
    .remove(b'.')
    .remove(b'-')
    .remove(b'~')
    .remove(b'/');

/// Python's `urllib.parse.quote(text)`, which Supervisor applies to the
/// message of every redirect.
pub fn url_quote(text: &str) -> String {
    utf8_percent_encode(text, PYTHON_QUOTE).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_follows_parse_qs() {
        let f = form(Some("a=1&a=2&b=&c&d=x+y%3Az&e=%ZZ&f=%2B"), b"");
        assert_eq!(
            f.get("a").map(String::as_str),
            Some("1"),
            "first query value"
        );
        assert!(
            !f.contains_key("b") && !f.contains_key("c"),
            "blanks dropped"
        );
        assert_eq!(f.get("d").map(String::as_str), Some("x y:z"));
        assert_eq!(f.get("e").map(String::as_str), Some("%ZZ"));
        assert_eq!(f.get("f").map(String::as_str), Some("+"));
        let f = form(Some("action=start&x=1"), b"action=stop&action=restart");
        assert_eq!(f.get("action").map(String::as_str), Some("restart"));
        assert_eq!(f.get("x").map(String::as_str), Some("1"));
    }

    #[test]
    fn form_decodes_utf8_and_replaces_what_is_not() {
        let f = form(Some("n=%C3%A9&m=%FFz&k=a%"), b"");
        assert_eq!(f.get("n").map(String::as_str), Some("é"));
        assert_eq!(f.get("m").map(String::as_str), Some("\u{fffd}z"));
        assert_eq!(f.get("k").map(String::as_str), Some("a%"));
        // A raw invalid byte in the body is replaced before unquoting.
        let f = form(None, b"n=\xc3%A9");
        assert_eq!(f.get("n").map(String::as_str), Some("\u{fffd}\u{fffd}"));
    }

    #[test]
    fn quote_like_python() {
        assert_eq!(url_quote("g:*"), "g%3A%2A");
        assert_eq!(
            url_quote("Page refreshed at Fri Dec  4 13:56:36 2026"),
            "Page%20refreshed%20at%20Fri%20Dec%20%204%2013%3A56%3A36%202026"
        );
        assert_eq!(url_quote("a/b_c.d-e~é"), "a/b_c.d-e~%C3%A9");
        assert_eq!(url_quote("[x]&y=+z?#%"), "%5Bx%5D%26y%3D%2Bz%3F%23%25");
    }

    /// Run a Python 3 script with `input` on stdin; its stdout. Differential
    /// tests must not pass silently without Python, so this panics.
    fn run_python(script: &str, input: &str) -> String {
        use std::io::Write as _;
        use std::process::{Command, Stdio};
        let mut child = Command::new("python3")
            .args(["-c", script])
            .env("PYTHONIOENCODING", "utf-8")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 is required by the differential tests");
        child
            .stdin
            .take()
            .expect("piped stdin")
            .write_all(input.as_bytes())
            .expect("write to python3");
        let out = child.wait_with_output().expect("python3 output");
        assert!(out.status.success(), "python3 failed: {:?}", out.status);
        String::from_utf8(out.stdout).expect("python3 printed UTF-8")
    }

    /// The redirect's message must be quoted byte for byte as Supervisor's
    /// `urllib.parse.quote` quotes it: every ASCII character, some others.
    #[test]
    fn quote_matches_python() {
        let mut samples: Vec<String> = (1u8..128).map(|b| char::from(b).to_string()).collect();
        samples
            .extend(["é", "中", "😀", "\u{fffd}", "No such process named g:*"].map(String::from));
        let input = serde_json::to_string(&samples).unwrap();
        let script = "import sys, json, urllib.parse\n\
                      print(json.dumps([urllib.parse.quote(s) for s in json.load(sys.stdin)]))";
        let expected: Vec<String> = serde_json::from_str(&run_python(script, &input)).unwrap();
        for (sample, want) in samples.iter().zip(&expected) {
            assert_eq!(&url_quote(sample), want, "quote({sample:?})");
        }
    }

    /// Query fields as Supervisor reads them: `parse_qs`, first value kept.
    #[test]
    fn query_fields_match_python_parse_qs() {
        let queries = [
            "a=1&a=2",
            "b=&c&d=x+y%3Az",
            "e=%ZZ&f=%2B&g=%C3%A9&h=%FFz&i=a%",
            "=x&k==v&l=a=b",
            "&&m=1&",
            "n=%e9&o=%C3&p=%41%42&q=+%20+",
            "r;s=1&t=1;u=2",
            "v=%F0%9F%98&w=%F0%9F%98%80&x=%ED%A0%80",
            "processname=g%3A%2A&action=stop",
            "y%20z=1&y+z=2",
        ];
        let input = serde_json::to_string(&queries).unwrap();
        let script = "import sys, json, urllib.parse\n\
                      print(json.dumps([{k: v[0] for k, v in urllib.parse.parse_qs(q).items()} \
                      for q in json.load(sys.stdin)]))";
        let expected: Vec<Form> = serde_json::from_str(&run_python(script, &input)).unwrap();
        for (query, want) in queries.iter().zip(&expected) {
            assert_eq!(&form(Some(query), b""), want, "parse_qs({query:?})");
        }
    }
}
