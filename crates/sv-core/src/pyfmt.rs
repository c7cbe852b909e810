//! Python's `%` operator applied to a mapping (`template % expansions`), the
//! way Supervisor expands every configuration value.
//!
//! This module owns:
//!
//! * [`format()`] (and the [`format_map`] / [`format_btree`] conveniences):
//!   the whole CPython 3.11 `str % mapping` grammar
//!   `%(name)[flags #0- +][width|*][.precision|.*][h|l|L][type]` with the
//!   types `d i u o x X e E f F g G c r s a`, and `%%`, for the two value
//!   kinds Supervisor puts in its expansion dicts, `str` and `int`
//!   ([`Value`]). Outputs and error texts follow CPython, including its
//!   odder corners (`%5%` is an *unsupported format character*, only one
//!   `h`/`l`/`L` is skipped, `%c` ignores the precision, `'0'` pads only
//!   numbers, `%(n)*d` is "not enough arguments", …).
//! * [`py_repr_str`] and [`py_ascii_str`]: Python's `repr()` / `ascii()` of a
//!   `str`, used by `%r` / `%a` and by error messages elsewhere.
//!
//! The mapping is any `Fn(&str) -> Option<Value>`; `None` means the key is
//! missing, which is reported as [`FormatError::UnknownName`] (CPython's
//! `KeyError`). Every other failure is [`FormatError::Bad`] carrying
//! CPython's `TypeError` / `ValueError` / `OverflowError` message.
//!
//! Deliberate differences from CPython:
//!
//! * A conversion without `(name)` (`%s`, `%d`, `%*…`) is **rejected** with
//!   `format requires a mapping key: unnamed conversion '%s' at index N`
//!   (N = index of its `%`), at the point where CPython would take its
//!   argument. CPython would format the mapping itself (`'%s' % d` gives
//!   `str(d)`), which is never what a configuration author meant. Errors
//!   CPython raises before that point (incomplete format, `width too big`,
//!   an earlier missing key, …) are still reported as CPython does. A
//!   literal `%%` needs no argument and is fine.
//! * `%c` of an int in the surrogate range U+D800–U+DFFF is an error:
//!   CPython produces a lone surrogate, which a Rust `String` cannot hold.
//!   The error is reported only after the rest of the template went through,
//!   so any error CPython raises further on is still the one returned.
//! * Python ints are unbounded; [`Value::Int`] is an `i64`.
//! * When padding or zero-filling cannot be allocated we return `Bad` with a
//!   `MemoryError` text instead of aborting (CPython raises `MemoryError`).
//!
//! Indexes in messages count Unicode code points, as Python does.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::hash::BuildHasher;

/// A value in the expansion mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A Python `str`.
    Str(String),
    /// A Python `int` (bounded to `i64` here).
    Int(i64),
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Int(n)
    }
}

/// Why a template could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// `%(name)…` names a key the mapping lacks (CPython's `KeyError`). The
    /// `Display` text is the key's `repr()`, which is what `str(KeyError)`
    /// gives and what Supervisor puts into its messages.
    #[error("{}", py_repr_str(.0))]
    UnknownName(String),
    /// Any other failure, with CPython's message text.
    #[error("{0}")]
    Bad(String),
}

fn bad(msg: impl Into<String>) -> FormatError {
    FormatError::Bad(msg.into())
}

/// `template % mapping` where `vars` looks a key up.
///
/// A template without any `%` comes back unchanged.
///
/// # Errors
///
/// [`FormatError::UnknownName`] for a key `vars` does not know,
/// [`FormatError::Bad`] for everything else CPython would raise, and for
/// conversions without a key (see the module documentation).
pub fn format(
    template: &str,
    vars: &impl Fn(&str) -> Option<Value>,
) -> Result<String, FormatError> {
    Formatter {
        chars: template.chars().collect(),
        pos: 0,
        out: String::with_capacity(template.len()),
        surrogate: None,
    }
    .run(vars)
}

/// [`format()`] with a `HashMap` as the mapping.
///
/// # Errors
///
/// As [`format()`].
pub fn format_map<S: BuildHasher>(
    template: &str,
    vars: &HashMap<String, Value, S>,
) -> Result<String, FormatError> {
    format(template, &|k: &str| vars.get(k).cloned())
}

