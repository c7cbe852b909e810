//! The operations the actor offers to the transports (the XML-RPC method
//! table composes them): each carries a `oneshot` for its answer. An
//! operation that must wait — `startProcess`/`stopProcess` with `wait=true`
//! — leaves a [`Waiter`] behind and is answered when the process gets there,
//! so a waiting client never holds up the actor or other clients.
//!
//! Checks, their order and their faults are Supervisor's (`rpcinterface.py`).

use std::path::PathBuf;

use sv_api::SupervisorState;
use sv_api::records::{ConfigInfo, ProcessInfo};
use sv_api::split_namespec;
use sv_core::process::{Input, Process, Refused, State};
use tokio::sync::oneshot;

use super::error::OpError;
use super::groups::GroupDef;
use super::table::ProcKey;
use super::waiters::Waiter;
use super::{BusEvent, Supervisor};
use crate::stdin::{StdinError, StdinPipe};

/// The answer channel of an operation.
pub type Reply<T> = oneshot::Sender<Result<T, OpError>>;

/// What every caller may want to know about the daemon itself.
#[derive(Debug, Clone)]
pub struct DaemonInfo {
    pub mood: SupervisorState,
    pub identifier: String,
    pub pid: u32,
    /// The main log file, `None` when logging to syslog.
    pub mainlog: Option<PathBuf>,
}

/// A process picked by a group or all-processes operation.
#[derive(Debug, Clone)]
pub struct Selected {
    pub group: String,
    pub name: String,
    pub state: State,
}

/// A request to the actor.
#[derive(Debug)]
pub enum Op {
    Info(oneshot::Sender<DaemonInfo>),
    /// `getAllProcessInfo`: sorted by group name, then process name.
    AllProcessInfo(Reply<Vec<ProcessInfo>>),
    ProcessInfo(String, Reply<ProcessInfo>),
    /// The processes of one group (by priority) or of all groups (groups by
    /// priority); BAD_NAME for an unknown group.
    Select {
        group: Option<String>,
        reply: Reply<Vec<Selected>>,
    },
    Start {
        spec: String,
        wait: bool,
        reply: Reply<()>,
    },
    Stop {
        spec: String,
        wait: bool,
        reply: Reply<()>,
    },
    Signal {
        spec: String,
        signal: i32,
        reply: Reply<()>,
    },
    /// Where a process's stdout (or stderr) log is, if it has one.
    LogPath {
        spec: String,
        stderr: bool,
        reply: Reply<Option<PathBuf>>,
    },
    ClearProcessLogs {
        spec: String,
        reply: Reply<()>,
    },
    ClearLog(Reply<()>),
    SendStdin {
        spec: String,
        data: Vec<u8>,
        reply: Reply<()>,
    },
    Shutdown(Reply<()>),
    Restart(Reply<()>),
    /// `[[added, changed, removed]]`.
    ReloadConfig(Reply<[Vec<String>; 3]>),
    AddGroup(String, Reply<()>),
    RemoveGroup(String, Reply<()>),
    ConfigInfo(Reply<Vec<ConfigInfo>>),
    /// A WARN line for the main log from outside the actor (the HTTP
    /// servers' limits), which owns the log. Never refused.
    Warn(String),
    /// `sendRemoteCommEvent` (works even while shutting down).
    RemoteComm {
        kind: String,
        data: String,
        reply: oneshot::Sender<()>,
    },
}

