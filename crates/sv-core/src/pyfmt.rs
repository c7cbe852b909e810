//! Python's `%` operator applied to a mapping (`template % expansions`), the
//! way Supervisor expands every configuration value.
//!
//! This module owns:
//!
//! * [`format`] (and the [`format_map`] / [`format_btree`] conveniences):
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

/// [`format`] with a `HashMap` as the mapping.
///
/// # Errors
///
/// As [`format`].
pub fn format_map<S: BuildHasher>(
    template: &str,
    vars: &HashMap<String, Value, S>,
) -> Result<String, FormatError> {
    format(template, &|k: &str| vars.get(k).cloned())
}

/// [`format`] with a `BTreeMap` as the mapping.
///
/// # Errors
///
/// As [`format`].
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

/// Python's `repr()` of a `str`.
///
/// Single quotes unless the text contains `'` and no `"`; backslash and the
/// chosen quote are escaped; `\t \n \r` by name; other ASCII controls and
/// DEL as `\xNN`; non-ASCII kept when Python deems it printable, otherwise
/// `\xNN`, `\uNNNN` or `\UNNNNNNNN` (lower-case hex).
#[must_use]
pub fn py_repr_str(s: &str) -> String {
    quote_str(s, false)
}

/// Python's `ascii()` of a `str`: like [`py_repr_str`] but every non-ASCII
/// character is escaped.
#[must_use]
pub fn py_ascii_str(s: &str) -> String {
    quote_str(s, true)
}

fn quote_str(s: &str, ascii_only: bool) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        let code = u32::from(c);
        match c {
            '\\' => out.push_str("\\\\"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            _ if code < 0x20 || code == 0x7f => escape(&mut out, 'x', 2, code),
            _ if code < 0x7f => out.push(c),
            _ if !ascii_only && is_printable(c) => out.push(c),
            _ if code <= 0xff => escape(&mut out, 'x', 2, code),
            _ if code <= 0xffff => escape(&mut out, 'u', 4, code),
            _ => escape(&mut out, 'U', 8, code),
        }
    }
    out.push(quote);
    out
}

/// Appends `\<kind>` and `code` as `digits` lower-case hex digits.
fn escape(out: &mut String, kind: char, digits: usize, code: u32) {
    // Writing to a String cannot fail.
    let _ = write!(out, "\\{kind}{code:0digits$x}");
}

/// Python's `str.isprintable()` for one non-ASCII character (Unicode 14.0,
/// as in CPython 3.11).
fn is_printable(c: char) -> bool {
    let code = u32::from(c);
    let idx = NON_PRINTABLE.partition_point(|&(lo, _)| lo <= code);
    match idx.checked_sub(1).and_then(|i| NON_PRINTABLE.get(i)) {
        Some(&(_, hi)) => code > hi,
        None => true,
    }
}

