//! Events and the event-listener protocol, as pure data and pure functions.
//!
//! Supervisor's event system (`events.py`, the `EventListenerPool` of
//! `process.py`, the output dispatchers of `dispatchers.py`) split into the
//! parts that decide and the parts that do:
//!
//! * [`EventType`]: the type hierarchy listeners subscribe to (subscribing to
//!   a type subscribes to its subtypes), with Supervisor's names.
//! * [`Event`]: one event and its payload, byte for byte Supervisor's.
//! * [`envelope`]: the header a listener reads before the payload.
//! * [`Hub`] and [`Pool`]: subscriptions, the global and per-pool serials,
//!   each pool's bounded buffer and its dispatch to the first free listener.
//! * [`Listener`]: the READY / BUSY / ACKNOWLEDGED protocol a listener
//!   speaks on its stdout.
//! * [`CaptureSplitter`]: capture mode, which turns output between
//!   `<!--XSUPERVISOR:BEGIN-->` and `<!--XSUPERVISOR:END-->` into
//!   PROCESS_COMMUNICATION events.
//! * [`Ticks`]: when TICK_5 / TICK_60 / TICK_3600 are due.
//!
//! Nothing here reads a clock, writes a pipe or logs: the daemon passes the
//! time in, supplies a writer for envelopes, and writes the returned log
//! lines.

use std::collections::VecDeque;
use std::rc::Rc;

use crate::config::LogLevel;
use crate::logtext::{py_bytes_repr, strip_ansi};
use crate::process::State;

/// Main-log lines produced by the event machinery, in order.
pub type LogLines = Vec<(LogLevel, String)>;

/// Supervisor's event types (`events.EventTypes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    Event,
    ProcessState,
    ProcessStateStopped,
    ProcessStateExited,
    ProcessStateStarting,
    ProcessStateStopping,
    ProcessStateBackoff,
    ProcessStateFatal,
    ProcessStateRunning,
    ProcessStateUnknown,
    ProcessCommunication,
    ProcessCommunicationStdout,
    ProcessCommunicationStderr,
    ProcessLog,
    ProcessLogStdout,
    ProcessLogStderr,
    RemoteCommunication,
    SupervisorStateChange,
    SupervisorStateChangeRunning,
    SupervisorStateChangeStopping,
    Tick,
    Tick5,
    Tick60,
    Tick3600,
    ProcessGroup,
    ProcessGroupAdded,
    ProcessGroupRemoved,
}

impl EventType {
    pub const ALL: [EventType; 27] = [
        EventType::Event,
        EventType::ProcessState,
        EventType::ProcessStateStopped,
        EventType::ProcessStateExited,
        EventType::ProcessStateStarting,
        EventType::ProcessStateStopping,
        EventType::ProcessStateBackoff,
        EventType::ProcessStateFatal,
        EventType::ProcessStateRunning,
        EventType::ProcessStateUnknown,
        EventType::ProcessCommunication,
        EventType::ProcessCommunicationStdout,
        EventType::ProcessCommunicationStderr,
        EventType::ProcessLog,
        EventType::ProcessLogStdout,
        EventType::ProcessLogStderr,
        EventType::RemoteCommunication,
        EventType::SupervisorStateChange,
        EventType::SupervisorStateChangeRunning,
        EventType::SupervisorStateChangeStopping,
        EventType::Tick,
        EventType::Tick5,
        EventType::Tick60,
        EventType::Tick3600,
        EventType::ProcessGroup,
        EventType::ProcessGroupAdded,
        EventType::ProcessGroupRemoved,
    ];

