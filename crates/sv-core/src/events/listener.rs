//! One listener process's side of the event-listener protocol: the
//! ACKNOWLEDGED → READY → BUSY → ACKNOWLEDGED cycle read from its stdout,
//! the `RESULT <len>\n<result>` frame, and the UNKNOWN state a protocol
//! violation leads to.
//!
//! The state is the wire enum [`EventListenerState`] itself: the protocol
//! has exactly the four states Supervisor publishes, so there is nothing
//! to map.

use sv_api::EventListenerState;

use super::{LogLines, Queued};
use crate::config::LogLevel;
use crate::logtext::text_or_repr;

/// What a listener's output led to, besides its state.
#[derive(Debug)]
pub enum ListenerAction {
    /// The event must go back to the head of the pool's buffer.
    Requeue(Queued),
}

/// One listener process's side of the protocol (Supervisor's
/// `PEventListenerDispatcher.handle_listener_state_change`).
#[derive(Debug)]
pub struct Listener {
    /// The listener's process name, as Supervisor logs it.
    pub name: String,
    state: EventListenerState,
    buffer: Vec<u8>,
    result_len: Option<i64>,
    result: Vec<u8>,
    /// The event it was sent and has not answered.
    event: Option<Queued>,
}

const READY_TOKEN: &[u8] = b"READY\n";
const RESULT_PREFIX_LEN: usize = b"RESULT ".len();

impl Listener {
    /// A listener whose process was just spawned: ACKNOWLEDGED, waiting for `READY`.
    pub fn new(name: &str) -> Listener {
        Listener {
            name: name.to_string(),
            state: EventListenerState::Acknowledged,
            buffer: Vec::new(),
            result_len: None,
            result: Vec::new(),
            event: None,
        }
    }

    /// Where the listener is in the protocol.
    pub fn state(&self) -> EventListenerState {
        self.state
    }

    /// The event sent and not yet answered.
    pub fn event(&self) -> Option<&Queued> {
        self.event.as_ref()
    }

    /// A fresh process: ACKNOWLEDGED, nothing buffered (Supervisor makes a
    /// new dispatcher on each spawn).
    pub fn reset(&mut self) {
        self.state = EventListenerState::Acknowledged;
        self.buffer.clear();
        self.result_len = None;
        self.result.clear();
        self.event = None;
    }

    /// The pool wrote `queued`'s envelope to this listener's stdin: it is
    /// BUSY until it answers. Supervisor sets BUSY without the state-change
    /// log line, so this logs nothing.
    pub(super) fn sent(&mut self, queued: Queued) {
        self.state = EventListenerState::Busy;
        self.event = Some(queued);
    }

    /// The process ended: its unanswered event, to be requeued.
    pub fn take_event(&mut self) -> Option<Queued> {
        self.event.take()
    }

    fn change(&mut self, to: EventListenerState, log: &mut LogLines) {
        log.push((
            LogLevel::Debug,
            format!("{}: {} -> {}", self.name, self.state.name(), to.name()),
        ));
        self.state = to;
        if to == EventListenerState::Unknown {
            log.push((
                LogLevel::Warn,
                format!(
                    "{}: has entered the UNKNOWN state and will no longer receive events, this usually indicates the process violated the eventlistener protocol",
                    self.name
                ),
            ));
        }
    }

    /// Bytes the listener wrote on its stdout.
    pub fn feed(&mut self, data: &[u8], log: &mut LogLines, actions: &mut Vec<ListenerAction>) {
        self.buffer.extend_from_slice(data);
        self.advance(log, actions);
    }

