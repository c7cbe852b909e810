//! Reading method arguments the way upstream's Python methods read them.
//!
//! Upstream does no type checking up front: arguments are whatever the XML
//! was, a wrong argument count surfaces as a Python `TypeError` (→
//! INCORRECT_PARAMETERS, no detail), integers go through `int(x)` and flags
//! through Python truthiness. These helpers reproduce that, except that
//! conversions which crash upstream (HTTP 500, e.g. `int("abc")` or a
//! non-string process name) become an INCORRECT_PARAMETERS fault instead.
//!
//! [`py_str`] renders any argument as Python's `str()` would, for fault
//! details that echo a client's value (`BAD_SIGNAL: 99`).

use sv_xmlrpc::Value;

use crate::faults::{FaultCode, RpcError};

fn incorrect() -> RpcError {
    RpcError::new(FaultCode::IncorrectParameters)
}

/// Exactly `N` arguments, or INCORRECT_PARAMETERS (upstream: calling the
/// Python method with the wrong count raises `TypeError`). Request decoders
/// declare each method's arity through `N`.
pub fn exact<const N: usize>(params: &[Value]) -> Result<&[Value; N], RpcError> {
    params.try_into().map_err(|_| incorrect())
}

/// `N` arguments plus an optional trailing `wait` flag (upstream's only
/// defaulted parameter, `wait=True`), read with Python truthiness.
pub fn with_wait<const N: usize>(params: &[Value]) -> Result<(&[Value; N], bool), RpcError> {
    match params.split_at_checked(N) {
        Some((head, [])) => Ok((exact(head)?, true)),
        Some((head, [wait])) => Ok((exact(head)?, truthy(wait))),
        _ => Err(incorrect()),
    }
}

/// An argument as text. Strings and base64 (which upstream's parser turns
/// into text) qualify; anything else is INCORRECT_PARAMETERS.
pub fn text(value: &Value) -> Result<String, RpcError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Base64(bytes) => std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| incorrect()),
        _ => Err(incorrect()),
    }
}

/// An argument converted like Python's `int(x)`: ints, booleans (0/1),
/// doubles (truncated toward zero) and decimal strings such as `" 42 "`,
/// `"+7"` or `"1_000"` (clients that send untyped `<value>5</value>` rely on
/// this). Arrays, structs, nil and dates are INCORRECT_PARAMETERS without
/// detail (Python `TypeError`); unparsable or out-of-range values carry the
/// value as detail (upstream: HTTP 500).
pub fn int(value: &Value) -> Result<i64, RpcError> {
    let invalid = || RpcError::with_detail(FaultCode::IncorrectParameters, py_str(value));
    match value {
        Value::Int(n) => Ok(i64::from(*n)),
        Value::I8(n) => Ok(*n),
        Value::Bool(b) => Ok(i64::from(*b)),
        Value::Double(d) => float_to_int(*d).ok_or_else(invalid),
        Value::String(s) => parse_py_int(s).ok_or_else(invalid),
        Value::Base64(bytes) => std::str::from_utf8(bytes)
            .ok()
            .and_then(parse_py_int)
            .ok_or_else(invalid),
        Value::DateTime(_) | Value::Struct(_) | Value::Array(_) | Value::Nil => Err(incorrect()),
    }
}

/// Python truthiness of a value as upstream's request parser delivers it
/// (upstream writes `if wait and …`). Verified against 4.3.0: `wait` = int
/// 0, `""`, `[]`, `{}`, 0.0, false and nil all mean "don't wait"; `"0"`,
/// `[0]`, 0.5 and any date mean "wait".
///
/// `I8` is always true: upstream does not know `<i8>` and keeps its text,
/// a non-empty string (a `wait` of `<i8>0</i8>` waits on 4.3.0).
pub fn truthy(value: &Value) -> bool {
    match value {
        Value::Int(n) => *n != 0,
        Value::I8(_) => true,
        Value::Bool(b) => *b,
        Value::String(s) => !s.is_empty(),
        // NaN is true in Python, and `NaN != 0.0` holds.
        Value::Double(d) => *d != 0.0,
        Value::DateTime(_) => true,
        Value::Base64(bytes) => !bytes.is_empty(),
        Value::Struct(members) => !members.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Nil => false,
    }
}