    /// The name in `events=` and in the envelope's `eventname`.
    pub fn name(self) -> &'static str {
        use EventType::*;
        match self {
            Event => "EVENT",
            ProcessState => "PROCESS_STATE",
            ProcessStateStopped => "PROCESS_STATE_STOPPED",
            ProcessStateExited => "PROCESS_STATE_EXITED",
            ProcessStateStarting => "PROCESS_STATE_STARTING",
            ProcessStateStopping => "PROCESS_STATE_STOPPING",
            ProcessStateBackoff => "PROCESS_STATE_BACKOFF",
            ProcessStateFatal => "PROCESS_STATE_FATAL",
            ProcessStateRunning => "PROCESS_STATE_RUNNING",
            ProcessStateUnknown => "PROCESS_STATE_UNKNOWN",
            ProcessCommunication => "PROCESS_COMMUNICATION",
            ProcessCommunicationStdout => "PROCESS_COMMUNICATION_STDOUT",
            ProcessCommunicationStderr => "PROCESS_COMMUNICATION_STDERR",
            ProcessLog => "PROCESS_LOG",
            ProcessLogStdout => "PROCESS_LOG_STDOUT",
            ProcessLogStderr => "PROCESS_LOG_STDERR",
            RemoteCommunication => "REMOTE_COMMUNICATION",
            SupervisorStateChange => "SUPERVISOR_STATE_CHANGE",
            SupervisorStateChangeRunning => "SUPERVISOR_STATE_CHANGE_RUNNING",
            SupervisorStateChangeStopping => "SUPERVISOR_STATE_CHANGE_STOPPING",
            Tick => "TICK",
            Tick5 => "TICK_5",
            Tick60 => "TICK_60",
            Tick3600 => "TICK_3600",
            ProcessGroup => "PROCESS_GROUP",
            ProcessGroupAdded => "PROCESS_GROUP_ADDED",
            ProcessGroupRemoved => "PROCESS_GROUP_REMOVED",
        }
    }

    /// A type by name, case-insensitively (as `events=` is read).
    pub fn parse(name: &str) -> Option<EventType> {
        let upper = name.trim().to_ascii_uppercase();
        EventType::ALL.into_iter().find(|t| t.name() == upper)
    }

    /// The supertype (`None` for EVENT).
    pub fn parent(self) -> Option<EventType> {
        use EventType::*;
        Some(match self {
            Event => return None,
            ProcessState
            | ProcessCommunication
            | ProcessLog
            | RemoteCommunication
            | SupervisorStateChange
            | Tick
            | ProcessGroup => Event,
            ProcessStateStopped | ProcessStateExited | ProcessStateStarting
            | ProcessStateStopping | ProcessStateBackoff | ProcessStateFatal
            | ProcessStateRunning | ProcessStateUnknown => ProcessState,
            ProcessCommunicationStdout | ProcessCommunicationStderr => ProcessCommunication,
            ProcessLogStdout | ProcessLogStderr => ProcessLog,
            SupervisorStateChangeRunning | SupervisorStateChangeStopping => SupervisorStateChange,
            Tick5 | Tick60 | Tick3600 => Tick,
            ProcessGroupAdded | ProcessGroupRemoved => ProcessGroup,
        })
    }

    /// Abstract types are only subscribed to, never sent.
    pub fn is_abstract(self) -> bool {
        use EventType::*;
        matches!(
            self,
            Event
                | ProcessState
                | ProcessCommunication
                | ProcessLog
                | SupervisorStateChange
                | Tick
                | ProcessGroup
        )
    }

    /// Python's `isinstance(event, ancestor)`: `self` is `ancestor` or one of
    /// its subtypes.
    pub fn is_a(self, ancestor: EventType) -> bool {
        let mut t = Some(self);
        while let Some(current) = t {
            if current == ancestor {
                return true;
            }
            t = current.parent();
        }
        false
    }

    /// The PROCESS_STATE_* type of entering `state`.
    pub fn for_state(state: State) -> EventType {
        match state {
            State::Stopped => EventType::ProcessStateStopped,
            State::Starting => EventType::ProcessStateStarting,
            State::Running => EventType::ProcessStateRunning,
            State::Backoff => EventType::ProcessStateBackoff,
            State::Stopping => EventType::ProcessStateStopping,
            State::Exited => EventType::ProcessStateExited,
            State::Fatal => EventType::ProcessStateFatal,
            State::Unknown => EventType::ProcessStateUnknown,
        }
    }
}

/// Which output channel a log or communication event comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    Stdout,
    Stderr,
}

impl Channel {
    pub fn name(self) -> &'static str {
        match self {
            Channel::Stdout => "stdout",
            Channel::Stderr => "stderr",
        }
    }
}

/// One event, with what its payload needs captured when it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A process entered `to`.
    ProcessState {
        process: String,
        group: String,
        from: State,
        to: State,
        expected: bool,
        tries: u32,
        pid: u32,
    },
    /// A chunk of output (`*_events_enabled`).
    ProcessLog {
        channel: Channel,
        process: String,
        group: String,
        pid: u32,
        data: Vec<u8>,
    },
    /// Output captured between the capture-mode tokens.
    ProcessCommunication {
        channel: Channel,
        process: String,
        group: String,
        pid: u32,
        data: Vec<u8>,
    },
    /// `sendRemoteCommEvent(type, data)`.
    RemoteCommunication {
        kind: String,
        data: String,
    },
    SupervisorRunning,
    SupervisorStopping,
    /// TICK_`period` with `when` the start of the new time slice.
    Tick {
        period: u32,
        when: i64,
    },
    GroupAdded(String),
    GroupRemoved(String),
}