    fn advance(&mut self, log: &mut LogLines, actions: &mut Vec<ListenerAction>) {
        // Supervisor recurses while the buffer is non-empty; this loops.
        while !self.buffer.is_empty() {
            match self.state {
                EventListenerState::Unknown => {
                    self.buffer.clear();
                    return;
                }
                EventListenerState::Acknowledged => {
                    if self.buffer.len() < READY_TOKEN.len() {
                        return;
                    }
                    if self.buffer.starts_with(READY_TOKEN) {
                        self.change(EventListenerState::Ready, log);
                        self.buffer.drain(..READY_TOKEN.len());
                    } else {
                        self.change(EventListenerState::Unknown, log);
                        self.buffer.clear();
                    }
                    self.event = None;
                }
                EventListenerState::Ready => {
                    // Spurious output: be strict about it.
                    self.change(EventListenerState::Unknown, log);
                    self.buffer.clear();
                    self.event = None;
                    return;
                }
                EventListenerState::Busy => match self.result_len {
                    None => {
                        let Some(pos) = self.buffer.iter().position(|&b| b == b'\n') else {
                            return;
                        };
                        let line: Vec<u8> = self.buffer.drain(..=pos).take(pos).collect();
                        let digits = line.get(RESULT_PREFIX_LEN..).unwrap_or(&[]);
                        match py_int(digits) {
                            Some(n) => self.result_len = Some(n),
                            None => {
                                let line = text_or_repr(&line);
                                log.push((
                                    LogLevel::Warn,
                                    format!("{}: bad result line: '{line}'", self.name),
                                ));
                                self.change(EventListenerState::Unknown, log);
                                self.buffer.clear();
                                if let Some(event) = self.event.take() {
                                    actions.push(ListenerAction::Requeue(event));
                                }
                                return;
                            }
                        }
                    }
                    Some(len) => {
                        self.take_result_bytes(len);
                        if len - self.result.len() as i64 == 0 {
                            let result = std::mem::take(&mut self.result);
                            self.result_len = None;
                            self.handle_result(&result, log, actions);
                        } else if !self.buffer.is_empty() && len < 0 {
                            // A negative length can never complete (as in
                            // Supervisor, which then waits forever).
                            return;
                        }
                    }
                },
            }
        }
    }

    /// Move result bytes from the buffer, as Supervisor's slicing does
    /// (`result += buf[:needed]; buf = buf[needed:]`, with Python's
    /// negative-index slices).
    fn take_result_bytes(&mut self, len: i64) {
        let needed = len - self.result.len() as i64;
        if needed == 0 {
            return;
        }
        let blen = self.buffer.len() as i64;
        let cut = if needed >= 0 {
            needed.min(blen)
        } else {
            (blen + needed).max(0)
        } as usize;
        self.result.extend(self.buffer.drain(..cut));
    }

    /// The default result handler: `OK` is success, anything else rejects.
    fn handle_result(
        &mut self,
        result: &[u8],
        log: &mut LogLines,
        actions: &mut Vec<ListenerAction>,
    ) {
        if result == b"OK" {
            log.push((
                LogLevel::Debug,
                format!("{}: event was processed", self.name),
            ));
            self.change(EventListenerState::Acknowledged, log);
            self.event = None;
        } else {
            log.push((LogLevel::Warn, format!("{}: event was rejected", self.name)));
            self.change(EventListenerState::Acknowledged, log);
            if let Some(event) = self.event.take() {
                actions.push(ListenerAction::Requeue(event));
            }
        }
    }
}

