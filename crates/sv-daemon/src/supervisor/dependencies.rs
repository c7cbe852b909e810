//! `depends_on` in the actor (docs/readiness.md): a process about to spawn
//! whose dependencies are not ready is held (STARTING without a child) and
//! its dependencies are started; every state change of a dependency
//! releases, fails (FATAL dependency) or stops (`stop_with_dependencies`)
//! the processes that depend on it. The graph ([`DepGraph`], pure) is built
//! over the active groups, again only after groups were added or removed.
//!
//! With no `depends_on` anywhere the graph has no edges and none of this
//! does anything: the daemon behaves exactly like Supervisor.

use std::collections::HashMap;

use sv_core::config::deps::DepGraph;
use sv_core::process::{Input, State};

use super::table::ProcKey;
use super::{Op, Supervisor};

/// The graph over the active processes, and the keys of its indices.
#[derive(Default)]
pub(crate) struct DepIndex {
    pub(super) graph: DepGraph,
    keys: Vec<ProcKey>,
    index: HashMap<ProcKey, usize>,
    /// Groups came or went since the graph was built.
    stale: bool,
    /// Whether anything depends on anything (cached: checked at every
    /// state change, so it must cost nothing when nobody uses `depends_on`).
    pub(super) edges: bool,
    /// Stops put off until the process's dependents have stopped.
    deferred: Vec<ProcKey>,
}

impl DepIndex {
    /// Groups were added or removed: rebuild before the next use.
    pub(crate) fn invalidate(&mut self) {
        self.stale = true;
    }
}

impl Supervisor {
    /// Rebuild the graph if groups came or went.
    pub(super) fn refresh_deps(&mut self) {
        if !self.deps.stale {
            return;
        }
        self.deps.stale = false;
        let anyone = self.groups.iter().any(|g| {
            g.def.processes.iter().any(|pc| {
                pc.readiness
                    .as_ref()
                    .is_some_and(|r| !r.depends_on.is_empty())
            })
        });
        if !anyone {
            // No graph at all: Supervisor's behaviour, no memory spent.
            let deferred = std::mem::take(&mut self.deps.deferred);
            self.deps = DepIndex {
                deferred,
                ..DepIndex::default()
            };
            return;
        }
        let mut keys = Vec::new();
        let mut procs = Vec::new();
        for group in self.groups.iter() {
            for &key in &group.members {
                if let Some(p) = self.table.process(key) {
                    keys.push(key);
                    procs.push((&*group.def.name, &*p.config));
                }
            }
        }
        let (graph, problems) = DepGraph::build_lenient(procs);
        for problem in problems {
            // The loader refused these in a config; among active groups they
            // mean a dependency's group is not added (yet).
            self.log.warn(&format!(
                "[{}] {problem} (among the active groups)",
                problem.section()
            ));
        }
        let index = keys.iter().enumerate().map(|(i, &k)| (k, i)).collect();
        let deferred = std::mem::take(&mut self.deps.deferred);
        self.deps = DepIndex {
            edges: graph.has_edges(),
            graph,
            keys,
            index,
            stale: false,
            deferred,
        };
    }

    /// The process's dependency level as of the last refresh (0 without
    /// dependencies): stop waves go from the highest level down.
    pub(super) fn dep_level(&self, key: ProcKey) -> u32 {
        self.deps
            .index
            .get(&key)
            .map_or(0, |&i| self.deps.graph.level(i))
    }

    fn dependents_of(&self, key: ProcKey) -> Vec<ProcKey> {
        match self.deps.index.get(&key) {
            Some(&i) => self
                .deps
                .graph
                .dependents(i)
                .iter()
                .map(|&j| self.deps.keys[j])
                .collect(),
            None => Vec::new(),
        }
    }

    fn dependents_stopping(&self, key: ProcKey) -> bool {
        self.dependents_of(key).into_iter().any(|d| {
            self.table.state(d) == Some(State::Stopping) || self.deps.deferred.contains(&d)
        })
    }

    /// A stop of `key` while processes that depend on it are stopping waits
    /// for them (`stopAllProcesses` stops dependents first). Whether it was
    /// put off.
    pub(super) fn defer_stop(&mut self, key: ProcKey) -> bool {
        self.refresh_deps();
        if !self.deps.edges || !self.dependents_stopping(key) {
            return false;
        }
        if !self.deps.deferred.contains(&key) {
            self.log.debug(&format!(
                "stopping {} once what depends on it has stopped",
                self.namespec_of(key)
            ));
            self.deps.deferred.push(key);
        }
        true
    }

