//! The state machine's readiness and dependency transitions
//! (docs/readiness.md), beside Supervisor's own in `process.rs`:
//!
//! * a process whose dependencies are not ready is *held*: STARTING
//!   without a child (no new wire state, so every Supervisor client keeps
//!   working), its description naming what it waits for; the daemon
//!   releases it ([`Input::Release`]) or fails it ([`Input::DependencyFailed`],
//!   → FATAL);
//! * with `ready_when`, a child stays STARTING until it is ready
//!   ([`Input::Ready`]) *and* `startsecs` have passed; not ready within
//!   `ready_timeout` of its spawn, it is stopped and the stop counts as a
//!   failed start (BACKOFF, retries, FATAL — Supervisor's lines and events);
//! * with `watchdog_secs`, a RUNNING child that sends no `WATCHDOG=1` for
//!   that long is stopped and started again.
//!
//! A process without our options never meets any of this.

use std::time::Duration;

#[cfg(doc)]
use super::Input;
use super::{Effect, Now, Process, State};
use crate::config::LogLevel;

/// Where a process with `ready_when` or `depends_on` is on its way to
/// RUNNING, and what its child last said (`STATUS=`).
#[derive(Debug, Clone, Default)]
pub(super) struct ReadinessState {
    /// STARTING without a child: waiting for dependencies to be ready.
    pub(super) held: bool,
    /// What STARTING waits for (a dependency's name, or `ready_when`'s
    /// text), for the description.
    pub(super) waiting_for: Option<Box<str>>,
    /// The current child passed its readiness check.
    pub(super) ready: bool,
    /// The current child is being stopped because it was not ready in
    /// time: its exit is a failed start (BACKOFF).
    pub(super) failed_start: bool,
    /// The current child is being stopped because it missed its watchdog:
    /// start it again once it has exited.
    pub(super) watchdog_restart: bool,
    /// The child's last `STATUS=`.
    pub(super) status: Option<Box<str>>,
}

impl Process {
    /// STARTING → RUNNING: the startsecs deadline passed (and the child is
    /// ready, when it has to be).
    pub(super) fn enter_running(&mut self, now: Now, fx: &mut Vec<Effect>) {
        self.backoff = 0;
        self.readiness.waiting_for = None;
        self.change_state(State::Running, true, fx);
        let message = match self.ready_when() {
            Some(how) => format!(
                "success: {} entered RUNNING state, process is ready ({how})",
                self.name()
            ),
            None => format!(
                "success: {} entered RUNNING state, process has stayed up for > than {} seconds (startsecs)",
                self.name(),
                self.config.startsecs
            ),
        };
        self.log(fx, LogLevel::Info, message);
        self.arm_watchdog(now, fx);
    }

    /// Hold a process that is STARTING without a child because its
    /// dependencies are not ready; `waiting_for` names what it waits for
    /// (shown as `waiting for …`). The daemon calls it instead of carrying
    /// out [`Effect::Spawn`]; it may call it again as the reason changes.
    /// Returns whether the process was held.
    pub fn hold(&mut self, waiting_for: String) -> bool {
        if self.state != State::Starting || self.pid != 0 {
            return false;
        }
        self.readiness.held = true;
        self.readiness.waiting_for = Some(waiting_for.into());
        true
    }

    /// Whether it is STARTING without a child, held by its dependencies.
    pub fn is_held(&self) -> bool {
        self.readiness.held
    }

    /// What STARTING waits for: a dependency, or `ready_when`'s text.
    pub fn waiting_for(&self) -> Option<&str> {
        self.readiness.waiting_for.as_deref()
    }

    /// The child's last `STATUS=` (notify protocol).
    pub fn status_text(&self) -> Option<&str> {
        self.readiness.status.as_deref()
    }

    /// Whether dependents may start: RUNNING, or EXITED with an expected
    /// code (a one-shot job such as a migration that finished well).
    pub fn satisfies_dependents(&self) -> bool {
        match self.state {
            State::Running => true,
            State::Exited => self
                .exitstatus
                .is_some_and(|es| self.config.exitcodes.contains(&es)),
            _ => false,
        }
    }

    /// `ready_when` as written, if the process has one.
    pub(super) fn ready_when(&self) -> Option<String> {
        self.config
            .readiness
            .as_ref()
            .and_then(|r| r.ready_when.as_ref())
            .map(|w| w.describe())
    }

