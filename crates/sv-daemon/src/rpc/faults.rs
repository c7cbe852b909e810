//! Every fault the daemon's RPC layer builds itself, by name, so the
//! method files never assemble codes and texts by hand. Faults about
//! arguments come from `sv_api::Request::decode`; faults about processes
//! come from the actor.

use sv_api::{FaultCode, RpcError};

use crate::logread::ReadError;

/// The actor has gone or the daemon is stopping: SHUTDOWN_STATE.
pub(super) fn shutdown_state() -> RpcError {
    RpcError::new(FaultCode::ShutdownState)
}

/// A method this daemon does not publish.
pub(super) fn unknown_method() -> RpcError {
    RpcError::new(FaultCode::UnknownMethod)
}

/// `methodHelp` / `methodSignature` of a name outside the table.
pub(super) fn signature_unsupported() -> RpcError {
    RpcError::new(FaultCode::SignatureUnsupported)
}

/// A signal that names no signal, echoed as the caller gave it.
pub(super) fn bad_signal(given: &str) -> RpcError {
    RpcError::with_detail(FaultCode::BadSignal, given)
}

/// An unknown group, reported as the whole spec the caller typed
/// (`nosuch:*`), as Supervisor looks the spec up before splitting it.
pub(super) fn bad_name_as_typed(error: RpcError, spec: &str) -> RpcError {
    if error.code == FaultCode::BadName {
        RpcError::with_detail(FaultCode::BadName, spec)
    } else {
        error
    }
}

/// `readLog` while the daemon logs to syslog: there is no file.
pub(super) fn main_log_is_syslog() -> RpcError {
    RpcError::with_detail(FaultCode::NoFile, "syslog")
}

/// A log read that could not run to completion (its worker thread
/// panicked).
pub(super) fn read_interrupted() -> RpcError {
    RpcError::with_detail(FaultCode::Failed, "log read interrupted")
}

/// A log read inside a `system.multicall` whose reply already holds
/// `limit` bytes of log text.
pub(super) fn multicall_log_limit(limit: usize) -> RpcError {
    RpcError::with_detail(
        FaultCode::Failed,
        format!(
            "multicall reply already holds {limit} bytes of log text; read the rest in another call"
        ),
    )
}

impl From<ReadError> for RpcError {
    fn from(error: ReadError) -> Self {
        match error {
            ReadError::NoFile(Some(path)) => RpcError::with_detail(FaultCode::NoFile, path),
            ReadError::NoFile(None) => RpcError::new(FaultCode::NoFile),
            ReadError::BadArguments => RpcError::new(FaultCode::BadArguments),
            ReadError::Failed(why) => RpcError::with_detail(FaultCode::Failed, why),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_errors_map_to_supervisors_faults() {
        let text = |e: ReadError| RpcError::from(e).text();
        assert_eq!(text(ReadError::NoFile(None)), "NO_FILE");
        assert_eq!(
            text(ReadError::NoFile(Some("/x.log".into()))),
            "NO_FILE: /x.log"
        );
        assert_eq!(text(ReadError::BadArguments), "BAD_ARGUMENTS");
        assert_eq!(text(ReadError::Failed("io".into())), "FAILED: io");
    }

    #[test]
    fn only_bad_names_take_the_typed_spec() {
        let bad = RpcError::with_detail(FaultCode::BadName, "nosuch");
        assert_eq!(
            bad_name_as_typed(bad, "nosuch:*").text(),
            "BAD_NAME: nosuch:*"
        );
        assert_eq!(
            bad_name_as_typed(shutdown_state(), "x:*").text(),
            "SHUTDOWN_STATE"
        );
    }
}
