//! State changes and log reads on one node, with Cesi's semantics
//! (spec §3.5–3.7, Appendix A) and our documented improvements:
//!
//! * restart is one operation reporting its real result: `getProcessInfo`,
//!   then `stopProcess` when the process is RUNNING — or STARTING or
//!   BACKOFF, which Cesi leaves to fail with `ALREADY_STARTED` (Q2) — then
//!   `startProcess`;
//! * all-processes actions call the node for every selected process at
//!   once instead of one after another, skip calls that can only fault
//!   (Q14), and report each process's outcome;
//! * signal and clear-logs are ours.
//!
//! The node's connectivity is checked by the caller; these functions make
//! the calls and say what happened.

use sv_api::{LogStream, ProcessInfo};
use sv_client::Client;

use super::fleet::Node;
use super::process::{cesi_log_lines, lines_from_offset, parse_list};

/// Cesi's three verbs (the all-processes ones too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// `startProcess`.
    Start,
    /// `stopProcess`.
    Stop,
    /// Stop if running, then start.
    Restart,
}

impl Verb {
    /// The word in URLs and messages.
    pub fn word(self) -> &'static str {
        match self {
            Verb::Start => "start",
            Verb::Stop => "stop",
            Verb::Restart => "restart",
        }
    }

    /// The past tense in activity lines.
    pub fn past(self) -> &'static str {
        match self {
            Verb::Start => "started",
            Verb::Stop => "stopped",
            Verb::Restart => "restarted",
        }
    }

    /// The verb named `word`.
    pub fn parse(word: &str) -> Option<Verb> {
        match word {
            "start" => Some(Verb::Start),
            "stop" => Some(Verb::Stop),
            "restart" => Some(Verb::Restart),
            _ => None,
        }
    }
}

/// Why an action failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    /// The node's fault string or the transport's error text (500, Cesi's
    /// `ALREADY_STARTED: web`).
    #[error("{0}")]
    Failed(String),
    /// restart: `getProcessInfo` failed (400 `Wrong process name`).
    #[error("Wrong process name")]
    WrongProcess,
}

/// How many calls an all-processes action has under way on one node.
pub const CALLS_PER_NODE: usize = 8;

/// Supervisor's states a stop applies to (RUNNING_STATES).
fn stoppable(state: i32) -> bool {
    matches!(state, 10 | 20 | 30)
}

/// The message a failed call shows: the fault string as Supervisor wrote
/// it, else the error text.
fn failure(error: &sv_client::Error) -> ActionError {
    match error.fault() {
        Some(fault) => ActionError::Failed(fault.string.clone()),
        None => ActionError::Failed(super::health::classify(error).1),
    }
}

fn client_of(node: &Node) -> Result<Client, ActionError> {
    node.action_client().map_err(ActionError::Failed)
}

/// `true` from Supervisor, or Cesi's `cannot <verb> process`.
fn checked(result: Result<bool, sv_client::Error>, verb: &str) -> Result<(), ActionError> {
    match result {
        Ok(true) => Ok(()),
        Ok(false) => Err(ActionError::Failed(format!("cannot {verb} process"))),
        Err(e) => Err(failure(&e)),
    }
}

/// start, stop or restart `uname` (passed to Supervisor verbatim, so
/// `g:*` works for start and stop).
pub async fn act(node: &Node, uname: &str, verb: Verb) -> Result<(), ActionError> {
    let client = client_of(node)?;
    match verb {
        Verb::Start => checked(client.start_process(uname, true).await, "start"),
        Verb::Stop => checked(client.stop_process(uname, true).await, "stop"),
        Verb::Restart => {
            let info = client
                .get_process_info(uname)
                .await
                .map_err(|_| ActionError::WrongProcess)?;
            if stoppable(info.state) {
                checked(client.stop_process(uname, true).await, "stop")?;
            }
            checked(client.start_process(uname, true).await, "start")
        }
    }
}

/// `signalProcess(uname, signal)` (ours).
pub async fn signal(node: &Node, uname: &str, signal: &str) -> Result<(), ActionError> {
    let client = client_of(node)?;
    checked(client.signal_process(uname, signal).await, "signal")
}

