//! Shell-like tokenizing, as Supervisor 4.3.0 does it through CPython 3.11's
//! `shlex` module.
//!
//! This module owns:
//!
//! * [`Lexer`], a faithful port of the `shlex.shlex` tokenizer state machine
//!   (`read_token` / `get_token` / iteration), configurable through
//!   [`LexerConfig`] (posix or non-posix mode, word characters, whitespace,
//!   `whitespace_split`, commenters, quotes, escape characters, escaped
//!   quotes). `punctuation_chars` and `source` inclusion are not ported:
//!   Supervisor never uses them.
//! * [`split`], which is `shlex.split(s)` (posix, `whitespace_split`, no
//!   comments). Supervisor uses it to turn `command=` into an argv.
//! * [`key_value_tokens`] and [`dict_of_key_value_pairs`], which are what
//!   Supervisor's `datatypes.dict_of_key_value_pairs` does for
//!   `environment=` and friends: a **non-posix** lexer with
//!   `wordchars += '/.+-():'` and the default `#` commenter.
//!
//! Characters are Unicode scalar values, exactly like the code points a
//! Python `str` is made of (a Rust `&str` simply cannot hold lone surrogates).
//! As in CPython 3.11, whitespace is only `' \t\r\n'`, and the Latin-1
//! letters `ßàá…Þ` are word characters **only in posix mode**; any other
//! character (other Unicode letters, `\x0b`, NBSP, …) is "punctuation".

use std::collections::VecDeque;
use std::str::Chars;

/// The two errors `shlex` raises (both are `ValueError` in Python); the
/// `Display` text is CPython's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ShlexError {
    /// End of input inside a quoted section.
    #[error("No closing quotation")]
    NoClosingQuotation,
    /// End of input right after an escape character (posix mode only).
    #[error("No escaped character")]
    NoEscapedCharacter,
}

/// The error of [`dict_of_key_value_pairs`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KvError {
    /// The lexer itself failed (unbalanced quote).
    #[error(transparent)]
    Shlex(#[from] ShlexError),
    /// The tokens are not `key = value [sep]` groups. `value` is the whole
    /// input string, as Supervisor reports it.
    #[error("Unexpected end of key/value pairs in value '{value}'")]
    UnexpectedEnd {
        /// The complete string that was being parsed.
        value: String,
    },
}

const ASCII_WORDCHARS: &str = "abcdfeghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";
const LATIN1_WORDCHARS: &str = "ßàáâãäåæçèéêëìíîïðñòóôõöøùúûüýþÿÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖØÙÚÛÜÝÞ";

/// The attributes of a `shlex.shlex` instance that steer tokenizing. Each
/// character-class field is a set of characters kept as a string, just like
/// the Python attribute of the same name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexerConfig {
    /// `posix=` constructor argument.
    pub posix: bool,
    /// Characters that make up words.
    pub wordchars: String,
    /// Characters that separate tokens.
    pub whitespace: String,
    /// When true, only whitespace ends a word (punctuation joins it).
    pub whitespace_split: bool,
    /// Characters that start a comment running to the end of the line.
    pub commenters: String,
    /// Quote characters.
    pub quotes: String,
    /// Escape characters (honoured in posix mode only).
    pub escape: String,
    /// Quotes inside which escape characters are honoured (posix only).
    pub escapedquotes: String,
}

impl LexerConfig {
    /// The defaults `shlex.shlex(s, posix=posix)` starts with.
    #[must_use]
    pub fn new(posix: bool) -> Self {
        let mut wordchars = String::from(ASCII_WORDCHARS);
        if posix {
            wordchars.push_str(LATIN1_WORDCHARS);
        }
        LexerConfig {
            posix,
            wordchars,
            whitespace: " \t\r\n".to_owned(),
            whitespace_split: false,
            commenters: "#".to_owned(),
            quotes: "'\"".to_owned(),
            escape: "\\".to_owned(),
            escapedquotes: "\"".to_owned(),
        }
    }

    /// The configuration `shlex.split(s)` uses.
    #[must_use]
    pub fn split() -> Self {
        LexerConfig {
            whitespace_split: true,
            commenters: String::new(),
            ..LexerConfig::new(true)
        }
    }

