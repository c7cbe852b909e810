//! The orders Supervisor walks processes in, each computed by one function
//! from one sort key, so that a new ordering rule (dependencies, say) is a
//! change to a key and nothing else:
//!
//! * [`Supervisor::start_order`] — boot's autostart wave, `startAllProcesses`,
//!   the order `supervisorctl status` and the stop report list processes:
//!   groups by ascending priority (ties in the order they were added), each
//!   group's processes by (priority, name);
//! * [`Supervisor::stop_waves`] — shutdown and restart: waves of equal
//!   [`StopKey::wave`] (today a group priority, highest first); the next
//!   wave starts only when the current one has fully stopped; within a
//!   wave, groups in the order they were added and each group's processes
//!   in reverse (priority, name), Supervisor's `stop_all`.
//!
//! Both sort every process once (O(N log N)); the waves themselves are
//! walked with a cursor (`stopping.rs`, `boot.rs`).

use std::cmp::Reverse;

use sv_core::process::Process;

use super::Supervisor;
use super::groups::Group;
use super::table::ProcKey;

/// A process's place within its group: (priority, name).
pub(super) fn member_key(p: &Process) -> (i64, &str) {
    (p.config.priority, p.name())
}

/// Where a process stands in the start order (smallest first).
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct StartKey<'a> {
    group_priority: i64,
    group_seq: u64,
    member: (i64, &'a str),
}

/// Where a process stands when everything stops (smallest first).
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct StopKey<'a> {
    /// Processes with equal `wave` stop together.
    pub wave: Reverse<i64>,
    group_seq: u64,
    member: Reverse<(i64, &'a str)>,
}

impl Supervisor {
    fn start_key<'a>(&self, group: &Group, p: &'a Process) -> StartKey<'a> {
        StartKey {
            group_priority: group.def.priority,
            group_seq: group.seq,
            member: member_key(p),
        }
    }

    fn stop_key<'a>(&self, group: &Group, p: &'a Process) -> StopKey<'a> {
        StopKey {
            wave: Reverse(group.def.priority),
            group_seq: group.seq,
            member: Reverse(member_key(p)),
        }
    }

    /// Every process in start order.
    pub(crate) fn start_order(&self) -> Vec<ProcKey> {
        let mut keyed: Vec<(StartKey<'_>, ProcKey)> = self
            .members_with_groups()
            .map(|(group, key, p)| (self.start_key(group, p), key))
            .collect();
        keyed.sort_unstable();
        keyed.into_iter().map(|(_, key)| key).collect()
    }

    /// Every process in stop order, cut into waves.
    pub(super) fn stop_waves(&self) -> Vec<Vec<ProcKey>> {
        let mut keyed: Vec<(StopKey<'_>, ProcKey)> = self
            .members_with_groups()
            .map(|(group, key, p)| (self.stop_key(group, p), key))
            .collect();
        keyed.sort_unstable();
        let mut waves: Vec<Vec<ProcKey>> = Vec::new();
        let mut last = None;
        for (stop_key, key) in keyed {
            match waves.last_mut() {
                Some(wave) if last == Some(stop_key.wave) => wave.push(key),
                _ => waves.push(vec![key]),
            }
            last = Some(stop_key.wave);
        }
        waves
    }

    fn members_with_groups(&self) -> impl Iterator<Item = (&Group, ProcKey, &Process)> {
        self.groups.iter().flat_map(move |g| {
            g.members
                .iter()
                .filter_map(move |&k| self.table.process(k).map(|p| (g, k, p)))
        })
    }
}
