//! The log view (`log.html`), its live follow (`logevents`, server-sent
//! events) and the download of a whole log (`download`): our additions to
//! Supervisor's page, for a process's stdout or stderr log or the main log.
//!
//! Windows are counted in lines, not bytes: the page reads the file
//! backwards until it has the lines asked for (bounded by
//! [`MAX_WINDOW_BYTES`]), so a line is never cut in half. The page then
//! follows from the byte offset where its window ended, so nothing written
//! in between is lost or shown twice. Following is `/logtail`'s
//! [`Follower`] (size and inode, every [`FOLLOW_POLL`](crate::http::follow::FOLLOW_POLL)); this module adds
//! the page's wire format: server-sent events carrying whole UTF-8
//! characters, a `reset` for a rotation or a clear.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sv_api::FaultCode;

use super::calls::unexpected;
use super::forms::Form;
use super::respond::text_error;
use crate::http::follow::{Event, Follower, Start, Waited};
use crate::rpc::Dispatcher;

/// Which log a request is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A process's stdout (`false`) or stderr (`true`) log.
    Process { namespec: String, stderr: bool },
    /// supervisord's own log.
    Main,
}

impl Source {
    /// From the `processname` and `channel` fields (`stdout` when absent).
    pub fn from_form(form: &Form) -> Result<Source, String> {
        let channel = form.get("channel").map(String::as_str).unwrap_or("stdout");
        let namespec = form.get("processname").filter(|n| !n.is_empty());
        match (channel, namespec) {
            ("main", _) => Ok(Source::Main),
            ("stdout" | "stderr", Some(namespec)) => Ok(Source::Process {
                namespec: namespec.clone(),
                stderr: channel == "stderr",
            }),
            ("stdout" | "stderr", None) => Err("No process name found".to_string()),
            (other, _) => Err(format!("Unknown channel {other:?}")),
        }
    }

    /// `stdout`, `stderr` or `main`.
    pub fn channel(&self) -> &'static str {
        match self {
            Source::Process { stderr: false, .. } => "stdout",
            Source::Process { stderr: true, .. } => "stderr",
            Source::Main => "main",
        }
    }

    /// The process's namespec; empty for the main log.
    pub fn namespec(&self) -> &str {
        match self {
            Source::Process { namespec, .. } => namespec,
            Source::Main => "",
        }
    }

    /// The file behind this log, or the message to show instead.
    pub async fn path(&self, d: &Dispatcher) -> Result<PathBuf, String> {
        match self {
            Source::Main => {
                let info = d.info().await.ok_or("supervisord is stopping")?;
                info.mainlog
                    .ok_or_else(|| "supervisord logs to no file (logfile=NONE or syslog)".into())
            }
            Source::Process { namespec, stderr } => {
                let info = match d.process_info(namespec).await {
                    Ok(info) => info,
                    Err(fault) if fault.code == FaultCode::BadName => {
                        return Err(format!("No such process named {namespec}"));
                    }
                    Err(fault) => return Err(unexpected(&fault)),
                };
                let path = if *stderr {
                    info.stderr_logfile
                } else {
                    info.stdout_logfile
                };
                match path {
                    path if !path.is_empty() => Ok(PathBuf::from(path)),
                    _ if *stderr => Err(format!(
                        "No stderr log for {namespec} (stderr_logfile=NONE, or redirect_stderr sends it to stdout)"
                    )),
                    _ => Err(format!(
                        "No stdout log for {namespec} (stdout_logfile=NONE)"
                    )),
                }
            }
        }
    }
}

/// The most a window reads, whatever number of lines is asked for.
pub const MAX_WINDOW_BYTES: u64 = 8 << 20;

/// The most lines a window holds.
pub const MAX_LINES: usize = 20_000;

/// The most lines the page keeps while following (older ones are
/// dropped from the top), unless its window is bigger.
pub const FOLLOW_KEEP: usize = 5_000;

