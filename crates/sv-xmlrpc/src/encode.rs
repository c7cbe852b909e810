//! Encoder producing exactly the bytes of Python 3.11's
//! `xmlrpc.client.dumps(..., allow_none=True)`.
//!
//! The layout below is copied from the behaviour of Python's `Marshaller`
//! (checked byte for byte by `tests/python_parity.rs`), including its
//! irregularities: every value ends with `\n` except `<nil/>`, arrays and
//! structs open with `\n`, and base64 text is wrapped at 76 columns with a
//! newline after every line.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::value::{MethodCall, Response, Value};

const XML_HEADER: &str = "<?xml version='1.0'?>\n";

/// Encodes a `<methodCall>` as Python's
/// `dumps(tuple(params), name, allow_none=True)` would.
pub fn encode_call(call: &MethodCall) -> Vec<u8> {
    let mut out = String::with_capacity(128);
    out.push_str(XML_HEADER);
    out.push_str("<methodCall>\n<methodName>");
    push_text(&mut out, &call.name);
    out.push_str("</methodName>\n");
    push_params(&mut out, &call.params);
    out.push_str("</methodCall>\n");
    out.into_bytes()
}

/// Encodes a `<methodResponse>` as Python's
/// `dumps((value,), methodresponse=True, allow_none=True)` would, or for a
/// fault as `dumps(Fault(code, string))`.
pub fn encode_response(response: &Response) -> Vec<u8> {
    let mut out = String::with_capacity(128);
    out.push_str(XML_HEADER);
    out.push_str("<methodResponse>\n");
    match response {
        Ok(value) => push_params(&mut out, std::slice::from_ref(value)),
        Err(fault) => {
            // Python marshals a fault as the dict
            // {'faultCode': code, 'faultString': string}.
            out.push_str("<fault>\n<value><struct>\n<member>\n<name>faultCode</name>\n");
            push_value(&mut out, &Value::Int(fault.code));
            out.push_str("</member>\n<member>\n<name>faultString</name>\n<value><string>");
            push_text(&mut out, &fault.string);
            out.push_str("</string></value>\n</member>\n</struct></value>\n</fault>\n");
        }
    }
    out.push_str("</methodResponse>\n");
    out.into_bytes()
}

fn push_params(out: &mut String, params: &[Value]) {
    out.push_str("<params>\n");
    for value in params {
        out.push_str("<param>\n");
        push_value(out, value);
        out.push_str("</param>\n");
    }
    out.push_str("</params>\n");
}

fn push_value(out: &mut String, value: &Value) {
    ValueWriter { out }.value(value);
}

/// Encodes a successful `<methodResponse>` whose one value `write` writes
/// straight into the answer, with no [`Value`] tree in between: the bytes
/// are those [`encode_response`] writes for the equivalent tree (the tree
/// path goes through the same writer). `capacity` is a size hint.
pub fn encode_response_with(capacity: usize, write: impl FnOnce(&mut ValueWriter)) -> Vec<u8> {
    let mut out = String::with_capacity(capacity.max(128));
    out.push_str(XML_HEADER);
    out.push_str("<methodResponse>\n<params>\n<param>\n");
    write(&mut ValueWriter { out: &mut out });
    out.push_str("</param>\n</params>\n</methodResponse>\n");
    out.into_bytes()
}

/// Writes one value (and what it contains) into an answer being encoded;
/// see [`encode_response_with`].
pub struct ValueWriter<'a> {
    out: &'a mut String,
}

/// Writes the members of a struct; see [`ValueWriter::structure`].
pub struct StructWriter<'w, 'a> {
    writer: &'w mut ValueWriter<'a>,
}