/// [`format()`] with a `BTreeMap` as the mapping.
///
/// # Errors
///
/// As [`format()`].
pub fn format_btree(template: &str, vars: &BTreeMap<String, Value>) -> Result<String, FormatError> {
    format(template, &|k: &str| vars.get(k).cloned())
}

/// The parsed conversion flags, width and precision.
#[derive(Debug, Default, Clone, Copy)]
struct Spec {
    ljust: bool,
    sign: bool,
    blank: bool,
    alt: bool,
    zero: bool,
    width: usize,
    prec: Option<usize>,
}

// CPython limits: width digits must fit a Py_ssize_t, precision digits a C
// int, and integer conversions refuse precisions above INT_MAX - 3.
const MAX_WIDTH: usize = isize::MAX as usize;
const MAX_PREC: usize = i32::MAX as usize;

struct Formatter {
    chars: Vec<char>,
    pos: usize,
    out: String,
    /// The first `%c` surrogate code point met (see [`convert`]).
    surrogate: Option<u32>,
}

/// Where the argument of a conversion comes from.
enum Arg {
    /// `%(name)` was given; the looked-up value, until something consumes
    /// it (a `*` or the conversion itself).
    Named(Option<Value>),
    /// No `(name)`: CPython would use the mapping itself; we refuse.
    Unnamed,
}