    /// The configuration Supervisor's `dict_of_key_value_pairs` uses.
    #[must_use]
    pub fn key_value() -> Self {
        let mut cfg = LexerConfig::new(false);
        cfg.wordchars.push_str("/.+-():");
        cfg
    }
}

// Python keeps the lexer state in a one-character string: ' ' between
// tokens, 'a' inside a word, or the quote/escape character being processed,
// and None after end of input. We keep the same representation so that the
// order of the membership tests (quotes before escape before word) behaves
// exactly as in Python even for odd configurations.
const STATE_WHITESPACE: char = ' ';
const STATE_WORD: char = 'a';

/// A port of `shlex.shlex` over an in-memory string. Iterating yields the
/// tokens `list(lexer)` would produce; after the first error the iterator
/// is exhausted.
#[derive(Debug, Clone)]
pub struct Lexer<'a> {
    cfg: LexerConfig,
    input: Chars<'a>,
    /// `None` is Python's `state = None` (end of input seen).
    state: Option<char>,
    token: String,
    /// Python's `pushback` deque: tokens returned before reading more input.
    pushback: VecDeque<String>,
    finished: bool,
}

impl<'a> Lexer<'a> {
    /// `shlex.shlex(input)` with the attributes in `cfg`.
    #[must_use]
    pub fn new(input: &'a str, cfg: LexerConfig) -> Self {
        Lexer {
            cfg,
            input: input.chars(),
            state: Some(STATE_WHITESPACE),
            token: String::new(),
            pushback: VecDeque::new(),
            finished: false,
        }
    }

    /// Collects all tokens, like `list(lexer)`.
    ///
    /// # Errors
    ///
    /// The first [`ShlexError`] met, as `list(lexer)` would raise it.
    pub fn tokens(self) -> Result<Vec<String>, ShlexError> {
        self.collect()
    }

    fn is_eof(&self, tok: Option<&str>) -> bool {
        // Python's `self.eof` is None in posix mode and '' otherwise.
        if self.cfg.posix {
            tok.is_none()
        } else {
            tok == Some("")
        }
    }

    /// `get_token`: pushed-back tokens first, then the input. Returns
    /// `Ok(None)` for Python's `self.eof`.
    fn get_token(&mut self) -> Result<Option<String>, ShlexError> {
        if let Some(tok) = self.pushback.pop_front() {
            return Ok(if self.is_eof(Some(&tok)) {
                None
            } else {
                Some(tok)
            });
        }
        let raw = self.read_token()?;
        Ok(if self.is_eof(raw.as_deref()) {
            None
        } else {
            raw
        })
    }

    /// `instream.readline()`: a `StringIO` line ends at '\n' only.
    fn skip_line(&mut self) {
        for c in self.input.by_ref() {
            if c == '\n' {
                break;
            }
        }
    }

    /// Whether the current token must be emitted now (Python's
    /// `self.token or (self.posix and quoted)`).
    fn should_emit(&self, quoted: bool) -> bool {
        !self.token.is_empty() || (self.cfg.posix && quoted)
    }

