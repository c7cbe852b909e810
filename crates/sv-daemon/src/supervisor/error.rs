//! Why an actor operation failed, and the one mapping from that to the
//! XML-RPC fault a client sees ([`From<OpError> for RpcError`]).
//!
//! Each variant carries what Supervisor puts after the fault name (usually
//! the namespec as the caller wrote it), so the fault string stays
//! byte-identical: `BAD_NAME: foo`, `SPAWN_ERROR: foo`, …

use sv_api::{FaultCode, RpcError};

use crate::spawn::SpawnError;

/// A refused or failed operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpError {
    /// No such process or group.
    #[error("BAD_NAME: {0}")]
    BadName(String),
    #[error("ALREADY_STARTED: {0}")]
    AlreadyStarted(String),
    #[error("NOT_RUNNING: {0}")]
    NotRunning(String),
    /// The command cannot be run: checked before any state changes, so
    /// `startProcess` reports the precise reason.
    #[error("{}", RpcError::from(self.clone()).text())]
    Command(SpawnError),
    /// The spawn was tried and failed (the reason is the process's
    /// `spawnerr`).
    #[error("SPAWN_ERROR: {0}")]
    SpawnError(String),
    /// A `wait=true` start saw the process leave STARTING for anything
    /// other than RUNNING.
    #[error("ABNORMAL_TERMINATION: {0}")]
    AbnormalTermination(String),
    #[error("STILL_RUNNING: {0}")]
    StillRunning(String),
    #[error("ALREADY_ADDED: {0}")]
    AlreadyAdded(String),
    /// The configuration could not be read again; the detail is the
    /// loader's message.
    #[error("CANT_REREAD: {0}")]
    CantReread(String),
    /// A file the operation needs is missing (`None`: Supervisor adds no
    /// detail).
    #[error("NO_FILE{}", suffix(.0))]
    NoFile(Option<String>),
    #[error("FAILED{}", suffix(.0))]
    Failed(Option<String>),
    /// The daemon is shutting down or restarting.
    #[error("SHUTDOWN_STATE")]
    ShutdownState,
}

fn suffix(detail: &Option<String>) -> String {
    detail
        .as_ref()
        .map(|d| format!(": {d}"))
        .unwrap_or_default()
}

impl From<OpError> for RpcError {
    fn from(error: OpError) -> Self {
        let with = RpcError::with_detail;
        match error {
            OpError::BadName(spec) => with(FaultCode::BadName, spec),
            OpError::AlreadyStarted(spec) => with(FaultCode::AlreadyStarted, spec),
            OpError::NotRunning(spec) => with(FaultCode::NotRunning, spec),
            // Supervisor's `_spawn_as_child` checks: a missing program is
            // NO_FILE, every other reason NOT_EXECUTABLE, both with the
            // spawn error's text.
            OpError::Command(e @ SpawnError::NotFound(_)) => with(FaultCode::NoFile, e.to_string()),
            OpError::Command(e) => with(FaultCode::NotExecutable, e.to_string()),
            OpError::SpawnError(spec) => with(FaultCode::SpawnError, spec),
            OpError::AbnormalTermination(spec) => with(FaultCode::AbnormalTermination, spec),
            OpError::StillRunning(name) => with(FaultCode::StillRunning, name),
            OpError::AlreadyAdded(name) => with(FaultCode::AlreadyAdded, name),
            OpError::CantReread(why) => with(FaultCode::CantReread, why),
            OpError::NoFile(Some(detail)) => with(FaultCode::NoFile, detail),
            OpError::NoFile(None) => RpcError::new(FaultCode::NoFile),
            OpError::Failed(Some(detail)) => with(FaultCode::Failed, detail),
            OpError::Failed(None) => RpcError::new(FaultCode::Failed),
            OpError::ShutdownState => RpcError::new(FaultCode::ShutdownState),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(error: OpError) -> String {
        RpcError::from(error).text()
    }

    #[test]
    fn display_is_the_fault_string() {
        for error in [
            OpError::BadName("a".into()),
            OpError::NoFile(Some("b".into())),
            OpError::Failed(None),
            OpError::Command(SpawnError::Empty),
        ] {
            assert_eq!(error.to_string(), RpcError::from(error.clone()).text());
        }
    }

    #[test]
    fn faults_keep_supervisors_text() {
        assert_eq!(text(OpError::BadName("x:y".into())), "BAD_NAME: x:y");
        assert_eq!(text(OpError::ShutdownState), "SHUTDOWN_STATE");
        assert_eq!(text(OpError::NoFile(None)), "NO_FILE");
        assert_eq!(text(OpError::Failed(Some("p".into()))), "FAILED: p");
        assert_eq!(text(OpError::SpawnError("foo".into())), "SPAWN_ERROR: foo");
    }

    #[test]
    fn missing_command_is_no_file_other_command_errors_not_executable() {
        let missing = RpcError::from(OpError::Command(SpawnError::NotFound("nope".into())));
        assert_eq!(missing.code, FaultCode::NoFile);
        assert_eq!(missing.text(), "NO_FILE: can't find command 'nope'");
        let dir = RpcError::from(OpError::Command(SpawnError::IsDirectory("/tmp".into())));
        assert_eq!(dir.code, FaultCode::NotExecutable);
        assert_eq!(
            dir.text(),
            "NOT_EXECUTABLE: command at '/tmp' is a directory"
        );
        let empty = RpcError::from(OpError::Command(SpawnError::Empty));
        assert_eq!(empty.code, FaultCode::NotExecutable);
    }
}
