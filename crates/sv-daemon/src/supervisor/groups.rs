//! Groups: what the configuration defines ([`GroupDef`], what `reloadConfig`
//! compares) and what is active ([`Group`]: its processes and, for an fcgi
//! group, its listening socket); adding and removing them, and the orders
//! Supervisor walks processes in.

use std::collections::HashMap;
use std::sync::Arc;

use sv_core::config::{FcgiSocket, GroupConfig, GroupKind, ProcessConfig};
use sv_core::events::{self as ev, Listener};
use sv_core::process::Process;

use super::childlogs::AutoLogs;
use super::table::{Managed, ProcKey};
use super::{BusEvent, Supervisor};
use crate::capture::ChildLogs;

/// A group as configured: what `reloadConfig` compares and `addProcessGroup`
/// instantiates. Shared (`Arc`) between the configured list and the active
/// group made from it: a configuration is held once however it is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GroupDef {
    /// Shared with the active group's index key and its processes
    /// (`Process::group`): one allocation per group.
    pub name: Arc<str>,
    pub priority: i64,
    pub kind: GroupKind,
    pub processes: Few<Arc<ProcessConfig>>,
}

impl GroupDef {
    pub(crate) fn from_config(configs: Vec<GroupConfig>) -> Vec<Arc<GroupDef>> {
        // Not `into_iter().map(..).collect()`: that collects in place and
        // would keep each loaded `Vec<ProcessConfig>`'s buffer (352 bytes a
        // process) alive behind 8-byte `Arc`s (issue 19).
        let mut defs = Vec::with_capacity(configs.len());
        for g in configs {
            let mut processes = Vec::with_capacity(g.processes.len());
            processes.extend(g.processes.into_iter().map(Arc::new));
            let processes = Few::from(processes);
            defs.push(Arc::new(GroupDef {
                name: Arc::from(g.name),
                priority: g.priority,
                kind: g.kind,
                processes,
            }));
        }
        defs
    }
}

/// An active group. Kept small: a daemon with thousands of one-program
/// groups holds one of these per program (issue 19).
pub(crate) struct Group {
    pub def: Arc<GroupDef>,
    /// Its processes by (priority, name), Supervisor's order within a
    /// group; fixed when the group is created.
    pub members: Keys,
    /// The same processes by name, for finding one in O(log n); `None`
    /// when `members` is already in name order (always, for a group of
    /// one or of `numprocs` copies of equal priority).
    by_name: Option<Box<[ProcKey]>>,
    /// An fcgi group's socket, handed to each process as stdin.
    pub socket: Option<Box<(FcgiSocket, std::os::fd::OwnedFd)>>,
    /// When it was added: groups of equal priority keep this order.
    pub seq: u64,
    /// How many of its processes are not stopped (kept by the actor's
    /// `step`, so "is this group stopped?" costs nothing).
    pub live: usize,
}

/// A group's processes (keys, or configs): inline for one — a group per
/// program is the common large configuration, and a one-element heap
/// block costs malloc's 32-byte minimum — boxed for more.
#[derive(Debug, Clone)]
pub(crate) enum Few<T> {
    One([T; 1]),
    Many(Box<[T]>),
}

/// A group's process keys.
pub(crate) type Keys = Few<ProcKey>;

impl<T> std::ops::Deref for Few<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        match self {
            Few::One(one) => one,
            Few::Many(many) => many,
        }
    }
}

impl<'a, T> IntoIterator for &'a Few<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<T> From<Vec<T>> for Few<T> {
    fn from(mut items: Vec<T>) -> Few<T> {
        match (items.len(), items.pop()) {
            (1, Some(one)) => Few::One([one]),
            (_, last) => {
                items.extend(last);
                Few::Many(items.into_boxed_slice())
            }
        }
    }
}

impl<T: PartialEq> PartialEq for Few<T> {
    fn eq(&self, other: &Few<T>) -> bool {
        **self == **other
    }
}

impl<T: Eq> Eq for Few<T> {}

/// The active groups by name, with the counters the actor keeps on them.
#[derive(Default)]
pub(crate) struct Groups {
    /// Keyed by the name its processes share (`Process::group`).
    by_name: HashMap<Arc<str>, Group>,
    next_seq: u64,
}

