//! Scalar elements' text to values, the way Python's `xmlrpc.client`
//! converts it: Python's `int()` and `float()` syntax (underscores between
//! digits included) and `base64.decodebytes`.

use std::borrow::Cow;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use super::DecodeError;
use super::lexer::Tag;
use crate::value::Value;

/// Converts a scalar element's text the way Python's `xmlrpc.client` does.
pub(super) fn scalar(tag: Tag, text: String) -> Result<Value, DecodeError> {
    let invalid = |reason| DecodeError::InvalidScalar {
        tag: tag.name(),
        reason,
    };
    Ok(match tag {
        Tag::Int => {
            let n = parse_python_int(&text).map_err(invalid)?;
            Value::Int(i32::try_from(n).map_err(|_| invalid("out of the 32-bit range"))?)
        }
        Tag::I8 => Value::I8(parse_python_int(&text).map_err(invalid)?),
        // Python takes exactly "0" or "1"; surrounding whitespace is
        // forgiven here since it cannot mean anything else.
        Tag::Boolean => match text.trim() {
            "0" => Value::Bool(false),
            "1" => Value::Bool(true),
            _ => return Err(invalid("not 0 or 1")),
        },
        Tag::Double => Value::Double(parse_python_float(&text).map_err(invalid)?),
        // Python's DateTime.decode strips the text.
        Tag::DateTime => Value::DateTime(text.trim().to_owned()),
        Tag::Base64 => Value::Base64(decode_base64(&text).map_err(|_| invalid("not base64"))?),
        _ => Value::String(text),
    })
}

/// Python's `int(text)` for base 10: surrounding whitespace, a sign, and
/// digits with single underscores between them.
fn parse_python_int(text: &str) -> Result<i64, &'static str> {
    let trimmed = text.trim();
    let (negative, digits) = match trimmed.as_bytes().first() {
        Some(b'-') => (true, &trimmed[1..]),
        Some(b'+') => (false, &trimmed[1..]),
        _ => (false, trimmed),
    };
    let digits = python_digits(digits).ok_or("not an integer")?;
    let mut magnitude: i128 = 0;
    for d in digits.bytes() {
        magnitude = magnitude * 10 + i128::from(d - b'0');
        if magnitude > 1 << 63 {
            return Err("out of the 64-bit range");
        }
    }
    let n = if negative { -magnitude } else { magnitude };
    i64::try_from(n).map_err(|_| "out of the 64-bit range")
}

/// Removes the underscores Python allows between digits, refusing empty
/// input, non-digits, and underscores elsewhere.
fn python_digits(text: &str) -> Option<Cow<'_, str>> {
    let bytes = text.as_bytes();
    if bytes.is_empty() || !bytes.iter().all(|b| b.is_ascii_digit() || *b == b'_') {
        return None;
    }
    strip_underscores(text)
}

/// Python's `float(text)`: surrounding whitespace, `inf`/`nan` in any case,
/// and underscores between digits.
fn parse_python_float(text: &str) -> Result<f64, &'static str> {
    let cleaned = strip_underscores(text.trim()).ok_or("not a number")?;
    // Once underscores are gone, Rust's grammar is Python's: a sign, `.5`,
    // `5.`, exponents, `inf`, `infinity` and `nan` in any case.
    cleaned.parse::<f64>().map_err(|_| "not a number")
}

/// Drops each `_` that sits between two ASCII digits; `None` if any other
/// underscore is present.
fn strip_underscores(text: &str) -> Option<Cow<'_, str>> {
    if !text.contains('_') {
        return Some(Cow::Borrowed(text));
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.char_indices() {
        if c == '_' {
            let before = i.checked_sub(1).and_then(|j| bytes.get(j));
            let after = bytes.get(i + 1);
            match (before, after) {
                (Some(b), Some(a)) if b.is_ascii_digit() && a.is_ascii_digit() => continue,
                _ => return None,
            }
        }
        out.push(c);
    }
    Some(Cow::Owned(out))
}

/// Base64 as Python's `base64.decodebytes` reads it from XML-RPC: line
/// breaks and other whitespace ignored, padding required, stray bits in
/// the last character tolerated.
fn decode_base64(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    const ENGINE: GeneralPurpose = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
    );
    let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    ENGINE.decode(compact)
}
