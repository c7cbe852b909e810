//! The process table: every managed process by its stable key, and the
//! pids of the live children. Lookups return `Option` — a key can outlive
//! its process (a group removed while a reply or a pipe reader was in
//! flight), so nothing here panics on a missing one.

use std::collections::HashMap;

use sv_core::events::Listener;
use sv_core::process::{Process, State};

use crate::capture::{self, ChildLogs};

/// A stable handle on a process, valid for as long as its group exists.
pub type ProcKey = u64;

/// One process and what the daemon holds for it.
pub(crate) struct Managed {
    pub process: Process,
    /// The child's stdin pipe (`sendProcessStdin`, listener events); its
    /// writer starts on first use.
    pub stdin: Option<crate::stdin::StdinPipe>,
    /// The current child's stdout/stderr readers, read dry at its exit.
    pub drains: Vec<capture::PipeDrain>,
    /// Its log sinks, made at the first spawn (`childlogs.rs`).
    pub logs: ChildLogs,
    /// Its AUTO log names, if any stream is AUTO.
    pub auto_logs: Option<Box<super::childlogs::AutoLogs>>,
    /// An event listener's side of the protocol (boxed: most processes
    /// are not listeners, and every byte here is paid per program).
    pub listener: Option<Box<Listener>>,
}

impl Managed {
    /// Where this process's stdout (or stderr) log file is, if it has one
    /// (it may not exist yet: explicit logs are opened at the first spawn).
    pub fn log_path(&self, stderr: bool) -> Option<std::path::PathBuf> {
        super::childlogs::log_path(&self.process.config, self.auto_logs.as_deref(), stderr)
            .map(std::path::PathBuf::from)
    }
}

/// Every process, and which key each live pid belongs to.
#[derive(Default)]
pub(crate) struct ProcTable {
    /// Boxed: the map keeps an eighth or more of its slots empty, and an
    /// empty slot of a `Managed` would cost its whole size (issue 19).
    procs: HashMap<ProcKey, Box<Managed>>,
    pids: HashMap<u32, ProcKey>,
    last_key: ProcKey,
    /// Whether a pid came or went since [`ProcTable::take_pids_changed`]
    /// (the state file of live children is rewritten then).
    pids_changed: bool,
}

impl ProcTable {
    /// A key never used before.
    pub fn new_key(&mut self) -> ProcKey {
        self.last_key += 1;
        self.last_key
    }

    pub fn insert(&mut self, key: ProcKey, managed: Managed) {
        self.procs.insert(key, Box::new(managed));
    }

    pub fn remove(&mut self, key: ProcKey) -> Option<Managed> {
        self.procs.remove(&key).map(|m| *m)
    }

    pub fn get(&self, key: ProcKey) -> Option<&Managed> {
        self.procs.get(&key).map(|m| &**m)
    }

    pub fn get_mut(&mut self, key: ProcKey) -> Option<&mut Managed> {
        self.procs.get_mut(&key).map(|m| &mut **m)
    }

    pub fn process(&self, key: ProcKey) -> Option<&Process> {
        self.procs.get(&key).map(|m| &m.process)
    }

    pub fn state(&self, key: ProcKey) -> Option<State> {
        self.process(key).map(Process::state)
    }

    /// Whether nothing of the process is alive; a key that is gone counts
    /// as stopped.
    pub fn is_stopped(&self, key: ProcKey) -> bool {
        self.state(key).is_none_or(State::is_stopped)
    }

    pub fn keys(&self) -> impl Iterator<Item = ProcKey> + '_ {
        self.procs.keys().copied()
    }

    pub fn values(&self) -> impl Iterator<Item = &Managed> {
        self.procs.values().map(|m| &**m)
    }

    /// Record that `pid` is the child of `key`.
    pub fn bind_pid(&mut self, pid: u32, key: ProcKey) {
        self.pids.insert(pid, key);
        self.pids_changed = true;
    }

    /// The process a reaped pid belonged to, forgetting the pid.
    pub fn take_pid(&mut self, pid: u32) -> Option<ProcKey> {
        let key = self.pids.remove(&pid);
        self.pids_changed |= key.is_some();
        key
    }

    /// Every live child's pid and process.
    pub fn pids(&self) -> impl Iterator<Item = (u32, &Managed)> {
        self.pids
            .iter()
            .filter_map(|(pid, key)| self.procs.get(key).map(|m| (*pid, &**m)))
    }

    /// Whether the set of live pids changed since the last call.
    pub fn take_pids_changed(&mut self) -> bool {
        std::mem::take(&mut self.pids_changed)
    }
}