/// Python's `int(bytes)` for the result length: surrounding whitespace, an
/// optional sign, ASCII digits with single underscores between them.
/// Lengths beyond `i64` saturate (no listener sends them).
fn py_int(raw: &[u8]) -> Option<i64> {
    let is_space = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
    let start = raw.iter().position(|b| !is_space(b))?;
    let end = raw.iter().rposition(|b| !is_space(b))? + 1;
    let mut s = &raw[start..end];
    let negative = match s.first() {
        Some(b'-') => {
            s = &s[1..];
            true
        }
        Some(b'+') => {
            s = &s[1..];
            false
        }
        _ => false,
    };
    if s.is_empty() || s[0] == b'_' || s[s.len() - 1] == b'_' {
        return None;
    }
    let mut value: i64 = 0;
    let mut prev_underscore = false;
    for &b in s {
        if b == b'_' {
            if prev_underscore {
                return None;
            }
            prev_underscore = true;
            continue;
        }
        prev_underscore = false;
        if !b.is_ascii_digit() {
            return None;
        }
        value = value.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::testkit::*;

    #[test]
    fn acknowledged_waits_for_six_bytes_then_wants_ready() {
        let mut l = Listener::new("l0");
        assert_eq!(feed(&mut l, b"READY").0, []);
        assert_eq!(l.state(), EventListenerState::Acknowledged);
        assert_eq!(feed(&mut l, b"\n").0, [dbg("l0: ACKNOWLEDGED -> READY")]);
        assert_eq!(l.state(), EventListenerState::Ready);

        let mut l = Listener::new("l0");
        let (log, _) = feed(&mut l, b"HELLO!");
        assert_eq!(
            log,
            [dbg("l0: ACKNOWLEDGED -> UNKNOWN"), warn(UNKNOWN_WARNING)]
        );
        // UNKNOWN is final until the process restarts.
        assert_eq!(feed(&mut l, b"READY\n").0, []);
        assert_eq!(l.state(), EventListenerState::Unknown);
        l.reset();
        assert_eq!(l.state(), EventListenerState::Acknowledged);
        feed(&mut l, b"READY\n");
        assert_eq!(l.state(), EventListenerState::Ready);
    }

    #[test]
    fn output_while_ready_is_a_protocol_violation() {
        let mut l = Listener::new("l0");
        feed(&mut l, b"READY\n");
        let (log, _) = feed(&mut l, b"x");
        assert_eq!(log, [dbg("l0: READY -> UNKNOWN"), warn(UNKNOWN_WARNING)]);
        // READY\n and more in one write: the extra byte is spurious at once.
        let mut l = Listener::new("l0");
        feed(&mut l, b"READY\nx");
        assert_eq!(l.state(), EventListenerState::Unknown);
    }

    #[test]
    fn ok_acknowledges_and_the_next_ready_may_follow_in_the_same_write() {
        let (_pool, mut l) = busy_listener();
        let (log, requeued) = feed(&mut l, b"RESULT 2\nOKREADY\n");
        assert_eq!(
            log,
            [
                dbg("l0: event was processed"),
                dbg("l0: BUSY -> ACKNOWLEDGED"),
                dbg("l0: ACKNOWLEDGED -> READY"),
            ]
        );
        assert!(requeued.is_empty());
        assert!(l.event().is_none());
    }

    #[test]
    fn results_arrive_in_pieces() {
        let (_pool, mut l) = busy_listener();
        for piece in [&b"RESU"[..], b"LT 4", b"\nFA", b"I"] {
            let (log, requeued) = feed(&mut l, piece);
            assert!(log.is_empty() && requeued.is_empty());
            assert_eq!(l.state(), EventListenerState::Busy);
        }
        let (log, requeued) = feed(&mut l, b"L");
        assert_eq!(
            log,
            [
                warn("l0: event was rejected"),
                dbg("l0: BUSY -> ACKNOWLEDGED")
            ]
        );
        assert_eq!(requeued, [0]);
    }

    #[test]
    fn a_bad_result_line_is_fatal_and_requeues() {
        let (_pool, mut l) = busy_listener();
        let (log, requeued) = feed(&mut l, b"RESULT two\nOK");
        assert_eq!(
            log,
            [
                warn("l0: bad result line: 'RESULT two'"),
                dbg("l0: BUSY -> UNKNOWN"),
                warn(UNKNOWN_WARNING)
            ]
        );
        assert_eq!(requeued, [0]);
        let (_pool, mut l) = busy_listener();
        let (log, _) = feed(&mut l, b"\xff\n");
        assert_eq!(log[0], warn("l0: bad result line: 'Undecodable: b'\\xff''"));
    }

    #[test]
    fn the_result_length_is_read_as_python_reads_an_int() {
        assert_eq!(py_int(b"2"), Some(2));
        assert_eq!(py_int(b" 12\r"), Some(12));
        assert_eq!(py_int(b"+1_0"), Some(10));
        assert_eq!(py_int(b"-3"), Some(-3));
        assert_eq!(py_int(b""), None);
        assert_eq!(py_int(b"1__0"), None);
        assert_eq!(py_int(b"_1"), None);
        assert_eq!(py_int(b"0x1"), None);
        assert_eq!(py_int(b"1 2"), None);
        // The prefix itself is not checked: "XXXXXX 2" works as well.
        let (_pool, mut l) = busy_listener();
        feed(&mut l, b"ABCDEF 2\nOK");
        assert_eq!(l.state(), EventListenerState::Acknowledged);
        // RESULT 0 completes on the next byte (Supervisor looks only at a
        // non-empty buffer) and is a rejection.
        let (_pool, mut l) = busy_listener();
        let (log, requeued) = feed(&mut l, b"RESULT 0\n");
        assert!(log.is_empty() && requeued.is_empty());
        let (_, requeued) = feed(&mut l, b"READY\n");
        assert_eq!(requeued, [0]);
        assert_eq!(l.state(), EventListenerState::Ready);
    }
}
