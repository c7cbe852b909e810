//! The line-by-line reader: a transcription of the behaviour of CPython 3.11's
//! `RawConfigParser._read` and `_join_multiline_values` for Supervisor's parser settings.

use crate::error::{LineError, LineErrorKind, ParseError};
use crate::pystr::{is_python_whitespace, python_lower, python_rstrip, python_strip};
use crate::{DEFAULT_SECTION, Document, Entry, Section};

/// Which section of the document lines currently go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Defaults,
    Section(usize),
}

/// Lines as Python's universal-newline text files yield them: `\n`, `\r\n` and a lone `\r`
/// end a line and nothing else does (not U+2028, `\x0c`, `\x1c`, ... which `str.splitlines`
/// would split on). The terminator is not included; text after the last terminator is a
/// final line, but an empty remainder is not.
pub(crate) fn lines(src: &str) -> impl Iterator<Item = &str> {
    let mut rest = src;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        match rest.find(['\n', '\r']) {
            Some(end) => {
                let line = &rest[..end];
                let terminator = if rest[end..].starts_with("\r\n") {
                    2
                } else {
                    1
                };
                rest = &rest[end + terminator..];
                Some(line)
            }
            None => {
                let line = rest;
                rest = "";
                Some(line)
            }
        }
    })
}

/// Where an inline comment starts, as CPython computes it for prefixes `;` then `#`.
///
/// CPython advances through the occurrences of all prefixes in lockstep ("round" n looks at
/// the n-th `;` and the n-th `#`) and stops at the first round in which any occurrence is at
/// the start of the line or follows whitespace, taking the leftmost such one *of that round*.
/// So in `a;b ;c #d` the comment starts at `#` (round 1), not at ` ;c` (round 2).
fn inline_comment_start(line: &str) -> Option<usize> {
    let starts_comment = |i: usize| {
        i == 0
            || line[..i]
                .chars()
                .next_back()
                .is_some_and(is_python_whitespace)
    };
    let mut semicolons = line.match_indices(';').map(|(i, _)| i);
    let mut hashes = line.match_indices('#').map(|(i, _)| i);
    loop {
        let round = [semicolons.next(), hashes.next()];
        if round.iter().all(Option::is_none) {
            return None;
        }
        let start = round
            .into_iter()
            .flatten()
            .filter(|&i| starts_comment(i))
            .min();
        if start.is_some() {
            return start;
        }
    }
}

/// Position (in characters, as Python counts) of the first non-whitespace character.
fn indent_of(line: &str) -> usize {
    line.chars()
        .take_while(|&c| is_python_whitespace(c))
        .count()
}

/// configparser's `SECTCRE` (`\[(?P<header>.+)\]`) matched at the start of `value`: the header
/// runs to the *last* `]` and must not be empty; anything after that `]` is ignored.
fn section_header(value: &str) -> Option<&str> {
    let inner = value.strip_prefix('[')?;
    let close = inner.rfind(']')?;
    (close > 0).then(|| &inner[..close])
}

/// configparser's `OPTCRE` (`(?P<option>.*?)\s*(?P<vi>[=:])\s*(?P<value>.*)$`) on a stripped
/// line: the first `=` or `:` splits; returns the untransformed key and the stripped value.
fn option_line(value: &str) -> Option<(&str, &str)> {
    let delimiter = value.find(['=', ':'])?;
    let key = python_rstrip(&value[..delimiter]);
    let val = python_strip(&value[delimiter + 1..]);
    Some((key, val))
}

