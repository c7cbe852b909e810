//! The operations the actor offers to the transports (the XML-RPC method
//! table composes them): each carries a `oneshot` for its answer. An
//! operation that must wait — `startProcess`/`stopProcess` with `wait=true`
//! — leaves a [`Waiter`] behind and is answered when the process gets there,
//! so a waiting client never holds up the actor or other clients.
//!
//! Checks, their order and their faults are Supervisor's (`rpcinterface.py`).

use std::path::PathBuf;
use std::time::Duration;

use sv_api::records::{ConfigInfo, LogFile as ApiLogFile, ProcessInfo};
use sv_api::{FaultCode, RpcError, split_namespec};
use sv_core::config::LogFile;
use sv_core::process::{Input, Mono, Refused, State};
use tokio::sync::oneshot;

use super::{BusEvent, GroupDef, Mood, ProcKey, Supervisor};
use crate::spawn;

/// The answer channel of an operation.
pub type Reply<T> = oneshot::Sender<Result<T, RpcError>>;

/// What every caller may want to know about the daemon itself.
#[derive(Debug, Clone)]
pub struct DaemonInfo {
    pub mood: Mood,
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
    /// `sendRemoteCommEvent` (works even while shutting down).
    RemoteComm {
        kind: String,
        data: String,
        reply: oneshot::Sender<()>,
    },
}

/// An RPC call waiting for a process.
#[derive(Debug)]
pub enum Waiter {
    Start {
        key: ProcKey,
        name: String,
        reply: Reply<()>,
    },
    Stop {
        key: ProcKey,
        name: String,
        reply: Reply<()>,
        /// When "waiting for <name> to stop" is next logged.
        next_report: Mono,
    },
}

impl Waiter {
    pub(super) fn next_report(&self) -> Option<Mono> {
        match self {
            Waiter::Stop { next_report, .. } => Some(*next_report),
            Waiter::Start { .. } => None,
        }
    }

    fn key(&self) -> ProcKey {
        match self {
            Waiter::Start { key, .. } | Waiter::Stop { key, .. } => *key,
        }
    }
}

/// Supervisor's `stop_report` cadence.
const STOP_REPORT_EVERY: Duration = Duration::from_secs(2);

fn err(code: FaultCode, detail: impl Into<String>) -> RpcError {
    RpcError::with_detail(code, detail)
}

/// `Nov 22 01:58 AM` in local time, for process descriptions.
pub fn local_time(epoch: i64) -> String {
    match jiff::Timestamp::from_second(epoch) {
        Ok(ts) => ts
            .to_zoned(jiff::tz::TimeZone::system())
            .strftime("%b %d %I:%M %p")
            .to_string(),
        Err(_) => String::new(),
    }
}

