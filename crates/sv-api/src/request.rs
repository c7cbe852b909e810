//! Typed requests: one [`Request`] variant per published method, decoded
//! from a call's name and XML-RPC arguments by [`Request::decode`] and
//! turned back into a call by [`Request::to_call`].
//!
//! This is the one place where method names are matched and where each
//! method's arity and argument types are checked, with the faults (codes,
//! texts and the order of the checks) Supervisor 4.3.0 gives. The daemon
//! dispatches on the decoded variant; clients build their calls from the
//! same variants, so both directions share one vocabulary.
//!
//! Arity is declared by each decoder (`exact::<N>` / `with_wait::<N>`);
//! the published table in [`crate::methods`] only supplies names,
//! signatures and help. Tests check that the two agree.

use sv_xmlrpc::{MethodCall, Value};

use crate::faults::{FaultCode, RpcError};
use crate::methods::canonical_name;
use crate::params::{exact, int, py_str, text, with_wait};

mod args;

pub use args::{LogStream, MulticallEntry, SignalArg, recursive_multicall};

/// The one method that takes other calls, and may not take itself.
const MULTICALL: &str = "system.multicall";

/// A decoded call to one of the published methods. Aliases
/// (`supervisor.getVersion`, `readMainLog`, `readProcessLog`,
/// `tailProcessLog`, `clearProcessLog`) decode to their canonical variant.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    // ---- system.* -------------------------------------------------------
    /// `system.listMethods()`
    ListMethods,
    /// `system.methodHelp(name)`
    MethodHelp {
        /// The method asked about.
        name: String,
    },
    /// `system.methodSignature(name)`
    MethodSignature {
        /// The method asked about.
        name: String,
    },
    /// `system.multicall(calls)`
    Multicall {
        /// The calls, in order.
        calls: Vec<MulticallEntry>,
    },

    // ---- identity and daemon state ---------------------------------------
    /// `supervisor.getAPIVersion()` (alias `getVersion`)
    GetApiVersion,
    /// `supervisor.getSupervisorVersion()`
    GetSupervisorVersion,
    /// `supervisor.getIdentification()`
    GetIdentification,
    /// `supervisor.getState()`
    GetState,
    /// `supervisor.getPID()`
    GetPid,
    /// `supervisor.shutdown()`
    Shutdown,
    /// `supervisor.restart()`
    Restart,

    // ---- configuration and groups ----------------------------------------
    /// `supervisor.reloadConfig()`
    ReloadConfig,
    /// `supervisor.addProcessGroup(name)`
    AddProcessGroup {
        /// The group to activate.
        name: String,
    },
    /// `supervisor.removeProcessGroup(name)`
    RemoveProcessGroup {
        /// The group to remove.
        name: String,
    },
    /// `supervisor.getAllConfigInfo()`
    GetAllConfigInfo,

    // ---- process information ---------------------------------------------
    /// `supervisor.getProcessInfo(name)`
    GetProcessInfo {
        /// The process, as `name` or `group:name`.
        name: String,
    },
    /// `supervisor.getAllProcessInfo()`
    GetAllProcessInfo,

    // ---- start / stop / signal -------------------------------------------
    /// `supervisor.startProcess(name, wait=True)`
    StartProcess {
        /// The process, or a whole group as `group:*`.
        name: String,
        /// Answer only once the process is RUNNING.
        wait: bool,
    },
    /// `supervisor.startProcessGroup(name, wait=True)`
    StartProcessGroup {
        /// The group.
        name: String,
        /// Answer only once every process is RUNNING.
        wait: bool,
    },
    /// `supervisor.startAllProcesses(wait=True)`
    StartAllProcesses {
        /// Answer only once every process is RUNNING.
        wait: bool,
    },
    /// `supervisor.stopProcess(name, wait=True)`
    StopProcess {
        /// The process, or a whole group as `group:*`.
        name: String,
        /// Answer only once the process has stopped.
        wait: bool,
    },
    /// `supervisor.stopProcessGroup(name, wait=True)`
    StopProcessGroup {
        /// The group.
        name: String,
        /// Answer only once every process has stopped.
        wait: bool,
    },
    /// `supervisor.stopAllProcesses(wait=True)`
    StopAllProcesses {
        /// Answer only once every process has stopped.
        wait: bool,
    },
    /// `supervisor.signalProcess(name, signal)`
    SignalProcess {
        /// The process, or a whole group as `group:*`.
        name: String,
        /// The signal as given.
        signal: SignalArg,
    },
    /// `supervisor.signalProcessGroup(name, signal)`
    SignalProcessGroup {
        /// The group.
        name: String,
        /// The signal as given.
        signal: SignalArg,
    },
    /// `supervisor.signalAllProcesses(signal)`
    SignalAllProcesses {
        /// The signal as given.
        signal: SignalArg,
    },

    // ---- logs ------------------------------------------------------------
    /// `supervisor.readLog(offset, length)` (alias `readMainLog`)
    ReadLog {
        /// Where to start, in bytes (negative: from the end).
        offset: i64,
        /// How many bytes (0: up to the end).
        length: i64,
    },
    /// `supervisor.clearLog()`
    ClearLog,
    /// `supervisor.readProcessStdoutLog` / `readProcessStderrLog(name,
    /// offset, length)` (alias `readProcessLog`)
    ReadProcessLog {
        /// The process.
        name: String,
        /// Which log.
        stream: LogStream,
        /// Where to start, in bytes (negative: from the end).
        offset: i64,
        /// How many bytes (0: up to the end).
        length: i64,
    },
    /// `supervisor.tailProcessStdoutLog` / `tailProcessStderrLog(name,
    /// offset, length)` (alias `tailProcessLog`)
    TailProcessLog {
        /// The process.
        name: String,
        /// Which log.
        stream: LogStream,
        /// Where the caller's last tail ended.
        offset: i64,
        /// The most bytes to return.
        length: i64,
    },
    /// `supervisor.clearProcessLogs(name)` (alias `clearProcessLog`)
    ClearProcessLogs {
        /// The process.
        name: String,
    },
    /// `supervisor.clearAllProcessLogs()`
    ClearAllProcessLogs,

    // ---- stdin and events ------------------------------------------------
    /// `supervisor.sendProcessStdin(name, chars)`
    SendProcessStdin {
        /// The process.
        name: String,
        /// The bytes to write (sent as a string, or base64 when they are
        /// not UTF-8).
        chars: Vec<u8>,
    },
    /// `supervisor.sendRemoteCommEvent(type, data)`
    SendRemoteCommEvent {
        /// The event's `type` header: Python's `str()` of whatever was sent.
        kind: String,
        /// The event body: Python's `str()` of whatever was sent.
        data: String,
    },
}

