//! Stopping everything: shutdown and restart (SIGTERM/SIGINT/SIGQUIT,
//! SIGHUP, `supervisor.shutdown` / `restart`). Processes stop in the waves
//! of [`Supervisor::stop_waves`] (`order.rs`); the next wave starts only when
//! the current one has fully stopped, and the actor returns once nothing is
//! left.

use std::collections::HashSet;
use std::time::Duration;

use sv_api::SupervisorState;
use sv_core::config::{Config, LogLevel};
use sv_core::process::{Input, State};

use super::table::ProcKey;
use super::{BusEvent, Outcome, Supervisor};

/// How often "waiting for … to die" is repeated while stopping.
const WAIT_REPORT_EVERY: Duration = Duration::from_secs(3);

/// Stopping everything, one wave at a time ([`Supervisor::stop_waves`]).
///
/// Every step is O(1) per process event: the waves are computed once, the
/// current one is walked once (plus the processes that need another try),
/// and "is the wave stopped?" is a counter the actor's `step` keeps.
pub(super) struct StopPlan {
    /// The waves still to come, next last.
    waves: Vec<Vec<ProcKey>>,
    /// The wave under way.
    current: HashSet<ProcKey>,
    /// How many of `current` are not stopped yet.
    live: usize,
    /// Processes of the current wave to stop (again) at the next advance:
    /// the whole wave when it starts, then any that went back to a state
    /// `stop_all` acts on (a refused `kill` leaves a process RUNNING;
    /// Supervisor tries again on every pass of its loop).
    pending: Vec<ProcKey>,
    /// The restart target, if this is a restart.
    restart: Option<Box<Config>>,
    /// Processes visited by the stop machinery (a test's measure of work).
    pub visits: u64,
}

impl StopPlan {
    /// A process of the current wave went from stopped to not (or back),
    /// or entered a state `stop_all` acts on.
    pub(super) fn observe(&mut self, key: ProcKey, was_stopped: bool, state: State) {
        if !self.current.contains(&key) {
            return;
        }
        match (was_stopped, state.is_stopped()) {
            (false, true) => self.live = self.live.saturating_sub(1),
            (true, false) => self.live += 1,
            _ => {}
        }
        if matches!(state, State::Running | State::Starting | State::Backoff) {
            self.pending.push(key);
        }
    }
}

impl Supervisor {
    pub(super) fn request_shutdown(&mut self, signame: &str) {
        self.log
            .warn(&format!("received {signame} indicating exit request"));
        if self.mood == SupervisorState::Shutdown {
            return;
        }
        self.mood = SupervisorState::Shutdown;
        self.begin_stop(None);
    }

    pub(super) fn request_restart(&mut self) {
        if self.mood == SupervisorState::Shutdown {
            self.log
                .warn("ignored SIGHUP indicating restart request (shutdown in progress)");
            return;
        }
        self.log.warn("received SIGHUP indicating restart request");
        if self.mood == SupervisorState::Restarting {
            return;
        }
        self.restart();
    }

    /// Stop everything in [`Supervisor::stop_waves`]' order. Equal group
    /// priorities stop together (our documented improvement on Supervisor,
    /// which stops one group at a time).
    pub(super) fn begin_stop(&mut self, restart: Option<Box<Config>>) {
        // Whatever the boot wave had not started yet stays stopped.
        self.boot_wave = None;
        self.emit(BusEvent::SupervisorState(self.mood));
        let mut waves = self.stop_waves();
        waves.reverse();
        self.stopping = Some(StopPlan {
            waves,
            current: HashSet::new(),
            live: 0,
            pending: Vec::new(),
            restart,
            visits: 0,
        });
        self.advance_stop();
        // Supervisor reports at once, then at most every 3 s.
        self.report_waiting();
    }

    /// Supervisor's `stop_all` on one process: stop RUNNING/STARTING, give
    /// up BACKOFF, leave STOPPING to its SIGKILL deadline.
    fn stop_one(&mut self, key: ProcKey) {
        match self.table.state(key) {
            Some(State::Running | State::Starting) => {
                let _ = self.step(key, Input::Stop);
            }
            Some(State::Backoff) => {
                let _ = self.step(key, Input::GiveUp);
            }
            _ => {}
        }
    }

    /// Act on the current wave's pending processes; start the next wave
    /// once the current one is stopped.
    pub(super) fn advance_stop(&mut self) {
        loop {
            let Some(plan) = self.stopping.as_mut() else {
                return;
            };
            let pending = std::mem::take(&mut plan.pending);
            plan.visits += pending.len() as u64;
            for key in pending {
                self.stop_one(key);
            }
            let Some(plan) = self.stopping.as_mut() else {
                return;
            };
            if plan.live > 0 {
                return;
            }
            let Some(wave) = plan.waves.pop() else {
                plan.current.clear();
                return;
            };
            plan.visits += wave.len() as u64;
            plan.live = wave.iter().filter(|k| !self.table.is_stopped(**k)).count();
            plan.current = wave.iter().copied().collect();
            plan.pending = wave;
        }
    }

    pub(super) fn report_waiting(&mut self) {
        let waiting: Vec<String> = self
            .start_order()
            .into_iter()
            .filter(|k| !self.table.is_stopped(*k))
            .filter_map(|k| self.table.process(k).map(|p| p.name().to_string()))
            .collect();
        if !waiting.is_empty() {
            self.log
                .info(&format!("waiting for {} to die", waiting.join(", ")));
        }
        self.next_wait_report = Some(self.now().mono + WAIT_REPORT_EVERY);
    }

    pub(super) fn finished(&mut self) -> Option<Outcome> {
        let plan = self.stopping.as_ref()?;
        if !plan.waves.is_empty() || plan.live > 0 || self.live > 0 {
            return None;
        }
        let plan = self.stopping.take()?;
        self.fail_waiters();
        for (socket, fd) in self.groups.take_sockets() {
            self.log.info(&format!("Closing socket {}", socket.url()));
            crate::fcgi::close(&socket, fd);
        }
        Some(match plan.restart {
            Some(config) => Outcome::Restart(config),
            None => Outcome::Shutdown,
        })
    }

    /// `supervisor.restart`, and SIGHUP after its log line. The new
    /// configuration is read before anything stops: a broken file must not
    /// leave the daemon with nothing running.
    pub(super) fn restart(&mut self) {
        match (self.reload)() {
            Ok(config) => {
                self.mood = SupervisorState::Restarting;
                self.begin_stop(Some(Box::new(config)));
            }
            Err(e) => self.log.log(
                LogLevel::Error,
                &format!("not restarting: the configuration has errors:\n{e}"),
            ),
        }
    }
}
