//! Calls that wait: `startProcess` / `stopProcess` with `wait=true` leave a
//! [`Waiter`] here and are answered when their process gets where they
//! wait for (or cannot), so a waiting client never holds up the actor.
//! They are kept by process, and the stop reports in a time-ordered queue,
//! so a state change or a report costs O(log W) however many calls wait
//! (`stopAllProcesses` with `wait` leaves one per process).

use std::collections::{BTreeSet, HashMap};
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

/// Every waiting call, by process.
#[derive(Default)]
pub(super) struct Waiters {
    /// By process; each waiter with its id (the order calls came in).
    by_key: HashMap<ProcKey, Vec<(u64, Waiter)>>,
    /// When each stop waiter next reports: (when, id, process).
    reports: BTreeSet<(Mono, u64, ProcKey)>,
    next_id: u64,
}

impl Waiters {
    pub(super) fn push(&mut self, waiter: Waiter) {
        let id = self.next_id;
        self.next_id += 1;
        if let Some(at) = waiter.next_report() {
            self.reports.insert((at, id, waiter.key()));
        }
        self.by_key
            .entry(waiter.key())
            .or_default()
            .push((id, waiter));
    }

    /// The earliest stop report due.
    pub(super) fn next_report(&self) -> Option<Mono> {
        self.reports.first().map(|(at, _, _)| *at)
    }

    /// Take the waiters on `key` out (those still waiting go back with
    /// [`Waiters::put_back`]).
    fn take(&mut self, key: ProcKey) -> Vec<(u64, Waiter)> {
        let taken = self.by_key.remove(&key).unwrap_or_default();
        for (id, waiter) in &taken {
            if let Some(at) = waiter.next_report() {
                self.reports.remove(&(at, *id, key));
            }
        }
        taken
    }

    fn put_back(&mut self, id: u64, waiter: Waiter) {
        if let Some(at) = waiter.next_report() {
            self.reports.insert((at, id, waiter.key()));
        }
        self.by_key
            .entry(waiter.key())
            .or_default()
            .push((id, waiter));
    }

    fn take_all(&mut self) -> impl Iterator<Item = Waiter> + use<> {
        self.reports.clear();
        std::mem::take(&mut self.by_key)
            .into_values()
            .flatten()
            .map(|(_, waiter)| waiter)
    }
}

impl Supervisor {
    /// Answer every waiter on `key` whose process has got where it waits for.
    pub(super) fn settle_waiters(&mut self, key: ProcKey) {
        if !self.waiters.by_key.contains_key(&key) {
            return;
        }
        let mine = self.waiters.take(key);
        for (id, waiter) in mine {
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
                still_waiting => self.waiters.put_back(id, still_waiting),
            }
        }
    }

    /// Supervisor's `stop_report`: "waiting for x to stop" at once, then
    /// every 2 s, with the process's own name (not the `group:name` the
    /// client gave).
    pub(super) fn report_stopping_waiters(&mut self, now: Mono) {
        let mut lines = Vec::new();
        let mut again = Vec::new();
        while let Some(&(at, id, key)) = self.waiters.reports.first() {
            if at > now {
                break;
            }
            self.waiters.reports.pop_first();
            let Some(waiter) = self
                .waiters
                .by_key
                .get_mut(&key)
                .and_then(|list| list.iter_mut().find(|(i, _)| *i == id))
            else {
                continue;
            };
            if let (
                _,
                Waiter::Stop {
                    name, next_report, ..
                },
            ) = waiter
            {
                let name = self.table.process(key).map_or(name.as_str(), |p| p.name());
                lines.push(format!("waiting for {name} to stop"));
                *next_report = now + STOP_REPORT_EVERY;
                again.push((*next_report, id, key));
            }
        }
        self.waiters.reports.extend(again);
        for line in lines {
            self.log.info(&line);
        }
    }

    /// The daemon is going away: nobody will be answered otherwise.
    pub(super) fn fail_waiters(&mut self) {
        for waiter in self.waiters.take_all() {
            let reply = match waiter {
                Waiter::Start { reply, .. } | Waiter::Stop { reply, .. } => reply,
            };
            let _ = reply.send(Err(OpError::ShutdownState));
        }
    }
}
