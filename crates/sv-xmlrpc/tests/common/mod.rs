//! Value generators and comparisons shared by the oracle tests.

// Each test binary uses its own subset of these helpers.
#![allow(dead_code)]

use proptest::prelude::*;
use proptest::sample::select;
use sv_xmlrpc::Value;

/// Proptest settings: 1000 cases unless `PROPTEST_CASES` says otherwise.
pub fn config() -> ProptestConfig {
    let default = ProptestConfig::default();
    let cases = if std::env::var_os("PROPTEST_CASES").is_some() {
        default.cases
    } else {
        1000
    };
    ProptestConfig { cases, ..default }
}

/// Characters chosen to break encoders: markup, quotes, line ends, C0/C1
/// controls, the edges of XML's allowed ranges, non-characters, BOM,
/// combining and bidi marks, astral characters.
fn tricky_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => any::<char>(),
        4 => proptest::char::range(' ', '~'),
        3 => select(vec!['&', '<', '>', '"', '\'', '\r', '\n', '\t', ']', ';', '#', ' ']),
        1 => proptest::char::range('\u{0}', '\u{1f}'),
        2 => select(vec![
            '\u{7f}', '\u{80}', '\u{85}', '\u{9f}', '\u{a0}', '\u{2028}', '\u{2029}',
            '\u{d7ff}', '\u{e000}', '\u{fffd}', '\u{fffe}', '\u{ffff}', '\u{feff}',
            '\u{10000}', '\u{10ffff}', '\u{301}', '\u{200d}', '\u{202e}', '😀', 'é', '日',
        ]),
    ]
}

/// Strings made of tricky characters and fragments that look like markup.
pub fn tricky_string() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        8 => tricky_char().prop_map(String::from),
        1 => select(vec![
            "&amp;", "&lt;", "]]>", "&#27;", "<![CDATA[x]]>", "<value>", "</string>",
            "\r\n", "\r\r\n", "<!-- c -->", "&", "\u{1b}[31m",
        ])
        .prop_map(String::from),
    ];
    proptest::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
}

/// Doubles covering every class and both repr layouts (positional and
/// exponent), including the switch-over points.
pub fn double() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => any::<f64>(),
        1 => any::<u64>().prop_map(f64::from_bits),
        1 => select(vec![
            0.0, -0.0, 1.0, -1.0, 0.1, 0.5, 1e16, 1e15, 9999999999999998.0, 1e-4, 1e-5,
            0.000123, 5e-324, f64::MIN_POSITIVE, f64::MAX, f64::MIN, f64::EPSILON,
            f64::INFINITY, f64::NEG_INFINITY, f64::NAN,
        ]),
        2 => any::<i64>().prop_map(|n| n as f64),
        2 => (any::<i32>(), -330i32..310).prop_map(|(m, e)| f64::from(m) * 10f64.powi(e)),
        1 => (-20i32..20).prop_map(|e| 10f64.powi(e)),
    ]
}

pub fn int() -> impl Strategy<Value = i32> {
    prop_oneof![
        any::<i32>(),
        select(vec![i32::MIN, i32::MAX, -1, 0, 1]),
        -100i32..100
    ]
}

pub fn i8_value() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        select(vec![
            i64::MIN,
            i64::MAX,
            i64::from(i32::MAX) + 1,
            i64::from(i32::MIN) - 1,
            0
        ]),
    ]
}

/// dateTime text in the canonical layout, or other text without markup or
/// surrounding whitespace (both sides trim it).
pub fn datetime() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[0-9]{8}T[0-9]{2}:[0-9]{2}:[0-9]{2}",
        1 => "[0-9A-Za-z:.+-]{1,20}",
    ]
}

/// Valid dates only, for oracles that parse them.
pub fn valid_datetime() -> impl Strategy<Value = String> {
    (
        1970u32..2100,
        1u32..=12,
        1u32..=28,
        0u32..24,
        0u32..60,
        0u32..60,
    )
        .prop_map(|(y, mo, d, h, mi, s)| format!("{y:04}{mo:02}{d:02}T{h:02}:{mi:02}:{s:02}"))
}

