//! State codes and names as they travel on the wire (spec §2.1): process
//! states, the daemon's own state ("mood") and event-listener sub-states.
//! The numbers are what `getProcessInfo`, `getState` and events carry.

/// A process's state. The names are the `statename` strings clients print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProcessState {
    /// Not running: never started, or stopped on request (code 0).
    Stopped,
    /// Spawned and not yet up for `startsecs` (code 10).
    Starting,
    /// Up for at least `startsecs` (code 20).
    Running,
    /// Exited too soon while starting; will be retried (code 30).
    Backoff,
    /// Sent its stop signal and not yet reaped (code 40).
    Stopping,
    /// Exited from RUNNING, expectedly or not (code 100).
    Exited,
    /// Could not be started after `startretries` attempts (code 200).
    Fatal,
    /// A state the daemon cannot account for (code 1000).
    Unknown,
}

impl ProcessState {
    /// All states in ascending numeric order.
    pub const ALL: [ProcessState; 8] = [
        ProcessState::Stopped,
        ProcessState::Starting,
        ProcessState::Running,
        ProcessState::Backoff,
        ProcessState::Stopping,
        ProcessState::Exited,
        ProcessState::Fatal,
        ProcessState::Unknown,
    ];

    /// The number sent on the wire.
    pub const fn code(self) -> i32 {
        match self {
            ProcessState::Stopped => 0,
            ProcessState::Starting => 10,
            ProcessState::Running => 20,
            ProcessState::Backoff => 30,
            ProcessState::Stopping => 40,
            ProcessState::Exited => 100,
            ProcessState::Fatal => 200,
            ProcessState::Unknown => 1000,
        }
    }

    /// The upper-case name sent on the wire and printed by clients.
    pub const fn name(self) -> &'static str {
        match self {
            ProcessState::Stopped => "STOPPED",
            ProcessState::Starting => "STARTING",
            ProcessState::Running => "RUNNING",
            ProcessState::Backoff => "BACKOFF",
            ProcessState::Stopping => "STOPPING",
            ProcessState::Exited => "EXITED",
            ProcessState::Fatal => "FATAL",
            ProcessState::Unknown => "UNKNOWN",
        }
    }

    /// The state with this number, if upstream defines one.
    pub fn from_code(code: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The state with this name, if upstream defines one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Member of upstream's STOPPED_STATES (STOPPED, EXITED, FATAL, UNKNOWN):
    /// a stop request waits until the process reaches one of these.
    pub const fn is_stopped(self) -> bool {
        matches!(
            self,
            ProcessState::Stopped
                | ProcessState::Exited
                | ProcessState::Fatal
                | ProcessState::Unknown
        )
    }

    /// Member of upstream's RUNNING_STATES (STARTING, RUNNING, BACKOFF):
    /// start refuses with ALREADY_STARTED, stop accepts. STOPPING is
    /// deliberately not "running".
    pub const fn is_running(self) -> bool {
        matches!(
            self,
            ProcessState::Starting | ProcessState::Running | ProcessState::Backoff
        )
    }

    /// Member of upstream's SIGNALLABLE_STATES (STARTING, RUNNING, STOPPING):
    /// the states in which a live pid exists to signal.
    pub const fn is_signallable(self) -> bool {
        matches!(
            self,
            ProcessState::Starting | ProcessState::Running | ProcessState::Stopping
        )
    }
}

/// The daemon's state ("mood"), reported by `supervisor.getState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SupervisorState {
    /// Defined upstream but never entered.
    Fatal,
    /// Running normally; methods are accepted (code 1).
    Running,
    /// Stopping everything to restart (code 0).
    Restarting,
    /// Stopping everything to exit (code -1).
    Shutdown,
}

impl SupervisorState {
    /// Every state, in the order upstream lists them.
    pub const ALL: [SupervisorState; 4] = [
        SupervisorState::Shutdown,
        SupervisorState::Restarting,
        SupervisorState::Running,
        SupervisorState::Fatal,
    ];

    /// The number sent on the wire.
    pub const fn code(self) -> i32 {
        match self {
            SupervisorState::Fatal => 2,
            SupervisorState::Running => 1,
            SupervisorState::Restarting => 0,
            SupervisorState::Shutdown => -1,
        }
    }