    /// `read_token`: the state machine proper. `Ok(None)` is Python's None.
    fn read_token(&mut self) -> Result<Option<String>, ShlexError> {
        let posix = self.cfg.posix;
        let mut quoted = false;
        let mut escapedstate = STATE_WHITESPACE;
        loop {
            let nextchar = self.input.next();
            let Some(state) = self.state else {
                // Past end of input: every further read gives an empty token.
                self.token.clear();
                break;
            };
            if state == STATE_WHITESPACE {
                let Some(c) = nextchar else {
                    self.state = None;
                    break;
                };
                if self.cfg.whitespace.contains(c) {
                    if self.should_emit(quoted) {
                        break;
                    }
                } else if self.cfg.commenters.contains(c) {
                    self.skip_line();
                } else if posix && self.cfg.escape.contains(c) {
                    escapedstate = STATE_WORD;
                    self.state = Some(c);
                } else if self.cfg.wordchars.contains(c) {
                    self.token = c.to_string();
                    self.state = Some(STATE_WORD);
                } else if self.cfg.quotes.contains(c) {
                    if !posix {
                        self.token = c.to_string();
                    }
                    self.state = Some(c);
                } else if self.cfg.whitespace_split {
                    self.token = c.to_string();
                    self.state = Some(STATE_WORD);
                } else {
                    // Any other character is a token of its own.
                    self.token = c.to_string();
                    if self.should_emit(quoted) {
                        break;
                    }
                }
            } else if self.cfg.quotes.contains(state) {
                quoted = true;
                let Some(c) = nextchar else {
                    return Err(ShlexError::NoClosingQuotation);
                };
                if c == state {
                    if !posix {
                        // Non-posix quotes stay in the token and end it.
                        self.token.push(c);
                        self.state = Some(STATE_WHITESPACE);
                        break;
                    }
                    self.state = Some(STATE_WORD);
                } else if posix
                    && self.cfg.escape.contains(c)
                    && self.cfg.escapedquotes.contains(state)
                {
                    escapedstate = state;
                    self.state = Some(c);
                } else {
                    self.token.push(c);
                }
            } else if self.cfg.escape.contains(state) {
                let Some(c) = nextchar else {
                    return Err(ShlexError::NoEscapedCharacter);
                };
                // Inside quotes, only the quote itself or the escape
                // character can be escaped; otherwise the escape is literal.
                if self.cfg.quotes.contains(escapedstate) && c != state && c != escapedstate {
                    self.token.push(state);
                }
                self.token.push(c);
                self.state = Some(escapedstate);
            } else if state == STATE_WORD {
                let Some(c) = nextchar else {
                    self.state = None;
                    break;
                };
                if self.cfg.whitespace.contains(c) {
                    self.state = Some(STATE_WHITESPACE);
                    if self.should_emit(quoted) {
                        break;
                    }
                } else if self.cfg.commenters.contains(c) {
                    self.skip_line();
                    // Non-posix mode stays inside the word, so the text on
                    // the next line is glued to it ("ab#x\ncd" -> "abcd").
                    if posix {
                        self.state = Some(STATE_WHITESPACE);
                        if self.should_emit(quoted) {
                            break;
                        }
                    }
                } else if posix && self.cfg.quotes.contains(c) {
                    self.state = Some(c);
                } else if posix && self.cfg.escape.contains(c) {
                    escapedstate = STATE_WORD;
                    self.state = Some(c);
                } else if self.cfg.wordchars.contains(c)
                    || self.cfg.quotes.contains(c)
                    || self.cfg.whitespace_split
                {
                    self.token.push(c);
                } else {
                    // Punctuation ends the word and becomes the next token.
                    self.pushback.push_front(c.to_string());
                    self.state = Some(STATE_WHITESPACE);
                    if self.should_emit(quoted) {
                        break;
                    }
                }
            }
            // Any other state cannot arise with an immutable configuration;
            // Python would silently drop the character, and so do we.
        }
        let result = std::mem::take(&mut self.token);
        if posix && !quoted && result.is_empty() {
            Ok(None)
        } else {
            Ok(Some(result))
        }
    }
}

impl Iterator for Lexer<'_> {
    type Item = Result<String, ShlexError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        match self.get_token() {
            Ok(Some(tok)) => Some(Ok(tok)),
            Ok(None) => {
                self.finished = true;
                None
            }
            Err(e) => {
                self.finished = true;
                Some(Err(e))
            }
        }
    }
}

/// Python's `shlex.split(s)`: posix rules, split on whitespace only, no
/// comments.
///
/// # Errors
///
/// An unbalanced quote or a trailing escape character.
pub fn split(s: &str) -> Result<Vec<String>, ShlexError> {
    Lexer::new(s, LexerConfig::split()).tokens()
}

/// `list(lexer)` for the lexer Supervisor's `dict_of_key_value_pairs`
/// builds: non-posix, `wordchars += '/.+-():'`, `#` comments.
///
/// # Errors
///
/// An unbalanced quote ([`ShlexError::NoClosingQuotation`]; escapes do not
/// exist in non-posix mode).
pub fn key_value_tokens(s: &str) -> Result<Vec<String>, ShlexError> {
    Lexer::new(s, LexerConfig::key_value()).tokens()
}

