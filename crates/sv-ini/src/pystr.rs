//! Python `str` semantics that configparser relies on and Rust's `str` does not share.
//!
//! CPython's `str.strip()`, `str.isspace()` and the regex classes `\s`/`\S` all use the same
//! whitespace predicate, which is Unicode `White_Space` plus U+001C..=U+001F (the
//! information separators, whose bidirectional class is B or S). Rust's
//! `char::is_whitespace` lacks those four, so a file containing them would parse
//! differently if we used the standard library helpers.

/// Whether Python's `str.isspace()` is true for `c` (equivalently: whether `c` is stripped by
/// `str.strip()` and matched by the regex `\s` on a `str` pattern).
///
/// ```
/// assert!(sv_ini::is_python_whitespace('\u{1c}'));
/// assert!(!'\u{1c}'.is_whitespace());
/// assert!(!sv_ini::is_python_whitespace('\u{200b}'));
/// ```
pub fn is_python_whitespace(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n'
            | '\u{0b}'
            | '\u{0c}'
            | '\r'
            | '\u{1c}'..='\u{1f}'
            | ' '
            | '\u{85}'
            | '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}'
    )
}

/// Python's `s.strip()` (no argument).
pub fn python_strip(s: &str) -> &str {
    s.trim_matches(is_python_whitespace)
}

/// Python's `s.lstrip()` (no argument).
pub fn python_lstrip(s: &str) -> &str {
    s.trim_start_matches(is_python_whitespace)
}

/// Python's `s.rstrip()` (no argument).
pub fn python_rstrip(s: &str) -> &str {
    s.trim_end_matches(is_python_whitespace)
}

/// Characters that CPython 3.11 (Unicode 14.0) leaves untouched in `str.lower()` because they
/// were unassigned then, but that Rust's newer Unicode tables give a lowercase mapping.
fn uncased_in_unicode_14(c: char) -> bool {
    matches!(
        c,
        '\u{1c89}'
            | '\u{a7cb}'
            | '\u{a7cc}'
            | '\u{a7ce}'
            | '\u{a7d2}'
            | '\u{a7d4}'
            | '\u{a7da}'
            | '\u{a7dc}'
            | '\u{10d50}'..='\u{10d65}'
            | '\u{16ea0}'..='\u{16eb8}'
    )
}

/// Python 3.11's `s.lower()`, which is configparser's default `optionxform`.
///
/// Both Python and Rust apply the full Unicode lowercase mapping including the word-final
/// sigma rule; the only divergence is characters added to Unicode after 14.0, which CPython
/// 3.11 treats as unassigned. Those are copied unchanged, and they split the string into
/// independently lowered runs, which is exactly how an unassigned (neither cased nor
/// case-ignorable) character bounds the final-sigma context.
///
/// ```
/// assert_eq!(sv_ini::python_lower("ΟΔΟΣ Key"), "οδος key");
/// ```
pub fn python_lower(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    let mut out = String::with_capacity(s.len());
    let mut run_start = 0;
    for (i, c) in s.char_indices() {
        if uncased_in_unicode_14(c) {
            out.push_str(&s[run_start..i].to_lowercase());
            out.push(c);
            run_start = i + c.len_utf8();
        }
    }
    out.push_str(&s[run_start..].to_lowercase());
    out
}

/// A Python-`repr()`-like rendering of `s` for error messages: quoted, with backslashes,
/// the quote character, control characters and invisible/space-like characters escaped.
pub fn python_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if needs_escape(c) => {
                let cp = u32::from(c);
                if cp < 0x100 {
                    out.push_str(&format!("\\x{cp:02x}"));
                } else if cp < 0x1_0000 {
                    out.push_str(&format!("\\u{cp:04x}"));
                } else {
                    out.push_str(&format!("\\U{cp:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || (c != ' ' && is_python_whitespace(c))
        || matches!(
            c,
            '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{2060}'..='\u{2064}' | '\u{feff}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_set_differs_from_rust_only_in_information_separators() {
        for cp in 0..=0x10_ffffu32 {
            let Some(c) = char::from_u32(cp) else {
                continue;
            };
            let expected = c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c);
            assert_eq!(is_python_whitespace(c), expected, "U+{cp:04X}");
        }
    }

    #[test]
    fn strip_variants() {
        let cases = [
            ("", "", "", ""),
            ("  a b  ", "a b", "a b  ", "  a b"),
            ("\u{1c}x\u{1f}", "x", "x\u{1f}", "\u{1c}x"),
            ("\u{85}\u{a0}x\u{3000}", "x", "x\u{3000}", "\u{85}\u{a0}x"),
            (
                "\u{200b}x\u{200b}",
                "\u{200b}x\u{200b}",
                "\u{200b}x\u{200b}",
                "\u{200b}x\u{200b}",
            ),
            (" \t\n\u{0b}\u{0c}\r ", "", "", ""),
        ];
        for (input, strip, lstrip, rstrip) in cases {
            assert_eq!(python_strip(input), strip, "strip {input:?}");
            assert_eq!(python_lstrip(input), lstrip, "lstrip {input:?}");
            assert_eq!(python_rstrip(input), rstrip, "rstrip {input:?}");
        }
    }

    #[test]
    fn lower() {
        let cases = [
            ("ABC", "abc"),
            ("Key_1", "key_1"),
            ("ÄÖÜ", "äöü"),
            ("Σ", "σ"),
            ("ΑΣ", "ας"),
            ("ΑΣΑ", "ασα"),
            ("ΑΣ.Β", "ασ.β"),
            ("ΑΣ. Β", "ας. β"),
            ("İ", "i\u{307}"),
            ("\u{1c89}", "\u{1c89}"),
            ("A\u{10d50}B", "a\u{10d50}b"),
            ("ΑΣ\u{a7cb}", "ας\u{a7cb}"),
        ];
        for (input, expected) in cases {
            assert_eq!(python_lower(input), expected, "{input:?}");
        }
    }

    #[test]
    fn repr() {
        let cases = [
            ("foo", "'foo'"),
            ("it's", "\"it's\""),
            ("'\"", "'\\'\"'"),
            ("a\\b\tc", "'a\\\\b\\tc'"),
            ("\u{1c}\u{a0}\u{3000}\u{feff}", "'\\x1c\\xa0\\u3000\\ufeff'"),
            ("é ü", "'é ü'"),
        ];
        for (input, expected) in cases {
            assert_eq!(python_repr(input), expected, "{input:?}");
        }
    }
}