impl ValueWriter<'_> {
    /// `<int>`.
    pub fn int(&mut self, n: i32) {
        self.out.push_str("<value><int>");
        push_display(self.out, n);
        self.out.push_str("</int></value>\n");
    }

    /// `<i8>` (see the crate docs).
    pub fn i8(&mut self, n: i64) {
        self.out.push_str("<value><i8>");
        push_display(self.out, n);
        self.out.push_str("</i8></value>\n");
    }

    /// `<boolean>`.
    pub fn bool(&mut self, b: bool) {
        self.out.push_str("<value><boolean>");
        self.out.push_str(if b { "1" } else { "0" });
        self.out.push_str("</boolean></value>\n");
    }

    /// `<string>`, escaped as Python escapes it.
    pub fn string(&mut self, s: &str) {
        self.out.push_str("<value><string>");
        push_text(self.out, s);
        self.out.push_str("</string></value>\n");
    }

    /// An array whose items `items` writes.
    pub fn array(&mut self, items: impl FnOnce(&mut Self)) {
        self.out.push_str("<value><array><data>\n");
        items(self);
        self.out.push_str("</data></array></value>\n");
    }

    /// A struct whose members `members` writes, in order.
    pub fn structure<'w>(&'w mut self, members: impl FnOnce(&mut StructWriter<'w, '_>)) {
        self.out.push_str("<value><struct>\n");
        let mut writer = StructWriter { writer: self };
        members(&mut writer);
        writer.writer.out.push_str("</struct></value>\n");
    }

    /// Any value of the tree model.
    pub fn value(&mut self, value: &Value) {
        match value {
            Value::Int(n) => self.int(*n),
            Value::I8(n) => self.i8(*n),
            Value::Bool(b) => self.bool(*b),
            Value::String(s) => self.string(s),
            Value::Double(d) => {
                self.out.push_str("<value><double>");
                push_python_float_repr(self.out, *d);
                self.out.push_str("</double></value>\n");
            }
            Value::DateTime(s) => {
                self.out.push_str("<value><dateTime.iso8601>");
                push_text(self.out, s);
                self.out.push_str("</dateTime.iso8601></value>\n");
            }
            Value::Base64(bytes) => {
                self.out.push_str("<value><base64>\n");
                push_base64_lines(self.out, bytes);
                self.out.push_str("</base64></value>\n");
            }
            Value::Struct(members) => self.structure(|s| {
                for (name, member) in members {
                    s.member(name, |w| w.value(member));
                }
            }),
            Value::Array(items) => self.array(|w| {
                for item in items {
                    w.value(item);
                }
            }),
            // Python writes no newline after a nil value.
            Value::Nil => self.out.push_str("<value><nil/></value>"),
        }
    }
}

impl StructWriter<'_, '_> {
    /// One member: its name, then the value `value` writes.
    pub fn member(&mut self, name: &str, value: impl FnOnce(&mut ValueWriter)) {
        let out = &mut *self.writer.out;
        out.push_str("<member>\n<name>");
        push_text(out, name);
        out.push_str("</name>\n");
        value(self.writer);
        self.writer.out.push_str("</member>\n");
    }

    /// A string member.
    pub fn string(&mut self, name: &str, value: &str) {
        self.member(name, |w| w.string(value));
    }

    /// An int member.
    pub fn int(&mut self, name: &str, value: i32) {
        self.member(name, |w| w.int(value));
    }
}

/// Appends `n` in decimal without an intermediate `String`.
fn push_display(out: &mut String, n: impl std::fmt::Display) {
    use std::fmt::Write as _;
    // Writing into a String cannot fail.
    let _ = write!(out, "{n}");
}

/// Whether XML 1.0 allows `c` in a document at all (production `Char`).
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c,
        '\t' | '\n' | '\r'
        | '\u{20}'..='\u{D7FF}'
        | '\u{E000}'..='\u{FFFD}'
        | '\u{10000}'..='\u{10FFFF}')
}

/// Appends `s` escaped as Python's `xmlrpc.client.escape` does (`&`, `<`,
/// `>` only; quotes stay raw), with characters XML 1.0 forbids replaced by
/// U+FFFD so that every reader can parse the result.
fn push_text(out: &mut String, s: &str) {
    // Byte by byte: every byte that needs a replacement is ASCII or starts
    // U+FFFE/U+FFFF (EF BF BE/BF); all other multi-byte characters a `str`
    // can hold are allowed. So the scan never decodes UTF-8 and slices
    // only at character boundaries.
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let (replacement, len) = match bytes[i] {
            b'&' => ("&amp;", 1),
            b'<' => ("&lt;", 1),
            b'>' => ("&gt;", 1),
            b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            0..=0x1F => ("\u{FFFD}", 1),
            0xEF if bytes.get(i + 1) == Some(&0xBF)
                && matches!(bytes.get(i + 2), Some(0xBE | 0xBF)) =>
            {
                ("\u{FFFD}", 3)
            }
            _ => {
                i += 1;
                continue;
            }
        };
        out.push_str(&s[start..i]);
        out.push_str(replacement);
        i += len;
        start = i;
    }
    out.push_str(&s[start..]);
}

/// Appends base64 text as Python's `base64.encodebytes` produces it: lines
/// of at most 76 characters, each followed by `\n`; nothing for no bytes.
fn push_base64_lines(out: &mut String, bytes: &[u8]) {
    // 57 input bytes make exactly 76 output characters.
    for chunk in bytes.chunks(57) {
        STANDARD.encode_string(chunk, out);
        out.push('\n');
    }
}