impl Supervisor {
    pub(super) fn handle(&mut self, op: Op) {
        // Every supervisor.* method but sendRemoteCommEvent refuses to work
        // while the daemon shuts down or restarts.
        let refuse = self.mood != SupervisorState::Running;
        macro_rules! guard {
            ($reply:expr) => {
                if refuse {
                    let _ = $reply.send(Err(OpError::ShutdownState));
                    return;
                }
            };
        }
        match op {
            Op::Info(reply) => {
                let _ = reply.send(DaemonInfo {
                    mood: self.mood,
                    identifier: self.config.supervisord.identifier.clone(),
                    pid: std::process::id(),
                    mainlog: self.log.path(),
                });
            }
            Op::Warn(message) => self.log.warn(&message),
            Op::RemoteComm { kind, data, reply } => {
                self.emit(BusEvent::RemoteCommunication { kind, data });
                let _ = reply.send(());
            }
            Op::AllProcessInfo(reply) => {
                guard!(reply);
                let _ = reply.send(Ok(self.all_process_info()));
            }
            Op::ProcessInfo(spec, reply) => {
                guard!(reply);
                let info = self.resolve(&spec).and_then(|k| {
                    self.process_info(k)
                        .ok_or_else(|| OpError::BadName(spec.clone()))
                });
                let _ = reply.send(info);
            }
            Op::Select { group, reply } => {
                guard!(reply);
                let _ = reply.send(self.select(group.as_deref()));
            }
            Op::Start { spec, wait, reply } => {
                guard!(reply);
                self.start_op(spec, wait, reply);
            }
            Op::Stop { spec, wait, reply } => {
                guard!(reply);
                self.stop_op(spec, wait, reply);
            }
            Op::Signal {
                spec,
                signal,
                reply,
            } => {
                guard!(reply);
                let _ = reply.send(self.signal_op(&spec, signal));
            }
            Op::LogPath {
                spec,
                stderr,
                reply,
            } => {
                guard!(reply);
                // An AUTO log not created yet is created first, so it
                // reads as the empty file Supervisor has from the start.
                if let Ok(key) = self.resolve(&spec) {
                    self.create_auto_logs(key);
                }
                let result = self.resolve_managed(&spec).map(|m| m.log_path(stderr));
                let _ = reply.send(result);
            }
            Op::ClearProcessLogs { spec, reply } => {
                guard!(reply);
                let _ = reply.send(self.clear_process_logs(&spec));
            }
            Op::ClearLog(reply) => {
                guard!(reply);
                let result = match self.log.path() {
                    Some(path) if path.exists() => {
                        self.log.info("reopening log file");
                        self.log.clear().map_err(|_| OpError::Failed(None))
                    }
                    _ => Err(OpError::NoFile(None)),
                };
                let _ = reply.send(result);
            }
            Op::SendStdin { spec, data, reply } => {
                guard!(reply);
                let _ = reply.send(self.send_stdin(&spec, data));
            }
            Op::Shutdown(reply) => {
                guard!(reply);
                let _ = reply.send(Ok(()));
                self.mood = SupervisorState::Shutdown;
                self.begin_stop(None);
            }
            Op::Restart(reply) => {
                guard!(reply);
                let _ = reply.send(Ok(()));
                self.restart();
            }
            Op::ReloadConfig(reply) => {
                guard!(reply);
                let _ = reply.send(self.reload_config());
            }
            Op::AddGroup(name, reply) => {
                guard!(reply);
                let _ = reply.send(self.add_group_op(&name));
            }
            Op::RemoveGroup(name, reply) => {
                guard!(reply);
                let _ = reply.send(self.remove_group_op(&name));
            }
            Op::ConfigInfo(reply) => {
                guard!(reply);
                let _ = reply.send(Ok(self.config_infos()));
            }
        }
    }

    /// `group:name` (or a bare name) to a process; BAD_NAME otherwise,
    /// including for a group-only spec.
    pub(super) fn resolve(&self, spec: &str) -> Result<ProcKey, OpError> {
        let bad = || OpError::BadName(spec.to_string());
        let (group, process) = split_namespec(spec);
        let group = self.group_of(&group).ok_or_else(bad)?;
        let process = process.ok_or_else(bad)?;
        self.member_named(group, &process).ok_or_else(bad)
    }

    fn resolve_managed(&self, spec: &str) -> Result<&super::table::Managed, OpError> {
        let key = self.resolve(spec)?;
        self.table
            .get(key)
            .ok_or_else(|| OpError::BadName(spec.to_string()))
    }