impl Formatter {
    fn next_char(&mut self) -> Option<char> {
        let c = self.chars.get(self.pos).copied();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    fn run(mut self, vars: &impl Fn(&str) -> Option<Value>) -> Result<String, FormatError> {
        while let Some(c) = self.next_char() {
            if c != '%' {
                self.out.push(c);
                continue;
            }
            let start = self.pos - 1;
            match self.chars.get(self.pos) {
                None => return Err(bad("incomplete format")),
                Some('%') => {
                    // Only an immediate `%%` is a literal; `%5%` is not.
                    self.pos += 1;
                    self.out.push('%');
                }
                Some(_) => self.conversion(start, vars)?,
            }
        }
        match self.surrogate {
            None => Ok(self.out),
            Some(code) => Err(bad(format!(
                "%c arg {code:#x} is a surrogate code point, which a Rust string cannot hold"
            ))),
        }
    }

    /// Takes the pending argument, as CPython's "get next arg" does.
    fn take_arg(&self, arg: &mut Arg, start: usize) -> Result<Value, FormatError> {
        match arg {
            Arg::Named(v) => v
                .take()
                .ok_or_else(|| bad("not enough arguments for format string")),
            Arg::Unnamed => {
                let spec: String = self.chars[start..self.pos].iter().collect();
                Err(bad(format!(
                    "format requires a mapping key: unnamed conversion {} at index {}",
                    py_repr_str(&spec),
                    start
                )))
            }
        }
    }

    /// A `*` width or precision: the argument must be an int.
    fn star_arg(&self, arg: &mut Arg, start: usize) -> Result<i64, FormatError> {
        match self.take_arg(arg, start)? {
            Value::Int(n) => Ok(n),
            Value::Str(_) => Err(bad("* wants int")),
        }
    }

    /// Reads more decimal digits after `first`, refusing values above `max`.
    /// Returns the number and the first non-digit (None at end of input).
    fn digits(
        &mut self,
        first: char,
        max: usize,
        what: &str,
    ) -> Result<(usize, Option<char>), FormatError> {
        let mut n = first.to_digit(10).map_or(0, |d| d as usize);
        loop {
            let ch = self.next_char();
            let Some(d) = ch.and_then(|c| c.to_digit(10)) else {
                return Ok((n, ch));
            };
            let d = d as usize;
            if n > (max - d) / 10 {
                return Err(bad(format!("{what} too big")));
            }
            n = n * 10 + d;
        }
    }

    /// Parses and formats one conversion; `self.pos` is just after `%`.
    fn conversion(
        &mut self,
        start: usize,
        vars: &impl Fn(&str) -> Option<Value>,
    ) -> Result<(), FormatError> {
        let mut arg = Arg::Unnamed;
        if self.chars.get(self.pos) == Some(&'(') {
            self.pos += 1;
            let key_start = self.pos;
            let mut depth = 1usize;
            // Parentheses nest: `%(a(b)c)s` looks up "a(b)c".
            while depth > 0 {
                match self.next_char() {
                    None => return Err(bad("incomplete format key")),
                    Some('(') => depth += 1,
                    Some(')') => depth -= 1,
                    Some(_) => {}
                }
            }
            let key: String = self.chars[key_start..self.pos - 1].iter().collect();
            match vars(&key) {
                Some(v) => arg = Arg::Named(Some(v)),
                None => return Err(FormatError::UnknownName(key)),
            }
        }

        let mut spec = Spec::default();
        let mut ch;
        loop {
            ch = self.next_char();
            match ch {
                Some('-') => spec.ljust = true,
                Some('+') => spec.sign = true,
                Some(' ') => spec.blank = true,
                Some('#') => spec.alt = true,
                Some('0') => spec.zero = true,
                _ => break,
            }
        }

        match ch {
            Some('*') => {
                let w = self.star_arg(&mut arg, start)?;
                if w < 0 {
                    spec.ljust = true;
                }
                spec.width = usize::try_from(w.unsigned_abs()).unwrap_or(MAX_WIDTH);
                ch = self.next_char();
            }
            Some(c) if c.is_ascii_digit() => {
                (spec.width, ch) = self.digits(c, MAX_WIDTH, "width")?;
            }
            _ => {}
        }

        if ch == Some('.') {
            spec.prec = Some(0);
            ch = self.next_char();
            match ch {
                Some('*') => {
                    let p = self.star_arg(&mut arg, start)?;
                    if i32::try_from(p).is_err() {
                        return Err(bad("Python int too large to convert to C int"));
                    }
                    spec.prec = Some(usize::try_from(p).unwrap_or(0));
                    ch = self.next_char();
                }
                Some(c) if c.is_ascii_digit() => {
                    let (p, next) = self.digits(c, MAX_PREC, "precision")?;
                    spec.prec = Some(p);
                    ch = next;
                }
                _ => {}
            }
        }

        // Exactly one length modifier is skipped: `%hhd` is an error.
        if matches!(ch, Some('h' | 'l' | 'L')) {
            ch = self.next_char();
        }
        let Some(ty) = ch else {
            return Err(bad("incomplete format"));
        };
        let type_index = self.pos - 1;

        let value = self.take_arg(&mut arg, start)?;
        let (body, numeric) = convert(&value, ty, &spec, type_index, &mut self.surrogate)?;
        write_padded(&mut self.out, &body, ty, numeric, &spec)
    }
}

/// Converts one value; returns the text and whether it is numeric (numeric
/// texts get sign flags and zero padding).
fn convert(
    value: &Value,
    ty: char,
    spec: &Spec,
    type_index: usize,
    surrogate: &mut Option<u32>,
) -> Result<(String, bool), FormatError> {
    let truncate = |s: String| match spec.prec {
        Some(p) => s.chars().take(p).collect(),
        None => s,
    };
    match (ty, value) {
        ('s', Value::Str(s)) => Ok((truncate(s.clone()), false)),
        ('r', Value::Str(s)) => Ok((truncate(py_repr_str(s)), false)),
        ('a', Value::Str(s)) => Ok((truncate(py_ascii_str(s)), false)),
        ('s' | 'r' | 'a', Value::Int(n)) => Ok((truncate(n.to_string()), false)),
        ('d' | 'i' | 'u' | 'o' | 'x' | 'X', Value::Int(n)) => Ok((format_int(*n, ty, spec)?, true)),
        ('d' | 'i' | 'u', Value::Str(_)) => Err(bad(format!(
            "%{ty} format: a real number is required, not str"
        ))),
        ('o' | 'x' | 'X', Value::Str(_)) => Err(bad(format!(
            "%{ty} format: an integer is required, not str"
        ))),
        ('e' | 'E' | 'f' | 'F' | 'g' | 'G', Value::Int(n)) => {
            Ok((format_float_of_int(*n, ty, spec)?, true))
        }
        ('e' | 'E' | 'f' | 'F' | 'g' | 'G', Value::Str(_)) => {
            Err(bad("must be real number, not str"))
        }
        // `%c` ignores the precision.
        ('c', Value::Str(s)) => {
            let mut it = s.chars();
            match (it.next(), it.next()) {
                (Some(c), None) => Ok((c.to_string(), false)),
                _ => Err(bad("%c requires int or char")),
            }
        }
        ('c', Value::Int(n)) => {
            let code = u32::try_from(*n)
                .ok()
                .filter(|c| *c < 0x11_0000)
                .ok_or_else(|| bad("%c arg not in range(0x110000)"))?;
            // A surrogate gets a placeholder here; `run` reports it once
            // the whole template went through, so that any error CPython
            // would raise later in the template still wins.
            let c = char::from_u32(code).unwrap_or_else(|| {
                surrogate.get_or_insert(code);
                char::REPLACEMENT_CHARACTER
            });
            Ok((c.to_string(), false))
        }
        _ => {
            // CPython shows the character only if it is in 31..=126.
            let shown = if (31..=126).contains(&u32::from(ty)) {
                ty
            } else {
                '?'
            };
            Err(bad(format!(
                "unsupported format character '{shown}' ({:#x}) at index {type_index}",
                u32::from(ty)
            )))
        }
    }
}

/// Appends `count` copies of `c`, failing instead of aborting when the
/// memory cannot be had.
fn push_repeat(out: &mut String, c: char, count: usize) -> Result<(), FormatError> {
    let bytes = count
        .checked_mul(c.len_utf8())
        .ok_or_else(|| bad("MemoryError: formatted string too large"))?;
    out.try_reserve(bytes)
        .map_err(|_| bad("MemoryError: formatted string too large"))?;
    out.extend(std::iter::repeat_n(c, count));
    Ok(())
}

/// `%d %i %u %o %x %X` of an int: sign, `#` prefix, then the digits
/// zero-extended to the precision.
fn format_int(n: i64, ty: char, spec: &Spec) -> Result<String, FormatError> {
    let mag = n.unsigned_abs();
    let (digits, prefix) = match ty {
        'o' => (format!("{mag:o}"), "0o"),
        'x' => (format!("{mag:x}"), "0x"),
        'X' => (format!("{mag:X}"), "0X"),
        _ => (mag.to_string(), ""),
    };
    let prec = spec.prec.unwrap_or(0);
    if prec > MAX_PREC - 3 {
        return Err(bad("precision too large"));
    }
    let mut s = String::new();
    if n < 0 {
        s.push('-');
    }
    if spec.alt {
        s.push_str(prefix);
    }
    push_repeat(&mut s, '0', prec.saturating_sub(digits.len()))?;
    s.push_str(&digits);
    Ok(s)
}

/// Rounds the exact decimal integer `digits` to `sig` significant digits,
/// half to even (the value is exact, so this is what correctly rounded
/// `dtoa` does). Returns the digits and the decimal exponent of the first.
fn round_significant(digits: &str, sig: usize) -> Result<(String, usize), FormatError> {
    let mut exp = digits.len().saturating_sub(1);
    let mut mant = String::new();
    if sig >= digits.len() {
        mant.push_str(digits);
        push_repeat(&mut mant, '0', sig - digits.len())?;
        return Ok((mant, exp));
    }
    let (keep, rest) = digits.split_at(sig);
    let rest = rest.as_bytes();
    let round_up = match rest.first() {
        Some(b'6'..=b'9') => true,
        Some(b'5') => {
            rest[1..].iter().any(|&b| b != b'0')
                || keep.as_bytes().last().is_some_and(|&b| (b - b'0') % 2 == 1)
        }
        _ => false,
    };
    if !round_up {
        return Ok((keep.to_owned(), exp));
    }
    let mut bytes = keep.as_bytes().to_vec();
    let mut i = bytes.len();
    loop {
        if i == 0 {
            // Carried out of the first digit: 99.9 -> 100.
            bytes.insert(0, b'1');
            bytes.pop();
            exp += 1;
            break;
        }
        i -= 1;
        if bytes[i] == b'9' {
            bytes[i] = b'0';
        } else {
            bytes[i] += 1;
            break;
        }
    }
    mant.push_str(std::str::from_utf8(&bytes).map_err(|e| bad(e.to_string()))?);
    Ok((mant, exp))
}

/// Python's `%e`-style tail: `e+05`.
fn exponent_suffix(out: &mut String, upper: bool, exp: usize) {
    out.push(if upper { 'E' } else { 'e' });
    // Writing to a String cannot fail.
    let _ = write!(out, "+{exp:02}");
}

/// `%e %f %g` (and upper-case forms) of an int, via the double CPython
/// would convert it to. Such a double is an integer below 2**63 in
/// magnitude, so its exact decimal digits are at hand and all rounding can
/// be done exactly in decimal.
fn format_float_of_int(n: i64, ty: char, spec: &Spec) -> Result<String, FormatError> {
    // Same round-half-even conversion as CPython's int -> float.
    let x = n as f64;
    // Exact: |x| is an integer no larger than 2**63.
    let digits = (x.abs() as u128).to_string();
    let mut s = String::new();
    if x < 0.0 {
        s.push('-');
    }
    let prec = spec.prec.unwrap_or(6);
    match ty {
        'f' | 'F' => {
            s.push_str(&digits);
            if prec > 0 || spec.alt {
                s.push('.');
            }
            push_repeat(&mut s, '0', prec)?;
        }
        'e' | 'E' => {
            let (mant, exp) = round_significant(&digits, prec.saturating_add(1))?;
            let (first, rest) = mant.split_at(1);
            s.push_str(first);
            if prec > 0 || spec.alt {
                s.push('.');
            }
            s.push_str(rest);
            exponent_suffix(&mut s, ty == 'E', exp);
        }
        _ => {
            let p = prec.max(1);
            let (mant, exp) = round_significant(&digits, p)?;
            // Fixed notation when the exponent is below the precision (it is
            // never negative for an integer).
            let (int_part, frac, exp_part) = if exp < p {
                let (i, f) = mant.split_at(exp + 1);
                (i, f, None)
            } else {
                let (i, f) = mant.split_at(1);
                (i, f, Some(exp))
            };
            let frac = if spec.alt {
                frac
            } else {
                frac.trim_end_matches('0')
            };
            s.push_str(int_part);
            if !frac.is_empty() || spec.alt {
                s.push('.');
            }
            s.push_str(frac);
            if let Some(exp) = exp_part {
                exponent_suffix(&mut s, ty == 'G', exp);
            }
        }
    }
    Ok(s)
}

/// Pads `body` to the width: a numeric body's sign (from the text or the
/// `+`/` ` flags) and `#` prefix go before zero padding and after space
/// padding; `-` pads on the right with spaces.
fn write_padded(
    out: &mut String,
    body: &str,
    ty: char,
    numeric: bool,
    spec: &Spec,
) -> Result<(), FormatError> {
    let mut rest = body;
    let mut sign = "";
    let mut prefix = "";
    if numeric {
        if let Some(r) = rest.strip_prefix('-') {
            sign = "-";
            rest = r;
        } else if spec.sign {
            sign = "+";
        } else if spec.blank {
            sign = " ";
        }
        if spec.alt && matches!(ty, 'o' | 'x' | 'X') && rest.len() >= 2 && rest.is_char_boundary(2)
        {
            (prefix, rest) = rest.split_at(2);
        }
    }
    let len = sign.len() + prefix.len() + rest.chars().count();
    let pad = spec.width.saturating_sub(len);
    if spec.ljust {
        out.push_str(sign);
        out.push_str(prefix);
        out.push_str(rest);
        push_repeat(out, ' ', pad)?;
    } else if numeric && spec.zero {
        out.push_str(sign);
        out.push_str(prefix);
        push_repeat(out, '0', pad)?;
        out.push_str(rest);
    } else {
        push_repeat(out, ' ', pad)?;
        out.push_str(sign);
        out.push_str(prefix);
        out.push_str(rest);
    }
    Ok(())
}

pub use sv_ini::{py_ascii_str, py_repr_str};

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(name: &str) -> Option<Value> {
        Some(match name {
            "n" => Value::Int(5),
            "neg" => Value::Int(-5),
            "zero" => Value::Int(0),
            "ff" => Value::Int(255),
            "big" => Value::Int(i64::MAX),
            "min" => Value::Int(i64::MIN),
            "e6" => Value::Int(1_000_000),
            "a" => Value::Int(65),
            "s" => Value::Str("abc".into()),
            "x" => Value::Str("x".into()),
            "q" => Value::Str("it's".into()),
            "u" => Value::Str("é\u{2028}".into()),
            "a(b)c" => Value::Int(1),
            "" => Value::Str("emp".into()),
            _ => return None,
        })
    }