/// Supervisor 4.3.0's `datatypes.dict_of_key_value_pairs`: parses
/// `KEY=val,KEY2="v, 2"` into pairs.
///
/// Tokens are consumed four at a time (key, `=`, value, separator — the
/// separator is never checked); quotes are stripped from both ends of the
/// value. A repeated key keeps its first position but takes the later value,
/// as a Python dict would; the pairs come back in that dict order.
///
/// # Errors
///
/// [`KvError::Shlex`] when tokenizing fails, [`KvError::UnexpectedEnd`] when
/// a group is short or its second token is not `=`.
pub fn dict_of_key_value_pairs(s: &str) -> Result<Vec<(String, String)>, KvError> {
    let tokens = key_value_tokens(s)?;
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let (Some(key), Some(eq), Some(value)) =
            (tokens.get(i), tokens.get(i + 1), tokens.get(i + 2))
        else {
            return Err(KvError::UnexpectedEnd {
                value: s.to_owned(),
            });
        };
        if eq != "=" {
            return Err(KvError::UnexpectedEnd {
                value: s.to_owned(),
            });
        }
        let value = value.trim_matches(|c| c == '\'' || c == '"').to_owned();
        match pairs.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => pairs.push((key.clone(), value)),
        }
        i += 4;
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn split_table() {
        let ok: &[(&str, &[&str])] = &[
            ("", &[]),
            ("   \t\n ", &[]),
            ("a b  c", &["a", "b", "c"]),
            ("a\tb\nc\rd", &["a", "b", "c", "d"]),
            ("'a b' \"c d\"", &["a b", "c d"]),
            ("a\"b\"c", &["abc"]),
            ("a'b c'd", &["ab cd"]),
            ("\"\"", &[""]),
            ("a '' b", &["a", "", "b"]),
            ("''\"\"", &[""]),
            ("a\\ b", &["a b"]),
            ("a\\\\b", &["a\\b"]),
            ("a\\\nb", &["a\nb"]),
            ("\\'x", &["'x"]),
            ("\"a\\b\\\"c\\\\\"", &["a\\b\"c\\"]),
            ("'a\\b'", &["a\\b"]),
            ("'a\\'", &["a\\"]),
            ("a#b #c", &["a#b", "#c"]),
            ("x=1;y|z", &["x=1;y|z"]),
            ("é\u{a0}b\u{b}c", &["é\u{a0}b\u{b}c"]),
            ("ünï cödé 中文", &["ünï", "cödé", "中文"]),
            ("--opt=\"a b\" -x", &["--opt=a b", "-x"]),
        ];
        for (input, want) in ok {
            assert_eq!(split(input), Ok(v(want)), "input {input:?}");
        }
        let bad: &[(&str, ShlexError)] = &[
            ("'abc", ShlexError::NoClosingQuotation),
            ("a \"b", ShlexError::NoClosingQuotation),
            ("\"a\\\"", ShlexError::NoClosingQuotation),
            ("a\\", ShlexError::NoEscapedCharacter),
            ("\"a\\", ShlexError::NoEscapedCharacter),
        ];
        for (input, want) in bad {
            assert_eq!(split(input), Err(*want), "input {input:?}");
        }
    }

    #[test]
    fn key_value_tokens_table() {
        let ok: &[(&str, &[&str])] = &[
            ("", &[]),
            ("A=1,B=2", &["A", "=", "1", ",", "B", "=", "2"]),
            ("a=\"b c\",d=e", &["a", "=", "\"b c\"", ",", "d", "=", "e"]),
            ("P=/usr/bin:/bin", &["P", "=", "/usr/bin:/bin"]),
            ("x=(a+b)-c.d", &["x", "=", "(a+b)-c.d"]),
            // A quote inside a word is just a word character.
            ("a\"b c\"", &["a\"b", "c\""]),
            ("x=y'z w", &["x", "=", "y'z", "w"]),
            ("a=''", &["a", "=", "''"]),
            // No escapes in non-posix mode: the backslash is punctuation.
            ("a\\b", &["a", "\\", "b"]),
            // Latin-1 letters are not word characters in non-posix mode.
            ("é=1", &["é", "=", "1"]),
            ("ab", &["ab"]),
            ("a\u{b}b", &["a", "\u{b}", "b"]),
            ("a,,b", &["a", ",", ",", "b"]),
            // A comment inside a word keeps the word going on the next line.
            ("ab#c\ncd", &["abcd"]),
            ("ab#c\rcd", &["ab"]),
            ("# all comment\nk=v", &["k", "=", "v"]),
            ("'a'b", &["'a'", "b"]),
        ];
        for (input, want) in ok {
            assert_eq!(key_value_tokens(input), Ok(v(want)), "input {input:?}");
        }
        assert_eq!(
            key_value_tokens("a=\"abc"),
            Err(ShlexError::NoClosingQuotation)
        );
        // The escape is never honoured in non-posix mode.
        assert_eq!(key_value_tokens("a\\"), Ok(v(&["a", "\\"])));
    }

    #[test]
    fn dict_of_key_value_pairs_table() {
        let pairs = |items: &[(&str, &str)]| -> Vec<(String, String)> {
            items
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let ok: &[(&str, &[(&str, &str)])] = &[
            ("", &[]),
            ("A=1", &[("A", "1")]),
            ("A=1,B=2", &[("A", "1"), ("B", "2")]),
            ("A = 1 , B = 2", &[("A", "1"), ("B", "2")]),
            ("A=\"x, y\",B='z'", &[("A", "x, y"), ("B", "z")]),
            ("A=1,B=2,A=3", &[("A", "3"), ("B", "2")]),
            // The separator is never checked.
            ("A=1;B=2", &[("A", "1"), ("B", "2")]),
            // Quotes are stripped in any mix from both ends.
            ("A='\"x\"'", &[("A", "x")]),
            ("A=x'", &[("A", "x")]),
            ("A==", &[("A", "=")]),
        ];
        for (input, want) in ok {
            assert_eq!(
                dict_of_key_value_pairs(input),
                Ok(pairs(want)),
                "input {input:?}"
            );
        }
        for input in [
            "A",
            "A=",
            "A=1,B",
            "A:1",
            "A=1,B=2=3",
            "A=1,,B=2",
            "A=1 B=2",
        ] {
            assert_eq!(
                dict_of_key_value_pairs(input),
                Err(KvError::UnexpectedEnd {
                    value: input.to_owned()
                }),
                "input {input:?}"
            );
        }
        assert_eq!(
            dict_of_key_value_pairs("A=\"1").map_err(|e| e.to_string()),
            Err("No closing quotation".to_owned())
        );
        assert_eq!(
            dict_of_key_value_pairs("A").map_err(|e| e.to_string()),
            Err("Unexpected end of key/value pairs in value 'A'".to_owned())
        );
    }

    #[test]
    fn configurable_modes() {
        // Plain `shlex.shlex(s)`: non-posix, comments on, no whitespace_split.
        let toks = Lexer::new("ls -l # comment\necho 'hi there'", LexerConfig::new(false)).tokens();
        assert_eq!(toks, Ok(v(&["ls", "-", "l", "echo", "'hi there'"])));
        // `shlex.shlex(s, posix=True)`.
        let toks = Lexer::new("a=\"b c\"d#x\ne", LexerConfig::new(true)).tokens();
        assert_eq!(toks, Ok(v(&["a", "=", "b cd", "e"])));
        // Empty quotes in posix mode are a token; a punctuation character
        // after them is pushed back as the next token.
        let toks = Lexer::new("''=x", LexerConfig::new(true)).tokens();
        assert_eq!(toks, Ok(v(&["", "=", "x"])));
        // `shlex.split(s, comments=True)`.
        let cfg = LexerConfig {
            commenters: "#".to_owned(),
            ..LexerConfig::split()
        };
        let toks = Lexer::new("a b#c d\ne", cfg).tokens();
        assert_eq!(toks, Ok(v(&["a", "b", "e"])));
        // Non-posix whitespace_split.
        let cfg = LexerConfig {
            whitespace_split: true,
            ..LexerConfig::new(false)
        };
        let toks = Lexer::new("a=b \"c d\"e f\\g", cfg).tokens();
        assert_eq!(toks, Ok(v(&["a=b", "\"c d\"", "e", "f\\g"])));
    }

    #[test]
    fn iterator_stops_after_error() {
        let mut lx = Lexer::new("a 'b", LexerConfig::split());
        assert_eq!(lx.next(), Some(Ok("a".to_owned())));
        assert_eq!(lx.next(), Some(Err(ShlexError::NoClosingQuotation)));
        assert_eq!(lx.next(), None);
    }
}