pub fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        1 => int().prop_map(Value::Int),
        1 => i8_value().prop_map(Value::I8),
        1 => any::<bool>().prop_map(Value::Bool),
        3 => tricky_string().prop_map(Value::String),
        2 => double().prop_map(Value::Double),
        1 => datetime().prop_map(Value::DateTime),
        1 => proptest::collection::vec(any::<u8>(), 0..200).prop_map(Value::Base64),
        1 => Just(Value::Nil),
    ]
}

/// Struct members with names that stay distinct after the encoder's
/// substitutions and a parser's line-end normalisation (a Python dict
/// cannot hold two equal keys).
fn members(value: impl Strategy<Value = Value>) -> impl Strategy<Value = Value> {
    proptest::collection::vec((tricky_string(), value), 0..6).prop_map(|members| {
        let mut seen = std::collections::HashSet::new();
        Value::Struct(
            members
                .into_iter()
                .filter(|(name, _)| seen.insert(normalise_text(&sanitise_text(name))))
                .collect(),
        )
    })
}

/// Arbitrary trees of moderate size.
pub fn tree() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(6, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            members(inner),
        ]
    })
}

/// A chain of 0..=32 arrays/structs (the decoder's default depth limit)
/// around a scalar.
pub fn deep() -> impl Strategy<Value = Value> {
    (
        proptest::collection::vec(any::<bool>(), 0..=32),
        scalar(),
        tricky_string(),
    )
        .prop_map(|(kinds, leaf, name)| {
            kinds.into_iter().fold(leaf, |inner, is_array| {
                if is_array {
                    Value::Array(vec![inner])
                } else {
                    Value::Struct(vec![(name.clone(), inner)])
                }
            })
        })
}

pub fn value() -> impl Strategy<Value = Value> {
    prop_oneof![4 => tree(), 1 => deep()]
}

/// Whether XML 1.0 allows the character.
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// The encoder's one deliberate change: characters XML forbids become
/// U+FFFD.
pub fn sanitise_text(s: &str) -> String {
    s.chars()
        .map(|c| if is_xml_char(c) { c } else { '\u{FFFD}' })
        .collect()
}

/// What any XML parser does to raw line ends.
pub fn normalise_text(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n")
}

/// Applies `f` to every string and member name in `v`.
pub fn map_text(v: &Value, f: &dyn Fn(&str) -> String) -> Value {
    match v {
        Value::String(s) => Value::String(f(s)),
        Value::Struct(members) => Value::Struct(
            members
                .iter()
                .map(|(k, v)| (f(k), map_text(v, f)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| map_text(v, f)).collect()),
        other => other.clone(),
    }
}

pub fn sanitised(v: &Value) -> Value {
    map_text(v, &sanitise_text)
}

/// What a reader gets back from our encoding of `v`.
pub fn read_back(v: &Value) -> Value {
    map_text(v, &|s| normalise_text(&sanitise_text(s)))
}

/// Structural equality with doubles compared bit for bit (so -0.0 differs
/// from 0.0) except that all NaNs are equal; with `loose_ints`, `Int` and
/// `I8` holding the same number are equal (Python has one int type).
pub fn same(a: &Value, b: &Value, loose_ints: bool) -> bool {
    match (a, b) {
        (Value::Double(x), Value::Double(y)) => {
            (x.is_nan() && y.is_nan()) || x.to_bits() == y.to_bits()
        }
        (Value::Int(x), Value::I8(y)) | (Value::I8(y), Value::Int(x)) if loose_ints => {
            i64::from(*x) == *y
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y, loose_ints))
        }
        (Value::Struct(x), Value::Struct(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((kx, x), (ky, y))| kx == ky && same(x, y, loose_ints))
        }
        _ => a == b,
    }
}