    /// A child exists and has yet to pass its readiness check.
    pub(super) fn awaits_readiness(&self) -> bool {
        self.pid != 0 && !self.readiness.ready && self.ready_when().is_some()
    }

    /// Leave the held state for `to` (a stop while held).
    pub(super) fn unhold(&mut self, to: State, fx: &mut Vec<Effect>) {
        self.readiness.held = false;
        self.readiness.waiting_for = None;
        self.deadline = None;
        self.change_state(to, true, fx);
    }

    pub(super) fn release(&mut self, now: Now, fx: &mut Vec<Effect>) {
        if !self.readiness.held {
            return;
        }
        self.readiness.held = false;
        self.readiness.waiting_for = None;
        // startsecs and ready_timeout count from the real spawn.
        self.laststart = Some(now.mono);
        self.laststart_wall = now.wall;
        fx.push(Effect::Spawn);
    }

    pub(super) fn dependency_failed(&mut self, error: String, fx: &mut Vec<Effect>) {
        if !self.readiness.held {
            return;
        }
        self.log(
            fx,
            LogLevel::Info,
            format!("gave up: {} entered FATAL state, {error}", self.name()),
        );
        self.readiness.held = false;
        self.readiness.waiting_for = None;
        self.spawnerr = Some(error.into());
        self.give_up(fx);
    }

    pub(super) fn ready(&mut self, now: Now, fx: &mut Vec<Effect>) {
        if self.state != State::Starting || !self.awaits_readiness() {
            return;
        }
        self.readiness.ready = true;
        let startsecs = Duration::from_secs(self.config.startsecs.max(0) as u64);
        let started = self.laststart.unwrap_or(now.mono);
        if now.mono >= started + startsecs {
            // The pending deadline is the readiness timeout: drop it.
            self.deadline = None;
            self.enter_running(now, fx);
        }
        // Otherwise the startsecs deadline, still armed, makes it RUNNING.
    }

    /// The startsecs deadline (or the readiness timeout) passed in STARTING
    /// and the child is not ready yet.
    pub(super) fn readiness_deadline(&mut self, now: Now, fx: &mut Vec<Effect>) {
        let timeout = self
            .config
            .readiness
            .as_ref()
            .map_or(0, |r| r.ready_timeout);
        let started = self.laststart.unwrap_or(now.mono);
        let give_up_at = started + Duration::from_secs(timeout);
        if now.mono < give_up_at {
            self.arm(give_up_at, fx);
            return;
        }
        let how = self.ready_when().unwrap_or_default();
        self.log(
            fx,
            LogLevel::Warn,
            format!(
                "not ready: {} was not ready within {timeout} seconds (ready_timeout; waiting for {how})",
                self.name()
            ),
        );
        self.spawnerr = Some(format!("not ready within {timeout} seconds").into());
        self.readiness.failed_start = true;
        let _ = self.kill(self.config.stopsignal, now, fx);
    }

    fn watchdog_secs(&self) -> Option<u64> {
        self.config.readiness.as_ref().and_then(|r| r.watchdog_secs)
    }

    /// Entering RUNNING (or a keepalive in RUNNING): the watchdog's deadline.
    pub(super) fn arm_watchdog(&mut self, now: Now, fx: &mut Vec<Effect>) {
        if let Some(secs) = self.watchdog_secs() {
            self.arm(now.mono + Duration::from_secs(secs), fx);
        }
    }

    pub(super) fn watchdog(&mut self, now: Now, fx: &mut Vec<Effect>) {
        if self.state == State::Running && self.pid != 0 {
            self.arm_watchdog(now, fx);
        }
    }

