//! Event types and payloads: the [`EventType`] hierarchy listeners
//! subscribe to, one [`Event`] with what its payload needs, the payload text
//! byte for byte as Supervisor's `payload()` renders it, and the
//! [`envelope`] header a listener reads before it.

use crate::logtext::text_or_repr;
use crate::process::State;

/// Supervisor's event types (`events.EventTypes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// The root: subscribing to EVENT subscribes to everything.
    Event,
    /// Any process state change.
    ProcessState,
    /// A process entered STOPPED.
    ProcessStateStopped,
    /// A process entered EXITED.
    ProcessStateExited,
    /// A process entered STARTING.
    ProcessStateStarting,
    /// A process entered STOPPING.
    ProcessStateStopping,
    /// A process entered BACKOFF.
    ProcessStateBackoff,
    /// A process entered FATAL.
    ProcessStateFatal,
    /// A process entered RUNNING.
    ProcessStateRunning,
    /// A process entered UNKNOWN.
    ProcessStateUnknown,
    /// Output captured in capture mode, on either channel.
    ProcessCommunication,
    /// Output captured in capture mode on stdout.
    ProcessCommunicationStdout,
    /// Output captured in capture mode on stderr.
    ProcessCommunicationStderr,
    /// Output of a process with `*_events_enabled`, on either channel.
    ProcessLog,
    /// Output on stdout of a process with `stdout_events_enabled`.
    ProcessLogStdout,
    /// Output on stderr of a process with `stderr_events_enabled`.
    ProcessLogStderr,
    /// Sent by an RPC client with `sendRemoteCommEvent`.
    RemoteCommunication,
    /// supervisord itself changed state.
    SupervisorStateChange,
    /// supervisord entered RUNNING.
    SupervisorStateChangeRunning,
    /// supervisord began to shut down.
    SupervisorStateChangeStopping,
    /// Any of the periodic ticks.
    Tick,
    /// Every 5 seconds, on the wall clock's 5-second boundaries.
    Tick5,
    /// Every minute, on the minute.
    Tick60,
    /// Every hour, on the hour.
    Tick3600,
    /// A group was added or removed.
    ProcessGroup,
    /// A group was added.
    ProcessGroupAdded,
    /// A group was removed.
    ProcessGroupRemoved,
}

impl EventType {
    /// Every type, each parent before its subtypes.
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
    /// The child's standard output.
    Stdout,
    /// The child's standard error.
    Stderr,
}

impl Channel {
    /// The name payloads use (`channel:stdout`).
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
        /// The process name.
        process: String,
        /// The name of the group the process is in.
        group: String,
        /// The state it left.
        from: State,
        /// The state it entered.
        to: State,
        /// For EXITED: whether the exit code was in `exitcodes`.
        expected: bool,
        /// For STARTING and BACKOFF: the start attempts so far.
        tries: u32,
        /// The pid, for the states that have one in their payload.
        pid: u32,
    },
    /// A chunk of output (`*_events_enabled`).
    ProcessLog {
        /// Which pipe the output came from.
        channel: Channel,
        /// The process name.
        process: String,
        /// The name of the group the process is in.
        group: String,
        /// The pid of the process that wrote it.
        pid: u32,
        /// The bytes, as read from the pipe.
        data: Vec<u8>,
    },
    /// Output captured between the capture-mode tokens.
    ProcessCommunication {
        /// Which pipe the output came from.
        channel: Channel,
        /// The process name.
        process: String,
        /// The name of the group the process is in.
        group: String,
        /// The pid of the process that wrote it.
        pid: u32,
        /// The bytes between the begin and end tokens.
        data: Vec<u8>,
    },
    /// `sendRemoteCommEvent(type, data)`.
    RemoteCommunication {
        /// The client's `type` argument.
        kind: String,
        /// The client's `data` argument.
        data: String,
    },
    /// supervisord entered RUNNING.
    SupervisorRunning,
    /// supervisord began to shut down.
    SupervisorStopping,
    /// TICK_`period` with `when` the start of the new time slice.
    Tick {
        /// 5, 60 or 3600.
        period: u32,
        /// The Unix time the new slice starts at.
        when: i64,
    },
    /// A group was added; its name.
    GroupAdded(String),
    /// A group was removed; its name.
    GroupRemoved(String),
}