/// The last lines of a file.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Window {
    /// The lines, oldest first, without their newline (lossy UTF-8).
    pub lines: Vec<String>,
    /// The file's size when read: where following starts.
    pub end: u64,
    /// Whether older content exists before the window.
    pub more_before: bool,
    /// Whether the file ends inside a line (the next bytes continue it).
    pub open_end: bool,
}

/// Refuse what is not a regular file: a log may be `/dev/stdout`, a
/// FIFO or a terminal (`logfile.rs`), and reading one would block or take
/// output meant for someone else.
pub fn regular_file(path: &Path) -> Result<(), String> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => Ok(()),
        Ok(_) => Err(format!(
            "{} is not a regular file (a pipe, terminal or device): there is nothing to show here",
            path.display()
        )),
        Err(e) => Err(format!("Cannot read {}: {e}", path.display())),
    }
}

/// Read the last `want` lines of `path` (a last line without a newline
/// counts as a line). Blocking: run it off the async workers.
pub fn last_lines(path: &Path, want: usize) -> std::io::Result<Window> {
    match read_window(path, want) {
        // The file shrank while being read (a clear, a rotation without
        // backups): once more, from its new size.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => read_window(path, want),
        other => other,
    }
}

fn read_window(path: &Path, want: usize) -> std::io::Result<Window> {
    let mut file = File::open(path)?;
    let end = file.metadata()?.len();
    let want = want.clamp(1, MAX_LINES);
    let floor = end.saturating_sub(MAX_WINDOW_BYTES);
    let mut start = end;
    // Blocks read backwards, newest first; newlines counted as they come.
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    let mut newlines = 0;
    let mut ends_open = false;
    // Walk back until the bytes after `start` hold more than `want` lines
    // (the first piece may be partial), the cap, or the file's start.
    while start > floor && newlines + usize::from(ends_open) <= want {
        let block = (start - floor).min(64 << 10);
        start -= block;
        let mut chunk = vec![0u8; block as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut chunk)?;
        if blocks.is_empty() {
            ends_open = chunk.last() != Some(&b'\n');
        }
        newlines += chunk.iter().filter(|&&b| b == b'\n').count();
        blocks.push(chunk);
    }
    // The first piece is a whole line at the file's start, or when the
    // byte before it ends a line.
    let first_whole = start == 0 || {
        let mut before = [0u8; 1];
        file.seek(SeekFrom::Start(start - 1))?;
        file.read_exact(&mut before)?;
        before[0] == b'\n'
    };
    let mut tail = Vec::with_capacity((end - start) as usize);
    for block in blocks.iter().rev() {
        tail.extend_from_slice(block);
    }
    drop(blocks);
    let text = String::from_utf8_lossy(&tail);
    let mut lines: Vec<&str> = text.split('\n').collect();
    if lines.last() == Some(&"") {
        lines.pop();
    }
    let mut more_before = start > 0;
    // A partial first line is dropped, unless it is all there is (a line
    // longer than the cap: its end is shown).
    if !first_whole && lines.len() > 1 {
        lines.remove(0);
    }
    if lines.len() > want {
        lines.drain(..lines.len() - want);
        more_before = true;
    }
    Ok(Window {
        lines: lines.into_iter().map(str::to_string).collect(),
        end,
        more_before,
        open_end: ends_open,
    })
}

