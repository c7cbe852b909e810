//! Pure log arithmetic and text handling shared by the daemon's log files
//! and the RPC layer:
//!
//! * [`read_window`] / [`tail_window`]: which bytes `readLog`/`readProcess*Log`
//!   and `tailProcess*Log` return for an (offset, length) request, exactly as
//!   Supervisor's `readFile` and `tailFile` compute it (spec §4.9);
//! * [`strip_ansi`]: Supervisor's `strip_ansi=true` filter (spec §7.5);
//! * [`echo_text`]: how a chunk of child output is shown in the main log at
//!   debug level (spec §7.4), including Python's `bytes` repr for data that
//!   is not UTF-8;
//! * [`text_or_repr`]: the one "UTF-8 text or `Undecodable: b'…'`" rule,
//!   shared by the echo, event payloads and the listener protocol's log.

/// `readFile`'s argument checks failed (`BAD_ARGUMENTS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("BAD_ARGUMENTS")]
pub struct BadArguments;

/// The byte range `readLog(offset, length)` returns from a file of `size`
/// bytes, as (start, length).
///
/// A negative offset means "the last |offset| bytes" and requires length 0;
/// otherwise a negative length is refused and length 0 means "to the end".
pub fn read_window(size: u64, offset: i64, length: i64) -> Result<(u64, u64), BadArguments> {
    if offset < 0 {
        if length != 0 {
            return Err(BadArguments);
        }
        let back = offset.unsigned_abs().min(size);
        return Ok((size - back, back));
    }
    if length < 0 {
        return Err(BadArguments);
    }
    let start = (offset as u64).min(size);
    let available = size - start;
    let len = if length == 0 {
        available
    } else {
        (length as u64).min(available)
    };
    Ok((start, len))
}

/// What `tailProcess*Log(offset, length)` reads from a file of `size` bytes:
/// (start, length, overflow). The offset returned to the client is always
/// `size`.
pub fn tail_window(size: u64, offset: i64, length: i64) -> (u64, u64, bool) {
    let size_i = size as i128;
    let mut offset = offset as i128;
    let mut length = length as i128;
    let mut overflow = false;
    if size_i > offset + length {
        overflow = true;
        offset = size_i - 1;
    }
    if offset + length > size_i {
        if offset > size_i - 1 {
            length = 0;
        }
        offset = size_i - length;
    }
    let offset = offset.clamp(0, size_i);
    // Reading stops at the end of the file.
    let length = length.max(0).min(size_i - offset);
    (offset as u64, length as u64, overflow)
}

/// The final bytes that end an escape sequence for Supervisor's filter.
const ANSI_FINAL: &[u8] = b"HfABCDRsuJKhlpm";

/// Supervisor's `strip_escape`: drop from each `ESC [` up to and including
/// the first following byte in `HfABCDRsuJKhlpm`; an unterminated sequence
/// drops the rest of the chunk. (Not a full terminal parser, on purpose: the
/// output must match Supervisor's.)
pub fn strip_ansi(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        if data[i] == 0x1b && data.get(i + 1) == Some(&b'[') {
            match data[i + 2..].iter().position(|b| ANSI_FINAL.contains(b)) {
                Some(end) => i += 2 + end + 1,
                None => break,
            }
        } else {
            out.push(data[i]);
            i += 1;
        }
    }
    out
}

