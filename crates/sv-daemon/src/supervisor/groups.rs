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
/// instantiates.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GroupDef {
    pub name: String,
    pub priority: i64,
    pub kind: GroupKind,
    pub processes: Vec<Arc<ProcessConfig>>,
}

impl GroupDef {
    pub(crate) fn from_config(configs: Vec<GroupConfig>) -> Vec<GroupDef> {
        configs
            .into_iter()
            .map(|g| GroupDef {
                name: g.name,
                priority: g.priority,
                kind: g.kind,
                processes: g.processes.into_iter().map(Arc::new).collect(),
            })
            .collect()
    }
}

/// An active group.
pub(crate) struct Group {
    pub def: GroupDef,
    /// Its processes by (priority, name), Supervisor's order within a
    /// group; fixed when the group is created.
    pub members: Vec<ProcKey>,
    /// The same processes by name, for finding one in O(log n).
    pub by_name: Vec<ProcKey>,
    /// An fcgi group's socket, handed to each process as stdin.
    pub socket: Option<(FcgiSocket, std::os::fd::OwnedFd)>,
    /// When it was added: groups of equal priority keep this order.
    pub seq: u64,
    /// How many of its processes are not stopped (kept by the actor's
    /// `step`, so "is this group stopped?" costs nothing).
    pub live: usize,
}

/// The active groups by name, with the counters the actor keeps on them.
#[derive(Default)]
pub(crate) struct Groups {
    by_name: HashMap<String, Group>,
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

    fn insert(&mut self, mut group: Group) {
        group.seq = self.next_seq;
        self.next_seq += 1;
        self.by_name.insert(group.def.name.clone(), group);
    }

    fn remove(&mut self, name: &str) -> Option<Group> {
        self.by_name.remove(name)
    }

    /// Take every group's fcgi socket, in the order the groups were added.
    pub fn take_sockets(&mut self) -> Vec<(FcgiSocket, std::os::fd::OwnedFd)> {
        let mut groups: Vec<&mut Group> = self.by_name.values_mut().collect();
        groups.sort_by_key(|g| g.seq);
        groups.into_iter().filter_map(|g| g.socket.take()).collect()
    }
}

impl Supervisor {
    /// Instantiate a configured group (AUTO logs are named here, as
    /// Supervisor creates them at group creation; the files come on the
    /// next idle turns) and announce it.
    pub(crate) fn add_group(&mut self, def: GroupDef) {
        let mut members = Vec::new();
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
                    process: Process::new(&def.name, pc.clone()),
                    stdin: None,
                    drains: Vec::new(),
                    logs: ChildLogs::default(),
                    auto_logs,
                    listener: is_listener.then(|| Listener::new(&pc.name)),
                },
            );
            members.push(key);
        }
        let socket = match &def.kind {
            GroupKind::FastCgi { socket } => match crate::fcgi::open(socket) {
                Ok(fd) => {
                    self.log.info(&format!("Creating socket {}", socket.url()));
                    Some((socket.clone(), fd))
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
        let name = def.name.clone();
        self.deps.invalidate();
        let order = |key: &ProcKey| self.table.process(*key).map(super::order::member_key);
        members.sort_by(|a, b| order(a).cmp(&order(b)));
        let mut by_name = members.clone();
        by_name.sort_by(|a, b| {
            let name = |key: &ProcKey| self.table.process(*key).map(Process::name);
            name(a).cmp(&name(b))
        });
        let live = members
            .iter()
            .filter(|k| !self.table.is_stopped(**k))
            .count();
        self.live += live;
        self.groups.insert(Group {
            def,
            members,
            by_name,
            socket,
            seq: 0,
            live,
        });
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
        if let Some((socket, fd)) = group.socket {
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
        let index = group
            .by_name
            .binary_search_by(|key| self.table.process(*key).map_or("", Process::name).cmp(name))
            .ok()?;
        group.by_name.get(index).copied()
    }
}