    /// Carry out the put-off stops whose dependents have all stopped.
    fn release_deferred_stops(&mut self) {
        if self.deps.deferred.is_empty() {
            return;
        }
        let deferred = std::mem::take(&mut self.deps.deferred);
        for key in deferred {
            if !self.table.state(key).is_some_and(State::is_running) {
                continue;
            }
            if self.dependents_stopping(key) {
                self.deps.deferred.push(key);
            } else {
                let _ = self.step(key, Input::Stop);
            }
        }
    }

    /// Within one batch of requests, consecutive stops go dependents first
    /// (highest dependency level first; otherwise the order they came in).
    pub(super) fn order_stop_batch(&mut self, batch: &mut [Op]) {
        if batch.len() < 2 {
            return;
        }
        self.refresh_deps();
        if !self.deps.edges {
            return;
        }
        let level = |s: &Self, op: &Op| match op {
            Op::Stop { spec, .. } => s.resolve(spec).map_or(0, |k| s.dep_level(k)),
            _ => 0,
        };
        for run in
            batch.chunk_by_mut(|a, b| matches!(a, Op::Stop { .. }) && matches!(b, Op::Stop { .. }))
        {
            run.sort_by_key(|op| std::cmp::Reverse(level(self, op)));
        }
    }

    /// The dependencies of `key` that are not ready, as keys.
    fn unmet(&self, key: ProcKey) -> Vec<ProcKey> {
        let Some(&i) = self.deps.index.get(&key) else {
            return Vec::new();
        };
        self.deps
            .graph
            .dependencies(i)
            .iter()
            .map(|&d| self.deps.keys[d])
            .filter(|&dk| {
                !self
                    .table
                    .process(dk)
                    .is_some_and(|p| p.satisfies_dependents())
            })
            .collect()
    }

    fn namespec_of(&self, key: ProcKey) -> String {
        self.table
            .process(key)
            .map(|p| p.namespec())
            .unwrap_or_default()
    }

    /// In place of a spawn: hold `key` if a dependency is not ready, and
    /// start the dependencies that are not on their way. Whether it was held.
    pub(super) fn hold_for_dependencies(&mut self, key: ProcKey) -> bool {
        self.refresh_deps();
        if !self.deps.edges {
            return false;
        }
        let unmet = self.unmet(key);
        let Some(&first) = unmet.first() else {
            return false;
        };
        let waiting_for = self.namespec_of(first);
        let held = self
            .table
            .get_mut(key)
            .is_some_and(|m| m.process.hold(waiting_for));
        if !held {
            return false;
        }
        for dep in unmet {
            let stopped = self
                .table
                .state(dep)
                .is_some_and(|s| matches!(s, State::Stopped | State::Exited | State::Fatal));
            if stopped {
                let _ = self.step(dep, Input::Start);
            }
        }
        true
    }

    /// `key` went from `from` to `to`: release, fail or stop what depends on
    /// it, and carry out stops that waited for it.
    pub(super) fn dependency_changed(&mut self, key: ProcKey, from: State, to: State) {
        self.refresh_deps();
        if !self.deps.edges {
            return;
        }
        if from == State::Stopping {
            self.release_deferred_stops();
        }
        let Some(&i) = self.deps.index.get(&key) else {
            return;
        };
        let dependents: Vec<ProcKey> = self
            .deps
            .graph
            .dependents(i)
            .iter()
            .map(|&j| self.deps.keys[j])
            .collect();
        let satisfied = self
            .table
            .process(key)
            .is_some_and(|p| p.satisfies_dependents());
        let name = self.namespec_of(key);
        for dependent in dependents {
            let Some(p) = self.table.process(dependent) else {
                continue;
            };
            if p.is_held() {
                if to == State::Fatal {
                    let error = format!("dependency {name} entered FATAL");
                    let _ = self.step(dependent, Input::DependencyFailed { error });
                } else if satisfied {
                    match self.unmet(dependent).first() {
                        None => {
                            let _ = self.step(dependent, Input::Release);
                        }
                        Some(&next) => {
                            let next = self.namespec_of(next);
                            if let Some(m) = self.table.get_mut(dependent) {
                                m.process.hold(next);
                            }
                        }
                    }
                }
                continue;
            }
            let stop_with = p
                .config
                .readiness
                .as_ref()
                .is_some_and(|r| r.stop_with_dependencies);
            let left = matches!(from, State::Running | State::Exited) && !satisfied;
            if stop_with && left && p.state().is_running() && p.state() != State::Stopping {
                self.log.info(&format!(
                    "stopping {}: its dependency {name} stopped (stop_with_dependencies)",
                    p.name()
                ));
                let _ = self.step(dependent, Input::Stop);
            }
        }
    }
}