    fn fmt(t: &str) -> Result<String, FormatError> {
        format(t, &vars)
    }

    #[test]
    fn successes_match_cpython() {
        let table: &[(&str, &str)] = &[
            ("no conversions at all", "no conversions at all"),
            ("", ""),
            ("100%% sure %%(n)s", "100% sure %(n)s"),
            ("%(n)s-%(s)s", "5-abc"),
            ("%(n)02d", "05"),
            ("%(n)5s|", "    5|"),
            ("%(n)-5s|", "5    |"),
            ("%(ff)x %(ff)X %(ff)o", "ff FF 377"),
            ("%(ff)#x %(ff)#X %(n)#o", "0xff 0XFF 0o5"),
            ("%(s)r %(q)r", "'abc' \"it's\""),
            ("%(u)r %(u)a", "'é\\u2028' '\\xe9\\u2028'"),
            ("%(n)+d %(neg)+d %(n) d", "+5 -5  5"),
            ("%(s).2s %(s).0s|", "ab |"),
            ("%(s).3r", "'ab"),
            ("%(n)05s", "    5"),
            ("%(n)+s %(n)#d", "5 5"),
            ("%(zero).0d %(neg).3d", "0 -005"),
            ("%(zero)#x %(zero)#o %(zero).0x", "0x0 0o0 0"),
            ("%(ff)#06x|%(ff)-#06x|", "0x00ff|0xff  |"),
            ("%(ff)#.5x %(ff)+#x %(ff) #x", "0x000ff +0xff  0xff"),
            ("%(n)+05d %(neg) 05d %(n)-05d|", "+0005 -0005 5    |"),
            (
                "%(neg)10.5d|%(n)-+10.5d|%(n)010.5d|",
                "    -00005|+00005    |0000000005|",
            ),
            ("%(n)0-5d|", "5    |"),
            ("%(n)hd %(n)ld %(n)Ld %(s)ls", "5 5 5 abc"),
            (
                "%(a)c %(a).0c %(a)5c %(a)05c %(a)+c %(x)c",
                "A A     A     A A x",
            ),
            (
                "%(n)f %(n)F %(n)e %(n)E",
                "5.000000 5.000000 5.000000e+00 5.000000E+00",
            ),
            ("%(n)#.0f %(n)#.0e %(n).0e", "5. 5.e+00 5e+00"),
            (
                "%(e6)g %(e6)#g %(zero)g %(zero)#g",
                "1e+06 1.00000e+06 0 0.00000",
            ),
            ("%(zero)e %(zero)#.0g %(n).0g", "0.000000e+00 0. 5"),
            ("%(neg)010.2f %(n)+.2f", "-000005.00 +5.00"),
            (
                "%(big).30g|%(big)#.30g",
                "9223372036854775808|9223372036854775808.00000000000",
            ),
            ("%(min)f", "-9223372036854775808.000000"),
            (
                "%(big)g %(big)G %(big).3e",
                "9.22337e+18 9.22337E+18 9.223e+18",
            ),
            ("%(n)#5.0g|", "   5.|"),
            ("%(a(b)c)s %()s", "1 emp"),
            ("%(min)d %(min)x", "-9223372036854775808 -8000000000000000"),
        ];
        for (t, want) in table {
            assert_eq!(fmt(t).as_deref(), Ok(*want), "template {t:?}");
        }
    }