/// Python's whitespace for `int()`/`str.strip()`: Unicode White_Space plus
/// the ASCII separators U+001C..U+001F, which Python also treats as space.
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// `int(text)` for base 10: surrounding whitespace, an optional sign, ASCII
/// digits with single underscores between them. `None` where Python raises
/// (or, for huge values, where i64 ends).
fn parse_py_int(text: &str) -> Option<i64> {
    let body = text.trim_matches(is_py_space);
    let (negative, digits) = match body.as_bytes().first() {
        Some(b'-') => (true, body.get(1..)?),
        Some(b'+') => (false, body.get(1..)?),
        _ => (false, body),
    };
    let bytes = digits.as_bytes();
    if !bytes.first()?.is_ascii_digit() || !bytes.last()?.is_ascii_digit() {
        return None;
    }
    let mut value: i64 = 0;
    let mut previous_underscore = false;
    for &b in bytes {
        if b == b'_' {
            if previous_underscore {
                return None;
            }
            previous_underscore = true;
            continue;
        }
        previous_underscore = false;
        if !b.is_ascii_digit() {
            return None;
        }
        let digit = i64::from(b - b'0');
        // Accumulate negatively so i64::MIN itself is reachable.
        value = value.checked_mul(10)?.checked_sub(digit)?;
    }
    if negative {
        Some(value)
    } else {
        value.checked_neg()
    }
}

/// `int(float)`: truncation toward zero; NaN, infinities and values beyond
/// i64 have no result.
fn float_to_int(d: f64) -> Option<i64> {
    // 2^63 is exactly representable; every finite double below it in
    // magnitude (after truncation) fits i64.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    let t = d.trunc();
    (t.is_finite() && (-LIMIT..LIMIT).contains(&t)).then_some(t as i64)
}

/// Python's `str()` of the value upstream would hold for this argument:
/// strings as themselves, `True`/`False`, `None`, floats in Python's
/// shortest form, containers with their elements `repr`'d.
pub fn py_str(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Base64(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        Value::DateTime(text) => match parse_iso8601(text) {
            Some([y, mo, d, h, mi, s]) => {
                format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
            }
            None => text.clone(),
        },
        other => py_repr(other),
    }
}