fn unknown_method() -> RpcError {
    RpcError::new(FaultCode::UnknownMethod)
}

/// `sendProcessStdin`'s `chars`: a string or base64; anything else is
/// INCORRECT_PARAMETERS with the value as detail (upstream: a `TypeError`
/// on `chars.encode`).
fn stdin_chars(value: &Value) -> Result<Vec<u8>, RpcError> {
    match value {
        Value::String(s) => Ok(s.as_bytes().to_vec()),
        Value::Base64(bytes) => Ok(bytes.clone()),
        other => Err(RpcError::with_detail(
            FaultCode::IncorrectParameters,
            py_str(other),
        )),
    }
}

fn wait_args(wait: bool) -> Vec<Value> {
    // `wait` defaults to true upstream; supervisorctl and the web page send
    // only the name, so a default flag is left out to keep their bytes.
    if wait {
        Vec::new()
    } else {
        vec![Value::Bool(false)]
    }
}

fn named_with_wait(name: &str, wait: bool) -> Vec<Value> {
    let mut params = vec![Value::from(name)];
    params.extend(wait_args(wait));
    params
}

fn log_stream(method: &str) -> LogStream {
    if method.contains("Stderr") {
        LogStream::Stderr
    } else {
        LogStream::Stdout
    }
}

impl Request {
    /// Decode a call: the method by its exact dotted name (anything else,
    /// including `_private` names and other dotted shapes, is
    /// UNKNOWN_METHOD), then the argument count, then each argument's type,
    /// in the order Supervisor's Python code reads them.
    ///
    /// Whether the `supervisor.*` namespace is published at all is the
    /// server's configuration; the daemon checks that before decoding.
    pub fn decode(name: &str, params: &[Value]) -> Result<Request, RpcError> {
        use Request as R;
        let request = match canonical_name(name) {
            "system.listMethods" => {
                exact::<0>(params)?;
                R::ListMethods
            }
            "system.methodHelp" => {
                let [name] = exact(params)?;
                R::MethodHelp { name: text(name)? }
            }
            "system.methodSignature" => {
                let [name] = exact(params)?;
                R::MethodSignature { name: text(name)? }
            }
            MULTICALL => {
                let [calls] = exact(params)?;
                let calls = calls
                    .as_array()
                    .ok_or_else(|| RpcError::new(FaultCode::IncorrectParameters))?;
                R::Multicall {
                    calls: calls.iter().map(MulticallEntry::from_value).collect(),
                }
            }
            "supervisor.getAPIVersion" => {
                exact::<0>(params)?;
                R::GetApiVersion
            }
            "supervisor.getSupervisorVersion" => {
                exact::<0>(params)?;
                R::GetSupervisorVersion
            }
            "supervisor.getIdentification" => {
                exact::<0>(params)?;
                R::GetIdentification
            }
            "supervisor.getState" => {
                exact::<0>(params)?;
                R::GetState
            }
            "supervisor.getPID" => {
                exact::<0>(params)?;
                R::GetPid
            }
            "supervisor.shutdown" => {
                exact::<0>(params)?;
                R::Shutdown
            }
            "supervisor.restart" => {
                exact::<0>(params)?;
                R::Restart
            }
            "supervisor.reloadConfig" => {
                exact::<0>(params)?;
                R::ReloadConfig
            }
            "supervisor.addProcessGroup" => {
                let [name] = exact(params)?;
                R::AddProcessGroup { name: text(name)? }
            }
            "supervisor.removeProcessGroup" => {
                let [name] = exact(params)?;
                R::RemoveProcessGroup { name: text(name)? }
            }
            "supervisor.getAllConfigInfo" => {
                exact::<0>(params)?;
                R::GetAllConfigInfo
            }
            "supervisor.getProcessInfo" => {
                let [name] = exact(params)?;
                R::GetProcessInfo { name: text(name)? }
            }
            "supervisor.getAllProcessInfo" => {
                exact::<0>(params)?;
                R::GetAllProcessInfo
            }
            "supervisor.startProcess" => {
                let ([name], wait) = with_wait(params)?;
                R::StartProcess {
                    name: text(name)?,
                    wait,
                }
            }
            "supervisor.startProcessGroup" => {
                let ([name], wait) = with_wait(params)?;
                R::StartProcessGroup {
                    name: text(name)?,
                    wait,
                }
            }
            "supervisor.startAllProcesses" => {
                let ([], wait) = with_wait(params)?;
                R::StartAllProcesses { wait }
            }
            "supervisor.stopProcess" => {
                let ([name], wait) = with_wait(params)?;
                R::StopProcess {
                    name: text(name)?,
                    wait,
                }
            }
            "supervisor.stopProcessGroup" => {
                let ([name], wait) = with_wait(params)?;
                R::StopProcessGroup {
                    name: text(name)?,
                    wait,
                }
            }
            "supervisor.stopAllProcesses" => {
                let ([], wait) = with_wait(params)?;
                R::StopAllProcesses { wait }
            }
            "supervisor.signalProcess" => {
                let [name, signal] = exact(params)?;
                R::SignalProcess {
                    name: text(name)?,
                    signal: SignalArg::from_value(signal),
                }
            }
            "supervisor.signalProcessGroup" => {
                let [name, signal] = exact(params)?;
                R::SignalProcessGroup {
                    name: text(name)?,
                    signal: SignalArg::from_value(signal),
                }
            }
            "supervisor.signalAllProcesses" => {
                let [signal] = exact(params)?;
                R::SignalAllProcesses {
                    signal: SignalArg::from_value(signal),
                }
            }
            "supervisor.readLog" => {
                let [offset, length] = exact(params)?;
                R::ReadLog {
                    offset: int(offset)?,
                    length: int(length)?,
                }
            }
            "supervisor.clearLog" => {
                exact::<0>(params)?;
                R::ClearLog
            }
            method @ ("supervisor.readProcessStdoutLog" | "supervisor.readProcessStderrLog") => {
                let [name, offset, length] = exact(params)?;
                R::ReadProcessLog {
                    name: text(name)?,
                    stream: log_stream(method),
                    offset: int(offset)?,
                    length: int(length)?,
                }
            }
            method @ ("supervisor.tailProcessStdoutLog" | "supervisor.tailProcessStderrLog") => {
                let [name, offset, length] = exact(params)?;
                R::TailProcessLog {
                    name: text(name)?,
                    stream: log_stream(method),
                    offset: int(offset)?,
                    length: int(length)?,
                }
            }
            "supervisor.clearProcessLogs" => {
                let [name] = exact(params)?;
                R::ClearProcessLogs { name: text(name)? }
            }
            "supervisor.clearAllProcessLogs" => {
                exact::<0>(params)?;
                R::ClearAllProcessLogs
            }
            "supervisor.sendProcessStdin" => {
                let [name, chars] = exact(params)?;
                // Upstream encodes `chars` before it looks at the name.
                let chars = stdin_chars(chars)?;
                R::SendProcessStdin {
                    name: text(name)?,
                    chars,
                }
            }
            "supervisor.sendRemoteCommEvent" => {
                let [kind, data] = exact(params)?;
                R::SendRemoteCommEvent {
                    kind: py_str(kind),
                    data: py_str(data),
                }
            }
            _ => return Err(unknown_method()),
        };
        Ok(request)
    }