/// Python's `repr(bytes)`: `b'…'` with `\t \n \r \\ \'` escapes and `\xNN`
/// for other non-printable bytes (double quotes when the data contains `'`
/// and no `"`).
pub fn py_bytes_repr(data: &[u8]) -> String {
    let quote = if data.contains(&b'\'') && !data.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    let mut out = String::with_capacity(data.len() + 3);
    out.push('b');
    out.push(quote as char);
    for &b in data {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            _ if b == quote => {
                out.push('\\');
                out.push(b as char);
            }
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push(quote as char);
    out
}

/// Bytes as Supervisor turns them into text where it must show them: the
/// UTF-8 text, or `Undecodable: b'…'` when they are not UTF-8.
pub fn text_or_repr(data: &[u8]) -> String {
    match std::str::from_utf8(data) {
        Ok(text) => text.to_string(),
        Err(_) => format!("Undecodable: {}", py_bytes_repr(data)),
    }
}

/// The text of a child-output chunk in the main log's debug echo: the UTF-8
/// text, or `Undecodable: b'…'` (listeners' stdout always uses the repr).
pub fn echo_text(data: &[u8], always_repr: bool) -> String {
    if always_repr {
        return py_bytes_repr(data);
    }
    text_or_repr(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_windows() {
        assert_eq!(read_window(72, 0, 0), Ok((0, 72)));
        assert_eq!(read_window(72, 10, 5), Ok((10, 5)));
        assert_eq!(read_window(72, 70, 5), Ok((70, 2)));
        assert_eq!(
            read_window(72, 100, 5),
            Ok((72, 0)),
            "past the end reads nothing"
        );
        assert_eq!(read_window(72, -10, 0), Ok((62, 10)));
        assert_eq!(read_window(5, -10, 0), Ok((0, 5)));
        assert_eq!(read_window(72, -10, 1), Err(BadArguments));
        assert_eq!(read_window(72, 0, -1), Err(BadArguments));
    }

    #[test]
    fn tail_windows_match_the_spec_examples() {
        // spec §4.9, observed on a 72-byte log.
        assert_eq!(
            tail_window(72, 0, 5),
            (67, 5, true),
            "'ling\\n', the last 5 bytes"
        );
        assert_eq!(tail_window(72, 0, 500), (0, 72, false));
        assert_eq!(tail_window(72, 100, 500), (72, 0, false));
        // supervisorctl tail: offset 0, length 1600 on a bigger file.
        assert_eq!(tail_window(5000, 0, 1600), (3400, 1600, true));
        // tail -f: next call from the returned offset.
        assert_eq!(tail_window(5000, 5000, 1600), (5000, 0, false));
        assert_eq!(tail_window(5100, 5000, 1600), (3500, 1600, false));
        // After a rotation the file shrank below the client's offset.
        assert_eq!(tail_window(10, 5000, 1600), (10, 0, false));
        assert_eq!(tail_window(100, 0, 1600), (0, 100, false));
        assert_eq!(tail_window(0, 0, 1600), (0, 0, false));
    }

    #[test]
    fn tail_window_agrees_with_the_python_algorithm_everywhere_small() {
        // A direct transcription of Supervisor's tailFile arithmetic.
        fn python(sz: i64, mut offset: i64, mut length: i64) -> (i64, i64, bool) {
            let mut overflow = false;
            if sz > offset + length {
                overflow = true;
                offset = sz - 1;
            }
            if offset + length > sz {
                if offset > sz - 1 {
                    length = 0;
                }
                offset = sz - length;
            }
            // Python then reads `length` bytes at `offset`: the read stops at EOF.
            let offset = offset.max(0);
            let length = length.max(0).min((sz - offset).max(0));
            (offset, length, overflow)
        }
        for sz in 0..40 {
            for offset in 0..45 {
                for length in 0..45 {
                    let (o, l, f) = python(sz, offset, length);
                    assert_eq!(
                        tail_window(sz as u64, offset, length),
                        (o as u64, l as u64, f),
                        "size {sz} offset {offset} length {length}"
                    );
                }
            }
        }
    }

    #[test]
    fn ansi_filter_is_supervisors() {
        assert_eq!(strip_ansi(b"\x1b[31mred\x1b[0m plain"), b"red plain");
        assert_eq!(strip_ansi(b"a\x1b[2Jb\x1b[10;20Hc"), b"abc");
        assert_eq!(
            strip_ansi(b"keep \x1b]0;title\x07 osc"),
            b"keep \x1b]0;title\x07 osc"
        );
        assert_eq!(strip_ansi(b"cut \x1b[12"), b"cut ");
        assert_eq!(strip_ansi(b"no escapes"), b"no escapes");
    }

    #[test]
    fn bytes_repr_and_echo() {
        assert_eq!(
            py_bytes_repr(b"RESULT 2\nOKREADY\n"),
            "b'RESULT 2\\nOKREADY\\n'"
        );
        assert_eq!(py_bytes_repr(b"it's"), "b\"it's\"");
        assert_eq!(py_bytes_repr(b"\x88\x00\x7f"), "b'\\x88\\x00\\x7f'");
        assert_eq!(echo_text(b"hello\n", false), "hello\n");
        assert_eq!(echo_text(b"\xff", false), "Undecodable: b'\\xff'");
    }
}
