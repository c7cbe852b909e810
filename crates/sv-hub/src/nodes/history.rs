//! The state history of a node's processes, as the hub observes it: each
//! poll's process list is compared with the last one, and every process
//! whose state changed gets a [`Transition`] (the first poll records each
//! process's state as first seen).
//!
//! Decision (issue 17): state changes are kept **in memory, per node,
//! bounded**, not written as activity rows. A flapping process would
//! otherwise fill the shared database, and several hub instances polling
//! one node would each write the same change. The activity log keeps
//! what people did (start, stop, … with who and the result); the process
//! view shows both, side by side. Consequences, documented in
//! docs/hub.md: the history starts when the hub starts, each instance has
//! its own, and its precision is the poll — a node followed live (ours)
//! is polled at each change, a Supervisor 4.3 node every `poll_interval`,
//! so a state held shorter than that (STARTING of a quick start) can be
//! missed there. Times are the node's own where it gives one (`start` for
//! STARTING/RUNNING, `stop` for the stopped states), else the poll's.

use std::collections::{HashMap, VecDeque};

use sv_api::ProcessInfo;

/// Transitions kept per process (oldest dropped first).
pub const PER_PROCESS: usize = 50;
/// Processes with a history per node. A node's own list is the bound in
/// practice; this guards against one that renames its programs forever.
pub const MAX_PROCESSES: usize = 10_000;

/// One observed change of a process's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// When, seconds since the epoch (see the module docs).
    pub time: i64,
    /// The state before (`None`: first seen).
    pub from: Option<String>,
    /// The state after.
    pub to: String,
    /// Its pid after the change (0 when not running).
    pub pid: i64,
    /// Its exit status after the change (meaningful when it exited).
    pub exitstatus: i64,
    /// Supervisor's description at the change (`Exited too quickly …`).
    pub description: String,
}

/// The histories of one node's processes, keyed by `group:name`.
#[derive(Debug, Default)]
pub struct History {
    by_process: HashMap<String, VecDeque<Transition>>,
}

fn key(p: &ProcessInfo) -> String {
    format!("{}:{}", p.group, p.name)
}

/// The time of `p`'s present state: the node's own clock where it says
/// (start of a run, end of one), else `poll_time`.
fn state_time(p: &ProcessInfo, poll_time: i64) -> i64 {
    let node_time = match p.state {
        10 | 20 => p.start,
        0 | 40 | 100 | 200 => p.stop,
        _ => 0,
    };
    if node_time > 0 { node_time } else { poll_time }
}

impl History {
    /// Records what changed between the last poll's list `old` and this
    /// poll's `new` (at `poll_time`, seconds). Processes gone from the node
    /// lose their history.
    pub fn observe(&mut self, old: &[ProcessInfo], new: &[ProcessInfo], poll_time: i64) {
        let before: HashMap<String, &ProcessInfo> = old.iter().map(|p| (key(p), p)).collect();
        for p in new {
            let k = key(p);
            let prior = before.get(&k);
            if prior.is_some_and(|o| o.state == p.state && o.start == p.start && o.pid == p.pid) {
                continue;
            }
            // First poll after start, or a process not seen before: its
            // current state, as first seen.
            let from = prior
                .map(|o| o.statename.clone())
                .filter(|_| self.by_process.contains_key(&k));
            if !self.by_process.contains_key(&k) && self.by_process.len() >= MAX_PROCESSES {
                continue;
            }
            let list = self.by_process.entry(k).or_default();
            if list.len() >= PER_PROCESS {
                list.pop_front();
            }
            list.push_back(Transition {
                time: state_time(p, poll_time),
                from,
                to: p.statename.clone(),
                pid: i64::from(p.pid),
                exitstatus: i64::from(p.exitstatus),
                description: p.description.clone(),
            });
        }
        if self.by_process.len() > new.len() {
            let present: std::collections::HashSet<String> = new.iter().map(key).collect();
            self.by_process.retain(|k, _| present.contains(k));
        }
    }

    /// The transitions of `group:name`, oldest first.
    pub fn of(&self, namespec: &str) -> Vec<Transition> {
        self.by_process
            .get(namespec)
            .map(|l| l.iter().cloned().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proc(name: &str, state: i32, statename: &str, start: i64, pid: u32) -> ProcessInfo {
        ProcessInfo {
            name: name.into(),
            group: name.into(),
            start,
            stop: 0,
            now: 0,
            state,
            statename: statename.into(),
            spawnerr: String::new(),
            exitstatus: 0,
            stdout_logfile: String::new(),
            stderr_logfile: String::new(),
            pid,
            description: String::new(),
        }
    }

    #[test]
    fn first_sight_then_each_change_is_recorded() {
        let mut h = History::default();
        let a = vec![proc("web", 20, "RUNNING", 100, 7)];
        h.observe(&[], &a, 150);
        h.observe(&a, &a, 152);
        let b = vec![proc("web", 0, "STOPPED", 100, 0)];
        h.observe(&a, &b, 160);
        let c = vec![proc("web", 20, "RUNNING", 170, 9)];
        h.observe(&b, &c, 171);
        let got: Vec<(Option<String>, String, i64)> = h
            .of("web:web")
            .into_iter()
            .map(|t| (t.from, t.to, t.time))
            .collect();
        assert_eq!(
            got,
            vec![
                (None, "RUNNING".into(), 100),
                (Some("RUNNING".into()), "STOPPED".into(), 160),
                (Some("STOPPED".into()), "RUNNING".into(), 170),
            ]
        );
    }

    #[test]
    fn a_restart_between_polls_shows_as_a_new_run() {
        let mut h = History::default();
        let a = vec![proc("web", 20, "RUNNING", 100, 7)];
        h.observe(&[], &a, 101);
        let b = vec![proc("web", 20, "RUNNING", 200, 8)];
        h.observe(&a, &b, 201);
        assert_eq!(h.of("web:web").len(), 2);
    }

    #[test]
    fn history_is_bounded_and_forgets_removed_processes() {
        let mut h = History::default();
        let mut last = vec![proc("web", 20, "RUNNING", 1, 1)];
        h.observe(&[], &last, 1);
        for i in 2..200 {
            let next = vec![proc("web", 20, "RUNNING", i, i as u32)];
            h.observe(&last, &next, i);
            last = next;
        }
        assert_eq!(h.of("web:web").len(), PER_PROCESS);
        h.observe(&last, &[proc("db", 20, "RUNNING", 5, 5)], 300);
        assert!(h.of("web:web").is_empty());
        assert_eq!(h.of("db:db").len(), 1);
    }
}
