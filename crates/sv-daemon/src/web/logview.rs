//! The log view (`log.html`), its live follow (`logevents`, server-sent
//! events) and the download of a whole log (`download`): our additions to
//! Supervisor's page, for a process's stdout or stderr log or the main log.
//!
//! Windows are counted in lines, not bytes: the page reads the file
//! backwards until it has the lines asked for (bounded by
//! [`MAX_WINDOW_BYTES`]), so a line is never cut in half. The page then
//! follows from the byte offset where its window ended, so nothing written
//! in between is lost or shown twice. Like `/logtail`, following watches
//! the file (size and inode, every [`FOLLOW_POLL`]); a rotation or a clear
//! is announced and following goes on in the new file.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sv_xmlrpc::Value;

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
    pub fn from_form(form: &std::collections::BTreeMap<String, String>) -> Result<Source, String> {
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
                let params = vec![Value::from(namespec.as_str())];
                let info = match d.call_for_web("supervisor.getProcessInfo", params).await {
                    Ok(info) => info,
                    Err(fault) if fault.code == sv_api::FaultCode::BadName.code() => {
                        return Err(format!("No such process named {namespec}"));
                    }
                    Err(fault) => return Err(super::unexpected(&fault)),
                };
                let key = if *stderr {
                    "stderr_logfile"
                } else {
                    "stdout_logfile"
                };
                match info.get(key).and_then(Value::as_str) {
                    Some(path) if !path.is_empty() => Ok(PathBuf::from(path)),
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

/// How often a follower looks at the file.
pub const FOLLOW_POLL: Duration = Duration::from_millis(100);

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

/// Read the last `want` lines of `path` (a last line without a newline
/// counts as a line).
pub fn last_lines(path: &Path, want: usize) -> std::io::Result<Window> {
    let mut file = File::open(path)?;
    let end = file.metadata()?.len();
    let want = want.clamp(1, MAX_LINES);
    let floor = end.saturating_sub(MAX_WINDOW_BYTES);
    let mut start = end;
    let mut tail: Vec<u8> = Vec::new();
    // Walk back in blocks until the bytes after `start` hold `want` full
    // lines (want + 1 newlines, or the file's start).
    loop {
        let newlines = tail.iter().filter(|&&b| b == b'\n').count();
        let ends_open = !tail.is_empty() && tail.last() != Some(&b'\n');
        let complete = newlines + usize::from(ends_open);
        if start == floor || complete > want {
            break;
        }
        let block = (start - floor).min(64 << 10);
        start -= block;
        let mut chunk = vec![0u8; block as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut chunk)?;
        chunk.extend_from_slice(&tail);
        tail = chunk;
    }
    let text = String::from_utf8_lossy(&tail);
    let mut lines: Vec<&str> = text.split('\n').collect();
    if lines.last() == Some(&"") {
        lines.pop();
    }
    // The first piece is a partial line unless the window reaches the
    // start of the file.
    let mut more_before = start > 0;
    if start > 0 && !lines.is_empty() {
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
        open_end: tail.last().is_some_and(|&b| b != b'\n'),
    })
}

/// `download?processname=&channel=`: the whole current file, as an
/// attachment named after the process and channel.
pub async fn download(d: &Dispatcher, source: &Source) -> Response {
    let path = match source.path(d).await {
        Ok(path) => path,
        Err(message) => return (StatusCode::NOT_FOUND, message).into_response(),
    };
    let Ok(file) = File::open(&path) else {
        return (StatusCode::NOT_FOUND, "The log file does not exist yet").into_response();
    };
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
    let stream = futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buf = vec![0u8; 256 << 10];
        match file.read(&mut buf) {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(Bytes::from(buf)), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain;charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// One server-sent message with JSON data.
fn sse(event: &str, data: &serde_json::Value) -> Bytes {
    Bytes::from(format!("event: {event}\ndata: {data}\n\n"))
}

/// `logevents?processname=&channel=&offset=`: what is appended to the log
/// from `offset` on, as `event: append` messages (`{"text": …, "end": <the
/// file offset after it>}`, whole
/// UTF-8 characters), `event: reset` when the file was rotated, cleared or
/// truncated (the text after it starts the new file), and heartbeats.
pub async fn follow(d: &Dispatcher, source: &Source, offset: Option<u64>) -> Response {
    let path = match source.path(d).await {
        Ok(path) => path,
        Err(message) => return (StatusCode::NOT_FOUND, message).into_response(),
    };
    struct Follow {
        path: PathBuf,
        file: Option<File>,
        inode: Option<u64>,
        offset: u64,
        /// Bytes of an unfinished UTF-8 character held back.
        pending: Vec<u8>,
        idle: Duration,
        greeted: bool,
    }
    let state = Follow {
        path,
        file: None,
        inode: None,
        offset: offset.unwrap_or(u64::MAX),
        pending: Vec::new(),
        idle: Duration::ZERO,
        greeted: false,
    };
    let heartbeat = super::live::heartbeat();
    let stream = futures_util::stream::unfold(state, move |mut st| async move {
        if !st.greeted {
            st.greeted = true;
            return Some((
                Ok::<_, std::io::Error>(Bytes::from_static(b"retry: 3000\n: log follow\n\n")),
                st,
            ));
        }
        loop {
            if let Ok(meta) = std::fs::metadata(&st.path) {
                let mut reset = false;
                if st.inode != Some(meta.ino()) || st.file.is_none() {
                    let first = st.inode.is_none();
                    st.file = File::open(&st.path).ok();
                    st.inode = Some(meta.ino());
                    if first {
                        st.offset = st.offset.min(meta.len());
                    } else {
                        st.offset = 0;
                        reset = true;
                    }
                } else if meta.len() < st.offset {
                    st.offset = 0;
                    reset = true;
                }
                if reset {
                    st.pending.clear();
                    return Some((Ok(sse("reset", &serde_json::json!({}))), st));
                }
                if meta.len() > st.offset
                    && let Some(file) = st.file.as_mut()
                {
                    let want = (meta.len() - st.offset).min(256 << 10) as usize;
                    let mut buf = vec![0u8; want];
                    let read = file
                        .seek(SeekFrom::Start(st.offset))
                        .and_then(|_| file.read(&mut buf));
                    if let Ok(n) = read
                        && n > 0
                    {
                        st.offset += n as u64;
                        st.idle = Duration::ZERO;
                        let mut bytes = std::mem::take(&mut st.pending);
                        bytes.extend_from_slice(&buf[..n]);
                        let text = take_whole_chars(&mut bytes);
                        st.pending = bytes;
                        if !text.is_empty() {
                            let data = serde_json::json!({ "text": text, "end": st.offset });
                            return Some((Ok(sse("append", &data)), st));
                        }
                    }
                }
            }
            tokio::time::sleep(FOLLOW_POLL).await;
            st.idle += FOLLOW_POLL;
            if st.idle >= heartbeat {
                st.idle = Duration::ZERO;
                return Some((Ok(Bytes::from_static(b": heartbeat\n\n")), st));
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