impl Supervisor {
    pub(super) fn handle(&mut self, op: Op) {
        // Every supervisor.* method but sendRemoteCommEvent refuses to work
        // while the daemon shuts down or restarts.
        let refuse = self.mood != Mood::Running;
        macro_rules! guard {
            ($reply:expr) => {
                if refuse {
                    let _ = $reply.send(Err(RpcError::new(FaultCode::ShutdownState)));
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
            Op::RemoteComm { kind, data, reply } => {
                self.emit(BusEvent::RemoteCommunication { kind, data });
                let _ = reply.send(());
            }
            Op::AllProcessInfo(reply) => {
                guard!(reply);
                let mut keys: Vec<ProcKey> = self.procs.keys().copied().collect();
                keys.sort_by(|a, b| {
                    let pa = &self.procs[a].process;
                    let pb = &self.procs[b].process;
                    (&pa.group, pa.name()).cmp(&(&pb.group, pb.name()))
                });
                let infos = keys.iter().map(|k| self.process_info(*k)).collect();
                let _ = reply.send(Ok(infos));
            }
            Op::ProcessInfo(spec, reply) => {
                guard!(reply);
                let _ = reply.send(self.resolve(&spec).map(|k| self.process_info(k)));
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
                let result = self.resolve(&spec).map(|key| {
                    let logs = &self.procs[&key].logs;
                    let sink = if stderr { &logs.stderr } else { &logs.stdout };
                    sink.as_ref()
                        .and_then(|s| s.borrow().file().map(|f| f.path().to_path_buf()))
                });
                let _ = reply.send(result);
            }
            Op::ClearProcessLogs { spec, reply } => {
                guard!(reply);
                let result = self.resolve(&spec).and_then(|key| {
                    let logs = &self.procs[&key].logs;
                    for sink in [&logs.stdout, &logs.stderr].into_iter().flatten() {
                        if let Some(file) = sink.borrow_mut().file_mut() {
                            file.clear()
                                .map_err(|_| err(FaultCode::Failed, spec.clone()))?;
                        }
                    }
                    Ok(())
                });
                let _ = reply.send(result);
            }
            Op::ClearLog(reply) => {
                guard!(reply);
                let result = match self.log.path() {
                    Some(path) if path.exists() => {
                        self.log.info("reopening log file");
                        self.log
                            .clear()
                            .map_err(|_| RpcError::new(FaultCode::Failed))
                    }
                    _ => Err(RpcError::new(FaultCode::NoFile)),
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
                self.mood = Mood::Shutdown;
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
                let result = match self.group_of(&name) {
                    None => Err(err(FaultCode::BadName, name.clone())),
                    Some(g)
                        if g.members
                            .iter()
                            .any(|k| !self.procs[k].process.state().is_stopped()) =>
                    {
                        Err(err(FaultCode::StillRunning, name.clone()))
                    }
                    Some(_) => {
                        self.remove_group(&name);
                        Ok(())
                    }
                };
                let _ = reply.send(result);
            }
            Op::ConfigInfo(reply) => {
                guard!(reply);
                let _ = reply.send(Ok(self.config_infos()));
            }
        }
    }

    /// `group:name` (or a bare name) to a process; BAD_NAME otherwise,
    /// including for a group-only spec.
    fn resolve(&self, spec: &str) -> Result<ProcKey, RpcError> {
        let bad = || err(FaultCode::BadName, spec);
        let (group, process) = split_namespec(spec);
        let group = self.group_of(&group).ok_or_else(bad)?;
        let process = process.ok_or_else(bad)?;
        group
            .members
            .iter()
            .copied()
            .find(|k| self.procs[k].process.name() == process)
            .ok_or_else(bad)
    }

    fn select(&self, group: Option<&str>) -> Result<Vec<Selected>, RpcError> {
        let keys = match group {
            None => self.keys_in_order(),
            Some(name) => {
                let group = self
                    .group_of(name)
                    .ok_or_else(|| err(FaultCode::BadName, name))?;
                self.sorted_members(group)
            }
        };
        Ok(keys
            .into_iter()
            .map(|k| {
                let p = &self.procs[&k].process;
                Selected {
                    group: p.group.clone(),
                    name: p.name().to_string(),
                    state: p.state(),
                }
            })
            .collect())
    }

    fn process_info(&self, key: ProcKey) -> ProcessInfo {
        let m = &self.procs[&key];
        let p = &m.process;
        let path = |sink: &Option<crate::capture::Sink>| {
            sink.as_ref()
                .and_then(|s| s.borrow().file().map(|f| f.path().display().to_string()))
                .unwrap_or_default()
        };
        ProcessInfo {
            name: p.name().to_string(),
            group: p.group.clone(),
            start: p.laststart_wall,
            stop: p.laststop_wall,
            now: self.now().wall,
            state: p.state().code(),
            statename: p.state().name().to_string(),
            spawnerr: p.spawnerr().unwrap_or_default().to_string(),
            exitstatus: p.exitstatus().unwrap_or(0),
            stdout_logfile: path(&m.logs.stdout),
            stderr_logfile: path(&m.logs.stderr),
            pid: p.pid(),
            description: String::new(),
        }
        .with_description(&local_time)
    }

    fn start_op(&mut self, spec: String, wait: bool, reply: Reply<()>) {
        let key = match self.resolve(&spec) {
            Ok(key) => key,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        let config = self.procs[&key].process.config.clone();
        if let Err(message) = spawn::resolve_command(&config, &self.spawn_ctx.base_env) {
            let code = if message.starts_with("can't find command") {
                FaultCode::NoFile
            } else {
                FaultCode::NotExecutable
            };
            let _ = reply.send(Err(err(code, message)));
            return;
        }
        let state = self.procs[&key].process.state();
        if state.is_running() {
            let _ = reply.send(Err(err(FaultCode::AlreadyStarted, spec)));
            return;
        }
        if state == State::Unknown {
            let _ = reply.send(Err(err(
                FaultCode::Failed,
                format!("{spec} is in an unknown process state"),
            )));
            return;
        }
        let _ = self.step(key, Input::Start);
        if self.procs[&key].process.spawnerr().is_some() {
            let _ = reply.send(Err(err(FaultCode::SpawnError, spec)));
            return;
        }
        if !wait {
            let _ = reply.send(Ok(()));
            return;
        }
        self.waiters.push(Waiter::Start {
            key,
            name: spec,
            reply,
        });
        self.settle_waiters(key);
    }

    fn stop_op(&mut self, spec: String, wait: bool, reply: Reply<()>) {
        let key = match self.resolve(&spec) {
            Ok(key) => key,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        if !self.procs[&key].process.state().is_running() {
            let _ = reply.send(Err(err(FaultCode::NotRunning, spec)));
            return;
        }
        if let Err(Refused::NotRunning(message)) = self.step(key, Input::Stop) {
            let _ = reply.send(Err(err(FaultCode::Failed, message)));
            return;
        }
        if !wait {
            let _ = reply.send(Ok(()));
            return;
        }
        let next_report = self.now().mono + STOP_REPORT_EVERY;
        self.waiters.push(Waiter::Stop {
            key,
            name: spec,
            reply,
            next_report,
        });
        self.settle_waiters(key);
    }

    fn signal_op(&mut self, spec: &str, signal: i32) -> Result<(), RpcError> {
        let key = self.resolve(spec)?;
        if !self.procs[&key].process.state().is_signallable() {
            return Err(err(FaultCode::NotRunning, spec));
        }
        match self.step(key, Input::Signal { signal }) {
            Ok(()) => Ok(()),
            Err(refused) => Err(err(FaultCode::Failed, refused.to_string())),
        }
    }

    fn send_stdin(&mut self, spec: &str, data: Vec<u8>) -> Result<(), RpcError> {
        let key = self.resolve(spec)?;
        let Some(m) = self.procs.get_mut(&key) else {
            return Err(err(FaultCode::BadName, spec));
        };
        if m.process.pid() == 0 || m.process.state() == State::Stopping {
            return Err(err(FaultCode::NotRunning, spec));
        }
        let sent = m
            .stdin
            .as_mut()
            .and_then(|pipe| pipe.sender())
            .is_some_and(|queue| queue.send(data).is_ok());
        if sent {
            Ok(())
        } else {
            Err(err(FaultCode::NoFile, spec))
        }
    }

    /// Answer every waiter on `key` whose process has got where it waits for.
    pub(super) fn settle_waiters(&mut self, key: ProcKey) {
        if !self.waiters.iter().any(|w| w.key() == key) {
            return;
        }
        let (mine, others): (Vec<Waiter>, Vec<Waiter>) = std::mem::take(&mut self.waiters)
            .into_iter()
            .partition(|w| w.key() == key);
        self.waiters = others;
        for waiter in mine {
            let Some(m) = self.procs.get(&key) else {
                continue;
            };
            let (state, spawnerr) = (m.process.state(), m.process.spawnerr().is_some());
            match waiter {
                Waiter::Start { name, reply, .. } if spawnerr => {
                    let _ = reply.send(Err(err(FaultCode::SpawnError, name)));
                }
                Waiter::Start { reply, .. } if state == State::Running => {
                    let _ = reply.send(Ok(()));
                }
                Waiter::Start { name, reply, .. } if state != State::Starting => {
                    let _ = reply.send(Err(err(FaultCode::AbnormalTermination, name)));
                }
                Waiter::Stop { reply, .. } if state.is_stopped() => {
                    let _ = reply.send(Ok(()));
                }
                still_waiting => self.waiters.push(still_waiting),
            }
        }
    }

    /// Supervisor's `stop_report`: "waiting for x to stop" every 2 s.
    pub(super) fn report_stopping_waiters(&mut self, now: Mono) {
        let mut lines = Vec::new();
        for waiter in &mut self.waiters {
            if let Waiter::Stop {
                name, next_report, ..
            } = waiter
                && *next_report <= now
            {
                lines.push(format!("waiting for {name} to stop"));
                *next_report = now + STOP_REPORT_EVERY;
            }
        }
        for line in lines {
            self.log.info(&line);
        }
    }

    /// The daemon is going away: nobody will be answered otherwise.
    pub(super) fn fail_waiters(&mut self) {
        for waiter in std::mem::take(&mut self.waiters) {
            let reply = match waiter {
                Waiter::Start { reply, .. } | Waiter::Stop { reply, .. } => reply,
            };
            let _ = reply.send(Err(RpcError::new(FaultCode::ShutdownState)));
        }
    }

    /// `supervisor.restart`: as SIGHUP, without the signal's log line.
    fn restart(&mut self) {
        match (self.reload)() {
            Ok(config) => {
                self.mood = Mood::Restarting;
                self.begin_stop(Some(Box::new(config)));
            }
            Err(e) => self.log.log(
                sv_core::config::LogLevel::Error,
                &format!("not restarting: the configuration has errors:\n{e}"),
            ),
        }
    }

    /// `reloadConfig`: read the file again and compare its groups with the
    /// active ones; nothing changes until `addProcessGroup` /
    /// `removeProcessGroup`.
    fn reload_config(&mut self) -> Result<[Vec<String>; 3], RpcError> {
        let mut config = (self.reload)().map_err(|e| err(FaultCode::CantReread, e))?;
        let new = GroupDef::from_config(std::mem::take(&mut config.groups));
        let active = |name: &str| self.group_of(name);
        let added = new
            .iter()
            .filter(|d| active(&d.name).is_none())
            .map(|d| d.name.clone())
            .collect();
        let changed = new
            .iter()
            .filter(|d| active(&d.name).is_some_and(|g| g.def != **d))
            .map(|d| d.name.clone())
            .collect();
        let removed = self
            .groups
            .iter()
            .filter(|g| !new.iter().any(|d| d.name == g.def.name))
            .map(|g| g.def.name.clone())
            .collect();
        self.configured = new;
        Ok([added, changed, removed])
    }

    fn add_group_op(&mut self, name: &str) -> Result<(), RpcError> {
        let def = self
            .configured
            .iter()
            .find(|d| d.name == name)
            .cloned()
            .ok_or_else(|| err(FaultCode::BadName, name))?;
        if self.group_of(name).is_some() {
            return Err(err(FaultCode::AlreadyAdded, name));
        }
        self.add_group(def);
        let keys = self
            .group_of(name)
            .map(|g| self.sorted_members(g))
            .unwrap_or_default();
        for key in keys {
            if self.procs[&key].process.wants_autostart() {
                let _ = self.step(key, Input::Start);
            }
        }
        Ok(())
    }

    fn config_infos(&self) -> Vec<ConfigInfo> {
        let mut infos = Vec::new();
        for def in &self.configured {
            let active = self.group_of(&def.name);
            for pc in &def.processes {
                // An instantiated AUTO log reports its real path, as
                // Supervisor's configs do once their group exists.
                let live = active.and_then(|g| {
                    g.members
                        .iter()
                        .map(|k| &self.procs[k])
                        .find(|m| std::sync::Arc::ptr_eq(&m.process.config, pc))
                });
                let log = |configured: &LogFile, stderr: bool| -> ApiLogFile {
                    let live_path = live.and_then(|m| {
                        let sink = if stderr {
                            &m.logs.stderr
                        } else {
                            &m.logs.stdout
                        };
                        sink.as_ref()
                            .and_then(|s| s.borrow().file().map(|f| f.path().display().to_string()))
                    });
                    match (configured, live_path) {
                        (LogFile::None, _) => ApiLogFile::None,
                        (_, Some(path)) => ApiLogFile::Path(path),
                        (LogFile::Auto, None) => ApiLogFile::Auto,
                        (LogFile::Path(p), None) => ApiLogFile::Path(p.clone()),
                    }
                };
                let stderr_log = if pc.redirect_stderr {
                    ApiLogFile::None
                } else {
                    log(&pc.stderr.logfile, true)
                };
                infos.push(ConfigInfo {
                    name: pc.name.clone(),
                    group: def.name.clone(),
                    inuse: active.is_some(),
                    autostart: pc.autostart,
                    directory: pc.directory.clone(),
                    uid: pc.uid,
                    serverurl: pc.serverurl.clone(),
                    command: pc.command.clone(),
                    exitcodes: pc.exitcodes.iter().map(|&c| i64::from(c)).collect(),
                    group_prio: def.priority,
                    process_prio: pc.priority,
                    killasgroup: pc.killasgroup,
                    redirect_stderr: pc.redirect_stderr,
                    startretries: pc.startretries,
                    startsecs: pc.startsecs,
                    stopwaitsecs: pc.stopwaitsecs,
                    stopsignal: pc.stopsignal,
                    stdout_logfile: log(&pc.stdout.logfile, false),
                    stdout_logfile_backups: pc.stdout.logfile_backups,
                    stdout_logfile_maxbytes: pc.stdout.logfile_maxbytes,
                    stdout_capture_maxbytes: pc.stdout.capture_maxbytes,
                    stdout_events_enabled: pc.stdout.events_enabled,
                    stdout_syslog: pc.stdout.syslog,
                    stderr_logfile: stderr_log,
                    stderr_logfile_backups: pc.stderr.logfile_backups,
                    stderr_logfile_maxbytes: pc.stderr.logfile_maxbytes,
                    stderr_capture_maxbytes: pc.stderr.capture_maxbytes,
                    stderr_events_enabled: pc.stderr.events_enabled,
                    stderr_syslog: pc.stderr.syslog,
                });
            }
        }
        infos
    }
}
