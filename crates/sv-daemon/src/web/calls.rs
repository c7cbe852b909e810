//! The page's calls into its own daemon, typed: the one place in `web/`
//! that builds XML-RPC parameters and reads XML-RPC values.
//!
//! The page goes through the same methods a client calls (as Supervisor's
//! page does), so its actions wait, fail and fault exactly as the API's.
//! Everything else in `web/` sees [`ProcessInfo`], strings and [`Fault`]s.
//! When the dispatcher grows typed methods, only this file changes.

use sv_api::FaultCode;
use sv_xmlrpc::{Fault, Value};

use crate::rpc::Dispatcher;

/// The fields of a `getProcessInfo` struct the page uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessInfo {
    /// The process's group.
    pub group: String,
    /// The process's name in its group.
    pub name: String,
    /// The state's code.
    pub state: i32,
    /// The state's name (`RUNNING`, …).
    pub statename: String,
    /// Supervisor's description (`pid 42, uptime 0:01:02`, …).
    pub description: String,
    /// The pid, 0 when there is no process.
    pub pid: i64,
    /// When it was last started (seconds since the epoch), 0 if never.
    pub start: i64,
    /// When it last stopped, 0 if never.
    pub stop: i64,
    /// The daemon's clock when the info was taken.
    pub now: i64,
    /// Why the last spawn failed, if it did.
    pub spawnerr: String,
    /// The stdout log's path; empty when there is none.
    pub stdout_logfile: String,
    /// The stderr log's path; empty when there is none.
    pub stderr_logfile: String,
}