    #[test]
    fn float_rounding_is_half_even_on_exact_values() {
        let f = |n: i64, t: &str| format(t, &|_: &str| Some(Value::Int(n)));
        assert_eq!(f(125, "%(v).1e").as_deref(), Ok("1.2e+02"));
        assert_eq!(f(135, "%(v).1e").as_deref(), Ok("1.4e+02"));
        assert_eq!(f(99_950, "%(v).3g").as_deref(), Ok("1e+05"));
        assert_eq!(f(99_949, "%(v).3g").as_deref(), Ok("9.99e+04"));
        assert_eq!(f(123_456_789, "%(v)g").as_deref(), Ok("1.23457e+08"));
        assert_eq!(f(100_000, "%(v)g").as_deref(), Ok("100000"));
        assert_eq!(f(1234, "%(v)#g").as_deref(), Ok("1234.00"));
        // 2**53 + 1 is not a double: it rounds to 2**53 first.
        assert_eq!(
            f((1 << 53) + 1, "%(v).0f").as_deref(),
            Ok("9007199254740992")
        );
    }

    #[test]
    fn errors_match_cpython() {
        let bads: &[(&str, &str)] = &[
            ("%", "incomplete format"),
            ("abc%", "incomplete format"),
            ("%%%", "incomplete format"),
            ("%(n)", "incomplete format"),
            ("%(n)5.", "incomplete format"),
            ("%(n)h", "incomplete format"),
            ("%(n)-", "incomplete format"),
            ("%(n)*", "incomplete format"),
            ("%(n", "incomplete format key"),
            ("%(", "incomplete format key"),
            ("%(a(b)s", "incomplete format key"),
            ("%(s)d", "%d format: a real number is required, not str"),
            ("%(s)i", "%i format: a real number is required, not str"),
            ("%(s)u", "%u format: a real number is required, not str"),
            ("%(s)x", "%x format: an integer is required, not str"),
            ("%(s)X", "%X format: an integer is required, not str"),
            ("%(s)o", "%o format: an integer is required, not str"),
            ("%(s)f", "must be real number, not str"),
            ("%(s)G", "must be real number, not str"),
            ("%(s)c", "%c requires int or char"),
            ("%()c", "%c requires int or char"),
            ("%(neg)c", "%c arg not in range(0x110000)"),
            ("%(big)c", "%c arg not in range(0x110000)"),
            (
                "%(n)z",
                "unsupported format character 'z' (0x7a) at index 4",
            ),
            (
                "ab%(n)\u{1}",
                "unsupported format character '?' (0x1) at index 6",
            ),
            (
                "ab%(n)é",
                "unsupported format character '?' (0xe9) at index 6",
            ),
            (
                "%(n)\u{1f}",
                "unsupported format character '\u{1f}' (0x1f) at index 4",
            ),
            (
                "%(n)\u{7f}",
                "unsupported format character '?' (0x7f) at index 4",
            ),
            (
                "%(n)~",
                "unsupported format character '~' (0x7e) at index 4",
            ),
            (
                "%(n)5%",
                "unsupported format character '%' (0x25) at index 5",
            ),
            (
                "%(n)%",
                "unsupported format character '%' (0x25) at index 4",
            ),
            (
                "%(n)hhd",
                "unsupported format character 'h' (0x68) at index 5",
            ),
            (
                "%(n)5*d",
                "unsupported format character '*' (0x2a) at index 5",
            ),
            (
                "%(n).5.3d",
                "unsupported format character '.' (0x2e) at index 6",
            ),
            (
                "%(n)(b)s",
                "unsupported format character '(' (0x28) at index 4",
            ),
            ("%(n)*d", "not enough arguments for format string"),
            ("%(n)*%", "not enough arguments for format string"),
            ("%(n)*.*d", "not enough arguments for format string"),
            ("%(n)*z", "not enough arguments for format string"),
            ("%(s)*d", "* wants int"),
            ("%(s).*d", "* wants int"),
            ("%(n)99999999999999999999d", "width too big"),
            ("%(n)9223372036854775808d", "width too big"),
            ("%(n).2147483648d", "precision too big"),
            ("%(n).2147483647d", "precision too large"),
            // Our deliberate rejection of conversions without a key.
            (
                "x%s",
                "format requires a mapping key: unnamed conversion '%s' at index 1",
            ),
            (
                "%(n)s %-5d",
                "format requires a mapping key: unnamed conversion '%-5d' at index 6",
            ),
            (
                "%*d",
                "format requires a mapping key: unnamed conversion '%*' at index 0",
            ),
            (
                "%z",
                "format requires a mapping key: unnamed conversion '%z' at index 0",
            ),
            (
                "%5%",
                "format requires a mapping key: unnamed conversion '%5%' at index 0",
            ),
            (
                "%'",
                "format requires a mapping key: unnamed conversion \"%'\" at index 0",
            ),
            // CPython fails before it would take the argument.
            ("%5", "incomplete format"),
            ("%.", "incomplete format"),
        ];
        for (t, want) in bads {
            assert_eq!(
                fmt(t),
                Err(FormatError::Bad((*want).to_owned())),
                "template {t:?}"
            );
        }
        assert_eq!(
            fmt("%(nope)s"),
            Err(FormatError::UnknownName("nope".into()))
        );
        assert_eq!(
            fmt("%(n)s%(nope)s"),
            Err(FormatError::UnknownName("nope".into()))
        );
        // The lookup happens before the rest of the conversion is parsed.
        assert_eq!(fmt("%(nope)"), Err(FormatError::UnknownName("nope".into())));
        assert_eq!(
            fmt("%(nope)%"),
            Err(FormatError::UnknownName("nope".into()))
        );
        // Errors come in template order.
        assert_eq!(
            fmt("%(nope)s%"),
            Err(FormatError::UnknownName("nope".into()))
        );
        assert_eq!(
            fmt("%(n)y%(nope)s").map_err(|e| matches!(e, FormatError::Bad(_))),
            Err(true)
        );
        assert_eq!(
            FormatError::UnknownName("it's".into()).to_string(),
            "\"it's\""
        );
    }

