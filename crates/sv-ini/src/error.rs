//! The errors configparser raises while reading: `MissingSectionHeaderError` (fatal, stops
//! at the offending line) and `ParsingError` (collected over the whole file).

use std::fmt;

use crate::pystr::py_repr_str;

/// Why a file could not be read cleanly.
///
/// `missing_section_header` mirrors CPython's `MissingSectionHeaderError`: `errors` then holds
/// exactly one entry and nothing from the file was kept. Otherwise this is CPython's
/// `ParsingError`: every bad line of the file is listed, in file order, and the rest of the
/// file was still applied to the document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render(file, *missing_section_header, errors))]
pub struct ParseError {
    /// The file name given to the read, as CPython repeats it in the message.
    pub file: String,
    /// Whether this is a `MissingSectionHeaderError` (nothing of the file
    /// kept) rather than a `ParsingError`.
    pub missing_section_header: bool,
    /// The offending lines, in file order.
    pub errors: Vec<LineError>,
}

/// One offending line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1-based line number.
    pub line: usize,
    /// The raw line, without its line terminator.
    pub text: String,
    /// What is wrong with it.
    pub kind: LineErrorKind,
}

/// Why configparser rejected a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineErrorKind {
    /// A non-blank, non-comment line before the first section header of the file.
    MissingSectionHeader,
    /// A line that is neither a section header nor contains `=` or `:`.
    NoDelimiter,
    /// An option line whose key is empty (it starts with `=` or `:`).
    EmptyKey,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = py_repr_str(&self.text);
        match self.kind {
            LineErrorKind::MissingSectionHeader => {
                write!(f, "line {text} is not preceded by a section header")
            }
            LineErrorKind::NoDelimiter => write!(f, "no '=' or ':' in line {text}"),
            LineErrorKind::EmptyKey => write!(f, "empty key in line {text}"),
        }
    }
}

fn render(file: &str, missing_section_header: bool, errors: &[LineError]) -> String {
    let mut out = if missing_section_header {
        format!("File contains no section headers: {file}")
    } else {
        format!("File contains parsing errors: {file}")
    };
    for error in errors {
        out.push_str(&format!("\n\t{file}:{}: {error}", error.line));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display() {
        let cases = [
            (
                ParseError {
                    file: "/etc/x.conf".into(),
                    missing_section_header: false,
                    errors: vec![
                        LineError {
                            line: 12,
                            text: "foo".into(),
                            kind: LineErrorKind::NoDelimiter,
                        },
                        LineError {
                            line: 14,
                            text: "=bar".into(),
                            kind: LineErrorKind::EmptyKey,
                        },
                    ],
                },
                "File contains parsing errors: /etc/x.conf\n\
                 \t/etc/x.conf:12: no '=' or ':' in line 'foo'\n\
                 \t/etc/x.conf:14: empty key in line '=bar'",
            ),
            (
                ParseError {
                    file: "a.ini".into(),
                    missing_section_header: true,
                    errors: vec![LineError {
                        line: 1,
                        text: "k=v".into(),
                        kind: LineErrorKind::MissingSectionHeader,
                    }],
                },
                "File contains no section headers: a.ini\n\
                 \ta.ini:1: line 'k=v' is not preceded by a section header",
            ),
        ];
        for (error, expected) in cases {
            assert_eq!(error.to_string(), expected);
        }
    }
}