impl Groups {
    pub fn get(&self, name: &str) -> Option<&Group> {
        self.by_name.get(name)
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut Group> {
        self.by_name.get_mut(name)
    }

    /// In no particular order (`order.rs` has the orders).
    pub fn iter(&self) -> impl Iterator<Item = &Group> {
        self.by_name.values()
    }

    fn insert(&mut self, name: Arc<str>, mut group: Group) {
        group.seq = self.next_seq;
        self.next_seq += 1;
        self.by_name.insert(name, group);
    }

    fn remove(&mut self, name: &str) -> Option<Group> {
        self.by_name.remove(name)
    }

    /// Take every group's fcgi socket, in the order the groups were added.
    pub fn take_sockets(&mut self) -> Vec<(FcgiSocket, std::os::fd::OwnedFd)> {
        let mut groups: Vec<&mut Group> = self.by_name.values_mut().collect();
        groups.sort_by_key(|g| g.seq);
        groups
            .into_iter()
            .filter_map(|g| g.socket.take().map(|s| *s))
            .collect()
    }
}

impl Supervisor {
    /// Instantiate a configured group (AUTO logs are named here, as
    /// Supervisor creates them at group creation; the files come on the
    /// next idle turns) and announce it.
    pub(crate) fn add_group(&mut self, def: Arc<GroupDef>) {
        let group_name = def.name.clone();
        let mut members = Vec::with_capacity(def.processes.len());
        let is_listener = matches!(def.kind, GroupKind::EventListener { .. });
        if let GroupKind::EventListener {
            buffer_size,
            events,
            ..
        } = &def.kind
        {
            // Subscribed before the group is announced: a pool hears of its
            // own PROCESS_GROUP_ADDED, as in Supervisor.
            self.hub
                .add_pool(ev::Pool::new(&def.name, *buffer_size, events));
        }
        for pc in &def.processes {
            let key = self.table.new_key();
            // No file is touched here (see `childlogs`): AUTO logs are
            // named now and created on the actor's next idle turns, the
            // sinks at the first spawn.
            let s = &self.config.supervisord;
            let auto_logs = AutoLogs::choose(pc, &s.childlogdir, &s.identifier);
            if auto_logs.is_some() {
                self.queue_auto_logs(key);
            }
            self.table.insert(
                key,
                Managed {
                    process: Process::new(group_name.clone(), pc.clone()),
                    stdin: None,
                    drains: Vec::new(),
                    logs: ChildLogs::default(),
                    auto_logs,
                    listener: is_listener.then(|| Box::new(Listener::new(&pc.name))),
                },
            );
            members.push(key);
        }
        let socket = match &def.kind {
            GroupKind::FastCgi { socket } => match crate::fcgi::open(socket) {
                Ok(fd) => {
                    self.log.info(&format!("Creating socket {}", socket.url()));
                    Some(Box::new((socket.clone(), fd)))
                }
                Err(e) => {
                    self.log.critical(&format!(
                        "Could not create FastCGI socket {}: {e}",
                        socket.url()
                    ));
                    None
                }
            },
            _ => None,
        };
        let name = def.name.to_string();
        self.deps.invalidate();
        let order = |key: &ProcKey| self.table.process(*key).map(super::order::member_key);
        members.sort_by(|a, b| order(a).cmp(&order(b)));
        let name_of = |key: &ProcKey| self.table.process(*key).map(Process::name);
        let by_name = if members.is_sorted_by(|a, b| name_of(a) <= name_of(b)) {
            None
        } else {
            let mut by_name = members.clone();
            by_name.sort_by(|a, b| name_of(a).cmp(&name_of(b)));
            Some(by_name.into_boxed_slice())
        };
        let live = members
            .iter()
            .filter(|k| !self.table.is_stopped(**k))
            .count();
        self.live += live;
        self.groups.insert(
            group_name,
            Group {
                def,
                members: Few::from(members),
                by_name,
                socket,
                seq: 0,
                live,
            },
        );
        self.emit(BusEvent::GroupAdded(name));
        self.arm_ticks();
    }

    /// Take a group out (its processes must all be stopped).
    pub(crate) fn remove_group(&mut self, name: &str) {
        let Some(group) = self.groups.remove(name) else {
            return;
        };
        self.live = self.live.saturating_sub(group.live);
        self.hub.remove_pool(name);
        self.deps.invalidate();
        for key in &group.members {
            self.readiness.forget(*key);
            self.table.remove(*key);
        }
        if let Some((socket, fd)) = group.socket.map(|s| *s) {
            self.log.info(&format!("Closing socket {}", socket.url()));
            crate::fcgi::close(&socket, fd);
        }
        self.emit(BusEvent::GroupRemoved(name.to_string()));
        self.arm_ticks();
    }

    pub(super) fn add_groups(&mut self) {
        let mut defs = self.configured.clone();
        defs.sort_by_key(|d| d.priority);
        for def in defs {
            self.add_group(def);
        }
    }

    pub(crate) fn group_of(&self, name: &str) -> Option<&Group> {
        self.groups.get(name)
    }

    /// The process `name` of `group`.
    pub(crate) fn member_named(&self, group: &Group, name: &str) -> Option<ProcKey> {
        let by_name = group.by_name.as_deref().unwrap_or(&*group.members);
        let index = by_name
            .binary_search_by(|key| self.table.process(*key).map_or("", Process::name).cmp(name))
            .ok()?;
        by_name.get(index).copied()
    }
}