/// Output bytes as Supervisor puts them in a payload: the UTF-8 text, or
/// `Undecodable: b'…'`.
fn output_text(data: &[u8]) -> String {
    match std::str::from_utf8(data) {
        Ok(text) => text.to_string(),
        Err(_) => format!("Undecodable: {}", py_bytes_repr(data)),
    }
}

impl Event {
    pub fn event_type(&self) -> EventType {
        match self {
            Event::ProcessState { to, .. } => EventType::for_state(*to),
            Event::ProcessLog {
                channel: Channel::Stdout,
                ..
            } => EventType::ProcessLogStdout,
            Event::ProcessLog { .. } => EventType::ProcessLogStderr,
            Event::ProcessCommunication {
                channel: Channel::Stdout,
                ..
            } => EventType::ProcessCommunicationStdout,
            Event::ProcessCommunication { .. } => EventType::ProcessCommunicationStderr,
            Event::RemoteCommunication { .. } => EventType::RemoteCommunication,
            Event::SupervisorRunning => EventType::SupervisorStateChangeRunning,
            Event::SupervisorStopping => EventType::SupervisorStateChangeStopping,
            Event::Tick { period: 5, .. } => EventType::Tick5,
            Event::Tick { period: 60, .. } => EventType::Tick60,
            Event::Tick { .. } => EventType::Tick3600,
            Event::GroupAdded(_) => EventType::ProcessGroupAdded,
            Event::GroupRemoved(_) => EventType::ProcessGroupRemoved,
        }
    }

    /// The payload, exactly as Supervisor's `payload()` renders it.
    pub fn payload(&self) -> String {
        match self {
            Event::ProcessState {
                process,
                group,
                from,
                to,
                expected,
                tries,
                pid,
            } => {
                let mut s = format!(
                    "processname:{process} groupname:{group} from_state:{}",
                    from.name()
                );
                match to {
                    State::Starting | State::Backoff => s.push_str(&format!(" tries:{tries}")),
                    State::Exited => {
                        s.push_str(&format!(" expected:{} pid:{pid}", u8::from(*expected)))
                    }
                    State::Running | State::Stopping | State::Stopped => {
                        s.push_str(&format!(" pid:{pid}"))
                    }
                    State::Fatal | State::Unknown => {}
                }
                s
            }
            Event::ProcessLog {
                channel,
                process,
                group,
                pid,
                data,
            } => format!(
                "processname:{process} groupname:{group} pid:{pid} channel:{}\n{}",
                channel.name(),
                output_text(data)
            ),
            Event::ProcessCommunication {
                process,
                group,
                pid,
                data,
                ..
            } => format!(
                "processname:{process} groupname:{group} pid:{pid}\n{}",
                output_text(data)
            ),
            Event::RemoteCommunication { kind, data } => format!("type:{kind}\n{data}"),
            Event::SupervisorRunning | Event::SupervisorStopping => String::new(),
            Event::Tick { when, .. } => format!("when:{when}"),
            Event::GroupAdded(group) | Event::GroupRemoved(group) => {
                format!("groupname:{group}\n")
            }
        }
    }
}

/// The envelope a listener reads: the header line and the payload. `len`
/// counts code points, as Supervisor measures its `str` payload.
pub fn envelope(
    server: &str,
    serial: u64,
    pool: &str,
    pool_serial: u64,
    event_type: EventType,
    payload: &str,
) -> String {
    format!(
        "ver:3.0 server:{server} serial:{serial} pool:{pool} poolserial:{pool_serial} eventname:{} len:{}\n{payload}",
        event_type.name(),
        payload.chars().count()
    )
}

/// An event with its global serial, shared by every pool that took it.
#[derive(Debug)]
pub struct Stamped {
    pub serial: u64,
    pub event: Event,
    /// The payload, rendered once.
    pub payload: String,
}

/// An event in one pool's buffer (or assigned to one of its listeners).
#[derive(Debug, Clone)]
pub struct Queued {
    pub stamped: Rc<Stamped>,
    pub pool_serial: u64,
}