/// Python's `repr()` of the value upstream would hold for this argument
/// (strings escaped exactly as CPython 3.11's `repr()`).
pub fn py_repr(value: &Value) -> String {
    match value {
        Value::Int(n) => n.to_string(),
        Value::I8(n) => n.to_string(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::String(s) => py_str_repr(s),
        Value::Double(d) => py_float_repr(*d),
        Value::DateTime(text) => match parse_iso8601(text) {
            Some([y, mo, d, h, mi, s]) => {
                // datetime's repr drops trailing zero fields (seconds only
                // here, since there are no microseconds).
                if s == 0 {
                    format!("datetime.datetime({y}, {mo}, {d}, {h}, {mi})")
                } else {
                    format!("datetime.datetime({y}, {mo}, {d}, {h}, {mi}, {s})")
                }
            }
            None => py_str_repr(text),
        },
        Value::Base64(bytes) => py_str_repr(&String::from_utf8_lossy(bytes)),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(py_repr).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Struct(members) => {
            // A Python dict keeps a repeated key at its first position with
            // the last value.
            let mut unique: Vec<(&str, &Value)> = Vec::with_capacity(members.len());
            for (key, value) in members {
                match unique.iter_mut().find(|(k, _)| *k == key.as_str()) {
                    Some(slot) => slot.1 = value,
                    None => unique.push((key, value)),
                }
            }
            let inner: Vec<String> = unique
                .into_iter()
                .map(|(k, v)| format!("{}: {}", py_str_repr(k), py_repr(v)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
        Value::Nil => "None".to_owned(),
    }
}

/// `YYYYMMDDTHH:MM:SS` (the form XML-RPC dates take) as numbers.
fn parse_iso8601(text: &str) -> Option<[u32; 6]> {
    let (date, time) = text.split_once('T')?;
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut clock = time.split(':');
    let number = |s: &str| -> Option<u32> {
        (s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let fields = [
        date.get(0..4)?.parse().ok()?,
        date.get(4..6)?.parse().ok()?,
        date.get(6..8)?.parse().ok()?,
        number(clock.next()?)?,
        number(clock.next()?)?,
        number(clock.next()?)?,
    ];
    clock.next().is_none().then_some(fields)
}

/// Python's `repr()` of a `str`.
fn py_str_repr(s: &str) -> String {
    sv_ini::py_repr_str(s)
}

/// Python's `repr()` of a float: the shortest digits that round-trip,
/// positional for decimal exponents -4..16, scientific (`1e+16`, `1e-05`)
/// otherwise.
fn py_float_repr(d: f64) -> String {
    if d.is_nan() {
        return "nan".to_owned();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    let sign = if d.is_sign_negative() { "-" } else { "" };
    if d == 0.0 {
        return format!("{sign}0.0");
    }
    // Rust's `{:e}` finds how many digits the shortest round-trip form
    // needs, but when two such forms are equally short it may pick either;
    // Python picks the one nearest the exact value. Re-rendering with that
    // many digits gives the correctly rounded (nearest) one.
    let shortest = format!("{:e}", d.abs());
    let digit_count = shortest
        .split_once('e')
        .map_or(1, |(m, _)| m.bytes().filter(u8::is_ascii_digit).count());
    let sci = format!("{:.*e}", digit_count.saturating_sub(1), d.abs());
    let Some((mantissa, exponent)) = sci.split_once('e') else {
        return sci;
    };
    let Ok(exponent) = exponent.parse::<i32>() else {
        return sci;
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if (-4..16).contains(&exponent) {
        if exponent < 0 {
            let zeros = "0".repeat(usize::try_from(-exponent - 1).unwrap_or(0));
            format!("{sign}0.{zeros}{digits}")
        } else {
            let int_len = usize::try_from(exponent + 1).unwrap_or(0);
            if digits.len() <= int_len {
                let zeros = "0".repeat(int_len - digits.len());
                format!("{sign}{digits}{zeros}.0")
            } else {
                let (int_part, frac) = digits.split_at(int_len);
                format!("{sign}{int_part}.{frac}")
            }
        }
    } else {
        let (first, rest) = digits.split_at(1);
        let point = if rest.is_empty() { "" } else { "." };
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        format!(
            "{sign}{first}{point}{rest}e{exp_sign}{:02}",
            exponent.unsigned_abs()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::run_python;
    use proptest::prelude::*;

    fn s(text: &str) -> Value {
        Value::String(text.to_owned())
    }

    fn detail(err: RpcError) -> (i32, Option<String>) {
        (err.code.code(), err.detail)
    }

    #[test]
    fn arity() {
        let two = [Value::Int(1), Value::Int(2)];
        assert!(exact::<2>(&two).is_ok());
        assert_eq!(
            exact::<1>(&two).expect_err("too many").text(),
            "INCORRECT_PARAMETERS"
        );
        assert!(exact::<3>(&two).is_err());
        assert!(exact::<0>(&[]).is_ok());
        assert_eq!(with_wait::<1>(&two).map(|(_, w)| w), Ok(true));
        assert_eq!(with_wait::<2>(&two).map(|(_, w)| w), Ok(true));
        assert_eq!(with_wait::<0>(&[Value::Int(0)]).map(|(_, w)| w), Ok(false));
        assert!(with_wait::<0>(&two).is_err());
        assert!(with_wait::<3>(&two).is_err());
    }

    #[test]
    fn strings() {
        assert_eq!(text(&s("web")), Ok("web".to_owned()));
        assert_eq!(
            text(&Value::Base64(b"slow".to_vec())),
            Ok("slow".to_owned())
        );
        for value in [
            Value::Base64(vec![0xff]),
            Value::Int(5),
            Value::Nil,
            Value::Bool(true),
            Value::Array(vec![]),
        ] {
            let err = text(&value).expect_err("not a string");
            assert_eq!(detail(err), (2, None), "{value:?}");
        }
    }

    #[test]
    fn ints_like_python_int() {
        let ok = [
            (Value::Int(-7), -7),
            (Value::I8(1 << 40), 1 << 40),
            (Value::Bool(true), 1),
            (Value::Bool(false), 0),
            (Value::Double(1.7), 1),
            (Value::Double(-1.7), -1),
            (Value::Double(-0.0), 0),
            (s("5"), 5),
            (s(" 5 "), 5),
            (s("\t-12\n"), -12),
            (s("+5"), 5),
            (s("007"), 7),
            (s("1_000"), 1000),
            (s("-9223372036854775808"), i64::MIN),
            (s("9223372036854775807"), i64::MAX),
            (Value::Base64(b"5".to_vec()), 5),
        ];
        for (value, want) in ok {
            assert_eq!(int(&value), Ok(want), "{value:?}");
        }
        // Python ValueError/OverflowError (HTTP 500 upstream): fault with the value.
        let invalid = [
            (s("abc"), "abc"),
            (s(""), ""),
            (s("5.0"), "5.0"),
            (s("_5"), "_5"),
            (s("5_"), "5_"),
            (s("1__0"), "1__0"),
            (s("- 5"), "- 5"),
            (s("+"), "+"),
            (s("0x10"), "0x10"),
            (s("9223372036854775808"), "9223372036854775808"),
            (Value::Double(f64::NAN), "nan"),
            (Value::Double(f64::INFINITY), "inf"),
            (Value::Double(1e19), "1e+19"),
        ];
        for (value, text) in invalid {
            let err = int(&value).expect_err("invalid");
            assert_eq!(detail(err), (2, Some(text.to_owned())), "{value:?}");
        }
        // Python TypeError: no detail.
        for value in [
            Value::Nil,
            Value::Array(vec![]),
            Value::Struct(vec![]),
            Value::DateTime("20200101T00:00:00".into()),
        ] {
            let err = int(&value).expect_err("type error");
            assert_eq!(detail(err), (2, None), "{value:?}");
        }
    }

    #[test]
    fn wait_flags_like_the_reference() {
        // Each case was tried against 4.3.0's startProcess(name, wait).
        let waits = [
            (Value::Int(0), false),
            (Value::Int(1), true),
            (s(""), false),
            (s("0"), true),
            (Value::Array(vec![]), false),
            (Value::Array(vec![Value::Int(0)]), true),
            (Value::Struct(vec![]), false),
            (Value::Double(0.0), false),
            (Value::Double(0.5), true),
            (Value::Bool(false), false),
            (Value::Bool(true), true),
            (Value::Nil, false),
            (Value::I8(0), true),
            (Value::Base64(vec![]), false),
            (Value::Base64(b"0".to_vec()), true),
            (Value::DateTime("20200101T00:00:00".into()), true),
        ];
        for (value, want) in waits {
            let params = [s("name"), value.clone()];
            assert_eq!(
                with_wait::<1>(&params).map(|(_, w)| w),
                Ok(want),
                "{value:?}"
            );
        }
        assert!(truthy(&Value::Double(f64::NAN)));
    }

    #[test]
    fn python_str_and_repr() {
        assert_eq!(py_str(&Value::Int(99)), "99");
        assert_eq!(py_str(&s("HUP")), "HUP");
        assert_eq!(py_str(&Value::Bool(true)), "True");
        assert_eq!(py_str(&Value::Nil), "None");
        assert_eq!(py_str(&Value::Double(1.5)), "1.5");
        assert_eq!(py_str(&Value::Base64(b"hi".to_vec())), "hi");
        assert_eq!(
            py_str(&Value::DateTime("20200102T03:04:05".into())),
            "2020-01-02 03:04:05"
        );
        assert_eq!(
            py_repr(&Value::DateTime("20200102T03:04:00".into())),
            "datetime.datetime(2020, 1, 2, 3, 4)"
        );
        assert_eq!(py_str(&Value::DateTime("junk".into())), "junk");
        assert_eq!(
            py_str(&Value::Array(vec![
                Value::Int(5),
                s("a"),
                Value::Nil,
                Value::Bool(false)
            ])),
            "[5, 'a', None, False]"
        );
        assert_eq!(
            py_str(&Value::Struct(vec![
                ("k".into(), s("it's")),
                ("n".into(), Value::Int(1)),
                ("k".into(), Value::Double(2.0)),
            ])),
            "{'k': 2.0, 'n': 1}"
        );
        assert_eq!(py_repr(&s("it's")), "\"it's\"");
        assert_eq!(py_repr(&s("it's \"x\"")), "'it\\'s \"x\"'");
        assert_eq!(
            py_repr(&s("a\tb\n\x1b\u{7f}é\u{a0}\u{200b}")),
            "'a\\tb\\n\\x1b\\x7fé\\xa0\\u200b'"
        );
    }

    /// Floats and strings rendered by Python itself.
    #[test]
    fn repr_matches_python() {
        let mut floats: Vec<f64> = vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.1,
            0.5,
            1.5,
            100.0,
            1e15,
            1e16,
            1e-4,
            1e-5,
            1.25e-5,
            123.456,
            1234567890123456.0,
            12345678901234567.0,
            0.000123,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            2.0f64.powi(63),
            1.0 / 3.0,
            1e16 - 2.0,
            99999.99,
        ];
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..400 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let f = f64::from_bits(x);
            if f.is_finite() {
                floats.push(f);
            }
            // Also "human" magnitudes, where the positional form is used.
            floats.push((x % 10_000_000) as f64 / 10f64.powi((x >> 40) as i32 % 12));
        }
        let strings = [
            "",
            "plain",
            "it's",
            "say \"hi\"",
            "both ' and \"",
            "tab\there",
            "nl\ncr\r",
            "back\\slash",
            "\x00\x01\x1b\x7f",
            "caf\u{e9}",
            "\u{a0}nbsp",
            "\u{85}",
            "\u{2028}\u{2029}",
            "\u{200b}\u{feff}",
            "\u{e000}",
            "\u{1F600}",
            "\u{ad}",
            "\u{3000}",
            "日本語",
            "\u{fffe}",
        ];

        let script = "import sys, struct\n\
                      for line in sys.stdin:\n    \
                      kind, data = line.split()\n    \
                      if kind == 'f':\n        \
                      print(repr(struct.unpack('<d', bytes.fromhex(data))[0]))\n    \
                      else:\n        \
                      print(repr(bytes.fromhex(data[1:]).decode('utf-8')).encode('unicode_escape').decode('ascii'))\n";
        let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
        let mut input = String::new();
        for f in &floats {
            input.push_str(&format!("f {}\n", hex(&f.to_le_bytes())));
        }
        for text in &strings {
            // A leading `h` keeps the field non-empty for the empty string.
            input.push_str(&format!("s h{}\n", hex(text.as_bytes())));
        }
        let output = run_python(script, &input);
        let lines: Vec<&str> = output.lines().collect();
        assert_eq!(lines.len(), floats.len() + strings.len());
        for (f, want) in floats.iter().zip(&lines) {
            assert_eq!(py_repr(&Value::Double(*f)), *want, "bits {:x}", f.to_bits());
        }
        for (text, want) in strings.iter().zip(&lines[floats.len()..]) {
            let got: String = py_repr(&s(text)).escape_unicode_non_ascii();
            assert_eq!(got, *want, "{text:?}");
        }
    }

    /// Python's `unicode_escape` applied to our output, so the comparison is
    /// pure ASCII on both sides.
    trait EscapeNonAscii {
        fn escape_unicode_non_ascii(&self) -> String;
    }

    impl EscapeNonAscii for String {
        fn escape_unicode_non_ascii(&self) -> String {
            let mut out = String::new();
            for c in self.chars() {
                let cp = u32::from(c);
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    c if (' '..='~').contains(&c) => out.push(c),
                    _ if cp < 0x100 => out.push_str(&format!("\\x{cp:02x}")),
                    _ if cp < 0x10000 => out.push_str(&format!("\\u{cp:04x}")),
                    _ => out.push_str(&format!("\\U{cp:08x}")),
                }
            }
            out
        }
    }

    proptest! {
        #[test]
        fn int_strings_round_trip(n in any::<i64>()) {
            let text = n.to_string();
            prop_assert_eq!(int(&Value::String(text)), Ok(n));
        }

        #[test]
        fn floats_round_trip_through_repr(f in any::<f64>().prop_filter("finite", |f| f.is_finite())) {
            let text = py_float_repr(f);
            let back: f64 = text.parse().map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
            prop_assert_eq!(back.to_bits(), f.to_bits());
        }

        #[test]
        fn no_panics_on_any_string(text in ".{0,20}") {
            let _ = int(&Value::String(text.clone()));
            let _ = py_repr(&Value::String(text));
        }
    }
}
