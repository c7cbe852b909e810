//! Supervisor's fault codes (spec §4.3) and the error value every RPC method
//! returns, together with its two wire forms: an XML-RPC `<fault>` and the
//! `{faultCode, faultString}` struct that `system.multicall` puts in its
//! result array.

use sv_xmlrpc::{Fault, Value};

/// Every fault code Supervisor defines. The numbers are wire data: clients
/// (supervisorctl, the web UI, third-party scripts) switch on them.
///
/// `Success` is not a fault; it only appears as the `status` of a
/// [`ProcessResult`](crate::records::ProcessResult).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultCode {
    /// 1: no such method (or not published by this server).
    UnknownMethod,
    /// 2: wrong argument count or an argument of the wrong type.
    IncorrectParameters,
    /// 3: arguments of the right type that make no sense (a bad log window).
    BadArguments,
    /// 4: `methodHelp` / `methodSignature` of an unknown method.
    SignatureUnsupported,
    /// 6: the daemon is stopping and refuses the call.
    ShutdownState,
    /// 10: no such process or group.
    BadName,
    /// 11: not a signal name or number.
    BadSignal,
    /// 20: the file (command or log) does not exist.
    NoFile,
    /// 21: the command is not an executable file.
    NotExecutable,
    /// 30: the operation failed for another reason (detail says why).
    Failed,
    /// 40: the process died while being started or stopped.
    AbnormalTermination,
    /// 50: the process could not be spawned.
    SpawnError,
    /// 60: the process is already running.
    AlreadyStarted,
    /// 70: the process is not running.
    NotRunning,
    /// 80: the status of a successful entry in a result array.
    Success,
    /// 90: the group is already active.
    AlreadyAdded,
    /// 91: the group still has running processes.
    StillRunning,
    /// 92: the configuration file could not be read again.
    CantReread,
}

impl FaultCode {
    /// All codes in ascending numeric order.
    pub const ALL: [FaultCode; 18] = [
        FaultCode::UnknownMethod,
        FaultCode::IncorrectParameters,
        FaultCode::BadArguments,
        FaultCode::SignatureUnsupported,
        FaultCode::ShutdownState,
        FaultCode::BadName,
        FaultCode::BadSignal,
        FaultCode::NoFile,
        FaultCode::NotExecutable,
        FaultCode::Failed,
        FaultCode::AbnormalTermination,
        FaultCode::SpawnError,
        FaultCode::AlreadyStarted,
        FaultCode::NotRunning,
        FaultCode::Success,
        FaultCode::AlreadyAdded,
        FaultCode::StillRunning,
        FaultCode::CantReread,
    ];

    /// The numeric code sent as `faultCode` (or as a result's `status`).
    pub const fn code(self) -> i32 {
        match self {
            FaultCode::UnknownMethod => 1,
            FaultCode::IncorrectParameters => 2,
            FaultCode::BadArguments => 3,
            FaultCode::SignatureUnsupported => 4,
            // There is deliberately no 5 (upstream never defined it).
            FaultCode::ShutdownState => 6,
            FaultCode::BadName => 10,
            FaultCode::BadSignal => 11,
            FaultCode::NoFile => 20,
            FaultCode::NotExecutable => 21,
            FaultCode::Failed => 30,
            FaultCode::AbnormalTermination => 40,
            FaultCode::SpawnError => 50,
            FaultCode::AlreadyStarted => 60,
            FaultCode::NotRunning => 70,
            FaultCode::Success => 80,
            FaultCode::AlreadyAdded => 90,
            FaultCode::StillRunning => 91,
            FaultCode::CantReread => 92,
        }
    }

