//! Stopping everything: shutdown and restart (SIGTERM/SIGINT/SIGQUIT,
//! SIGHUP, `supervisor.shutdown` / `restart`). Groups stop in waves, highest
//! priority number first; the next wave starts only when the current one
//! has fully stopped, and the actor returns once nothing is left.

use std::time::Duration;

use sv_api::SupervisorState;
use sv_core::config::{Config, LogLevel};
use sv_core::process::{Input, State};

use super::{BusEvent, Outcome, Supervisor};

/// How often "waiting for … to die" is repeated while stopping.
const WAIT_REPORT_EVERY: Duration = Duration::from_secs(3);

/// Stopping everything, one priority at a time.
pub(super) struct StopPlan {
    /// Group names still to stop, by priority, highest last.
    waves: Vec<Vec<String>>,
    /// The restart target, if this is a restart.
    restart: Option<Box<Config>>,
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

    /// Stop every group, highest priority number first; groups of equal
    /// priority stop together, and the next priority starts only when the
    /// current one has fully stopped.
    pub(super) fn begin_stop(&mut self, restart: Option<Box<Config>>) {
        self.emit(BusEvent::SupervisorState(self.mood));
        let mut priorities: Vec<i64> = self.groups.iter().map(|g| g.def.priority).collect();
        priorities.sort_unstable();
        priorities.dedup();
        let waves = priorities
            .into_iter()
            .map(|p| {
                self.groups
                    .iter()
                    .filter(|g| g.def.priority == p)
                    .map(|g| g.def.name.clone())
                    .collect()
            })
            .collect();
        self.stopping = Some(StopPlan { waves, restart });
        self.advance_stop();
        // Supervisor reports at once, then at most every 3 s.
        self.report_waiting();
    }

    /// Supervisor's `stop_all` on one group: stop RUNNING/STARTING, give up
    /// BACKOFF, leave STOPPING to its SIGKILL deadline.
    fn stop_group(&mut self, name: &str) {
        let Some(group) = self.group_of(name) else {
            return;
        };
        let mut members = self.sorted_members(group);
        members.reverse();
        for key in members {
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
    }

    fn group_stopped(&self, name: &str) -> bool {
        self.group_of(name)
            .is_none_or(|g| g.members.iter().all(|k| self.table.is_stopped(*k)))
    }

    pub(super) fn advance_stop(&mut self) {
        loop {
            let Some(plan) = self.stopping.as_mut() else {
                return;
            };
            let Some(wave) = plan.waves.last().cloned() else {
                return;
            };
            for name in &wave {
                self.stop_group(name);
            }
            if wave.iter().all(|name| self.group_stopped(name)) {
                if let Some(plan) = self.stopping.as_mut() {
                    plan.waves.pop();
                }
            } else {
                return;
            }
        }
    }

    pub(super) fn report_waiting(&mut self) {
        let waiting: Vec<String> = self
            .keys_in_order()
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
        if !plan.waves.is_empty() || !self.table.all_stopped() {
            return None;
        }
        let plan = self.stopping.take()?;
        self.fail_waiters();
        for group in &mut self.groups {
            if let Some((socket, fd)) = group.socket.take() {
                self.log.info(&format!("Closing socket {}", socket.url()));
                crate::fcgi::close(&socket, fd);
            }
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