// Inclusive ranges of non-ASCII code points that Python 3.11 does not
// consider printable (general categories Cc, Cf, Cs, Co, Cn, Zl, Zp and Zs
// other than the space), i.e. those `repr()` escapes. Generated with:
//   python3.11 -c 'print([c for c in range(0x80, 0x110000)
//                         if not chr(c).isprintable()])'
// collapsed into ranges.
#[rustfmt::skip]
const NON_PRINTABLE: &[(u32, u32)] = &[
    (0x80, 0xa0), (0xad, 0xad), (0x378, 0x379), (0x380, 0x383), (0x38b, 0x38b), (0x38d, 0x38d),
    (0x3a2, 0x3a2), (0x530, 0x530), (0x557, 0x558), (0x58b, 0x58c), (0x590, 0x590), (0x5c8, 0x5cf),
    (0x5eb, 0x5ee), (0x5f5, 0x605), (0x61c, 0x61c), (0x6dd, 0x6dd), (0x70e, 0x70f), (0x74b, 0x74c),
    (0x7b2, 0x7bf), (0x7fb, 0x7fc), (0x82e, 0x82f), (0x83f, 0x83f), (0x85c, 0x85d), (0x85f, 0x85f),
    (0x86b, 0x86f), (0x88f, 0x897), (0x8e2, 0x8e2), (0x984, 0x984), (0x98d, 0x98e), (0x991, 0x992),
    (0x9a9, 0x9a9), (0x9b1, 0x9b1), (0x9b3, 0x9b5), (0x9ba, 0x9bb), (0x9c5, 0x9c6), (0x9c9, 0x9ca),
    (0x9cf, 0x9d6), (0x9d8, 0x9db), (0x9de, 0x9de), (0x9e4, 0x9e5), (0x9ff, 0xa00), (0xa04, 0xa04),
    (0xa0b, 0xa0e), (0xa11, 0xa12), (0xa29, 0xa29), (0xa31, 0xa31), (0xa34, 0xa34), (0xa37, 0xa37),
    (0xa3a, 0xa3b), (0xa3d, 0xa3d), (0xa43, 0xa46), (0xa49, 0xa4a), (0xa4e, 0xa50), (0xa52, 0xa58),
    (0xa5d, 0xa5d), (0xa5f, 0xa65), (0xa77, 0xa80), (0xa84, 0xa84), (0xa8e, 0xa8e), (0xa92, 0xa92),
    (0xaa9, 0xaa9), (0xab1, 0xab1), (0xab4, 0xab4), (0xaba, 0xabb), (0xac6, 0xac6), (0xaca, 0xaca),
    (0xace, 0xacf), (0xad1, 0xadf), (0xae4, 0xae5), (0xaf2, 0xaf8), (0xb00, 0xb00), (0xb04, 0xb04),
    (0xb0d, 0xb0e), (0xb11, 0xb12), (0xb29, 0xb29), (0xb31, 0xb31), (0xb34, 0xb34), (0xb3a, 0xb3b),
    (0xb45, 0xb46), (0xb49, 0xb4a), (0xb4e, 0xb54), (0xb58, 0xb5b), (0xb5e, 0xb5e), (0xb64, 0xb65),
    (0xb78, 0xb81), (0xb84, 0xb84), (0xb8b, 0xb8d), (0xb91, 0xb91), (0xb96, 0xb98), (0xb9b, 0xb9b),
    (0xb9d, 0xb9d), (0xba0, 0xba2), (0xba5, 0xba7), (0xbab, 0xbad), (0xbba, 0xbbd), (0xbc3, 0xbc5),
    (0xbc9, 0xbc9), (0xbce, 0xbcf), (0xbd1, 0xbd6), (0xbd8, 0xbe5), (0xbfb, 0xbff), (0xc0d, 0xc0d),
    (0xc11, 0xc11), (0xc29, 0xc29), (0xc3a, 0xc3b), (0xc45, 0xc45), (0xc49, 0xc49), (0xc4e, 0xc54),
    (0xc57, 0xc57), (0xc5b, 0xc5c), (0xc5e, 0xc5f), (0xc64, 0xc65), (0xc70, 0xc76), (0xc8d, 0xc8d),
    (0xc91, 0xc91), (0xca9, 0xca9), (0xcb4, 0xcb4), (0xcba, 0xcbb), (0xcc5, 0xcc5), (0xcc9, 0xcc9),
    (0xcce, 0xcd4), (0xcd7, 0xcdc), (0xcdf, 0xcdf), (0xce4, 0xce5), (0xcf0, 0xcf0), (0xcf3, 0xcff),
    (0xd0d, 0xd0d), (0xd11, 0xd11), (0xd45, 0xd45), (0xd49, 0xd49), (0xd50, 0xd53), (0xd64, 0xd65),
    (0xd80, 0xd80), (0xd84, 0xd84), (0xd97, 0xd99), (0xdb2, 0xdb2), (0xdbc, 0xdbc), (0xdbe, 0xdbf),
    (0xdc7, 0xdc9), (0xdcb, 0xdce), (0xdd5, 0xdd5), (0xdd7, 0xdd7), (0xde0, 0xde5), (0xdf0, 0xdf1),
    (0xdf5, 0xe00), (0xe3b, 0xe3e), (0xe5c, 0xe80), (0xe83, 0xe83), (0xe85, 0xe85), (0xe8b, 0xe8b),
    (0xea4, 0xea4), (0xea6, 0xea6), (0xebe, 0xebf), (0xec5, 0xec5), (0xec7, 0xec7), (0xece, 0xecf),
    (0xeda, 0xedb), (0xee0, 0xeff), (0xf48, 0xf48), (0xf6d, 0xf70), (0xf98, 0xf98), (0xfbd, 0xfbd),
    (0xfcd, 0xfcd), (0xfdb, 0xfff), (0x10c6, 0x10c6), (0x10c8, 0x10cc), (0x10ce, 0x10cf),
    (0x1249, 0x1249), (0x124e, 0x124f), (0x1257, 0x1257), (0x1259, 0x1259), (0x125e, 0x125f),
    (0x1289, 0x1289), (0x128e, 0x128f), (0x12b1, 0x12b1), (0x12b6, 0x12b7), (0x12bf, 0x12bf),
    (0x12c1, 0x12c1), (0x12c6, 0x12c7), (0x12d7, 0x12d7), (0x1311, 0x1311), (0x1316, 0x1317),
    (0x135b, 0x135c), (0x137d, 0x137f), (0x139a, 0x139f), (0x13f6, 0x13f7), (0x13fe, 0x13ff),
    (0x1680, 0x1680), (0x169d, 0x169f), (0x16f9, 0x16ff), (0x1716, 0x171e), (0x1737, 0x173f),
    (0x1754, 0x175f), (0x176d, 0x176d), (0x1771, 0x1771), (0x1774, 0x177f), (0x17de, 0x17df),
    (0x17ea, 0x17ef), (0x17fa, 0x17ff), (0x180e, 0x180e), (0x181a, 0x181f), (0x1879, 0x187f),
    (0x18ab, 0x18af), (0x18f6, 0x18ff), (0x191f, 0x191f), (0x192c, 0x192f), (0x193c, 0x193f),
    (0x1941, 0x1943), (0x196e, 0x196f), (0x1975, 0x197f), (0x19ac, 0x19af), (0x19ca, 0x19cf),
    (0x19db, 0x19dd), (0x1a1c, 0x1a1d), (0x1a5f, 0x1a5f), (0x1a7d, 0x1a7e), (0x1a8a, 0x1a8f),
    (0x1a9a, 0x1a9f), (0x1aae, 0x1aaf), (0x1acf, 0x1aff), (0x1b4d, 0x1b4f), (0x1b7f, 0x1b7f),
    (0x1bf4, 0x1bfb), (0x1c38, 0x1c3a), (0x1c4a, 0x1c4c), (0x1c89, 0x1c8f), (0x1cbb, 0x1cbc),
    (0x1cc8, 0x1ccf), (0x1cfb, 0x1cff), (0x1f16, 0x1f17), (0x1f1e, 0x1f1f), (0x1f46, 0x1f47),
    (0x1f4e, 0x1f4f), (0x1f58, 0x1f58), (0x1f5a, 0x1f5a), (0x1f5c, 0x1f5c), (0x1f5e, 0x1f5e),
    (0x1f7e, 0x1f7f), (0x1fb5, 0x1fb5), (0x1fc5, 0x1fc5), (0x1fd4, 0x1fd5), (0x1fdc, 0x1fdc),
    (0x1ff0, 0x1ff1), (0x1ff5, 0x1ff5), (0x1fff, 0x200f), (0x2028, 0x202f), (0x205f, 0x206f),
    (0x2072, 0x2073), (0x208f, 0x208f), (0x209d, 0x209f), (0x20c1, 0x20cf), (0x20f1, 0x20ff),
    (0x218c, 0x218f), (0x2427, 0x243f), (0x244b, 0x245f), (0x2b74, 0x2b75), (0x2b96, 0x2b96),
    (0x2cf4, 0x2cf8), (0x2d26, 0x2d26), (0x2d28, 0x2d2c), (0x2d2e, 0x2d2f), (0x2d68, 0x2d6e),
    (0x2d71, 0x2d7e), (0x2d97, 0x2d9f), (0x2da7, 0x2da7), (0x2daf, 0x2daf), (0x2db7, 0x2db7),
    (0x2dbf, 0x2dbf), (0x2dc7, 0x2dc7), (0x2dcf, 0x2dcf), (0x2dd7, 0x2dd7), (0x2ddf, 0x2ddf),
    (0x2e5e, 0x2e7f), (0x2e9a, 0x2e9a), (0x2ef4, 0x2eff), (0x2fd6, 0x2fef), (0x2ffc, 0x3000),
    (0x3040, 0x3040), (0x3097, 0x3098), (0x3100, 0x3104), (0x3130, 0x3130), (0x318f, 0x318f),
    (0x31e4, 0x31ef), (0x321f, 0x321f), (0xa48d, 0xa48f), (0xa4c7, 0xa4cf), (0xa62c, 0xa63f),
    (0xa6f8, 0xa6ff), (0xa7cb, 0xa7cf), (0xa7d2, 0xa7d2), (0xa7d4, 0xa7d4), (0xa7da, 0xa7f1),
    (0xa82d, 0xa82f), (0xa83a, 0xa83f), (0xa878, 0xa87f), (0xa8c6, 0xa8cd), (0xa8da, 0xa8df),
    (0xa954, 0xa95e), (0xa97d, 0xa97f), (0xa9ce, 0xa9ce), (0xa9da, 0xa9dd), (0xa9ff, 0xa9ff),
    (0xaa37, 0xaa3f), (0xaa4e, 0xaa4f), (0xaa5a, 0xaa5b), (0xaac3, 0xaada), (0xaaf7, 0xab00),
    (0xab07, 0xab08), (0xab0f, 0xab10), (0xab17, 0xab1f), (0xab27, 0xab27), (0xab2f, 0xab2f),
    (0xab6c, 0xab6f), (0xabee, 0xabef), (0xabfa, 0xabff), (0xd7a4, 0xd7af), (0xd7c7, 0xd7ca),
    (0xd7fc, 0xf8ff), (0xfa6e, 0xfa6f), (0xfada, 0xfaff), (0xfb07, 0xfb12), (0xfb18, 0xfb1c),
    (0xfb37, 0xfb37), (0xfb3d, 0xfb3d), (0xfb3f, 0xfb3f), (0xfb42, 0xfb42), (0xfb45, 0xfb45),
    (0xfbc3, 0xfbd2), (0xfd90, 0xfd91), (0xfdc8, 0xfdce), (0xfdd0, 0xfdef), (0xfe1a, 0xfe1f),
    (0xfe53, 0xfe53), (0xfe67, 0xfe67), (0xfe6c, 0xfe6f), (0xfe75, 0xfe75), (0xfefd, 0xff00),
    (0xffbf, 0xffc1), (0xffc8, 0xffc9), (0xffd0, 0xffd1), (0xffd8, 0xffd9), (0xffdd, 0xffdf),
    (0xffe7, 0xffe7), (0xffef, 0xfffb), (0xfffe, 0xffff), (0x1000c, 0x1000c), (0x10027, 0x10027),
    (0x1003b, 0x1003b), (0x1003e, 0x1003e), (0x1004e, 0x1004f), (0x1005e, 0x1007f),
    (0x100fb, 0x100ff), (0x10103, 0x10106), (0x10134, 0x10136), (0x1018f, 0x1018f),
    (0x1019d, 0x1019f), (0x101a1, 0x101cf), (0x101fe, 0x1027f), (0x1029d, 0x1029f),
    (0x102d1, 0x102df), (0x102fc, 0x102ff), (0x10324, 0x1032c), (0x1034b, 0x1034f),
    (0x1037b, 0x1037f), (0x1039e, 0x1039e), (0x103c4, 0x103c7), (0x103d6, 0x103ff),
    (0x1049e, 0x1049f), (0x104aa, 0x104af), (0x104d4, 0x104d7), (0x104fc, 0x104ff),
    (0x10528, 0x1052f), (0x10564, 0x1056e), (0x1057b, 0x1057b), (0x1058b, 0x1058b),
    (0x10593, 0x10593), (0x10596, 0x10596), (0x105a2, 0x105a2), (0x105b2, 0x105b2),
    (0x105ba, 0x105ba), (0x105bd, 0x105ff), (0x10737, 0x1073f), (0x10756, 0x1075f),
    (0x10768, 0x1077f), (0x10786, 0x10786), (0x107b1, 0x107b1), (0x107bb, 0x107ff),
    (0x10806, 0x10807), (0x10809, 0x10809), (0x10836, 0x10836), (0x10839, 0x1083b),
    (0x1083d, 0x1083e), (0x10856, 0x10856), (0x1089f, 0x108a6), (0x108b0, 0x108df),
    (0x108f3, 0x108f3), (0x108f6, 0x108fa), (0x1091c, 0x1091e), (0x1093a, 0x1093e),
    (0x10940, 0x1097f), (0x109b8, 0x109bb), (0x109d0, 0x109d1), (0x10a04, 0x10a04),
    (0x10a07, 0x10a0b), (0x10a14, 0x10a14), (0x10a18, 0x10a18), (0x10a36, 0x10a37),
    (0x10a3b, 0x10a3e), (0x10a49, 0x10a4f), (0x10a59, 0x10a5f), (0x10aa0, 0x10abf),
    (0x10ae7, 0x10aea), (0x10af7, 0x10aff), (0x10b36, 0x10b38), (0x10b56, 0x10b57),
    (0x10b73, 0x10b77), (0x10b92, 0x10b98), (0x10b9d, 0x10ba8), (0x10bb0, 0x10bff),
    (0x10c49, 0x10c7f), (0x10cb3, 0x10cbf), (0x10cf3, 0x10cf9), (0x10d28, 0x10d2f),
    (0x10d3a, 0x10e5f), (0x10e7f, 0x10e7f), (0x10eaa, 0x10eaa), (0x10eae, 0x10eaf),
    (0x10eb2, 0x10eff), (0x10f28, 0x10f2f), (0x10f5a, 0x10f6f), (0x10f8a, 0x10faf),
    (0x10fcc, 0x10fdf), (0x10ff7, 0x10fff), (0x1104e, 0x11051), (0x11076, 0x1107e),
    (0x110bd, 0x110bd), (0x110c3, 0x110cf), (0x110e9, 0x110ef), (0x110fa, 0x110ff),
    (0x11135, 0x11135), (0x11148, 0x1114f), (0x11177, 0x1117f), (0x111e0, 0x111e0),
    (0x111f5, 0x111ff), (0x11212, 0x11212), (0x1123f, 0x1127f), (0x11287, 0x11287),
    (0x11289, 0x11289), (0x1128e, 0x1128e), (0x1129e, 0x1129e), (0x112aa, 0x112af),
    (0x112eb, 0x112ef), (0x112fa, 0x112ff), (0x11304, 0x11304), (0x1130d, 0x1130e),
    (0x11311, 0x11312), (0x11329, 0x11329), (0x11331, 0x11331), (0x11334, 0x11334),
    (0x1133a, 0x1133a), (0x11345, 0x11346), (0x11349, 0x1134a), (0x1134e, 0x1134f),
    (0x11351, 0x11356), (0x11358, 0x1135c), (0x11364, 0x11365), (0x1136d, 0x1136f),
    (0x11375, 0x113ff), (0x1145c, 0x1145c), (0x11462, 0x1147f), (0x114c8, 0x114cf),
    (0x114da, 0x1157f), (0x115b6, 0x115b7), (0x115de, 0x115ff), (0x11645, 0x1164f),
    (0x1165a, 0x1165f), (0x1166d, 0x1167f), (0x116ba, 0x116bf), (0x116ca, 0x116ff),
    (0x1171b, 0x1171c), (0x1172c, 0x1172f), (0x11747, 0x117ff), (0x1183c, 0x1189f),
    (0x118f3, 0x118fe), (0x11907, 0x11908), (0x1190a, 0x1190b), (0x11914, 0x11914),
    (0x11917, 0x11917), (0x11936, 0x11936), (0x11939, 0x1193a), (0x11947, 0x1194f),
    (0x1195a, 0x1199f), (0x119a8, 0x119a9), (0x119d8, 0x119d9), (0x119e5, 0x119ff),
    (0x11a48, 0x11a4f), (0x11aa3, 0x11aaf), (0x11af9, 0x11bff), (0x11c09, 0x11c09),
    (0x11c37, 0x11c37), (0x11c46, 0x11c4f), (0x11c6d, 0x11c6f), (0x11c90, 0x11c91),
    (0x11ca8, 0x11ca8), (0x11cb7, 0x11cff), (0x11d07, 0x11d07), (0x11d0a, 0x11d0a),
    (0x11d37, 0x11d39), (0x11d3b, 0x11d3b), (0x11d3e, 0x11d3e), (0x11d48, 0x11d4f),
    (0x11d5a, 0x11d5f), (0x11d66, 0x11d66), (0x11d69, 0x11d69), (0x11d8f, 0x11d8f),
    (0x11d92, 0x11d92), (0x11d99, 0x11d9f), (0x11daa, 0x11edf), (0x11ef9, 0x11faf),
    (0x11fb1, 0x11fbf), (0x11ff2, 0x11ffe), (0x1239a, 0x123ff), (0x1246f, 0x1246f),
    (0x12475, 0x1247f), (0x12544, 0x12f8f), (0x12ff3, 0x12fff), (0x1342f, 0x143ff),
    (0x14647, 0x167ff), (0x16a39, 0x16a3f), (0x16a5f, 0x16a5f), (0x16a6a, 0x16a6d),
    (0x16abf, 0x16abf), (0x16aca, 0x16acf), (0x16aee, 0x16aef), (0x16af6, 0x16aff),
    (0x16b46, 0x16b4f), (0x16b5a, 0x16b5a), (0x16b62, 0x16b62), (0x16b78, 0x16b7c),
    (0x16b90, 0x16e3f), (0x16e9b, 0x16eff), (0x16f4b, 0x16f4e), (0x16f88, 0x16f8e),
    (0x16fa0, 0x16fdf), (0x16fe5, 0x16fef), (0x16ff2, 0x16fff), (0x187f8, 0x187ff),
    (0x18cd6, 0x18cff), (0x18d09, 0x1afef), (0x1aff4, 0x1aff4), (0x1affc, 0x1affc),
    (0x1afff, 0x1afff), (0x1b123, 0x1b14f), (0x1b153, 0x1b163), (0x1b168, 0x1b16f),
    (0x1b2fc, 0x1bbff), (0x1bc6b, 0x1bc6f), (0x1bc7d, 0x1bc7f), (0x1bc89, 0x1bc8f),
    (0x1bc9a, 0x1bc9b), (0x1bca0, 0x1ceff), (0x1cf2e, 0x1cf2f), (0x1cf47, 0x1cf4f),
    (0x1cfc4, 0x1cfff), (0x1d0f6, 0x1d0ff), (0x1d127, 0x1d128), (0x1d173, 0x1d17a),
    (0x1d1eb, 0x1d1ff), (0x1d246, 0x1d2df), (0x1d2f4, 0x1d2ff), (0x1d357, 0x1d35f),
    (0x1d379, 0x1d3ff), (0x1d455, 0x1d455), (0x1d49d, 0x1d49d), (0x1d4a0, 0x1d4a1),
    (0x1d4a3, 0x1d4a4), (0x1d4a7, 0x1d4a8), (0x1d4ad, 0x1d4ad), (0x1d4ba, 0x1d4ba),
    (0x1d4bc, 0x1d4bc), (0x1d4c4, 0x1d4c4), (0x1d506, 0x1d506), (0x1d50b, 0x1d50c),
    (0x1d515, 0x1d515), (0x1d51d, 0x1d51d), (0x1d53a, 0x1d53a), (0x1d53f, 0x1d53f),
    (0x1d545, 0x1d545), (0x1d547, 0x1d549), (0x1d551, 0x1d551), (0x1d6a6, 0x1d6a7),
    (0x1d7cc, 0x1d7cd), (0x1da8c, 0x1da9a), (0x1daa0, 0x1daa0), (0x1dab0, 0x1deff),
    (0x1df1f, 0x1dfff), (0x1e007, 0x1e007), (0x1e019, 0x1e01a), (0x1e022, 0x1e022),
    (0x1e025, 0x1e025), (0x1e02b, 0x1e0ff), (0x1e12d, 0x1e12f), (0x1e13e, 0x1e13f),
    (0x1e14a, 0x1e14d), (0x1e150, 0x1e28f), (0x1e2af, 0x1e2bf), (0x1e2fa, 0x1e2fe),
    (0x1e300, 0x1e7df), (0x1e7e7, 0x1e7e7), (0x1e7ec, 0x1e7ec), (0x1e7ef, 0x1e7ef),
    (0x1e7ff, 0x1e7ff), (0x1e8c5, 0x1e8c6), (0x1e8d7, 0x1e8ff), (0x1e94c, 0x1e94f),
    (0x1e95a, 0x1e95d), (0x1e960, 0x1ec70), (0x1ecb5, 0x1ed00), (0x1ed3e, 0x1edff),
    (0x1ee04, 0x1ee04), (0x1ee20, 0x1ee20), (0x1ee23, 0x1ee23), (0x1ee25, 0x1ee26),
    (0x1ee28, 0x1ee28), (0x1ee33, 0x1ee33), (0x1ee38, 0x1ee38), (0x1ee3a, 0x1ee3a),
    (0x1ee3c, 0x1ee41), (0x1ee43, 0x1ee46), (0x1ee48, 0x1ee48), (0x1ee4a, 0x1ee4a),
    (0x1ee4c, 0x1ee4c), (0x1ee50, 0x1ee50), (0x1ee53, 0x1ee53), (0x1ee55, 0x1ee56),
    (0x1ee58, 0x1ee58), (0x1ee5a, 0x1ee5a), (0x1ee5c, 0x1ee5c), (0x1ee5e, 0x1ee5e),
    (0x1ee60, 0x1ee60), (0x1ee63, 0x1ee63), (0x1ee65, 0x1ee66), (0x1ee6b, 0x1ee6b),
    (0x1ee73, 0x1ee73), (0x1ee78, 0x1ee78), (0x1ee7d, 0x1ee7d), (0x1ee7f, 0x1ee7f),
    (0x1ee8a, 0x1ee8a), (0x1ee9c, 0x1eea0), (0x1eea4, 0x1eea4), (0x1eeaa, 0x1eeaa),
    (0x1eebc, 0x1eeef), (0x1eef2, 0x1efff), (0x1f02c, 0x1f02f), (0x1f094, 0x1f09f),
    (0x1f0af, 0x1f0b0), (0x1f0c0, 0x1f0c0), (0x1f0d0, 0x1f0d0), (0x1f0f6, 0x1f0ff),
    (0x1f1ae, 0x1f1e5), (0x1f203, 0x1f20f), (0x1f23c, 0x1f23f), (0x1f249, 0x1f24f),
    (0x1f252, 0x1f25f), (0x1f266, 0x1f2ff), (0x1f6d8, 0x1f6dc), (0x1f6ed, 0x1f6ef),
    (0x1f6fd, 0x1f6ff), (0x1f774, 0x1f77f), (0x1f7d9, 0x1f7df), (0x1f7ec, 0x1f7ef),
    (0x1f7f1, 0x1f7ff), (0x1f80c, 0x1f80f), (0x1f848, 0x1f84f), (0x1f85a, 0x1f85f),
    (0x1f888, 0x1f88f), (0x1f8ae, 0x1f8af), (0x1f8b2, 0x1f8ff), (0x1fa54, 0x1fa5f),
    (0x1fa6e, 0x1fa6f), (0x1fa75, 0x1fa77), (0x1fa7d, 0x1fa7f), (0x1fa87, 0x1fa8f),
    (0x1faad, 0x1faaf), (0x1fabb, 0x1fabf), (0x1fac6, 0x1facf), (0x1fada, 0x1fadf),
    (0x1fae8, 0x1faef), (0x1faf7, 0x1faff), (0x1fb93, 0x1fb93), (0x1fbcb, 0x1fbef),
    (0x1fbfa, 0x1ffff), (0x2a6e0, 0x2a6ff), (0x2b739, 0x2b73f), (0x2b81e, 0x2b81f),
    (0x2cea2, 0x2ceaf), (0x2ebe1, 0x2f7ff), (0x2fa1e, 0x2ffff), (0x3134b, 0xe00ff),
    (0xe01f0, 0x10ffff),
];

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
