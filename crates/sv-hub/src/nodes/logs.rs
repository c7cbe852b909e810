//! A process's log through the node's own log calls, for the page and for
//! scripts: windows counted in lines (read backwards until they hold the
//! lines asked for, bounded in bytes), following from a byte offset,
//! older windows before one, a search over a bounded window, and the
//! whole current file streamed for download.
//!
//! Two calls do everything, so Supervisor 4.3 nodes and ours behave the
//! same: `tailProcess…Log(name, offset, length)` — the last `length`
//! bytes, the file's size, and whether more than `length` bytes lie past
//! `offset` — and `readProcess…Log(name, offset, length)`, exact bytes.
//!
//! Offsets are byte offsets in the node's current log file. A window
//! holds whole lines only: the line still being written shows once it
//! ends, and a line longer than the window read is not shown (raise
//! `length`). Every read is bounded ([`MAX_READ`], [`MAX_WINDOW`],
//! [`MAX_LINES`]); nothing a client asks makes the hub hold more.

use std::collections::VecDeque;

use sv_client::{Client, FaultCode, LogStream};

/// The most bytes one call reads from a node (as the `/log/` route's
/// `length`).
pub const MAX_READ: i64 = 1 << 20;
/// The most bytes one window may span, read backwards in calls of at
/// most [`MAX_READ`].
pub const MAX_WINDOW: i64 = 4 << 20;
/// The most lines one window holds.
pub const MAX_LINES: usize = 10_000;
/// The first read of a window; doubled while more lines are wanted.
pub const FIRST_READ: i64 = 64 << 10;
/// The most matches a search returns.
pub const MAX_MATCHES: usize = 1000;
/// The most a download sends: the end of the current file.
pub const MAX_DOWNLOAD: i64 = 256 << 20;
/// One read of a download.
pub const DOWNLOAD_READ: i64 = 256 << 10;

/// Why a log read failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogError {
    /// The node has no such process (`BAD_NAME`).
    #[error("Wrong process name")]
    WrongProcess,
    /// The process has no such log (`NO_FILE`: `stdout_logfile=none`,
    /// stderr with `redirect_stderr`) — the node's text.
    #[error("{0}")]
    NoFile(String),
    /// Any other fault or transport failure, as its text.
    #[error("{0}")]
    Failed(String),
}

fn log_error(e: &sv_client::Error) -> LogError {
    match e.fault() {
        Some(f) if f.is(FaultCode::BadName) => LogError::WrongProcess,
        Some(f) if f.is(FaultCode::NoFile) => LogError::NoFile(f.string.clone()),
        Some(f) => LogError::Failed(f.string.clone()),
        None => LogError::Failed(super::health::classify(e).1),
    }
}

/// `stdout` or `stderr`.
pub fn parse_stream(word: &str) -> Option<LogStream> {
    match word {
        "stdout" => Some(LogStream::Stdout),
        "stderr" => Some(LogStream::Stderr),
        _ => None,
    }
}

/// Whole lines of a log and where they lie.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Window {
    /// The lines, without their `\n`.
    pub lines: Vec<String>,
    /// Byte offset of the first line (for an older window: `before`).
    pub start: i64,
    /// Byte offset just past the last line's `\n` (follow from here).
    pub end: i64,
    /// The file's size when read.
    pub size: i64,
    /// Following: more was written than one read holds; lines between
    /// the old `end` and `start` were skipped.
    pub gap: bool,
    /// Following: the file is shorter than the offset followed (cleared
    /// or rotated); this is a fresh window from its end.
    pub reset: bool,
}

/// Text of a log assembled backwards: `text` spans `[text_start, end)`
/// and `end` is a line boundary; `text_start` is one when `first_whole`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Backwards {
    text: String,
    text_start: i64,
    end: i64,
    first_whole: bool,
}

impl Backwards {
    /// `text` read at `[end - text.len(), file_end)`, its unfinished last
    /// line left out.
    fn from_tail(text: String, file_end: i64) -> Backwards {
        let keep = text.rfind('\n').map_or(0, |i| i + 1);
        let partial = (text.len() - keep) as i64;
        let text_start = file_end - text.len() as i64;
        let mut text = text;
        text.truncate(keep);
        Backwards {
            text,
            text_start: text_start.max(0),
            end: file_end - partial,
            first_whole: text_start <= 0,
        }
    }

    /// Whole lines held now (the first piece is cut unless it starts the
    /// file).
    fn whole_lines(&self) -> usize {
        let newlines = self.text.bytes().filter(|b| *b == b'\n').count();
        if self.first_whole {
            newlines
        } else {
            newlines.saturating_sub(1)
        }
    }

    /// Puts `older`, read just before `text_start`, in front.
    fn prepend(&mut self, older: &str) {
        let mut joined = String::with_capacity(older.len() + self.text.len());
        joined.push_str(older);
        joined.push_str(&self.text);
        self.text = joined;
        self.text_start = (self.text_start - older.len() as i64).max(0);
        self.first_whole = self.text_start == 0;
    }