impl Queued {
    pub fn serial(&self) -> u64 {
        self.stamped.serial
    }
}

/// Supervisor's serials wrap from `sys.maxsize` to 0.
fn next_serial(last: &mut Option<u64>) -> u64 {
    let next = match *last {
        Some(n) if n < i64::MAX as u64 => n + 1,
        _ => 0,
    };
    *last = Some(next);
    next
}

/// One `[eventlistener:x]` pool: its subscriptions and its buffer.
#[derive(Debug)]
pub struct Pool {
    pub name: String,
    buffer_size: usize,
    subscriptions: Vec<EventType>,
    buffer: VecDeque<Queued>,
    serial: Option<u64>,
}

impl Pool {
    /// `events` are type names as configured (unknown names are ignored:
    /// the config loader has refused them already).
    pub fn new(name: &str, buffer_size: i64, events: &[String]) -> Pool {
        Pool {
            name: name.to_string(),
            buffer_size: buffer_size.max(0) as usize,
            subscriptions: events.iter().filter_map(|e| EventType::parse(e)).collect(),
            buffer: VecDeque::new(),
            serial: None,
        }
    }

    pub fn subscribes(&self, event_type: EventType) -> bool {
        self.subscriptions.iter().any(|s| event_type.is_a(*s))
    }

    pub fn subscribes_to_ticks(&self) -> bool {
        [EventType::Tick5, EventType::Tick60, EventType::Tick3600]
            .into_iter()
            .any(|t| self.subscribes(t))
    }

    /// Events waiting for a listener.
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// Serials of the buffered events, oldest first.
    pub fn buffered_serials(&self) -> Vec<u64> {
        self.buffer.iter().map(Queued::serial).collect()
    }

    /// Supervisor's `_acceptEvent` for an event seen for the first time.
    fn accept_new(&mut self, stamped: Rc<Stamped>, log: &mut LogLines) {
        let pool_serial = next_serial(&mut self.serial);
        self.push(
            Queued {
                stamped,
                pool_serial,
            },
            false,
            log,
        );
    }

    /// Put back an event this pool had already accepted (a rejection, a
    /// listener that died, or no free listener), at the head of the buffer.
    pub fn requeue(&mut self, queued: Queued, log: &mut LogLines) {
        log.push((
            LogLevel::Debug,
            format!(
                "rebuffering event {} for pool {} (buf size={}, max={})",
                queued.serial(),
                self.name,
                self.buffer.len(),
                self.buffer_size
            ),
        ));
        self.push(queued, true, log);
    }

    fn push(&mut self, queued: Queued, head: bool, log: &mut LogLines) {
        if self.buffer.len() >= self.buffer_size
            && let Some(discarded) = self.buffer.pop_front()
        {
            log.push((
                LogLevel::Error,
                format!(
                    "pool {} event buffer overflowed, discarding event {}",
                    self.name,
                    discarded.serial()
                ),
            ));
        }
        if head {
            self.buffer.push_front(queued);
        } else {
            self.buffer.push_back(queued);
        }
    }

    /// Supervisor's `dispatch`: hand the buffered events, oldest first, to
    /// the first listener (in config order) that is RUNNING and READY.
    ///
    /// `listeners` are the pool's listeners in config order, each with
    /// whether its process is RUNNING; `write(i, envelope)` queues the
    /// envelope on listener `i`'s stdin and returns false when its stdin is
    /// closed (Supervisor's EPIPE). Stops at the first event no listener
    /// takes, which goes back to the head of the buffer.
    pub fn dispatch(
        &mut self,
        server: &str,
        listeners: &mut [(bool, &mut Listener)],
        mut write: impl FnMut(usize, &[u8]) -> bool,
        log: &mut LogLines,
    ) {
        if !listeners
            .iter()
            .any(|(running, l)| *running && l.state == ListenerState::Ready)
        {
            return;
        }
        while let Some(queued) = self.buffer.pop_front() {
            let mut sent = false;
            for (i, (running, listener)) in listeners.iter_mut().enumerate() {
                if !*running || listener.state != ListenerState::Ready {
                    continue;
                }
                let stamped = &queued.stamped;
                let text = envelope(
                    server,
                    stamped.serial,
                    &self.name,
                    queued.pool_serial,
                    stamped.event.event_type(),
                    &stamped.payload,
                );
                if !write(i, text.as_bytes()) {
                    log.push((
                        LogLevel::Debug,
                        format!(
                            "epipe occurred while sending event {} to listener {}, listener state unchanged",
                            stamped.serial, listener.name
                        ),
                    ));
                    continue;
                }
                // Supervisor sets BUSY without the state-change log line.
                listener.state = ListenerState::Busy;
                log.push((
                    LogLevel::Debug,
                    format!(
                        "event {} sent to listener {}",
                        stamped.serial, listener.name
                    ),
                ));
                listener.event = Some(queued.clone());
                sent = true;
                break;
            }
            if !sent {
                self.requeue(queued, log);
                break;
            }
        }
    }
}