    /// The deadline passed in RUNNING: only the watchdog arms one there.
    pub(super) fn watchdog_missed(&mut self, now: Now, fx: &mut Vec<Effect>) {
        let Some(secs) = self.watchdog_secs() else {
            return;
        };
        self.log(
            fx,
            LogLevel::Warn,
            format!(
                "watchdog: {} sent no WATCHDOG=1 for {secs} seconds (watchdog_secs), restarting it",
                self.name()
            ),
        );
        self.readiness.watchdog_restart = true;
        let _ = self.kill(self.config.stopsignal, now, fx);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::super::{Effect, ExitStatus, Input, Now, Process, State};
    use crate::config::{LogLevel, ProcessConfig, Readiness, ReadyWhen};

    fn at(secs: f64) -> Now {
        Now {
            mono: Duration::from_secs_f64(secs),
            wall: 1_700_000_000 + secs as i64,
        }
    }

    fn with(ready_when: Option<ReadyWhen>, watchdog: Option<u64>) -> Process {
        let mut config = ProcessConfig::with_defaults("api", "/bin/api");
        config.readiness = Some(Arc::new(Readiness {
            section: "program:api".into(),
            depends_on: vec!["db".into()],
            ready_when,
            ready_timeout: 10,
            watchdog_secs: watchdog,
            stop_with_dependencies: false,
        }));
        Process::new("api", config)
    }

    fn step(p: &mut Process, input: Input, t: f64) -> Vec<Effect> {
        p.step(input, at(t), true).expect("accepted")
    }

    fn states(fx: &[Effect]) -> Vec<State> {
        fx.iter()
            .filter_map(|e| match e {
                Effect::StateChanged { to, .. } => Some(*to),
                _ => None,
            })
            .collect()
    }

    fn log_lines(fx: &[Effect]) -> Vec<String> {
        fx.iter()
            .filter_map(|e| match e {
                Effect::Log { level, message } if *level >= LogLevel::Info => Some(message.clone()),
                _ => None,
            })
            .collect()
    }

    fn tcp() -> Option<ReadyWhen> {
        Some(ReadyWhen::Tcp {
            host: "127.0.0.1".into(),
            port: 5432,
        })
    }

    #[test]
    fn held_then_released_spawns_and_counts_from_the_release() {
        let mut p = with(None, None);
        let fx = step(&mut p, Input::Start, 0.0);
        assert!(fx.contains(&Effect::Spawn));
        assert!(p.hold("db".into()));
        assert_eq!((p.state(), p.waiting_for()), (State::Starting, Some("db")));
        let fx = step(&mut p, Input::Release, 5.0);
        assert_eq!(fx, vec![Effect::Spawn]);
        assert!(!p.is_held());
        step(&mut p, Input::Spawned { pid: 7 }, 5.0);
        assert_eq!(p.deadline(), Some(Duration::from_secs(6)));
        assert_eq!(p.laststart_wall, 1_700_000_005);
    }

    #[test]
    fn a_failed_dependency_makes_it_fatal_with_the_reason() {
        let mut p = with(None, None);
        step(&mut p, Input::Start, 0.0);
        p.hold("db".into());
        let error = "dependency db entered FATAL".to_string();
        let fx = step(
            &mut p,
            Input::DependencyFailed {
                error: error.clone(),
            },
            1.0,
        );
        assert_eq!(states(&fx), vec![State::Fatal]);
        assert_eq!(p.spawnerr(), Some(error.as_str()));
        assert_eq!(
            log_lines(&fx),
            vec!["gave up: api entered FATAL state, dependency db entered FATAL".to_string()]
        );
    }

    #[test]
    fn stopping_a_held_process_stops_it_without_a_child() {
        let mut p = with(None, None);
        step(&mut p, Input::Start, 0.0);
        p.hold("db".into());
        let fx = step(&mut p, Input::Stop, 1.0);
        assert_eq!(states(&fx), vec![State::Stopped]);
        assert!(!p.is_held() && p.waiting_for().is_none());
        // A late release does nothing.
        assert!(step(&mut p, Input::Release, 2.0).is_empty());
    }

    #[test]
    fn starting_lasts_until_ready_and_startsecs() {
        let mut p = with(tcp(), None);
        step(&mut p, Input::Start, 0.0);
        step(&mut p, Input::Spawned { pid: 9 }, 0.0);
        assert_eq!(p.waiting_for(), Some("tcp:127.0.0.1:5432"));
        // startsecs passes, not ready: the timeout is armed instead.
        let fx = step(&mut p, Input::Deadline, 1.0);
        assert!(states(&fx).is_empty());
        assert_eq!(p.deadline(), Some(Duration::from_secs(10)));
        let fx = step(&mut p, Input::Ready, 3.0);
        assert_eq!(states(&fx), vec![State::Running]);
        assert_eq!(
            log_lines(&fx),
            vec![
                "success: api entered RUNNING state, process is ready (tcp:127.0.0.1:5432)"
                    .to_string()
            ]
        );
        assert_eq!(p.deadline(), None);
        assert_eq!(p.waiting_for(), None);
    }

    #[test]
    fn ready_before_startsecs_waits_for_startsecs() {
        let mut p = with(Some(ReadyWhen::Notify), None);
        step(&mut p, Input::Start, 0.0);
        step(&mut p, Input::Spawned { pid: 9 }, 0.0);
        assert!(states(&step(&mut p, Input::Ready, 0.5)).is_empty());
        let fx = step(&mut p, Input::Deadline, 1.0);
        assert_eq!(states(&fx), vec![State::Running]);
    }

    #[test]
    fn not_ready_in_time_is_a_failed_start() {
        let mut p = with(tcp(), None);
        step(&mut p, Input::Start, 0.0);
        step(&mut p, Input::Spawned { pid: 9 }, 0.0);
        step(&mut p, Input::Deadline, 1.0);
        let fx = step(&mut p, Input::Deadline, 10.0);
        assert_eq!(states(&fx), vec![State::Stopping]);
        assert!(fx.contains(&Effect::Signal { pid: 9, signal: 15 }));
        assert!(log_lines(&fx)[0].starts_with("not ready: api was not ready within 10 seconds"));
        let fx = step(
            &mut p,
            Input::Exited {
                status: ExitStatus::Signaled {
                    signal: 15,
                    core_dumped: false,
                },
            },
            10.5,
        );
        assert_eq!(states(&fx), vec![State::Backoff]);
        assert_eq!(p.backoff(), 1);
        assert_eq!(p.spawnerr(), Some("not ready within 10 seconds"));
    }

    #[test]
    fn an_exit_before_ready_is_a_failed_start_even_after_startsecs() {
        let mut p = with(tcp(), None);
        step(&mut p, Input::Start, 0.0);
        step(&mut p, Input::Spawned { pid: 9 }, 0.0);
        step(&mut p, Input::Deadline, 1.0);
        let fx = step(
            &mut p,
            Input::Exited {
                status: ExitStatus::Exited(0),
            },
            5.0,
        );
        assert_eq!(states(&fx), vec![State::Backoff]);
    }

    #[test]
    fn a_missed_watchdog_restarts_the_child() {
        let mut p = with(Some(ReadyWhen::Notify), Some(3));
        step(&mut p, Input::Start, 0.0);
        step(&mut p, Input::Spawned { pid: 9 }, 0.0);
        step(&mut p, Input::Ready, 2.0);
        assert_eq!(p.state(), State::Running);
        assert_eq!(p.deadline(), Some(Duration::from_secs(5)));
        step(&mut p, Input::Watchdog, 4.0);
        assert_eq!(p.deadline(), Some(Duration::from_secs(7)));
        let fx = step(&mut p, Input::Deadline, 7.0);
        assert_eq!(states(&fx), vec![State::Stopping]);
        assert!(log_lines(&fx)[0].starts_with("watchdog: api sent no WATCHDOG=1 for 3 seconds"));
        let fx = step(
            &mut p,
            Input::Exited {
                status: ExitStatus::Exited(0),
            },
            7.5,
        );
        assert_eq!(states(&fx), vec![State::Stopped, State::Starting]);
        assert!(fx.contains(&Effect::Spawn));
    }

    #[test]
    fn status_is_kept_and_dependents_are_satisfied_by_running_or_a_good_exit() {
        let mut p = with(None, None);
        step(
            &mut p,
            Input::Status {
                text: "warming up".into(),
            },
            0.0,
        );
        assert_eq!(p.status_text(), Some("warming up"));
        assert!(!p.satisfies_dependents());
        step(&mut p, Input::Start, 0.0);
        step(&mut p, Input::Spawned { pid: 3 }, 0.0);
        step(&mut p, Input::Deadline, 1.0);
        assert!(p.satisfies_dependents());
        step(
            &mut p,
            Input::Exited {
                status: ExitStatus::Exited(0),
            },
            5.0,
        );
        assert_eq!(p.state(), State::Exited);
        assert!(p.satisfies_dependents());
    }
}