/// `download?processname=&channel=`: the whole current file, as an
/// attachment named after the process and channel.
pub async fn download(d: &Dispatcher, source: &Source) -> Response {
    let path = match source.path(d).await {
        Ok(path) => path,
        Err(message) => return (StatusCode::NOT_FOUND, message).into_response(),
    };
    if !path.exists() {
        return (StatusCode::NOT_FOUND, "The log file does not exist yet").into_response();
    }
    if let Err(message) = regular_file(&path) {
        return text_error(StatusCode::NOT_FOUND, message);
    }
    let Ok(file) = File::open(&path) else {
        return (StatusCode::NOT_FOUND, "The log file cannot be opened").into_response();
    };
    // What the file holds now: a log growing faster than the client reads
    // must not make the download endless.
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let file = file.take(len);
    let name = match source {
        Source::Main => "supervisord.log".to_string(),
        Source::Process { namespec, .. } => format!("{namespec}-{}.log", source.channel()),
    };
    // Only characters that need no quoting in a header parameter.
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    // Each read on the blocking pool: a slow disk must not stall the
    // workers that serve everyone else.
    let stream = futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let read = tokio::task::spawn_blocking(move || {
            let mut buf = vec![0u8; 256 << 10];
            let read = file.read(&mut buf).map(|n| {
                buf.truncate(n);
                Bytes::from(buf)
            });
            (file, read)
        });
        match read.await {
            Ok((_, Ok(bytes))) if bytes.is_empty() => None,
            Ok((file, Ok(bytes))) => Some((Ok::<_, std::io::Error>(bytes), Some(file))),
            Ok((_, Err(e))) => Some((Err(e), None)),
            Err(e) => Some((Err(std::io::Error::other(e)), None)),
        }
    });
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain;charset=utf-8"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// `logevents?processname=&channel=&offset=`: what is appended to the log
/// from `offset` on (its end when absent), as `event: append` messages
/// (`{"text": …, "end": <the file offset after it>}`, whole UTF-8
/// characters), `event: reset` when the file was rotated, cleared or
/// truncated (the text after it starts the new file), and heartbeats. Each
/// message's `id:` is the offset it ends at, so a browser reconnecting
/// (with `Last-Event-ID`) goes on where it was. Before switching to a new
/// file after a rotation, what the old one still got is sent.
pub async fn follow(d: &Dispatcher, source: &Source, offset: Option<u64>) -> Response {
    let path = match source.path(d).await {
        Ok(path) => path,
        Err(message) => return text_error(StatusCode::NOT_FOUND, message),
    };
    if path.exists()
        && let Err(message) = regular_file(&path)
    {
        return text_error(StatusCode::NOT_FOUND, message);
    }
    let start = offset.map_or(Start::End, Start::Offset);
    let live = LiveLog {
        follower: Follower::new(path, start, MAX_FOLLOW_READ),
        text: WholeChars::default(),
        greeted: false,
    };
    let heartbeat = super::live::heartbeat();
    let stream = futures_util::stream::unfold(live, move |live| async move {
        let LiveLog {
            mut follower,
            mut text,
            greeted,
        } = live;
        if !greeted {
            let hello = Bytes::from_static(b"retry: 3000\n: log follow\n\n");
            let live = LiveLog {
                follower,
                text,
                greeted: true,
            };
            return Some((Ok::<_, std::io::Error>(hello), live));
        }
        loop {
            let (back, waited) = follower.next(Some(heartbeat)).await?;
            follower = back;
            let message = match waited {
                Waited::Idle => Some(Bytes::from_static(b": heartbeat\n\n")),
                Waited::Event(event) => text.message(event, follower.offset()),
            };
            if let Some(message) = message {
                let live = LiveLog {
                    follower,
                    text,
                    greeted,
                };
                return Some((Ok(message), live));
            }
        }
    });
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// The most bytes the live log reads at a time.
const MAX_FOLLOW_READ: usize = 256 << 10;

/// One `logevents` stream: the shared follower and the page's side of it.
struct LiveLog {
    follower: Follower,
    text: WholeChars,
    /// Whether the stream's first bytes went out.
    greeted: bool,
}

/// The page's wire format over a follower's events: text in whole UTF-8
/// characters (an unfinished one at the end of a read waits for the next),
/// each message's id the file offset it ends at.
#[derive(Debug, Default)]
struct WholeChars {
    /// Bytes of an unfinished UTF-8 character held back.
    pending: Vec<u8>,
}

impl WholeChars {
    /// The message for `event`, the follower being at `offset` after it;
    /// `None` when it holds no whole character yet.
    fn message(&mut self, event: Event, offset: u64) -> Option<Bytes> {
        match event {
            Event::Data(bytes) => {
                let mut bytes = [std::mem::take(&mut self.pending), bytes.to_vec()].concat();
                let text = take_whole_chars(&mut bytes);
                self.pending = bytes;
                if text.is_empty() {
                    return None;
                }
                let end = offset - self.pending.len() as u64;
                let data = serde_json::json!({ "text": text, "end": end });
                Some(sse(end, "append", &data))
            }
            // What follows starts a new file (or the cleared one's start).
            Event::Rotated | Event::Truncated => {
                self.pending.clear();
                Some(sse(offset, "reset", &serde_json::json!({})))
            }
        }
    }
}

/// One server-sent message, with the offset it ends at as its id.
fn sse(id: u64, event: &str, data: &serde_json::Value) -> Bytes {
    Bytes::from(format!("id: {id}\nevent: {event}\ndata: {data}\n\n"))
}

/// The text of `bytes` up to the last whole UTF-8 character; an unfinished
/// character at the end stays in `bytes`. Invalid bytes become U+FFFD.
fn take_whole_chars(bytes: &mut Vec<u8>) -> String {
    let len = bytes.len();
    let mut keep = 0;
    for back in 1..=len.min(3) {
        let b = bytes[len - back];
        if b & 0xC0 == 0x80 {
            continue;
        }
        let need = match b {
            0xF0.. => 4,
            0xE0.. => 3,
            0xC0.. => 2,
            _ => 1,
        };
        if need > back {
            keep = back;
        }
        break;
    }
    let rest = bytes.split_off(len - keep);
    let text = String::from_utf8_lossy(bytes).into_owned();
    *bytes = rest;
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with(content: &[u8]) -> tempfile::NamedTempFile {
        use std::io::Write;
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(content).unwrap();
        file
    }

    #[test]
    fn last_lines_counts_lines_not_bytes() {
        let file = file_with(b"one\ntwo\nthree\nfour\n");
        let window = last_lines(file.path(), 2).unwrap();
        assert_eq!(window.lines, ["three", "four"]);
        assert!(window.more_before);
        assert_eq!(window.end, 19);
        let all = last_lines(file.path(), 10).unwrap();
        assert_eq!(all.lines, ["one", "two", "three", "four"]);
        assert!(!all.more_before);
    }

    #[test]
    fn an_unfinished_last_line_is_a_line() {
        let file = file_with(b"one\ntwo\npartial");
        let window = last_lines(file.path(), 2).unwrap();
        assert_eq!(window.lines, ["two", "partial"]);
    }

    #[test]
    fn lines_across_block_boundaries() {
        let mut content = Vec::new();
        for i in 0..50_000 {
            content.extend_from_slice(format!("line {i}\n").as_bytes());
        }
        let file = file_with(&content);
        let window = last_lines(file.path(), 12_345).unwrap();
        assert_eq!(window.lines.len(), 12_345);
        assert_eq!(window.lines[0], "line 37655");
        assert_eq!(window.lines.last().unwrap(), "line 49999");
    }

    #[test]
    fn empty_file_is_an_empty_window() {
        let file = file_with(b"");
        assert_eq!(last_lines(file.path(), 5).unwrap(), Window::default());
    }

    #[test]
    fn a_line_longer_than_the_cap_shows_its_end() {
        let mut content = vec![b'a'; (MAX_WINDOW_BYTES + 1000) as usize];
        content.extend_from_slice(b"\n");
        let file = file_with(&content);
        let window = last_lines(file.path(), 10).unwrap();
        assert_eq!(window.lines.len(), 1);
        assert_eq!(window.lines[0].len(), MAX_WINDOW_BYTES as usize - 1);
        assert!(window.more_before);
    }

    #[test]
    fn a_window_starting_at_a_line_start_keeps_its_first_line() {
        // "x\n", then exactly the cap in 1 MiB lines: the window starts
        // right after a newline.
        let mut content = b"x\n".to_vec();
        for _ in 0..8 {
            content.extend(std::iter::repeat_n(b'z', (1 << 20) - 1));
            content.push(b'\n');
        }
        let file = file_with(&content);
        let window = last_lines(file.path(), 20).unwrap();
        assert_eq!(window.lines.len(), 8);
        assert!(window.more_before);
    }

    /// The live log's messages, one look at the file at a time.
    struct Stepper {
        follower: Follower,
        text: WholeChars,
    }

    impl Stepper {
        fn step(&mut self) -> Option<Bytes> {
            let event = self.follower.step()?;
            self.text.message(event, self.follower.offset())
        }
    }

    fn follower(path: &Path, start: Option<u64>) -> Stepper {
        Stepper {
            follower: Follower::new(
                path.to_path_buf(),
                start.map_or(Start::End, Start::Offset),
                MAX_FOLLOW_READ,
            ),
            text: WholeChars::default(),
        }
    }

    fn text(message: Option<Bytes>) -> String {
        String::from_utf8(message.expect("a message").to_vec()).unwrap()
    }

    #[test]
    fn follow_drains_a_rotated_file_before_the_new_one() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        std::fs::write(&path, b"one\n").unwrap();
        let mut st = follower(&path, Some(0));
        assert_eq!(
            text(st.step()),
            "id: 4\nevent: append\ndata: {\"text\":\"one\\n\",\"end\":4}\n\n"
        );
        assert!(st.step().is_none());
        // Written just before the rotation, then rotated, then new output.
        let mut old = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        old.write_all(b"two\n").unwrap();
        std::fs::rename(&path, dir.path().join("x.log.1")).unwrap();
        std::fs::write(&path, b"three\n").unwrap();
        assert!(text(st.step()).contains("\"text\":\"two\\n\""));
        assert_eq!(text(st.step()), "id: 0\nevent: reset\ndata: {}\n\n");
        assert!(text(st.step()).contains("\"text\":\"three\\n\",\"end\":6"));
        // Truncated (a clear): reset, then what comes.
        std::fs::write(&path, b"").unwrap();
        assert!(text(st.step()).contains("event: reset"));
        std::fs::write(&path, b"4\n").unwrap();
        assert!(text(st.step()).contains("\"text\":\"4\\n\""));
    }

    #[test]
    fn follow_from_past_the_end_is_a_reset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        std::fs::write(&path, b"new\n").unwrap();
        // The page had read 100 bytes of a file since cleared.
        let mut st = follower(&path, Some(100));
        assert!(text(st.step()).contains("event: reset"));
        assert!(text(st.step()).contains("\"text\":\"new\\n\""));
        // No start given: from the end.
        let mut st = follower(&path, None);
        assert!(st.step().is_none());
    }

    #[test]
    fn a_character_split_across_reads_is_sent_whole() {
        let mut text = WholeChars::default();
        let e_acute = "é".as_bytes();
        let first = Event::Data(Bytes::from(vec![b'a', e_acute[0]]));
        assert_eq!(
            text.message(first, 2),
            Some(Bytes::from_static(
                b"id: 1\nevent: append\ndata: {\"text\":\"a\",\"end\":1}\n\n"
            ))
        );
        let rest = Event::Data(Bytes::from(vec![e_acute[1]]));
        let message = text.message(rest, 3).expect("the character is whole");
        assert!(String::from_utf8_lossy(&message).contains("\"text\":\"é\",\"end\":3"));
        // Held back alone: no message yet.
        assert_eq!(text.message(Event::Data(Bytes::from(vec![0xC3])), 4), None);
        // A reset drops what was held back.
        assert!(text.message(Event::Truncated, 0).is_some());
        assert!(text.pending.is_empty());
    }

    #[test]
    fn unfinished_characters_wait_for_their_end() {
        let mut bytes = "aé".as_bytes().to_vec();
        let last = bytes.pop().unwrap();
        assert_eq!(take_whole_chars(&mut bytes), "a");
        bytes.push(last);
        bytes.extend_from_slice(b"\xffz");
        assert_eq!(take_whole_chars(&mut bytes), "é\u{fffd}z");
        assert!(bytes.is_empty());
    }
}
