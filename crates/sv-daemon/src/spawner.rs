//! The seam between the actor and the operating system's processes: what
//! it takes to check a command, start a child, signal it and collect its
//! exit. [`OsSpawner`] forks and execs real children and reaps them with
//! `waitpid` after SIGCHLD; tests put a fake behind the same trait
//! (`supervisor::testing`) so the actor's whole life cycle runs without a
//! real process.

use std::os::fd::OwnedFd;
use std::sync::Arc;

use nix::errno::Errno;
use sv_core::config::ProcessConfig;
use sv_core::process::ExitStatus;
use tokio::sync::Notify;

use crate::spawn::{self, SpawnContext, SpawnError, Spawned};
use crate::sys;

/// Starts, signals and reaps children for the actor.
pub trait Spawner {
    /// Supervisor's checks of the command before a start (`startProcess`
    /// answers NO_FILE / NOT_EXECUTABLE from them).
    fn check(
        &self,
        config: &ProcessConfig,
        base_env: &[(String, String)],
    ) -> Result<(), SpawnError>;

    /// Start `config`'s command for a process of `group`; `socket` is an fcgi
    /// group's listening socket, the child's stdin.
    fn spawn(
        &mut self,
        ctx: &SpawnContext,
        group: &str,
        config: &ProcessConfig,
        socket: Option<&OwnedFd>,
    ) -> Result<Spawned, SpawnError>;

    /// `kill(pid, signal)`; a negative pid is a process group.
    fn signal(&mut self, pid: i32, signal: i32) -> Result<(), Errno>;

    /// Every child that has ended since the last call, without blocking.
    fn reap(&mut self) -> Vec<(u32, ExitStatus)>;

    /// For children that raise no SIGCHLD in this process (fakes): notified
    /// when [`reap`](Self::reap) has something. `None` means "watch SIGCHLD".
    fn exit_notice(&self) -> Option<Arc<Notify>> {
        None
    }
}

/// Real children: fork/exec ([`spawn::spawn`]), `kill`, `waitpid(-1)`.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsSpawner;

impl Spawner for OsSpawner {
    fn check(
        &self,
        config: &ProcessConfig,
        base_env: &[(String, String)],
    ) -> Result<(), SpawnError> {
        spawn::resolve_command(config, base_env).map(drop)
    }

    fn spawn(
        &mut self,
        ctx: &SpawnContext,
        group: &str,
        config: &ProcessConfig,
        socket: Option<&OwnedFd>,
    ) -> Result<Spawned, SpawnError> {
        spawn::spawn(ctx, group, config, socket)
    }

    fn signal(&mut self, pid: i32, signal: i32) -> Result<(), Errno> {
        sys::send_signal(pid, signal)
    }

    fn reap(&mut self) -> Vec<(u32, ExitStatus)> {
        sys::reap_all()
    }
}