    /// Sorted by group name, then process name.
    fn all_process_info(&self) -> Vec<ProcessInfo> {
        let mut keys: Vec<ProcKey> = self.table.keys().collect();
        let order = |key: &ProcKey| self.table.process(*key).map(|p| (&*p.group, p.name()));
        keys.sort_by(|a, b| order(a).cmp(&order(b)));
        keys.into_iter()
            .filter_map(|k| self.process_info(k))
            .collect()
    }

    fn select(&self, group: Option<&str>) -> Result<Vec<Selected>, OpError> {
        let keys = match group {
            None => self.start_order(),
            Some(name) => {
                let group = self
                    .group_of(name)
                    .ok_or_else(|| OpError::BadName(name.to_string()))?;
                group.members.to_vec()
            }
        };
        Ok(keys
            .into_iter()
            .filter_map(|k| self.table.process(k))
            .map(|p| Selected {
                group: p.group.to_string(),
                name: p.name().to_string(),
                state: p.state(),
            })
            .collect())
    }

    fn clear_process_logs(&self, spec: &str) -> Result<(), OpError> {
        let managed = self.resolve_managed(spec)?;
        for sink in [&managed.logs.stdout, &managed.logs.stderr]
            .into_iter()
            .flatten()
        {
            if let Some(file) = sink.borrow_mut().file_mut() {
                file.clear()
                    .map_err(|_| OpError::Failed(Some(spec.to_string())))?;
            }
        }
        Ok(())
    }

    fn start_op(&mut self, spec: String, wait: bool, reply: Reply<()>) {
        match self.start_now(&spec) {
            Err(e) => {
                let _ = reply.send(Err(e));
            }
            Ok(_) if !wait => {
                let _ = reply.send(Ok(()));
            }
            Ok(key) => {
                self.waiters.push(Waiter::Start {
                    key,
                    name: spec,
                    reply,
                });
                self.settle_waiters(key);
            }
        }
    }

    /// Supervisor's `startProcess` checks, in its order, then the start.
    fn start_now(&mut self, spec: &str) -> Result<ProcKey, OpError> {
        let key = self.resolve(spec)?;
        let bad = || OpError::BadName(spec.to_string());
        let process = self.table.process(key).ok_or_else(bad)?;
        self.spawner
            .check(&process.config, &self.spawn_ctx.base_env)
            .map_err(OpError::Command)?;
        let state = process.state();
        if state.is_running() {
            return Err(OpError::AlreadyStarted(spec.to_string()));
        }
        if state == State::Unknown {
            return Err(OpError::Failed(Some(format!(
                "{spec} is in an unknown process state"
            ))));
        }
        let _ = self.step(key, Input::Start);
        if self
            .table
            .process(key)
            .is_some_and(|p| p.spawnerr().is_some())
        {
            return Err(OpError::SpawnError(spec.to_string()));
        }
        Ok(key)
    }

    fn stop_op(&mut self, spec: String, wait: bool, reply: Reply<()>) {
        match self.stop_now(&spec) {
            Err(e) => {
                let _ = reply.send(Err(e));
            }
            Ok(_) if !wait => {
                let _ = reply.send(Ok(()));
            }
            Ok(key) => {
                let next_report = self.now().mono;
                self.waiters.push(Waiter::Stop {
                    key,
                    name: spec,
                    reply,
                    next_report,
                });
                self.settle_waiters(key);
                // Due now: Supervisor's first `stop_report` comes right
                // after the kills of the call's batch (the actor reports
                // once the queued requests are handled); later ones every
                // 2 s (`STOP_REPORT_EVERY`).
            }
        }
    }

    fn stop_now(&mut self, spec: &str) -> Result<ProcKey, OpError> {
        let key = self.resolve(spec)?;
        if !self.table.state(key).is_some_and(State::is_running) {
            return Err(OpError::NotRunning(spec.to_string()));
        }
        self.signal_error = None;
        if self.defer_stop(key) {
            return Ok(key);
        }
        if let Err(Refused::NotRunning(message)) = self.step(key, Input::Stop) {
            return Err(OpError::Failed(Some(message)));
        }
        self.refused_signal(key)?;
        Ok(key)
    }