impl Event {
    /// The type listeners see in the envelope (always a concrete one).
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
                text_or_repr(data)
            ),
            Event::ProcessCommunication {
                process,
                group,
                pid,
                data,
                ..
            } => format!(
                "processname:{process} groupname:{group} pid:{pid}\n{}",
                text_or_repr(data)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::testkit::state;

    #[test]
    fn names_parse_case_insensitively() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(&t.name().to_lowercase()), Some(t));
        }
        assert_eq!(
            EventType::parse("Process_State"),
            Some(EventType::ProcessState)
        );
        assert_eq!(EventType::parse("NOPE"), None);
    }

    #[test]
    fn subtypes_match_their_ancestors_only() {
        use EventType::*;
        assert!(ProcessStateExited.is_a(ProcessState));
        assert!(ProcessStateExited.is_a(Event));
        assert!(!ProcessStateExited.is_a(ProcessLog));
        assert!(Tick60.is_a(Tick));
        assert!(!Tick.is_a(Tick60));
        assert!(RemoteCommunication.is_a(Event));
        assert!(!RemoteCommunication.is_abstract());
        for t in EventType::ALL {
            assert!(t.is_a(Event));
            assert!(t.is_a(t));
        }
        let abstract_count = EventType::ALL.iter().filter(|t| t.is_abstract()).count();
        assert_eq!(abstract_count, 7);
    }

    #[test]
    fn process_state_payloads() {
        use State::*;
        let cases = [
            (
                state(Starting, Backoff, true, 3, 0),
                "processname:cat groupname:grp from_state:BACKOFF tries:3",
            ),
            (
                state(Backoff, Starting, true, 1, 0),
                "processname:cat groupname:grp from_state:STARTING tries:1",
            ),
            (
                state(Exited, Running, false, 0, 42),
                "processname:cat groupname:grp from_state:RUNNING expected:0 pid:42",
            ),
            (
                state(Exited, Running, true, 0, 42),
                "processname:cat groupname:grp from_state:RUNNING expected:1 pid:42",
            ),
            (
                state(Fatal, Backoff, true, 0, 0),
                "processname:cat groupname:grp from_state:BACKOFF",
            ),
            (
                state(Unknown, Running, true, 0, 9),
                "processname:cat groupname:grp from_state:RUNNING",
            ),
            (
                state(Stopped, Stopping, true, 0, 42),
                "processname:cat groupname:grp from_state:STOPPING pid:42",
            ),
            (
                state(Stopped, Backoff, true, 0, 0),
                "processname:cat groupname:grp from_state:BACKOFF pid:0",
            ),
            (
                state(Running, Starting, true, 0, 42),
                "processname:cat groupname:grp from_state:STARTING pid:42",
            ),
            (
                state(Stopping, Running, true, 0, 42),
                "processname:cat groupname:grp from_state:RUNNING pid:42",
            ),
        ];
        for (event, want) in cases {
            assert_eq!(event.payload(), want, "{event:?}");
        }
        assert_eq!(
            state(Stopping, Running, true, 0, 1).event_type().name(),
            "PROCESS_STATE_STOPPING"
        );
    }

    #[test]
    fn other_payloads() {
        let log = Event::ProcessLog {
            channel: Channel::Stderr,
            process: "cat".into(),
            group: "grp".into(),
            pid: 42,
            data: b"bad \x88 bytes\n".to_vec(),
        };
        assert_eq!(
            log.payload(),
            "processname:cat groupname:grp pid:42 channel:stderr\nUndecodable: b'bad \\x88 bytes\\n'"
        );
        assert_eq!(log.event_type(), EventType::ProcessLogStderr);
        let comm = Event::ProcessCommunication {
            channel: Channel::Stdout,
            process: "cat".into(),
            group: "grp".into(),
            pid: 42,
            data: "héllo".as_bytes().to_vec(),
        };
        assert_eq!(
            comm.payload(),
            "processname:cat groupname:grp pid:42\nhéllo"
        );
        assert_eq!(comm.event_type(), EventType::ProcessCommunicationStdout);
        let remote = Event::RemoteCommunication {
            kind: "tp".into(),
            data: "dätä".into(),
        };
        assert_eq!(remote.payload(), "type:tp\ndätä");
        assert_eq!(Event::GroupAdded("g".into()).payload(), "groupname:g\n");
        assert_eq!(Event::GroupRemoved("g".into()).payload(), "groupname:g\n");
        assert_eq!(Event::SupervisorRunning.payload(), "");
        assert_eq!(
            Event::Tick {
                period: 5,
                when: 1795305420
            }
            .payload(),
            "when:1795305420"
        );
        assert_eq!(
            Event::Tick {
                period: 3600,
                when: 0
            }
            .event_type(),
            EventType::Tick3600
        );
    }

    #[test]
    fn envelope_len_counts_code_points() {
        let e = envelope(
            "supervisor",
            7,
            "listener",
            3,
            EventType::RemoteCommunication,
            "type:tp\ndätä",
        );
        assert_eq!(
            e,
            "ver:3.0 server:supervisor serial:7 pool:listener poolserial:3 eventname:REMOTE_COMMUNICATION len:12\ntype:tp\ndätä"
        );
        assert!(
            envelope("s", 0, "p", 0, EventType::SupervisorStateChangeRunning, "")
                .ends_with("len:0\n")
        );
    }
}