impl ProcessInfo {
    /// From a `getProcessInfo` struct; a missing field reads as empty / 0.
    fn from_value(info: &Value) -> ProcessInfo {
        let text = |key: &str| {
            info.get(key)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let int = |key: &str| match info.get(key) {
            Some(Value::Int(v)) => i64::from(*v),
            Some(Value::I8(v)) => *v,
            _ => 0,
        };
        ProcessInfo {
            group: text("group"),
            name: text("name"),
            state: int("state") as i32,
            statename: text("statename"),
            description: text("description"),
            pid: int("pid"),
            start: int("start"),
            stop: int("stop"),
            now: int("now"),
            spawnerr: text("spawnerr"),
            stdout_logfile: text("stdout_logfile"),
            stderr_logfile: text("stderr_logfile"),
        }
    }

    /// `group:name`, or the name alone when they are the same.
    pub fn namespec(&self) -> String {
        sv_api::make_namespec(&self.group, &self.name)
    }
}

/// Whether `fault` carries `code`.
pub fn fault_is(fault: &Fault, code: FaultCode) -> bool {
    FaultCode::from_code(fault.code) == Some(code)
}

/// How the page words a fault it has no message of its own for.
pub fn unexpected(fault: &Fault) -> String {
    format!("unexpected rpc fault [{}] {}", fault.code, fault.string)
}

async fn call(d: &Dispatcher, method: &str, params: Vec<Value>) -> Result<Value, Fault> {
    d.call_for_web(method, params).await
}

async fn call_on(d: &Dispatcher, method: &str, namespec: &str) -> Result<(), Fault> {
    call(d, method, vec![Value::from(namespec)]).await.map(drop)
}

/// `system.multicall` of `calls` (method, and its one string parameter).
async fn multicall(d: &Dispatcher, calls: &[(&str, Option<&str>)]) -> Result<Value, Fault> {
    let calls = calls
        .iter()
        .map(|(name, spec)| {
            let mut members = vec![("methodName".to_string(), Value::from(*name))];
            if let Some(spec) = spec {
                members.push(("params".to_string(), Value::Array(vec![Value::from(*spec)])));
            }
            Value::Struct(members)
        })
        .collect();
    call(d, "system.multicall", vec![Value::Array(calls)]).await
}

/// `getAllProcessInfo`, sorted by group and name.
pub async fn all_process_info(d: &Dispatcher) -> Result<Vec<ProcessInfo>, Fault> {
    match call(d, "supervisor.getAllProcessInfo", vec![]).await? {
        Value::Array(infos) => Ok(infos.iter().map(ProcessInfo::from_value).collect()),
        _ => Err(Fault {
            code: FaultCode::Failed.code(),
            string: "getAllProcessInfo gave no array".to_string(),
        }),
    }
}

/// `getProcessInfo(namespec)`.
pub async fn process_info(d: &Dispatcher, namespec: &str) -> Result<ProcessInfo, Fault> {
    let info = call(d, "supervisor.getProcessInfo", vec![Value::from(namespec)]).await?;
    Ok(ProcessInfo::from_value(&info))
}

/// `getIdentification`, when the daemon answers.
pub async fn identification(d: &Dispatcher) -> Option<String> {
    let value = call(d, "supervisor.getIdentification", vec![]).await.ok()?;
    value.as_str().map(str::to_string)
}

/// `getPID`, when the daemon answers.
pub async fn pid(d: &Dispatcher) -> Option<i32> {
    call(d, "supervisor.getPID", vec![]).await.ok()?.as_i32()
}

/// The `statename` of `getState`, when the daemon answers.
pub async fn state_name(d: &Dispatcher) -> Option<String> {
    let state = call(d, "supervisor.getState", vec![]).await.ok()?;
    state
        .get("statename")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// `readProcessStdoutLog(namespec, -limit, 0)`: the last `limit` bytes.
pub async fn stdout_tail(d: &Dispatcher, namespec: &str, limit: i32) -> Result<String, Fault> {
    let params = vec![Value::from(namespec), Value::Int(-limit), Value::Int(0)];
    let text = call(d, "supervisor.readProcessStdoutLog", params).await?;
    Ok(text.as_str().unwrap_or("").to_string())
}

/// `startProcess(namespec)`, waiting for the result.
pub async fn start_process(d: &Dispatcher, namespec: &str) -> Result<(), Fault> {
    call_on(d, "supervisor.startProcess", namespec).await
}

/// `stopProcess(namespec)`, waiting for the result.
pub async fn stop_process(d: &Dispatcher, namespec: &str) -> Result<(), Fault> {
    call_on(d, "supervisor.stopProcess", namespec).await
}

/// `clearProcessLogs(namespec)`.
pub async fn clear_process_logs(d: &Dispatcher, namespec: &str) -> Result<(), Fault> {
    call_on(d, "supervisor.clearProcessLogs", namespec).await
}

/// `signalProcess(namespec, signal)`.
pub async fn signal_process(d: &Dispatcher, namespec: &str, signal: &str) -> Result<(), Fault> {
    let params = vec![Value::from(namespec), Value::from(signal)];
    call(d, "supervisor.signalProcess", params).await.map(drop)
}

/// `startProcessGroup(group)`, waiting.
pub async fn start_group(d: &Dispatcher, group: &str) -> Result<(), Fault> {
    call_on(d, "supervisor.startProcessGroup", group).await
}

/// `stopProcessGroup(group)`, waiting.
pub async fn stop_group(d: &Dispatcher, group: &str) -> Result<(), Fault> {
    call_on(d, "supervisor.stopProcessGroup", group).await
}

/// `stopAllProcesses`, waiting; the results do not matter to the page.
pub async fn stop_all(d: &Dispatcher) {
    let _ = call(d, "supervisor.stopAllProcesses", vec![]).await;
}

/// `startAllProcesses`, waiting; the results do not matter to the page.
pub async fn start_all(d: &Dispatcher) {
    let _ = call(d, "supervisor.startAllProcesses", vec![]).await;
}

/// Stop then start every process in one `system.multicall`, as
/// Supervisor's page does; the results do not matter to the page.
pub async fn restart_all(d: &Dispatcher) {
    let calls = [
        ("supervisor.stopAllProcesses", None),
        ("supervisor.startAllProcesses", None),
    ];
    let _ = multicall(d, &calls).await;
}

/// Stop then start one process in one `system.multicall`, as Supervisor's
/// page does; it reports success whatever the two calls returned.
pub async fn restart_process(d: &Dispatcher, namespec: &str) {
    let calls = [
        ("supervisor.stopProcess", Some(namespec)),
        ("supervisor.startProcess", Some(namespec)),
    ];
    let _ = multicall(d, &calls).await;
}

/// Stop then start a group in one `system.multicall`. `Ok(false)` when
/// there is no such group (the first call's fault says so).
pub async fn restart_group(d: &Dispatcher, group: &str) -> Result<bool, Fault> {
    let calls = [
        ("supervisor.stopProcessGroup", Some(group)),
        ("supervisor.startProcessGroup", Some(group)),
    ];
    let results = multicall(d, &calls).await?;
    let bad_name = match results.as_array().and_then(|r| r.first()) {
        Some(Value::Struct(members)) => members
            .iter()
            .any(|(k, v)| k == "faultCode" && v.as_i32() == Some(FaultCode::BadName.code())),
        _ => false,
    };
    Ok(!bad_name)
}