    /// The upper-case name that starts every `faultString`.
    pub const fn name(self) -> &'static str {
        match self {
            FaultCode::UnknownMethod => "UNKNOWN_METHOD",
            FaultCode::IncorrectParameters => "INCORRECT_PARAMETERS",
            FaultCode::BadArguments => "BAD_ARGUMENTS",
            FaultCode::SignatureUnsupported => "SIGNATURE_UNSUPPORTED",
            FaultCode::ShutdownState => "SHUTDOWN_STATE",
            FaultCode::BadName => "BAD_NAME",
            FaultCode::BadSignal => "BAD_SIGNAL",
            FaultCode::NoFile => "NO_FILE",
            FaultCode::NotExecutable => "NOT_EXECUTABLE",
            FaultCode::Failed => "FAILED",
            FaultCode::AbnormalTermination => "ABNORMAL_TERMINATION",
            FaultCode::SpawnError => "SPAWN_ERROR",
            FaultCode::AlreadyStarted => "ALREADY_STARTED",
            FaultCode::NotRunning => "NOT_RUNNING",
            FaultCode::Success => "SUCCESS",
            FaultCode::AlreadyAdded => "ALREADY_ADDED",
            FaultCode::StillRunning => "STILL_RUNNING",
            FaultCode::CantReread => "CANT_REREAD",
        }
    }

    /// The code with this number, if Supervisor defines one.
    pub fn from_code(code: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The code with this name (`"BAD_NAME"`), if Supervisor defines one.
    /// Clients use it to turn a symbolic name back into a number.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// A `faultCode` (or a result's `status`) as a client receives it: one of
/// Supervisor's codes, or a number it does not define — a newer or foreign
/// server may send one, and a client must still show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnyFaultCode {
    /// One of Supervisor's codes.
    Known(FaultCode),
    /// A number Supervisor does not define.
    Unknown(i32),
}

impl AnyFaultCode {
    /// Classify a received number.
    pub fn from_number(number: i32) -> Self {
        FaultCode::from_code(number).map_or(AnyFaultCode::Unknown(number), AnyFaultCode::Known)
    }

    /// The number on the wire.
    pub const fn number(self) -> i32 {
        match self {
            AnyFaultCode::Known(code) => code.code(),
            AnyFaultCode::Unknown(number) => number,
        }
    }

    /// Supervisor's name for it; `UNKNOWN` for a foreign number.
    pub const fn name(self) -> &'static str {
        match self {
            AnyFaultCode::Known(code) => code.name(),
            AnyFaultCode::Unknown(_) => "UNKNOWN",
        }
    }

    /// The code, when Supervisor defines it.
    pub const fn known(self) -> Option<FaultCode> {
        match self {
            AnyFaultCode::Known(code) => Some(code),
            AnyFaultCode::Unknown(_) => None,
        }
    }
}

impl From<FaultCode> for AnyFaultCode {
    fn from(code: FaultCode) -> Self {
        AnyFaultCode::Known(code)
    }
}

impl PartialEq<FaultCode> for AnyFaultCode {
    fn eq(&self, other: &FaultCode) -> bool {
        *self == AnyFaultCode::Known(*other)
    }
}

/// Name of a numeric fault code; codes Supervisor does not define render as
/// `UNKNOWN`, as upstream's lookup does (a client may receive foreign codes).
pub fn name_for_code(code: i32) -> &'static str {
    FaultCode::from_code(code).map_or("UNKNOWN", FaultCode::name)
}

/// An RPC method's failure: a fault code plus optional detail text.
///
/// Displays as the `faultString` the client sees: `NAME` or `NAME: detail`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.text())]
pub struct RpcError {
    /// Which fault (`faultCode`).
    pub code: FaultCode,
    /// What follows `NAME: ` in the `faultString`, if anything.
    pub detail: Option<String>,
}

impl RpcError {
    /// A fault with no detail text (`faultString` is just the name).
    pub fn new(code: FaultCode) -> Self {
        RpcError { code, detail: None }
    }

    /// A fault whose `faultString` is `NAME: detail`.
    pub fn with_detail(code: FaultCode, detail: impl Into<String>) -> Self {
        RpcError {
            code,
            detail: Some(detail.into()),
        }
    }

    /// The `faultString`: `NAME`, or `NAME: detail` when there is a detail.
    pub fn text(&self) -> String {
        match &self.detail {
            Some(detail) => format!("{}: {}", self.code.name(), detail),
            None => self.code.name().to_owned(),
        }
    }

    /// The `{faultCode, faultString}` struct used inside `system.multicall`
    /// results, where a failed call is reported in-band rather than as a
    /// `<fault>` response.
    pub fn to_fault_struct(&self) -> Value {
        Value::Struct(vec![
            ("faultCode".to_owned(), Value::Int(self.code.code())),
            ("faultString".to_owned(), Value::String(self.text())),
        ])
    }
}

impl From<FaultCode> for RpcError {
    fn from(code: FaultCode) -> Self {
        RpcError::new(code)
    }
}