    /// [`Request::decode`] of a decoded `<methodCall>`.
    pub fn from_call(call: &MethodCall) -> Result<Request, RpcError> {
        Request::decode(&call.name, &call.params)
    }

    /// The canonical published name of this request's method.
    pub fn method_name(&self) -> &'static str {
        use Request as R;
        match self {
            R::ListMethods => "system.listMethods",
            R::MethodHelp { .. } => "system.methodHelp",
            R::MethodSignature { .. } => "system.methodSignature",
            R::Multicall { .. } => MULTICALL,
            R::GetApiVersion => "supervisor.getAPIVersion",
            R::GetSupervisorVersion => "supervisor.getSupervisorVersion",
            R::GetIdentification => "supervisor.getIdentification",
            R::GetState => "supervisor.getState",
            R::GetPid => "supervisor.getPID",
            R::Shutdown => "supervisor.shutdown",
            R::Restart => "supervisor.restart",
            R::ReloadConfig => "supervisor.reloadConfig",
            R::AddProcessGroup { .. } => "supervisor.addProcessGroup",
            R::RemoveProcessGroup { .. } => "supervisor.removeProcessGroup",
            R::GetAllConfigInfo => "supervisor.getAllConfigInfo",
            R::GetProcessInfo { .. } => "supervisor.getProcessInfo",
            R::GetAllProcessInfo => "supervisor.getAllProcessInfo",
            R::StartProcess { .. } => "supervisor.startProcess",
            R::StartProcessGroup { .. } => "supervisor.startProcessGroup",
            R::StartAllProcesses { .. } => "supervisor.startAllProcesses",
            R::StopProcess { .. } => "supervisor.stopProcess",
            R::StopProcessGroup { .. } => "supervisor.stopProcessGroup",
            R::StopAllProcesses { .. } => "supervisor.stopAllProcesses",
            R::SignalProcess { .. } => "supervisor.signalProcess",
            R::SignalProcessGroup { .. } => "supervisor.signalProcessGroup",
            R::SignalAllProcesses { .. } => "supervisor.signalAllProcesses",
            R::ReadLog { .. } => "supervisor.readLog",
            R::ClearLog => "supervisor.clearLog",
            R::ReadProcessLog { stream, .. } => match stream {
                LogStream::Stdout => "supervisor.readProcessStdoutLog",
                LogStream::Stderr => "supervisor.readProcessStderrLog",
            },
            R::TailProcessLog { stream, .. } => match stream {
                LogStream::Stdout => "supervisor.tailProcessStdoutLog",
                LogStream::Stderr => "supervisor.tailProcessStderrLog",
            },
            R::ClearProcessLogs { .. } => "supervisor.clearProcessLogs",
            R::ClearAllProcessLogs => "supervisor.clearAllProcessLogs",
            R::SendProcessStdin { .. } => "supervisor.sendProcessStdin",
            R::SendRemoteCommEvent { .. } => "supervisor.sendRemoteCommEvent",
        }
    }

    /// The arguments a client sends, in order: the inverse of
    /// [`Request::decode`]. A `wait` of true (the default) is left out.
    pub fn params(&self) -> Vec<Value> {
        use Request as R;
        let name = |name: &str| vec![Value::from(name)];
        let window = |name: &str, offset: i64, length: i64| {
            vec![Value::from(name), int_value(offset), int_value(length)]
        };
        match self {
            R::ListMethods
            | R::GetApiVersion
            | R::GetSupervisorVersion
            | R::GetIdentification
            | R::GetState
            | R::GetPid
            | R::Shutdown
            | R::Restart
            | R::ReloadConfig
            | R::GetAllConfigInfo
            | R::GetAllProcessInfo
            | R::ClearLog
            | R::ClearAllProcessLogs => Vec::new(),
            R::MethodHelp { name: n }
            | R::MethodSignature { name: n }
            | R::AddProcessGroup { name: n }
            | R::RemoveProcessGroup { name: n }
            | R::GetProcessInfo { name: n }
            | R::ClearProcessLogs { name: n } => name(n),
            R::Multicall { calls } => vec![Value::Array(
                calls.iter().map(MulticallEntry::to_value).collect(),
            )],
            R::StartProcess { name, wait }
            | R::StartProcessGroup { name, wait }
            | R::StopProcess { name, wait }
            | R::StopProcessGroup { name, wait } => named_with_wait(name, *wait),
            R::StartAllProcesses { wait } | R::StopAllProcesses { wait } => wait_args(*wait),
            R::SignalProcess { name, signal } | R::SignalProcessGroup { name, signal } => {
                vec![Value::from(name.as_str()), signal.to_value()]
            }
            R::SignalAllProcesses { signal } => vec![signal.to_value()],
            R::ReadLog { offset, length } => vec![int_value(*offset), int_value(*length)],
            R::ReadProcessLog {
                name,
                offset,
                length,
                ..
            }
            | R::TailProcessLog {
                name,
                offset,
                length,
                ..
            } => window(name, *offset, *length),
            R::SendProcessStdin { name, chars } => {
                let chars = match std::str::from_utf8(chars) {
                    Ok(text) => Value::from(text),
                    Err(_) => Value::Base64(chars.clone()),
                };
                vec![Value::from(name.as_str()), chars]
            }
            R::SendRemoteCommEvent { kind, data } => {
                vec![Value::from(kind.as_str()), Value::from(data.as_str())]
            }
        }
    }

    /// The `<methodCall>` a client sends for this request.
    pub fn to_call(&self) -> MethodCall {
        MethodCall {
            name: self.method_name().to_owned(),
            params: self.params(),
        }
    }
}

/// An offset or length as a client sends it: `<int>` when it fits, which
/// every Supervisor accepts, `<i8>` beyond (decoded back by `int()`).
fn int_value(n: i64) -> Value {
    i32::try_from(n).map_or(Value::I8(n), Value::Int)
}

#[cfg(test)]
mod tests;
