//! The page's calls into its own daemon that are more than one typed
//! dispatcher method: the waiting variants, restarts composed of a stop and
//! a start, and the few answers the page reads only in part.
//!
//! The page goes through the same methods a client calls (as Supervisor's
//! page does), so its actions wait, fail and fault exactly as the API's —
//! but it never builds or reads an XML-RPC value: it gets sv_api records
//! and [`RpcError`]s. Like Supervisor's page, which builds its own
//! `supervisor` namespace, these calls work whether or not
//! `[rpcinterface:supervisor]` is configured.

use sv_api::{FaultCode, LogStream, RpcError, SignalArg};

use crate::rpc::Dispatcher;

/// How the page words a fault it has no message of its own for
/// (Supervisor's `unexpected rpc fault [code] faultString`).
pub fn unexpected(error: &RpcError) -> String {
    format!("unexpected rpc fault [{}] {error}", error.code.code())
}

/// `getIdentification`, when the daemon answers.
pub async fn identification(d: &Dispatcher) -> Option<String> {
    d.identification().await.ok()
}

/// `getPID`, when the daemon answers.
pub async fn pid(d: &Dispatcher) -> Option<u32> {
    d.pid().await.ok()
}

/// The `statename` of `getState`, when the daemon answers.
pub async fn state_name(d: &Dispatcher) -> Option<String> {
    d.state()
        .await
        .ok()
        .map(|state| state.statename.to_string())
}

/// `readProcessStdoutLog(namespec, -limit, 0)`: the last `limit` bytes.
pub async fn stdout_tail(d: &Dispatcher, namespec: &str, limit: i32) -> Result<String, RpcError> {
    d.read_process_log(namespec, LogStream::Stdout, -i64::from(limit), 0)
        .await
}

/// `startProcess(namespec)`, waiting for the result.
pub async fn start_process(d: &Dispatcher, namespec: &str) -> Result<(), RpcError> {
    d.start_process(namespec, true).await.map(drop)
}

/// `stopProcess(namespec)`, waiting for the result.
pub async fn stop_process(d: &Dispatcher, namespec: &str) -> Result<(), RpcError> {
    d.stop_process(namespec, true).await.map(drop)
}

/// `signalProcess(namespec, signal)`.
pub async fn signal_process(d: &Dispatcher, namespec: &str, signal: &str) -> Result<(), RpcError> {
    d.signal_process(namespec, &SignalArg::named(signal))
        .await
        .map(drop)
}

/// `startProcessGroup(group)`, waiting.
pub async fn start_group(d: &Dispatcher, group: &str) -> Result<(), RpcError> {
    d.start_process_group(group, true).await.map(drop)
}

/// `stopProcessGroup(group)`, waiting.
pub async fn stop_group(d: &Dispatcher, group: &str) -> Result<(), RpcError> {
    d.stop_process_group(group, true).await.map(drop)
}

/// `stopAllProcesses`, waiting; the results do not matter to the page.
pub async fn stop_all(d: &Dispatcher) {
    let _ = d.stop_all_processes(true).await;
}

/// `startAllProcesses`, waiting; the results do not matter to the page.
pub async fn start_all(d: &Dispatcher) {
    let _ = d.start_all_processes(true).await;
}

/// Stop then start every process, as Supervisor's page does in one
/// multicall; the results do not matter to the page.
pub async fn restart_all(d: &Dispatcher) {
    stop_all(d).await;
    start_all(d).await;
}

/// Stop then start one process, as Supervisor's page does in one
/// multicall; it reports success whatever the two calls returned.
pub async fn restart_process(d: &Dispatcher, namespec: &str) {
    let _ = stop_process(d, namespec).await;
    let _ = start_process(d, namespec).await;
}

/// Stop then start a group, as Supervisor's page does in one multicall.
/// `Ok(false)` when there is no such group (the stop says so); any other
/// fault of either call does not matter to the page.
pub async fn restart_group(d: &Dispatcher, group: &str) -> Result<bool, RpcError> {
    if let Err(e) = stop_group(d, group).await
        && e.code == FaultCode::BadName
    {
        return Ok(false);
    }
    let _ = start_group(d, group).await;
    Ok(true)
}