impl From<RpcError> for Fault {
    fn from(err: RpcError) -> Self {
        Fault {
            code: err.code.code(),
            string: err.text(),
        }
    }
}

impl From<&RpcError> for Fault {
    fn from(err: &RpcError) -> Self {
        Fault {
            code: err.code.code(),
            string: err.text(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The §4.3 table, as data.
    const TABLE: &[(&str, i32)] = &[
        ("UNKNOWN_METHOD", 1),
        ("INCORRECT_PARAMETERS", 2),
        ("BAD_ARGUMENTS", 3),
        ("SIGNATURE_UNSUPPORTED", 4),
        ("SHUTDOWN_STATE", 6),
        ("BAD_NAME", 10),
        ("BAD_SIGNAL", 11),
        ("NO_FILE", 20),
        ("NOT_EXECUTABLE", 21),
        ("FAILED", 30),
        ("ABNORMAL_TERMINATION", 40),
        ("SPAWN_ERROR", 50),
        ("ALREADY_STARTED", 60),
        ("NOT_RUNNING", 70),
        ("SUCCESS", 80),
        ("ALREADY_ADDED", 90),
        ("STILL_RUNNING", 91),
        ("CANT_REREAD", 92),
    ];

    #[test]
    fn table_matches_spec() {
        assert_eq!(TABLE.len(), FaultCode::ALL.len());
        for (code, (name, number)) in FaultCode::ALL.iter().zip(TABLE) {
            assert_eq!(code.name(), *name);
            assert_eq!(code.code(), *number);
            assert_eq!(FaultCode::from_code(*number), Some(*code));
            assert_eq!(FaultCode::from_name(name), Some(*code));
            assert_eq!(name_for_code(*number), *name);
        }
    }

    #[test]
    fn unknown_codes() {
        for n in [0, 5, 7, 12, 81, 93, -1, i32::MAX, i32::MIN] {
            assert_eq!(FaultCode::from_code(n), None);
            assert_eq!(name_for_code(n), "UNKNOWN");
        }
        assert_eq!(FaultCode::from_name("UNKNOWN"), None);
    }

    #[test]
    fn any_fault_code_keeps_foreign_numbers() {
        for code in FaultCode::ALL {
            let any = AnyFaultCode::from_number(code.code());
            assert_eq!(any, code);
            assert_eq!(any.known(), Some(code));
            assert_eq!((any.number(), any.name()), (code.code(), code.name()));
        }
        let foreign = AnyFaultCode::from_number(5);
        assert_eq!(foreign, AnyFaultCode::Unknown(5));
        assert_eq!((foreign.number(), foreign.name()), (5, "UNKNOWN"));
        assert_eq!(foreign.known(), None);
        assert_ne!(foreign, FaultCode::BadName);
    }

    #[test]
    fn fault_strings() {
        let plain = RpcError::new(FaultCode::ShutdownState);
        assert_eq!(plain.to_string(), "SHUTDOWN_STATE");
        assert_eq!(
            Fault::from(plain),
            Fault {
                code: 6,
                string: "SHUTDOWN_STATE".into()
            }
        );

        let detailed = RpcError::with_detail(FaultCode::BadName, "nosuch");
        assert_eq!(detailed.to_string(), "BAD_NAME: nosuch");
        assert_eq!(
            Fault::from(&detailed),
            Fault {
                code: 10,
                string: "BAD_NAME: nosuch".into()
            }
        );

        // An empty detail still gets its separator, as `'%s: %s'` does.
        let empty = RpcError::with_detail(FaultCode::Failed, "");
        assert_eq!(empty.text(), "FAILED: ");
        assert_eq!(RpcError::from(FaultCode::NoFile).text(), "NO_FILE");
    }

    #[test]
    fn multicall_fault_struct() {
        let err = RpcError::with_detail(
            FaultCode::IncorrectParameters,
            "Recursive system.multicall forbidden",
        );
        assert_eq!(
            err.to_fault_struct(),
            Value::Struct(vec![
                ("faultCode".into(), Value::Int(2)),
                (
                    "faultString".into(),
                    Value::String(
                        "INCORRECT_PARAMETERS: Recursive system.multicall forbidden".into()
                    )
                ),
            ])
        );
    }
}
