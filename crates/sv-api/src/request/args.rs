//! The arguments of typed requests that are more than a string or an
//! integer: which log a log method reads, a signal as the caller gave it,
//! and the entries of a `system.multicall`.

use sv_xmlrpc::{MethodCall, Value};

use super::MULTICALL;
use crate::faults::{FaultCode, RpcError};
use crate::params::py_str;

/// Which of a process's two log files a log method reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogStream {
    /// The `stdout_logfile`.
    Stdout,
    /// The `stderr_logfile`.
    Stderr,
}

/// A signal argument as the caller gave it.
///
/// Supervisor checks the process name before the signal, so a bad signal
/// cannot be a decoding fault: the daemon resolves the text once the name
/// is known to exist, and answers BAD_SIGNAL with the text as detail.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SignalArg {
    /// An int or a string: a signal name (`HUP`, `SIGHUP`) or number, as text.
    Given(String),
    /// Any other XML-RPC type: always BAD_SIGNAL, with Python's `str()` of
    /// the value as detail.
    WrongType(String),
}

impl SignalArg {
    /// A signal by name or number, as a client sends it.
    pub fn named(signal: impl Into<String>) -> Self {
        SignalArg::Given(signal.into())
    }

    /// Read an argument the way upstream does: only ints and strings can
    /// name a signal.
    pub fn from_value(value: &Value) -> Self {
        let given = py_str(value);
        match value {
            Value::Int(_) | Value::I8(_) | Value::String(_) => SignalArg::Given(given),
            _ => SignalArg::WrongType(given),
        }
    }

    /// The argument for a call. A [`SignalArg::WrongType`] goes out as
    /// base64, the one non-name type whose `str()` is its text.
    pub fn to_value(&self) -> Value {
        match self {
            SignalArg::Given(text) => Value::String(text.clone()),
            SignalArg::WrongType(text) => Value::Base64(text.as_bytes().to_vec()),
        }
    }

    /// The text as given: what a BAD_SIGNAL fault echoes.
    pub fn given(&self) -> &str {
        match self {
            SignalArg::Given(text) | SignalArg::WrongType(text) => text,
        }
    }
}

/// One entry of a `system.multicall` array.
///
/// Entries are decoded one by one as their turn comes, because each
/// entry's fault takes that entry's place in the result array instead of
/// failing the whole multicall.
#[derive(Debug, Clone, PartialEq)]
pub enum MulticallEntry {
    /// A call to make (`params` defaults to none when missing or not an
    /// array, as upstream's `call.get('params', [])` tolerates).
    Call(MethodCall),
    /// An entry without a string `methodName`.
    NoMethodName,
}

impl MulticallEntry {
    /// Read one item of the multicall array.
    pub fn from_value(value: &Value) -> Self {
        match value.get("methodName").and_then(Value::as_str) {
            Some(name) => MulticallEntry::Call(MethodCall {
                name: name.to_owned(),
                params: value
                    .get("params")
                    .and_then(Value::as_array)
                    .map(<[Value]>::to_vec)
                    .unwrap_or_default(),
            }),
            None => MulticallEntry::NoMethodName,
        }
    }

    /// The `{methodName, params}` struct for a call.
    pub fn to_value(&self) -> Value {
        match self {
            MulticallEntry::Call(call) => Value::Struct(vec![
                ("methodName".into(), Value::from(call.name.as_str())),
                ("params".into(), Value::Array(call.params.clone())),
            ]),
            MulticallEntry::NoMethodName => Value::Struct(Vec::new()),
        }
    }

    /// The call this entry makes, or the fault that takes its place:
    /// `No methodName`, or the recursion fault for a nested
    /// `system.multicall` (checked before anything else about the call).
    pub fn call(&self) -> Result<&MethodCall, RpcError> {
        match self {
            MulticallEntry::NoMethodName => Err(RpcError::with_detail(
                FaultCode::IncorrectParameters,
                "No methodName",
            )),
            MulticallEntry::Call(call) if call.name == MULTICALL => Err(recursive_multicall()),
            MulticallEntry::Call(call) => Ok(call),
        }
    }
}

/// The fault for a `system.multicall` inside a `system.multicall`.
pub fn recursive_multicall() -> RpcError {
    RpcError::with_detail(
        FaultCode::IncorrectParameters,
        "Recursive system.multicall forbidden",
    )
}