    fn signal_op(&mut self, spec: &str, signal: i32) -> Result<(), OpError> {
        let key = self.resolve(spec)?;
        if !self.table.state(key).is_some_and(State::is_signallable) {
            return Err(OpError::NotRunning(spec.to_string()));
        }
        self.signal_error = None;
        self.step(key, Input::Signal { signal })
            .map_err(|refused| OpError::Failed(Some(refused.to_string())))?;
        self.refused_signal(key)
    }

    /// FAILED with Supervisor's text when the `kill` just sent was refused
    /// (the process keeps its state; see `Input::SignalFailed`).
    fn refused_signal(&mut self, key: ProcKey) -> Result<(), OpError> {
        match (self.signal_error.take(), self.table.process(key)) {
            (Some(error), Some(process)) => {
                Err(OpError::Failed(Some(process.signal_problem(&error))))
            }
            _ => Ok(()),
        }
    }

    fn send_stdin(&mut self, spec: &str, data: Vec<u8>) -> Result<(), OpError> {
        let key = self.resolve(spec)?;
        let Some(m) = self.table.get_mut(key) else {
            return Err(OpError::BadName(spec.to_string()));
        };
        if m.process.pid() == 0 || m.process.state() == State::Stopping {
            return Err(OpError::NotRunning(spec.to_string()));
        }
        let sent = match m.stdin.as_mut().and_then(StdinPipe::sender) {
            Some(queue) => queue.send(data),
            None => Err(StdinError::Closed),
        };
        // Supervisor's fault for a write that cannot be done (EPIPE) is
        // NO_FILE with the name; a full queue says why after the name.
        sent.map_err(|e| match e {
            StdinError::Closed => OpError::NoFile(Some(spec.to_string())),
            full @ StdinError::Full { .. } => OpError::NoFile(Some(format!("{spec}: {full}"))),
        })
    }

    /// `reloadConfig`: read the file again and compare its groups with the
    /// active ones; nothing changes until `addProcessGroup` /
    /// `removeProcessGroup`.
    fn reload_config(&mut self) -> Result<[Vec<String>; 3], OpError> {
        let mut config = (self.reload)().map_err(|e| OpError::CantReread(e.to_string()))?;
        let new = GroupDef::from_config(std::mem::take(&mut config.groups));
        // In the order the groups were added, which orders `removed`.
        let mut active: Vec<&super::Group> = self.groups.iter().collect();
        active.sort_by_key(|g| g.seq);
        let active: Vec<&std::sync::Arc<GroupDef>> = active.into_iter().map(|g| &g.def).collect();
        let changes = sv_core::reread::diff(&active, &new, |g| &*g.name);
        self.configured = new;
        Ok(changes.into_lists())
    }

    fn add_group_op(&mut self, name: &str) -> Result<(), OpError> {
        let def = self
            .configured
            .iter()
            .find(|d| &*d.name == name)
            .cloned()
            .ok_or_else(|| OpError::BadName(name.to_string()))?;
        if self.group_of(name).is_some() {
            return Err(OpError::AlreadyAdded(name.to_string()));
        }
        self.add_group(def);
        let keys = self
            .group_of(name)
            .map(|g| g.members.to_vec())
            .unwrap_or_default();
        for key in keys {
            if self
                .table
                .process(key)
                .is_some_and(Process::wants_autostart)
            {
                let _ = self.step(key, Input::Start);
            }
        }
        Ok(())
    }

    fn remove_group_op(&mut self, name: &str) -> Result<(), OpError> {
        let group = self
            .group_of(name)
            .ok_or_else(|| OpError::BadName(name.to_string()))?;
        if group.live > 0 {
            return Err(OpError::StillRunning(name.to_string()));
        }
        self.remove_group(name);
        Ok(())
    }
}
