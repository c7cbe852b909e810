//! Following a daemon's live state stream: `GET /events`, the
//! server-sent-events stream this project's supervisord serves for its
//! status page (Supervisor 4.3 has no such URL and answers 404). The hub
//! uses it to refresh a node the moment something changes there.
//!
//! Only the event *names* matter to a follower (`state` with a batch of
//! changes, `resync` when it fell behind); the data is handed over as text.

use hyper::body::Incoming;

use crate::{Client, Error, next_chunk};

/// Where the daemon serves the stream.
pub const EVENTS_PATH: &str = "/events";

/// The longest event accepted; a longer one is dropped and reported as
/// [`LiveEvent::Resync`], so a misbehaving server cannot make the follower
/// buffer without bound.
const MAX_EVENT_BYTES: usize = 1 << 20;

/// One message of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveEvent {
    /// `event: state`: one batch of process state changes (the JSON text).
    State(String),
    /// `event: resync`: the follower should reload everything.
    Resync,
    /// Any other named event, with its data.
    Other { name: String, data: String },
}

/// An open `/events` stream.
#[derive(Debug)]
pub struct EventStream {
    body: Incoming,
    /// Bytes received but not yet a whole event.
    pending: Vec<u8>,
    /// The event being received was too long: skip to its end.
    skipping: bool,
}

impl Client {
    /// Open the daemon's live stream. `Ok(None)` when the daemon has none
    /// (any status but 200: Supervisor 4.3 answers 404). The call's
    /// deadline bounds opening only; the stream itself lasts as long as
    /// the daemon keeps it open.
    pub async fn live_events(&self) -> Result<Option<EventStream>, Error> {
        let (status, _, body) = self.get_stream(EVENTS_PATH).await?;
        if status != 200 {
            return Ok(None);
        }
        Ok(Some(EventStream {
            body,
            pending: Vec::new(),
            skipping: false,
        }))
    }
}

impl EventStream {
    /// The next named event; comments and heartbeats are skipped.
    /// `Ok(None)` when the daemon closed the stream.
    pub async fn next(&mut self) -> Result<Option<LiveEvent>, Error> {
        loop {
            if let Some(event) = self.take_event() {
                if let Some(event) = event {
                    return Ok(Some(event));
                }
                continue;
            }
            match next_chunk(&mut self.body).await? {
                None => return Ok(None),
                Some(chunk) => {
                    self.pending.extend_from_slice(&chunk);
                    if self.pending.len() > MAX_EVENT_BYTES && find_end(&self.pending).is_none() {
                        self.pending.clear();
                        self.skipping = true;
                    }
                }
            }
        }
    }

    /// One whole event from the buffer: `None` if none is complete yet,
    /// `Some(None)` for a block without a name (comments, `retry:`).
    fn take_event(&mut self) -> Option<Option<LiveEvent>> {
        let (end, sep) = find_end(&self.pending)?;
        let block: Vec<u8> = self.pending.drain(..end + sep).collect();
        if std::mem::take(&mut self.skipping) {
            return Some(Some(LiveEvent::Resync));
        }
        Some(parse_block(&String::from_utf8_lossy(&block[..end])))
    }
}

/// Where the first event ends (a blank line) and the separator's length.
fn find_end(buf: &[u8]) -> Option<(usize, usize)> {
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2));
    let crlf = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4));
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// An event block's `event:` name and `data:` lines.
fn parse_block(block: &str) -> Option<LiveEvent> {
    let mut name = None;
    let mut data: Vec<&str> = Vec::new();
    for line in block.lines() {
        if let Some(v) = line.strip_prefix("event:") {
            name = Some(v.trim_start().to_string());
        } else if let Some(v) = line.strip_prefix("data:") {
            data.push(v.strip_prefix(' ').unwrap_or(v));
        }
    }
    let data = data.join("\n");
    match name?.as_str() {
        "state" => Some(LiveEvent::State(data)),
        "resync" => Some(LiveEvent::Resync),
        other => Some(LiveEvent::Other {
            name: other.to_string(),
            data,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_parse_to_named_events() {
        assert_eq!(
            parse_block("event: state\ndata: {\"changes\":[]}"),
            Some(LiveEvent::State("{\"changes\":[]}".into()))
        );
        assert_eq!(
            parse_block("event: resync\ndata: {}"),
            Some(LiveEvent::Resync)
        );
        assert_eq!(parse_block("retry: 3000\n: hello"), None);
        assert_eq!(parse_block(": heartbeat"), None);
    }

    #[test]
    fn an_event_ends_at_the_first_blank_line() {
        assert_eq!(find_end(b"event: a\n\nevent: b\n\n"), Some((8, 2)));
        assert_eq!(find_end(b"event: a\r\n\r\n"), Some((8, 4)));
        assert_eq!(find_end(b"event: a\n"), None);
    }
}