    /// The last `want` whole lines.
    fn finish(self, want: usize, size: i64) -> Window {
        let mut lines: VecDeque<&str> = self.text.split('\n').collect();
        // The piece after the final `\n` is empty: `end` is a boundary.
        lines.pop_back();
        let mut start = self.text_start;
        if !self.first_whole
            && let Some(cut) = lines.pop_front()
        {
            start += cut.len() as i64 + 1;
        }
        while lines.len() > want {
            if let Some(old) = lines.pop_front() {
                start += old.len() as i64 + 1;
            }
        }
        if lines.is_empty() {
            start = self.end;
        }
        Window {
            lines: lines.into_iter().map(str::to_string).collect(),
            start,
            end: self.end,
            size,
            gap: false,
            reset: false,
        }
    }
}

/// Reads backwards from `b`'s start until it holds `want` whole lines,
/// reaches the file's start, or spans [`MAX_WINDOW`].
async fn fill(
    client: &Client,
    uname: &str,
    stream: LogStream,
    b: &mut Backwards,
    want: usize,
) -> Result<(), LogError> {
    let mut chunk = FIRST_READ;
    while b.whole_lines() < want && b.text_start > 0 && b.end - b.text_start < MAX_WINDOW {
        let room = MAX_WINDOW - (b.end - b.text_start);
        let length = chunk.min(b.text_start).min(room).min(MAX_READ);
        let offset = b.text_start - length;
        let older = client
            .read_process_log(uname, stream, offset, length)
            .await
            .map_err(|e| log_error(&e))?;
        if older.is_empty() {
            break;
        }
        b.prepend(&older);
        chunk = (chunk * 2).min(MAX_READ);
    }
    Ok(())
}

/// The last `want` lines (at most [`MAX_LINES`]) of the log.
pub async fn tail(
    client: &Client,
    uname: &str,
    stream: LogStream,
    want: usize,
) -> Result<Window, LogError> {
    let want = want.clamp(1, MAX_LINES);
    let chunk = client
        .tail_process_log(uname, stream, 0, FIRST_READ)
        .await
        .map_err(|e| log_error(&e))?;
    let size = chunk.offset;
    let mut b = Backwards::from_tail(chunk.bytes, size);
    fill(client, uname, stream, &mut b, want).await?;
    Ok(b.finish(want, size))
}

/// The `want` lines before byte `before` (a line start: a window's
/// `start`); the window's `size` is `before` (the file is not measured).
pub async fn older(
    client: &Client,
    uname: &str,
    stream: LogStream,
    before: i64,
    want: usize,
) -> Result<Window, LogError> {
    let want = want.clamp(1, MAX_LINES);
    let mut b = Backwards {
        text: String::new(),
        text_start: before.max(0),
        end: before.max(0),
        first_whole: true,
    };
    fill(client, uname, stream, &mut b, want).await?;
    Ok(b.finish(want, before.max(0)))
}

/// What was written since byte `after` (a window's `end`), at most
/// `length` bytes of it (the newest, with `gap` set, when there is more);
/// a fresh tail of `want` lines with `reset` when the file shrank.
pub async fn follow(
    client: &Client,
    uname: &str,
    stream: LogStream,
    after: i64,
    length: i64,
    want: usize,
) -> Result<Window, LogError> {
    let length = length.clamp(1, MAX_READ);
    let chunk = client
        .tail_process_log(uname, stream, after.max(0), length)
        .await
        .map_err(|e| log_error(&e))?;
    let size = chunk.offset;
    if size < after {
        let mut w = tail(client, uname, stream, want).await?;
        w.reset = true;
        return Ok(w);
    }
    // `tail` answers the last `length` bytes; what is new is their end.
    let text = chunk.bytes;
    let new = usize::try_from(size - after).unwrap_or(usize::MAX);
    let (text, from) = if chunk.overflow || new > text.len() {
        (text, None)
    } else {
        let cut = text.len() - new;
        match text.get(cut..) {
            Some(t) => (t.to_string(), Some(after)),
            // Not a character boundary: the node's text is not the file's
            // bytes (a lossy decode); treat it as a gap.
            None => (text, None),
        }
    };
    let mut b = Backwards::from_tail(text, size);
    if let Some(after) = from {
        // `after` is where the last window ended: a line start.
        b.text_start = after;
        b.first_whole = true;
    }
    let mut w = b.finish(MAX_LINES, size);
    w.gap = from.is_none();
    Ok(w)
}

/// One line that matched a search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// Byte offset of the line's start.
    pub offset: i64,
    /// The line.
    pub line: String,
}

/// A search's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Matching lines, oldest first, at most [`MAX_MATCHES`] (the newest).
    pub matches: Vec<Match>,
    /// The searched bytes: `[from, to)`.
    pub from: i64,
    /// End of the searched bytes.
    pub to: i64,
    /// More lines matched than were returned.
    pub truncated: bool,
}