/// `clearProcessLogs(uname)` (ours).
pub async fn clear_logs(node: &Node, uname: &str) -> Result<(), ActionError> {
    let client = client_of(node)?;
    checked(client.clear_process_logs(uname).await, "clear logs of")
}

/// Which part of a log to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogWindow {
    /// `None`: the last `length` bytes (Cesi's tail); `Some(n)`: from
    /// byte `n` (ours).
    pub offset: Option<i64>,
    /// How many bytes (Cesi: 500).
    pub length: i64,
}

/// Cesi's default window: the last 500 bytes.
pub const CESI_LOG_BYTES: i64 = 500;
/// The largest window a client may ask for.
pub const MAX_LOG_BYTES: i64 = 1 << 20;

/// stdout and stderr lines of `uname`.
pub async fn read_logs(
    node: &Node,
    uname: &str,
    window: LogWindow,
) -> Result<(Vec<String>, Vec<String>), ActionError> {
    let client = node.client().map_err(ActionError::Failed)?;
    let one = |stream: LogStream| {
        let client = client.clone();
        async move {
            match window.offset {
                None => client
                    .tail_process_log(uname, stream, 0, window.length)
                    .await
                    .map(|chunk| cesi_log_lines(&chunk.bytes)),
                Some(offset) => client
                    .read_process_log(uname, stream, offset, window.length)
                    .await
                    .map(|text| lines_from_offset(&text)),
            }
            .map_err(|e| failure(&e))
        }
    };
    // As Cesi: stderr is not read when stdout faults.
    let stdout = one(LogStream::Stdout).await?;
    let stderr = one(LogStream::Stderr).await?;
    Ok((stdout, stderr))
}

/// One process's outcome inside an all-processes action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessOutcome {
    /// `group:name`.
    pub namespec: String,
    /// The bare name (Cesi's activity lines use it).
    pub name: String,
    /// `Ok` or the failure text.
    pub result: Result<(), String>,
}

/// Start, stop or restart every process of the node, all at once. Fails
/// only when the process list cannot be read.
pub async fn act_all(node: &Node, verb: Verb) -> Result<Vec<ProcessOutcome>, ActionError> {
    let client = client_of(node)?;
    let value = client
        .call("supervisor.getAllProcessInfo", Vec::new())
        .await
        .map_err(|e| failure(&e))?;
    let (processes, _) = parse_list(&value).map_err(ActionError::Failed)?;
    let selected: Vec<ProcessInfo> = processes
        .into_iter()
        .filter(|p| match verb {
            Verb::Start => !stoppable(p.state),
            Verb::Stop => stoppable(p.state),
            Verb::Restart => true,
        })
        .collect();
    let calls = selected.into_iter().map(|p| {
        let client = client.clone();
        async move {
            let namespec = format!("{}:{}", p.group, p.name);
            let result = match verb {
                Verb::Start => checked(client.start_process(&namespec, true).await, "start"),
                Verb::Stop => checked(client.stop_process(&namespec, true).await, "stop"),
                Verb::Restart => {
                    // Cesi ignores a failed stop and starts anyway.
                    if stoppable(p.state) {
                        let _ = client.stop_process(&namespec, true).await;
                    }
                    checked(client.start_process(&namespec, true).await, "start")
                }
            };
            ProcessOutcome {
                namespec,
                name: p.name.clone(),
                result: result.map_err(|e| e.to_string()),
            }
        }
    });
    // At most a few calls to one node at a time: each may hold a
    // connection for `startsecs`, and a node with hundreds of processes
    // should not cost the hub (or the node) hundreds of sockets at once.
    Ok(
        futures_util::StreamExt::collect(futures_util::StreamExt::buffered(
            futures_util::stream::iter(calls),
            CALLS_PER_NODE,
        ))
        .await,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbs_round_trip_and_stops_only_apply_to_running_states() {
        for verb in [Verb::Start, Verb::Stop, Verb::Restart] {
            assert_eq!(Verb::parse(verb.word()), Some(verb));
        }
        assert_eq!(Verb::parse("log"), None);
        assert!(stoppable(20) && stoppable(10) && stoppable(30));
        assert!(!stoppable(0) && !stoppable(100) && !stoppable(200) && !stoppable(40));
    }
}