/// Python 3's `repr()` of a float, which is also how `<double>` values are
/// written: shared so that fault messages quoting a float (`py_repr`) and
/// the encoder cannot drift apart.
pub fn python_float_repr(d: f64) -> String {
    let mut out = String::new();
    push_python_float_repr(&mut out, d);
    out
}

/// Appends `repr(d)` as Python 3 writes it: the shortest digits that read
/// back as the same double, in positional form when the decimal exponent is
/// in -4..16 (with `.0` for whole numbers) and otherwise as `d.ddde+XX`.
fn push_python_float_repr(out: &mut String, d: f64) {
    if d.is_nan() {
        out.push_str("nan");
        return;
    }
    if d.is_sign_negative() {
        out.push('-');
    }
    let magnitude = d.abs();
    if magnitude.is_infinite() {
        out.push_str("inf");
        return;
    }
    if magnitude == 0.0 {
        out.push_str("0.0");
        return;
    }
    let sci = shortest_digits(magnitude);
    let Some((mantissa, exponent)) = sci.split_once('e') else {
        out.push_str(&sci);
        return;
    };
    let Ok(exponent) = exponent.parse::<i32>() else {
        out.push_str(&sci);
        return;
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    // Python's `decpt`: the decimal point sits after this many digits.
    let decpt = exponent + 1;
    if decpt > -4 && decpt <= 16 {
        if decpt <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', decpt.unsigned_abs() as usize));
            out.push_str(&digits);
        } else {
            let point = decpt.unsigned_abs() as usize;
            if point >= digits.len() {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', point - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..point]);
                out.push('.');
                out.push_str(&digits[point..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exponent < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exponent.unsigned_abs()));
    }
}

/// The shortest digits that read back as `magnitude`, chosen as Python's
/// `repr` chooses them, in Rust's `d.ddde±x` layout.
///
/// Rust's `{:e}` finds the same number of digits as Python, but when two
/// digit strings of that length are equally close to the exact binary value
/// it rounds the tie up, where Python (David Gay's dtoa) takes the
/// correctly rounded string, ties to even: 2079017833692276.25 is
/// `...276.2` in Python and `...276.3` in Rust's shortest form. Rust's
/// fixed-precision `{:.N$e}` rounds exactly, ties to even, so the shortest
/// length is re-rounded that way and kept whenever it still reads back.
fn shortest_digits(magnitude: f64) -> String {
    let shortest = format!("{magnitude:e}");
    let significant = shortest
        .split_once('e')
        .map_or(shortest.len(), |(mantissa, _)| {
            mantissa.chars().filter(char::is_ascii_digit).count()
        });
    let rounded = format!("{magnitude:.prec$e}", prec = significant.saturating_sub(1));
    if rounded.parse::<f64>() == Ok(magnitude) {
        rounded
    } else {
        shortest
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Fault;

    /// The escaping rule, one character at a time, as it was written before
    /// the byte scan.
    fn escaped_by_chars(s: &str) -> String {
        s.chars()
            .map(|c| match c {
                '&' => "&amp;".to_string(),
                '<' => "&lt;".to_string(),
                '>' => "&gt;".to_string(),
                c if is_xml_char(c) => c.to_string(),
                _ => "\u{FFFD}".to_string(),
            })
            .collect()
    }

    proptest::proptest! {
        #[test]
        fn byte_scan_escapes_as_the_character_rule(
            s in "[\\x00-\\x7f\u{80}-\u{7ff}\u{d7ff}\u{e000}\u{fffd}-\u{ffff}\u{10000}\u{10ffff}&<>]{0,40}"
        ) {
            let mut out = String::new();
            push_text(&mut out, &s);
            proptest::prop_assert_eq!(out, escaped_by_chars(&s));
        }
    }

    #[test]
    fn byte_scan_edge_characters() {
        for s in [
            "\u{fffe}",
            "\u{ffff}",
            "\u{fffd}",
            "a\u{efbf}b",
            "\u{ef}\u{bf}",
            "\u{1b}[0m",
            "\u{7f}",
        ] {
            let mut out = String::new();
            push_text(&mut out, s);
            assert_eq!(out, escaped_by_chars(s), "{s:?}");
        }
    }

    fn response(value: Value) -> String {
        String::from_utf8(encode_response(&Ok(value))).unwrap_or_default()
    }

    fn wrap(inner: &str) -> String {
        format!(
            "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n{inner}</param>\n</params>\n</methodResponse>\n"
        )
    }

    fn repr(d: f64) -> String {
        python_float_repr(d)
    }

    #[test]
    fn scalars() {
        assert_eq!(
            response(Value::Int(-7)),
            wrap("<value><int>-7</int></value>\n")
        );
        assert_eq!(
            response(Value::I8(1 << 40)),
            wrap("<value><i8>1099511627776</i8></value>\n")
        );
        assert_eq!(
            response(Value::Bool(true)),
            wrap("<value><boolean>1</boolean></value>\n")
        );
        assert_eq!(
            response(Value::Bool(false)),
            wrap("<value><boolean>0</boolean></value>\n")
        );
        assert_eq!(
            response(Value::Double(0.5)),
            wrap("<value><double>0.5</double></value>\n")
        );
        assert_eq!(
            response(Value::DateTime("20261122T01:02:03".into())),
            wrap("<value><dateTime.iso8601>20261122T01:02:03</dateTime.iso8601></value>\n")
        );
        assert_eq!(response(Value::Nil), wrap("<value><nil/></value>"));
    }

    #[test]
    fn strings_escape_only_amp_lt_gt_and_replace_illegal_chars() {
        assert_eq!(
            response(Value::from("a&b<c>d\"e'f\r\n\t")),
            wrap("<value><string>a&amp;b&lt;c&gt;d\"e'f\r\n\t</string></value>\n")
        );
        assert_eq!(
            response(Value::from(
                "\u{1b}[31m\u{0}\u{fffe}\u{ffff}\u{d7ff}\u{e000}\u{10ffff}"
            )),
            wrap(
                "<value><string>\u{fffd}[31m\u{fffd}\u{fffd}\u{fffd}\u{d7ff}\u{e000}\u{10ffff}</string></value>\n"
            )
        );
        assert_eq!(
            response(Value::from("")),
            wrap("<value><string></string></value>\n")
        );
    }

    #[test]
    fn base64_wraps_at_76_columns() {
        assert_eq!(
            response(Value::Base64(Vec::new())),
            wrap("<value><base64>\n</base64></value>\n")
        );
        let text = response(Value::Base64(vec![b'x'; 100]));
        let expected = wrap(
            "<value><base64>\neHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4\neHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eA==\n</base64></value>\n",
        );
        assert_eq!(text, expected);
    }

    #[test]
    fn containers() {
        let value = Value::Struct(vec![
            ("a<".into(), Value::Array(vec![Value::Nil, Value::Int(1)])),
            ("b".into(), Value::Struct(Vec::new())),
        ]);
        assert_eq!(
            response(value),
            wrap(
                "<value><struct>\n<member>\n<name>a&lt;</name>\n<value><array><data>\n<value><nil/></value><value><int>1</int></value>\n</data></array></value>\n</member>\n<member>\n<name>b</name>\n<value><struct>\n</struct></value>\n</member>\n</struct></value>\n"
            )
        );
    }

    #[test]
    fn call_and_fault_layout() {
        let call = MethodCall {
            name: "supervisor.getState".into(),
            params: Vec::new(),
        };
        assert_eq!(
            String::from_utf8(encode_call(&call)).unwrap_or_default(),
            "<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.getState</methodName>\n<params>\n</params>\n</methodCall>\n"
        );
        let fault = Fault {
            code: 3,
            string: "a<b\u{7}".into(),
        };
        assert_eq!(
            String::from_utf8(encode_response(&Err(fault))).unwrap_or_default(),
            "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n<name>faultCode</name>\n<value><int>3</int></value>\n</member>\n<member>\n<name>faultString</name>\n<value><string>a&lt;b\u{fffd}</string></value>\n</member>\n</struct></value>\n</fault>\n</methodResponse>\n"
        );
    }

    #[test]
    fn float_repr_matches_python() {
        let cases = [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (-2.5, "-2.5"),
            (0.1, "0.1"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1.5e15, "1500000000000000.0"),
            (1e-5, "1e-05"),
            (1e-4, "0.0001"),
            (1.25e-4, "0.000125"),
            (5e-324, "5e-324"),
            (1.5e300, "1.5e+300"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::NAN, "nan"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (1234.5678, "1234.5678"),
            // A tie between two shortest strings: Python rounds to even.
            (-(2079017833692276.0 + 0.25), "-2079017833692276.2"),
        ];
        for (d, expected) in cases {
            assert_eq!(repr(d), expected, "repr({d:?})");
        }
    }
}
