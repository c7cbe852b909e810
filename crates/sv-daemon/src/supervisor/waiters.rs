//! Calls that wait: `startProcess` / `stopProcess` with `wait=true` leave a
//! [`Waiter`] here and are answered when their process gets where they
//! wait for (or cannot), so a waiting client never holds up the actor.

use std::time::Duration;

use sv_core::process::{Mono, State};

use super::Supervisor;
use super::error::OpError;
use super::ops::Reply;
use super::table::ProcKey;

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

    pub(super) fn key(&self) -> ProcKey {
        match self {
            Waiter::Start { key, .. } | Waiter::Stop { key, .. } => *key,
        }
    }
}

/// Supervisor's `stop_report` cadence.
pub(super) const STOP_REPORT_EVERY: Duration = Duration::from_secs(2);

impl Supervisor {
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
            let Some(m) = self.table.get(key) else {
                continue;
            };
            let (state, spawnerr) = (m.process.state(), m.process.spawnerr().is_some());
            match waiter {
                Waiter::Start { name, reply, .. } if spawnerr => {
                    let _ = reply.send(Err(OpError::SpawnError(name)));
                }
                Waiter::Start { reply, .. } if state == State::Running => {
                    let _ = reply.send(Ok(()));
                }
                Waiter::Start { name, reply, .. } if state != State::Starting => {
                    let _ = reply.send(Err(OpError::AbnormalTermination(name)));
                }
                Waiter::Stop { reply, .. } if state.is_stopped() => {
                    let _ = reply.send(Ok(()));
                }
                still_waiting => self.waiters.push(still_waiting),
            }
        }
    }

    /// Supervisor's `stop_report`: "waiting for x to stop" at once, then
    /// every 2 s, with the process's own name (not the `group:name` the
    /// client gave).
    pub(super) fn report_stopping_waiters(&mut self, now: Mono) {
        let mut lines = Vec::new();
        for waiter in &mut self.waiters {
            if let Waiter::Stop {
                key,
                name,
                next_report,
                ..
            } = waiter
                && *next_report <= now
            {
                let name = self.table.process(*key).map_or(name.as_str(), |p| p.name());
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
            let _ = reply.send(Err(OpError::ShutdownState));
        }
    }
}
