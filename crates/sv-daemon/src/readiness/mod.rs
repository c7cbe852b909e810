//! Readiness for `ready_when` children (docs/readiness.md): the probes and
//! notify sockets that tell the actor a starting child is ready, all off
//! the actor. The actor asks for a probe when a child is spawned
//! ([`Readiness::start`]) and drops it when the child leaves STARTING or
//! exits; what a probe or socket finds comes back as a [`Message`] on a
//! bounded channel, tagged with the child's pid so a late report about an
//! earlier child is ignored.
//!
//! * [`probe`]: `tcp:`, `http://`, `exec:`, `log:` — one task per child,
//!   bounded attempts, spaced out;
//! * [`notify`]: `NOTIFY_SOCKET` — one datagram socket per child,
//!   credentials checked against the child's process tree.
//!
//! An `exec:` probe's command is a child of the daemon too; the actor's
//! `waitpid(-1)` reaps it and hands its status over ([`Readiness::reaped`]).

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;

use sv_core::config::ReadyWhen;
use sv_core::process::ExitStatus;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::supervisor::ProcKey;

mod notify;
mod probe;

pub(crate) use notify::NotifySocket;

/// How many reports may wait for the actor; beyond that a chatty child's
/// notices are dropped (a probe's one `Ready` always fits in practice, and
/// a dropped `Ready`/`WATCHDOG=1` is sent again by a well-behaved child).
const CHANNEL_BOUND: usize = 1024;

/// What a probe or a notify socket found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Report {
    /// Ready (a probe succeeded, or `READY=1`).
    Ready,
    /// `WATCHDOG=1`.
    Watchdog,
    /// `STATUS=…`.
    Status(String),
    /// `STOPPING=1`.
    Stopping,
    /// `MAINPID=…`.
    MainPid(u32),
    /// A datagram from this pid, outside the child's process tree: ignored.
    Foreign(i32),
}

/// A report about `key`'s child `pid`.
#[derive(Debug)]
pub(crate) struct Message {
    pub key: ProcKey,
    pub pid: u32,
    pub report: Report,
}

/// The sending side handed to every probe and socket reader.
#[derive(Clone)]
pub(crate) struct Reporter(mpsc::Sender<Message>);

impl Reporter {
    pub(crate) fn send(&self, key: ProcKey, pid: u32, report: Report) {
        let _ = self.0.try_send(Message { key, pid, report });
    }
}

/// `exec:` probe commands waiting for their exit status, by pid.
pub(crate) type ExecChildren = Rc<RefCell<HashMap<u32, oneshot::Sender<ExitStatus>>>>;

/// A task that ends when its owner lets go of it.
pub(crate) struct AbortOnDrop(pub JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The probes and notify sockets of every starting or notify child.
pub(crate) struct Readiness {
    reporter: Reporter,
    probes: HashMap<ProcKey, AbortOnDrop>,
    sockets: HashMap<ProcKey, NotifySocket>,
    exec_children: ExecChildren,
    /// Made at the first notify child; removed when the daemon drops this.
    dir: Option<PathBuf>,
}

/// What a log probe needs to know about a child's logs.
pub(crate) type LogFiles = Vec<PathBuf>;

impl Readiness {
    /// The probes' home and the channel their reports come back on.
    pub(crate) fn new() -> (Readiness, mpsc::Receiver<Message>) {
        let (tx, rx) = mpsc::channel(CHANNEL_BOUND);
        let readiness = Readiness {
            reporter: Reporter(tx),
            probes: HashMap::new(),
            sockets: HashMap::new(),
            exec_children: Rc::default(),
            dir: None,
        };
        (readiness, rx)
    }

    /// Open `key`'s notify socket before its spawn; the path goes into the
    /// child's `NOTIFY_SOCKET`.
    pub(crate) fn open_socket(
        &mut self,
        key: ProcKey,
        uid: Option<u32>,
    ) -> std::io::Result<PathBuf> {
        self.sockets.remove(&key);
        let dir = match &self.dir {
            Some(dir) => dir.clone(),
            None => {
                let dir = notify::make_dir()?;
                self.dir = Some(dir.clone());
                dir
            }
        };
        let socket = NotifySocket::open(&dir, key, uid, self.reporter.clone())?;
        let path = socket.path().to_path_buf();
        self.sockets.insert(key, socket);
        Ok(path)
    }

    /// `key`'s child is spawned with `pid`: its socket accepts that tree,
    /// and a polling probe (any kind but notify) starts.
    pub(crate) fn start(
        &mut self,
        key: ProcKey,
        pid: u32,
        how: &ReadyWhen,
        env: Vec<(String, String)>,
        logs: LogFiles,
    ) {
        if let Some(socket) = self.sockets.get(&key) {
            socket.bind_pid(pid);
        }
        let probe = match how {
            ReadyWhen::Notify => return,
            ReadyWhen::Tcp { host, port } => probe::Probe::Tcp {
                host: host.clone(),
                port: *port,
            },
            ReadyWhen::Http { host, port, path } => probe::Probe::Http {
                host: host.clone(),
                port: *port,
                path: path.clone(),
            },
            ReadyWhen::Exec { argv } => probe::Probe::Exec {
                argv: argv.clone(),
                env,
                children: self.exec_children.clone(),
            },
            ReadyWhen::Log { pattern } => {
                // Checked at load; a failure here only means no probe.
                let Ok(pattern) = regex::Regex::new(pattern) else {
                    return;
                };
                let files = logs
                    .into_iter()
                    .map(|path| {
                        let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                        (path, len)
                    })
                    .collect();
                probe::Probe::Log { files, pattern }
            }
        };
        let task = tokio::task::spawn_local(probe::run(probe, key, pid, self.reporter.clone()));
        self.probes.insert(key, AbortOnDrop(task));
    }

    /// The child left STARTING: its probe is no longer needed.
    pub(crate) fn stop_probe(&mut self, key: ProcKey) {
        self.probes.remove(&key);
    }

    /// The child is gone (or its process removed): probe and socket go.
    pub(crate) fn forget(&mut self, key: ProcKey) {
        self.probes.remove(&key);
        self.sockets.remove(&key);
    }

    /// A reaped pid that is an `exec:` probe's command: its status goes to
    /// the probe; `false` when the pid is not one of them.
    pub(crate) fn reaped(&mut self, pid: u32, status: ExitStatus) -> bool {
        match self.exec_children.borrow_mut().remove(&pid) {
            Some(tx) => {
                let _ = tx.send(status);
                true
            }
            None => false,
        }
    }
}

impl Drop for Readiness {
    fn drop(&mut self) {
        self.probes.clear();
        self.sockets.clear();
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir(dir);
        }
    }
}