    /// The upper-case name sent on the wire and printed by clients.
    pub const fn name(self) -> &'static str {
        match self {
            SupervisorState::Fatal => "FATAL",
            SupervisorState::Running => "RUNNING",
            SupervisorState::Restarting => "RESTARTING",
            SupervisorState::Shutdown => "SHUTDOWN",
        }
    }

    /// The state with this number, if upstream defines one.
    pub fn from_code(code: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The state with this name, if upstream defines one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Whether `supervisor.*` methods may run: upstream faults with
    /// SHUTDOWN_STATE whenever the mood is below RUNNING.
    pub const fn accepts_requests(self) -> bool {
        self.code() >= SupervisorState::Running.code()
    }
}

/// An event listener's protocol sub-state (spec §6.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventListenerState {
    /// Waiting for an event (code 10).
    Ready,
    /// Handling an event it was sent (code 20).
    Busy,
    /// Just started, or done with an event, and not yet READY (code 30).
    Acknowledged,
    /// Broke the listener protocol (code 40).
    Unknown,
}

impl EventListenerState {
    /// Every state, in the order upstream lists them.
    pub const ALL: [EventListenerState; 4] = [
        EventListenerState::Ready,
        EventListenerState::Busy,
        EventListenerState::Acknowledged,
        EventListenerState::Unknown,
    ];

    /// The number sent on the wire.
    pub const fn code(self) -> i32 {
        match self {
            EventListenerState::Ready => 10,
            EventListenerState::Busy => 20,
            EventListenerState::Acknowledged => 30,
            EventListenerState::Unknown => 40,
        }
    }

    /// The upper-case name sent on the wire and printed by clients.
    pub const fn name(self) -> &'static str {
        match self {
            EventListenerState::Ready => "READY",
            EventListenerState::Busy => "BUSY",
            EventListenerState::Acknowledged => "ACKNOWLEDGED",
            EventListenerState::Unknown => "UNKNOWN",
        }
    }

    /// The state with this number, if upstream defines one.
    pub fn from_code(code: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The state with this name, if upstream defines one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_states() {
        let table = [
            ("STOPPED", 0, true, false, false),
            ("STARTING", 10, false, true, true),
            ("RUNNING", 20, false, true, true),
            ("BACKOFF", 30, false, true, false),
            ("STOPPING", 40, false, false, true),
            ("EXITED", 100, true, false, false),
            ("FATAL", 200, true, false, false),
            ("UNKNOWN", 1000, true, false, false),
        ];
        assert_eq!(table.len(), ProcessState::ALL.len());
        for (state, (name, code, stopped, running, signallable)) in
            ProcessState::ALL.into_iter().zip(table)
        {
            assert_eq!(state.name(), name);
            assert_eq!(state.code(), code);
            assert_eq!(ProcessState::from_code(code), Some(state));
            assert_eq!(ProcessState::from_name(name), Some(state));
            assert_eq!(state.is_stopped(), stopped, "{name}");
            assert_eq!(state.is_running(), running, "{name}");
            assert_eq!(state.is_signallable(), signallable, "{name}");
        }
        assert_eq!(ProcessState::from_code(1), None);
        assert_eq!(ProcessState::from_name("stopped"), None);
    }

    #[test]
    fn supervisor_states() {
        let table = [
            (SupervisorState::Fatal, "FATAL", 2, true),
            (SupervisorState::Running, "RUNNING", 1, true),
            (SupervisorState::Restarting, "RESTARTING", 0, false),
            (SupervisorState::Shutdown, "SHUTDOWN", -1, false),
        ];
        for (state, name, code, accepts) in table {
            assert_eq!(state.name(), name);
            assert_eq!(state.code(), code);
            assert_eq!(SupervisorState::from_code(code), Some(state));
            assert_eq!(SupervisorState::from_name(name), Some(state));
            assert_eq!(state.accepts_requests(), accepts);
        }
        assert_eq!(SupervisorState::from_code(3), None);
    }

    #[test]
    fn listener_states() {
        let table = [
            (EventListenerState::Ready, "READY", 10),
            (EventListenerState::Busy, "BUSY", 20),
            (EventListenerState::Acknowledged, "ACKNOWLEDGED", 30),
            (EventListenerState::Unknown, "UNKNOWN", 40),
        ];
        for (state, name, code) in table {
            assert_eq!(state.name(), name);
            assert_eq!(state.code(), code);
            assert_eq!(EventListenerState::from_code(code), Some(state));
            assert_eq!(EventListenerState::from_name(name), Some(state));
        }
        assert_eq!(EventListenerState::from_code(0), None);
    }
}