pub(crate) fn read(doc: &mut Document, src: &str, file: &str) -> Result<(), ParseError> {
    // One copy of the name for every section and entry of this file.
    let shared_file: std::sync::Arc<str> = std::sync::Arc::from(file);
    let mut cursect: Option<Target> = None;
    // The entry continuation lines are appended to. CPython's `optname` can also be `""`
    // (after an empty-key line), which is falsy and so behaves like `None` here.
    let mut optname: Option<usize> = None;
    let mut indent_level = 0usize;
    // Entries assigned during this read: CPython rstrips exactly these at the end
    // (`_join_multiline_values` only touches values that are still lists of lines).
    let mut assigned: Vec<(Target, usize)> = Vec::new();
    let mut errors: Vec<LineError> = Vec::new();

    for (index, line) in lines(src).enumerate() {
        let lineno = index + 1;
        let mut comment_start = inline_comment_start(line);
        let stripped_line = python_strip(line);
        if stripped_line.starts_with('#') || stripped_line.starts_with(';') {
            comment_start = Some(0);
        }
        let value = python_strip(&line[..comment_start.unwrap_or(line.len())]);

        if value.is_empty() {
            // A blank line belongs to the current value; a comment-only line is skipped
            // without ending the value.
            if comment_start.is_none()
                && let (Some(target), Some(entry)) = (cursect, optname)
            {
                section_mut(doc, target).entries[entry].value.push('\n');
            }
            continue;
        }

        let cur_indent_level = indent_of(line);
        if let (Some(target), Some(entry)) = (cursect, optname)
            && cur_indent_level > indent_level
        {
            let entry = &mut section_mut(doc, target).entries[entry];
            entry.value.push('\n');
            entry.value.push_str(value);
            continue;
        }

        indent_level = cur_indent_level;
        if let Some(name) = section_header(value) {
            cursect = Some(enter_section(doc, name, &shared_file, lineno));
            optname = None;
        } else if let Some(target) = cursect {
            match option_line(value) {
                Some((key, val)) => {
                    if key.is_empty() {
                        errors.push(line_error(lineno, line, LineErrorKind::EmptyKey));
                    }
                    let entry = Entry {
                        key: python_lower(key),
                        value: val.to_owned(),
                        file: std::sync::Arc::clone(&shared_file),
                        line: lineno,
                    };
                    let i = section_mut(doc, target).upsert(entry);
                    assigned.push((target, i));
                    optname = (!key.is_empty()).then_some(i);
                }
                None => errors.push(line_error(lineno, line, LineErrorKind::NoDelimiter)),
            }
        } else {
            // Nothing can have been assigned yet in this file, so there is nothing to join.
            return Err(ParseError {
                file: file.to_owned(),
                missing_section_header: true,
                errors: vec![line_error(
                    lineno,
                    line,
                    LineErrorKind::MissingSectionHeader,
                )],
            });
        }
    }

    for (target, i) in assigned {
        let value = &mut section_mut(doc, target).entries[i].value;
        let kept = python_rstrip(value).len();
        value.truncate(kept);
    }

    if errors.is_empty() {
        Ok(())
    } else {
        Err(ParseError {
            file: file.to_owned(),
            missing_section_header: false,
            errors,
        })
    }
}

fn line_error(line: usize, text: &str, kind: LineErrorKind) -> LineError {
    LineError {
        line,
        text: text.to_owned(),
        kind,
    }
}

fn section_mut(doc: &mut Document, target: Target) -> &mut Section {
    match target {
        Target::Defaults => &mut doc.defaults,
        Target::Section(i) => &mut doc.sections[i],
    }
}

fn enter_section(
    doc: &mut Document,
    name: &str,
    file: &std::sync::Arc<str>,
    lineno: usize,
) -> Target {
    if let Some(&i) = doc.by_name.get(name) {
        return Target::Section(i);
    }
    if name == DEFAULT_SECTION {
        if doc.defaults.line == 0 {
            doc.defaults.file = std::sync::Arc::clone(file);
            doc.defaults.line = lineno;
        }
        return Target::Defaults;
    }
    let i = doc.sections.len();
    doc.sections.push(Section::new(
        name.to_owned(),
        std::sync::Arc::clone(file),
        lineno,
    ));
    doc.by_name.insert(name.to_owned(), i);
    Target::Section(i)
}