/// Every pool in subscription order, and the global serial.
#[derive(Debug, Default)]
pub struct Hub {
    pools: Vec<Pool>,
    serial: Option<u64>,
}

impl Hub {
    pub fn new() -> Hub {
        Hub::default()
    }

    /// A hub whose global serial goes on after `last` (a restart keeps the
    /// counter; the pools and their serials start over).
    pub fn continuing(last: Option<u64>) -> Hub {
        Hub {
            pools: Vec::new(),
            serial: last,
        }
    }

    /// The last global serial handed out.
    pub fn last_serial(&self) -> Option<u64> {
        self.serial
    }

    /// Subscribe a pool (Supervisor subscribes when the pool is created, so
    /// later pools come later in its callback list).
    pub fn add_pool(&mut self, pool: Pool) {
        self.pools.retain(|p| p.name != pool.name);
        self.pools.push(pool);
    }

    /// Unsubscribe a pool; its buffered events are dropped.
    pub fn remove_pool(&mut self, name: &str) -> Option<Pool> {
        let index = self.pools.iter().position(|p| p.name == name)?;
        Some(self.pools.remove(index))
    }

    pub fn pool(&self, name: &str) -> Option<&Pool> {
        self.pools.iter().find(|p| p.name == name)
    }

    pub fn pool_mut(&mut self, name: &str) -> Option<&mut Pool> {
        self.pools.iter_mut().find(|p| p.name == name)
    }

    pub fn pools(&self) -> impl Iterator<Item = &Pool> {
        self.pools.iter()
    }

    /// Whether any pool subscribes to some type of `event_type`'s (so a
    /// producer can skip building events nobody wants).
    pub fn wants(&self, event_type: EventType) -> bool {
        self.pools.iter().any(|p| p.subscribes(event_type))
    }

    pub fn wants_ticks(&self) -> bool {
        self.pools.iter().any(Pool::subscribes_to_ticks)
    }

    /// Supervisor's `notify`: every subscribed pool accepts the event. The
    /// global serial is taken only if some pool does. Returns the names of
    /// the pools that took it (to dispatch).
    pub fn notify(&mut self, event: Event, log: &mut LogLines) -> Vec<String> {
        let event_type = event.event_type();
        let mut stamped: Option<Rc<Stamped>> = None;
        let mut takers = Vec::new();
        for pool in &mut self.pools {
            if !pool.subscribes(event_type) {
                continue;
            }
            let shared = match &stamped {
                Some(s) => s.clone(),
                None => {
                    let serial = next_serial(&mut self.serial);
                    let payload = event.payload();
                    let s = Rc::new(Stamped {
                        serial,
                        event: event.clone(),
                        payload,
                    });
                    stamped = Some(s.clone());
                    s
                }
            };
            pool.accept_new(shared, log);
            takers.push(pool.name.clone());
        }
        takers
    }
}

/// A listener's protocol state (Supervisor's `EventListenerStates`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenerState {
    Ready,
    Busy,
    Acknowledged,
    Unknown,
}

impl ListenerState {
    pub fn name(self) -> &'static str {
        match self {
            ListenerState::Ready => "READY",
            ListenerState::Busy => "BUSY",
            ListenerState::Acknowledged => "ACKNOWLEDGED",
            ListenerState::Unknown => "UNKNOWN",
        }
    }
}

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
    pub name: String,
    state: ListenerState,
    buffer: Vec<u8>,
    result_len: Option<i64>,
    result: Vec<u8>,
    /// The event it was sent and has not answered.
    event: Option<Queued>,
}

const READY_TOKEN: &[u8] = b"READY\n";
const RESULT_PREFIX_LEN: usize = b"RESULT ".len();