/// Lines of `w` containing `needle` (ASCII case ignored unless
/// `case_sensitive`).
pub fn search_window(w: &Window, needle: &str, case_sensitive: bool) -> Found {
    let folded = needle.to_lowercase();
    let mut offset = w.start;
    let mut matches = VecDeque::new();
    let mut truncated = false;
    for line in &w.lines {
        let hit = if case_sensitive {
            line.contains(needle)
        } else {
            line.to_lowercase().contains(&folded)
        };
        if hit {
            if matches.len() == MAX_MATCHES {
                matches.pop_front();
                truncated = true;
            }
            matches.push_back(Match {
                offset,
                line: line.clone(),
            });
        }
        offset += line.len() as i64 + 1;
    }
    Found {
        matches: matches.into(),
        from: w.start,
        to: w.end,
        truncated,
    }
}

/// Searches the last `window` bytes (at most [`MAX_READ`]) of the log.
pub async fn search(
    client: &Client,
    uname: &str,
    stream: LogStream,
    needle: &str,
    window: i64,
    case_sensitive: bool,
) -> Result<Found, LogError> {
    let window = window.clamp(1, MAX_READ);
    let chunk = client
        .tail_process_log(uname, stream, 0, window)
        .await
        .map_err(|e| log_error(&e))?;
    let size = chunk.offset;
    let w = Backwards::from_tail(chunk.bytes, size).finish(usize::MAX, size);
    Ok(search_window(&w, needle, case_sensitive))
}

/// The file's size now, and where a download starts (the last
/// [`MAX_DOWNLOAD`] bytes).
pub async fn download_range(
    client: &Client,
    uname: &str,
    stream: LogStream,
) -> Result<(i64, i64), LogError> {
    let chunk = client
        .tail_process_log(uname, stream, 0, 0)
        .await
        .map_err(|e| log_error(&e))?;
    let size = chunk.offset.max(0);
    Ok(((size - MAX_DOWNLOAD).max(0), size))
}

/// A file name for a download: `node-process-stream.log`, only
/// `[A-Za-z0-9._-]` kept (it goes into a header).
pub fn download_name(node: &str, uname: &str, stream: LogStream) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                    c
                } else {
                    '_'
                }
            })
            .take(80)
            .collect()
    };
    let which = match stream {
        LogStream::Stdout => "stdout",
        LogStream::Stderr => "stderr",
    };
    format!("{}-{}-{which}.log", clean(node), clean(uname))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tail_keeps_whole_lines_only() {
        // File "aaa\nbbb\ncc" (10 bytes), read from byte 2.
        let b = Backwards::from_tail("a\nbbb\ncc".into(), 10);
        assert_eq!((b.text_start, b.end), (2, 8));
        assert_eq!(b.whole_lines(), 1);
        let w = b.finish(10, 10);
        assert_eq!(w.lines, vec!["bbb"]);
        assert_eq!((w.start, w.end, w.size), (4, 8, 10));
    }

    #[test]
    fn reading_backwards_joins_the_cut_line() {
        let mut b = Backwards::from_tail("a\nbbb\n".into(), 8);
        assert_eq!(b.text_start, 2);
        b.prepend("aa");
        assert_eq!(b.text_start, 0);
        assert_eq!(b.whole_lines(), 2);
        let w = b.finish(10, 8);
        assert_eq!(w.lines, vec!["aaa", "bbb"]);
        assert_eq!((w.start, w.end), (0, 8));
    }

    #[test]
    fn only_the_last_lines_wanted_are_kept() {
        let b = Backwards::from_tail("one\ntwo\nthree\n".into(), 14);
        let w = b.finish(2, 14);
        assert_eq!(w.lines, vec!["two", "three"]);
        assert_eq!(w.start, 4);
    }

    #[test]
    fn no_whole_line_gives_an_empty_window_at_the_end() {
        let w = Backwards::from_tail("partial".into(), 100).finish(5, 100);
        assert!(w.lines.is_empty());
        assert_eq!((w.start, w.end), (93, 93));
    }

    #[test]
    fn search_finds_lines_with_offsets_ignoring_case() {
        let w = Backwards::from_tail("Error one\nok\nanother ERROR\n".into(), 27).finish(100, 27);
        let f = search_window(&w, "error", false);
        let got: Vec<(i64, &str)> = f
            .matches
            .iter()
            .map(|m| (m.offset, m.line.as_str()))
            .collect();
        assert_eq!(got, vec![(0, "Error one"), (13, "another ERROR")]);
        assert_eq!(search_window(&w, "error", true).matches.len(), 0);
        assert_eq!((f.from, f.to, f.truncated), (0, 27, false));
    }

    #[test]
    fn download_names_are_header_safe() {
        assert_eq!(
            download_name("web-1", "g:a b\"\r\n", LogStream::Stderr),
            "web-1-g_a_b___-stderr.log"
        );
    }
}
