//! A fake [`Spawner`] for the actor's unit tests: children that exist only
//! as pids in a table, whose exits the test decides. Nothing forks, nothing
//! sleeps; with tokio's paused clock a whole life cycle runs in microseconds.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::os::fd::OwnedFd;
use std::rc::Rc;
use std::sync::Arc;

use nix::errno::Errno;
use sv_core::config::ProcessConfig;
use sv_core::process::ExitStatus;
use tokio::sync::Notify;

use crate::spawn::{SpawnContext, SpawnError, Spawned};
use crate::spawner::Spawner;

/// What the fake children have seen and will do; shared by the test (via
/// [`FakeChildren`]) and the actor (via [`FakeSpawner`]).
#[derive(Default)]
struct World {
    last_pid: u32,
    /// Live children: pid → process name.
    live: BTreeMap<u32, String>,
    /// Ended, not yet reaped.
    ended: Vec<(u32, ExitStatus)>,
    /// Every `kill` the actor made: (pid as given, signal).
    signals: Vec<(i32, i32)>,
    /// Every successful spawn: (group, name, pid).
    spawns: Vec<(String, String, u32)>,
    /// The next spawn of this process fails so.
    spawn_failures: HashMap<String, SpawnError>,
    /// Checks of this process's command fail so.
    check_failures: HashMap<String, SpawnError>,
    /// Children end by themselves on these signals (as `Signaled`).
    die_on: Vec<i32>,
    /// Every `kill` to a live child fails with this (EPERM…).
    refuse_signals: Option<Errno>,
    notice: Arc<Notify>,
}

/// The test's handle on the fake children.
#[derive(Clone, Default)]
pub(super) struct FakeChildren(Rc<RefCell<World>>);

impl FakeChildren {
    /// The spawner to give the actor.
    pub fn spawner(&self) -> Box<dyn Spawner> {
        Box::new(FakeSpawner(self.clone()))
    }

    /// The live pid of `name`, if it has one.
    pub fn pid_of(&self, name: &str) -> Option<u32> {
        let world = self.0.borrow();
        world
            .live
            .iter()
            .find(|(_, n)| n.as_str() == name)
            .map(|(pid, _)| *pid)
    }

    /// `name`'s child ends with `status` (it is reaped at the actor's next
    /// `reap`).
    pub fn end(&self, name: &str, status: ExitStatus) {
        if let Some(pid) = self.pid_of(name) {
            self.end_pid(pid, status);
        }
    }

    fn end_pid(&self, pid: u32, status: ExitStatus) {
        let mut world = self.0.borrow_mut();
        if world.live.remove(&pid).is_some() {
            world.ended.push((pid, status));
            world.notice.notify_one();
        }
    }

    pub fn signals(&self) -> Vec<(i32, i32)> {
        self.0.borrow().signals.clone()
    }

    pub fn spawns(&self) -> Vec<(String, String, u32)> {
        self.0.borrow().spawns.clone()
    }

    pub fn fail_next_spawn(&self, name: &str, error: SpawnError) {
        self.0
            .borrow_mut()
            .spawn_failures
            .insert(name.to_string(), error);
    }

    pub fn fail_check(&self, name: &str, error: SpawnError) {
        self.0
            .borrow_mut()
            .check_failures
            .insert(name.to_string(), error);
    }

    /// From now on, every `kill` to a live child fails with `errno`
    /// (`None`: they succeed again).
    pub fn refuse_signals(&self, errno: Option<Errno>) {
        self.0.borrow_mut().refuse_signals = errno;
    }

    /// From now on, children die when sent `signal`.
    pub fn die_on(&self, signal: i32) {
        self.0.borrow_mut().die_on.push(signal);
    }
}

/// The actor's side of [`FakeChildren`].
pub(super) struct FakeSpawner(FakeChildren);

impl Spawner for FakeSpawner {
    fn check(&self, config: &ProcessConfig, _: &[(String, String)]) -> Result<(), SpawnError> {
        match self.0.0.borrow().check_failures.get(&config.name) {
            Some(error) => Err(error.clone()),
            None => Ok(()),
        }
    }

    fn spawn(
        &mut self,
        _: &SpawnContext,
        group: &str,
        config: &ProcessConfig,
        _: Option<&OwnedFd>,
    ) -> Result<Spawned, SpawnError> {
        let mut world = self.0.0.borrow_mut();
        if let Some(error) = world.spawn_failures.remove(&config.name) {
            return Err(error);
        }
        world.last_pid += 1;
        // Pids far from the test process's own, in case one leaks into a
        // real kill().
        let pid = 700_000 + world.last_pid;
        world.live.insert(pid, config.name.clone());
        world
            .spawns
            .push((group.to_string(), config.name.clone(), pid));
        Ok(Spawned {
            pid,
            stdin: None,
            stdout: None,
            stderr: None,
        })
    }

    fn signal(&mut self, pid: i32, signal: i32) -> Result<(), Errno> {
        let target = pid.unsigned_abs();
        let dies = {
            let mut world = self.0.0.borrow_mut();
            world.signals.push((pid, signal));
            if !world.live.contains_key(&target) {
                return Err(Errno::ESRCH);
            }
            if let Some(errno) = world.refuse_signals {
                return Err(errno);
            }
            world.die_on.contains(&signal)
        };
        if dies {
            self.0.end_pid(
                target,
                ExitStatus::Signaled {
                    signal,
                    core_dumped: false,
                },
            );
        }
        Ok(())
    }

    fn reap(&mut self) -> Vec<(u32, ExitStatus)> {
        std::mem::take(&mut self.0.0.borrow_mut().ended)
    }

    fn exit_notice(&self) -> Option<Arc<Notify>> {
        Some(self.0.0.borrow().notice.clone())
    }
}