    #[test]
    fn surrogate_char_is_refused() {
        let r = format("%(v)c", &|_: &str| Some(Value::Int(0xd800)));
        assert!(matches!(r, Err(FormatError::Bad(_))), "{r:?}");
        // A later error is still the one reported, as CPython would.
        let r = format("%(v)c%(w)s", &|k: &str| {
            (k == "v").then_some(Value::Int(0xdfff))
        });
        assert_eq!(r, Err(FormatError::UnknownName("w".into())));
    }

    #[test]
    fn map_conveniences() {
        let mut h = HashMap::new();
        h.insert("k".to_owned(), Value::from("v"));
        h.insert("n".to_owned(), Value::from(3));
        assert_eq!(format_map("%(k)s=%(n)03d", &h).as_deref(), Ok("v=003"));
        let b: BTreeMap<String, Value> = h.into_iter().collect();
        assert_eq!(format_btree("%(k)s=%(n)x", &b).as_deref(), Ok("v=3"));
        assert_eq!(
            format_btree("%(z)s", &b),
            Err(FormatError::UnknownName("z".into()))
        );
    }

    #[test]
    fn repr_table() {
        let table: &[(&str, &str)] = &[
            ("", "''"),
            ("abc", "'abc'"),
            ("it's", "\"it's\""),
            ("say \"hi\"", "'say \"hi\"'"),
            ("both ' and \"", "'both \\' and \"'"),
            ("back\\slash", "'back\\\\slash'"),
            ("\t\n\r", "'\\t\\n\\r'"),
            ("\u{0}\u{1f}\u{7f}", "'\\x00\\x1f\\x7f'"),
            ("é中😀", "'é中😀'"),
            ("\u{80}\u{a0}\u{ad}", "'\\x80\\xa0\\xad'"),
            ("\u{2028}\u{feff}\u{e000}", "'\\u2028\\ufeff\\ue000'"),
            ("\u{e0001}\u{10ffff}", "'\\U000e0001\\U0010ffff'"),
            ("\u{378}", "'\\u0378'"),
            ("\u{3000}", "'\\u3000'"),
            ("\u{1f600}\u{e0100}", "'😀\u{e0100}'"),
        ];
        for (s, want) in table {
            assert_eq!(py_repr_str(s), *want, "repr of {s:?}");
        }
        assert_eq!(py_ascii_str("é中😀'"), "\"\\xe9\\u4e2d\\U0001f600'\"");
    }
}