impl Listener {
    pub fn new(name: &str) -> Listener {
        Listener {
            name: name.to_string(),
            state: ListenerState::Acknowledged,
            buffer: Vec::new(),
            result_len: None,
            result: Vec::new(),
            event: None,
        }
    }

    pub fn state(&self) -> ListenerState {
        self.state
    }

    /// The event sent and not yet answered.
    pub fn event(&self) -> Option<&Queued> {
        self.event.as_ref()
    }

    /// A fresh process: ACKNOWLEDGED, nothing buffered (Supervisor makes a
    /// new dispatcher on each spawn).
    pub fn reset(&mut self) {
        self.state = ListenerState::Acknowledged;
        self.buffer.clear();
        self.result_len = None;
        self.result.clear();
        self.event = None;
    }

    /// The process ended: its unanswered event, to be requeued.
    pub fn take_event(&mut self) -> Option<Queued> {
        self.event.take()
    }

    fn change(&mut self, to: ListenerState, log: &mut LogLines) {
        log.push((
            LogLevel::Debug,
            format!("{}: {} -> {}", self.name, self.state.name(), to.name()),
        ));
        self.state = to;
        if to == ListenerState::Unknown {
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
                ListenerState::Unknown => {
                    self.buffer.clear();
                    return;
                }
                ListenerState::Acknowledged => {
                    if self.buffer.len() < READY_TOKEN.len() {
                        return;
                    }
                    if self.buffer.starts_with(READY_TOKEN) {
                        self.change(ListenerState::Ready, log);
                        self.buffer.drain(..READY_TOKEN.len());
                    } else {
                        self.change(ListenerState::Unknown, log);
                        self.buffer.clear();
                    }
                    self.event = None;
                }
                ListenerState::Ready => {
                    // Spurious output: be strict about it.
                    self.change(ListenerState::Unknown, log);
                    self.buffer.clear();
                    self.event = None;
                    return;
                }
                ListenerState::Busy => match self.result_len {
                    None => {
                        let Some(pos) = self.buffer.iter().position(|&b| b == b'\n') else {
                            return;
                        };
                        let line: Vec<u8> = self.buffer.drain(..=pos).take(pos).collect();
                        let digits = line.get(RESULT_PREFIX_LEN..).unwrap_or(&[]);
                        match py_int(digits) {
                            Some(n) => self.result_len = Some(n),
                            None => {
                                let line = match std::str::from_utf8(&line) {
                                    Ok(text) => text.to_string(),
                                    Err(_) => format!("Undecodable: {}", py_bytes_repr(&line)),
                                };
                                log.push((
                                    LogLevel::Warn,
                                    format!("{}: bad result line: '{line}'", self.name),
                                ));
                                self.change(ListenerState::Unknown, log);
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
            self.change(ListenerState::Acknowledged, log);
            self.event = None;
        } else {
            log.push((LogLevel::Warn, format!("{}: event was rejected", self.name)));
            self.change(ListenerState::Acknowledged, log);
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

/// What capture mode made of a chunk of output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Output to log (Supervisor's `_log`): to the normal log when
    /// `captured` is false, into the capture buffer when true. Both are
    /// echoed to the main log and make PROCESS_LOG events if enabled.
    Output { data: Vec<u8>, captured: bool },
    /// The end token closed a capture: a PROCESS_COMMUNICATION event with
    /// this data.
    Communication(Vec<u8>),
}

const BEGIN_TOKEN: &[u8] = b"<!--XSUPERVISOR:BEGIN-->";
const END_TOKEN: &[u8] = b"<!--XSUPERVISOR:END-->";

/// One output channel's capture mode (Supervisor's
/// `POutputDispatcher.record_output`). Without capture (`maxbytes == 0`)
/// every chunk passes through untouched.
#[derive(Debug, Clone)]
pub struct CaptureSplitter {
    /// `*_capture_maxbytes`; 0 disables capture mode.
    maxbytes: usize,
    strip_ansi: bool,
    capturing: bool,
    pending: Vec<u8>,
    captured: Vec<u8>,
}

impl CaptureSplitter {
    pub fn new(capture_maxbytes: i64, strip_ansi: bool) -> CaptureSplitter {
        CaptureSplitter {
            maxbytes: capture_maxbytes.max(0) as usize,
            strip_ansi,
            capturing: false,
            pending: Vec::new(),
            captured: Vec::new(),
        }
    }

    /// Whether capture mode is configured for this channel.
    pub fn enabled(&self) -> bool {
        self.maxbytes > 0
    }

    /// A new process: normal mode, nothing pending or captured.
    pub fn reset(&mut self) {
        self.capturing = false;
        self.pending.clear();
        self.captured.clear();
    }

    /// One read from the pipe. Output segments carry data already
    /// ANSI-stripped if `strip_ansi` is set (Supervisor strips in `_log`).
    pub fn feed(&mut self, data: &[u8], out: &mut Vec<Segment>) {
        if !self.enabled() {
            self.log(data.to_vec(), out);
            return;
        }
        self.pending.extend_from_slice(data);
        loop {
            let token = if self.capturing {
                END_TOKEN
            } else {
                BEGIN_TOKEN
            };
            if self.pending.len() <= token.len() {
                return;
            }
            let data = std::mem::take(&mut self.pending);
            match find(&data, token) {
                Some(at) => {
                    self.log(data[..at].to_vec(), out);
                    self.toggle(out);
                    self.pending = data[at + token.len()..].to_vec();
                    if self.pending.is_empty() {
                        return;
                    }
                }
                None => {
                    let keep = prefix_at_end(&data, token);
                    let cut = data.len() - keep;
                    self.pending = data[cut..].to_vec();
                    self.log(data[..cut].to_vec(), out);
                    return;
                }
            }
        }
    }

    fn log(&mut self, data: Vec<u8>, out: &mut Vec<Segment>) {
        if data.is_empty() {
            return;
        }
        let data = if self.strip_ansi {
            strip_ansi(&data)
        } else {
            data
        };
        if self.capturing {
            // Supervisor's BoundIO: drop as many leading bytes as the write
            // brings when the total would exceed the limit.
            if self.captured.len() + data.len() > self.maxbytes {
                let drop = data.len().min(self.captured.len());
                self.captured.drain(..drop);
            }
            self.captured.extend_from_slice(&data);
        }
        out.push(Segment::Output {
            data,
            captured: self.capturing,
        });
    }

    fn toggle(&mut self, out: &mut Vec<Segment>) {
        self.capturing = !self.capturing;
        if !self.capturing {
            out.push(Segment::Communication(std::mem::take(&mut self.captured)));
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// medusa's `find_prefix_at_end`: the length of the longest proper prefix of
/// `needle` that `haystack` ends with.
fn prefix_at_end(haystack: &[u8], needle: &[u8]) -> usize {
    let mut l = needle.len().saturating_sub(1);
    while l > 0 && !haystack.ends_with(&needle[..l]) {
        l -= 1;
    }
    l
}

/// The TICK periods, shortest first.
pub const TICK_PERIODS: [u32; 3] = [5, 60, 3600];

/// Supervisor's `tick()`: which TICK events are due.
#[derive(Debug, Clone, Default)]
pub struct Ticks {
    last: Option<[i64; 3]>,
}

/// Supervisor's `timeslice`: the start of the period containing `when`.
pub fn timeslice(period: u32, when: f64) -> i64 {
    let p = f64::from(period);
    (when - when.rem_euclid(p)) as i64
}

impl Ticks {
    pub fn new() -> Ticks {
        Ticks::default()
    }

    /// Evaluate at wall-clock time `now` (Unix seconds). The first
    /// evaluation only records the current slices; later ones emit a TICK
    /// for each period whose slice changed (once, however late).
    pub fn evaluate(&mut self, now: f64) -> Vec<Event> {
        let slices = TICK_PERIODS.map(|p| timeslice(p, now));
        let Some(last) = self.last.as_mut() else {
            self.last = Some(slices);
            return Vec::new();
        };
        let mut due = Vec::new();
        for (i, period) in TICK_PERIODS.into_iter().enumerate() {
            if slices[i] != last[i] {
                last[i] = slices[i];
                due.push(Event::Tick {
                    period,
                    when: slices[i],
                });
            }
        }
        due
    }

    /// Forget the recorded slices (no subscriber is left).
    pub fn clear(&mut self) {
        self.last = None;
    }

    /// The wall-clock time of the next slice boundary after `now` (every
    /// period is a multiple of the shortest).
    pub fn next_due(now: f64) -> f64 {
        (timeslice(TICK_PERIODS[0], now) + i64::from(TICK_PERIODS[0])) as f64
    }
}

#[cfg(test)]
mod tests;
