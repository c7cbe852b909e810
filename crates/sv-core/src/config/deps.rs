//! The `depends_on` graph (docs/readiness.md): which processes each
//! process waits for, resolved from the names written in the config;
//! unknown names and cycles; the dependency *level* of each process (0
//! when it depends on nothing, otherwise one more than its deepest
//! dependency), which orders starts (ascending) and stops (descending).
//!
//! Pure: the loader refuses a bad graph with file and line, and the daemon
//! builds the same graph over the groups it runs. The graph is over
//! processes; a name may stand for several (a group, `numprocs` copies).
//!
//! A name is resolved, in this order, as: a namespec `group:process`
//! (`group:*` is the whole group); a group's name (every process of the
//! group); a process name in a heterogeneous `[group:x]` (every process
//! with that name).

use std::collections::HashMap;

use crate::config::ProcessConfig;

/// A problem with the graph, for the section that declared the edge.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DepError {
    /// A name matches no group or process.
    #[error("depends_on names unknown program or group {name}")]
    Unknown {
        /// The section whose `depends_on` has it (`program:api`).
        section: String,
        /// The name as written.
        name: String,
    },
    /// The dependencies go round in a circle (`a -> b -> a`).
    #[error("depends_on makes a cycle: {}", .path.join(" -> "))]
    Cycle {
        /// The section of the first process on the circle.
        section: String,
        /// The namespecs around the circle, the first repeated at the end.
        path: Vec<String>,
    },
}

impl DepError {
    /// The section whose `depends_on` the problem belongs to.
    pub fn section(&self) -> &str {
        match self {
            DepError::Unknown { section, .. } | DepError::Cycle { section, .. } => section,
        }
    }
}

/// Processes and who waits for whom; indices are the order the processes
/// were given to [`DepGraph::build`].
#[derive(Debug, Clone, Default)]
pub struct DepGraph {
    namespecs: Vec<String>,
    deps: Vec<Vec<usize>>,
    dependents: Vec<Vec<usize>>,
    levels: Vec<u32>,
}

impl DepGraph {
    /// Resolve every process's `depends_on` among `processes` (group name,
    /// config). Every problem is reported; a graph with a cycle has no
    /// levels and is refused.
    pub fn build<'a>(
        processes: impl IntoIterator<Item = (&'a str, &'a ProcessConfig)>,
    ) -> Result<DepGraph, Vec<DepError>> {
        let (graph, errors) = Self::build_lenient(processes);
        if errors.is_empty() {
            Ok(graph)
        } else {
            Err(errors)
        }
    }

    /// The graph the daemon runs with: the processes of its *active*
    /// groups, which may lack a dependency (a group not added yet) or, mixing
    /// groups read at different times, even close a circle. Unknown names
    /// are left out and a circle drops every edge (nothing waits), each
    /// reported for the log.
    pub fn build_lenient<'a>(
        processes: impl IntoIterator<Item = (&'a str, &'a ProcessConfig)>,
    ) -> (DepGraph, Vec<DepError>) {
        let processes: Vec<(&str, &ProcessConfig)> = processes.into_iter().collect();
        let mut by_group: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut by_spec: HashMap<(&str, &str), usize> = HashMap::new();
        for (i, (group, pc)) in processes.iter().enumerate() {
            by_group.entry(group).or_default().push(i);
            by_name.entry(pc.name.as_str()).or_default().push(i);
            by_spec.insert((group, pc.name.as_str()), i);
        }
        let mut errors = Vec::new();
        let mut deps = vec![Vec::new(); processes.len()];
        for (i, (_, pc)) in processes.iter().enumerate() {
            let Some(r) = &pc.readiness else { continue };
            for name in &r.depends_on {
                let found: Vec<usize> = match name.split_once(':') {
                    Some((g, "*")) => by_group.get(g).cloned().unwrap_or_default(),
                    Some((g, p)) => by_spec.get(&(g, p)).map(|&j| vec![j]).unwrap_or_default(),
                    None => by_group
                        .get(name.as_str())
                        .or_else(|| by_name.get(name.as_str()))
                        .cloned()
                        .unwrap_or_default(),
                };
                if found.is_empty() {
                    errors.push(DepError::Unknown {
                        section: r.section.clone(),
                        name: name.clone(),
                    });
                }
                for j in found {
                    if !deps[i].contains(&j) {
                        deps[i].push(j);
                    }
                }
            }
        }
        let namespecs: Vec<String> = processes
            .iter()
            .map(|(g, pc)| sv_api::make_namespec(g, &pc.name))
            .collect();
        let mut graph = DepGraph {
            namespecs,
            deps,
            dependents: Vec::new(),
            levels: Vec::new(),
        };
        if let Some(path) = graph.find_cycle() {
            let section = processes[path[0]]
                .1
                .readiness
                .as_ref()
                .map(|r| r.section.clone())
                .unwrap_or_default();
            let path = path.iter().map(|&i| graph.namespecs[i].clone()).collect();
            errors.push(DepError::Cycle { section, path });
            graph.deps.iter_mut().for_each(Vec::clear);
        }
        graph.dependents = vec![Vec::new(); processes.len()];
        for (i, ds) in graph.deps.iter().enumerate() {
            for &d in ds {
                graph.dependents[d].push(i);
            }
        }
        graph.levels = graph.compute_levels();
        (graph, errors)
    }

    /// How many processes the graph has.
    pub fn len(&self) -> usize {
        self.namespecs.len()
    }

    /// Whether it has no processes.
    pub fn is_empty(&self) -> bool {
        self.namespecs.is_empty()
    }

    /// Whether any process depends on another (no edges: the daemon orders
    /// everything exactly as Supervisor does).
    pub fn has_edges(&self) -> bool {
        self.deps.iter().any(|d| !d.is_empty())
    }

    /// What process `i` waits for.
    pub fn dependencies(&self, i: usize) -> &[usize] {
        &self.deps[i]
    }

    /// Who waits for process `i`.
    pub fn dependents(&self, i: usize) -> &[usize] {
        &self.dependents[i]
    }

    /// 0 without dependencies, else one more than the deepest dependency.
    pub fn level(&self, i: usize) -> u32 {
        self.levels.get(i).copied().unwrap_or(0)
    }

    /// Process `i`'s `group:name`.
    pub fn namespec(&self, i: usize) -> &str {
        &self.namespecs[i]
    }

    /// A circle, as indices with the first repeated at the end; depth-first
    /// without recursion so a long chain cannot overflow the stack.
    fn find_cycle(&self) -> Option<Vec<usize>> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            OnPath,
            Done,
        }
        let mut mark = vec![Mark::New; self.len()];
        for root in 0..self.len() {
            if mark[root] != Mark::New {
                continue;
            }
            // (node, next dependency to look at)
            let mut stack = vec![(root, 0usize)];
            mark[root] = Mark::OnPath;
            while let Some(&mut (node, ref mut next)) = stack.last_mut() {
                if let Some(&d) = self.deps[node].get(*next) {
                    *next += 1;
                    match mark[d] {
                        Mark::New => {
                            mark[d] = Mark::OnPath;
                            stack.push((d, 0));
                        }
                        Mark::OnPath => {
                            let start = stack.iter().position(|&(n, _)| n == d).unwrap_or(0);
                            let mut path: Vec<usize> =
                                stack[start..].iter().map(|&(n, _)| n).collect();
                            path.push(d);
                            return Some(path);
                        }
                        Mark::Done => {}
                    }
                } else {
                    mark[node] = Mark::Done;
                    stack.pop();
                }
            }
        }
        None
    }

    /// Levels in topological order (the graph has no cycle).
    fn compute_levels(&self) -> Vec<u32> {
        let mut waiting: Vec<usize> = self.deps.iter().map(Vec::len).collect();
        let mut levels = vec![0u32; self.len()];
        let mut ready: Vec<usize> = (0..self.len()).filter(|&i| waiting[i] == 0).collect();
        while let Some(i) = ready.pop() {
            for &dependent in &self.dependents[i] {
                levels[dependent] = levels[dependent].max(levels[i] + 1);
                waiting[dependent] -= 1;
                if waiting[dependent] == 0 {
                    ready.push(dependent);
                }
            }
        }
        levels
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::config::Readiness;

    fn pc(name: &str, depends_on: &[&str]) -> ProcessConfig {
        let mut pc = ProcessConfig::with_defaults(name, "x");
        if !depends_on.is_empty() {
            pc.readiness = Some(Arc::new(Readiness {
                section: format!("program:{name}"),
                depends_on: depends_on.iter().map(|s| s.to_string()).collect(),
                ready_when: None,
                ready_timeout: 60,
                watchdog_secs: None,
                stop_with_dependencies: false,
            }));
        }
        pc
    }

    fn build(procs: &[(&str, ProcessConfig)]) -> Result<DepGraph, Vec<DepError>> {
        DepGraph::build(procs.iter().map(|(g, p)| (*g, p)))
    }

    #[test]
    fn a_chain_has_levels_in_order() {
        let g = build(&[
            ("worker", pc("worker", &["api"])),
            ("api", pc("api", &["db"])),
            ("db", pc("db", &[])),
        ])
        .unwrap();
        assert_eq!((g.level(0), g.level(1), g.level(2)), (2, 1, 0));
        assert_eq!(g.dependencies(0), &[1]);
        assert_eq!(g.dependents(2), &[1]);
        assert!(g.has_edges());
    }

    #[test]
    fn names_resolve_to_groups_namespecs_and_members() {
        let g = build(&[
            ("web", pc("web_0", &[])),
            ("web", pc("web_1", &[])),
            ("infra", pc("cache", &[])),
            ("a", pc("a", &["web"])),
            ("b", pc("b", &["web:web_1", "cache"])),
            ("c", pc("c", &["infra:*"])),
        ])
        .unwrap();
        assert_eq!(g.dependencies(3), &[0, 1]);
        assert_eq!(g.dependencies(4), &[1, 2]);
        assert_eq!(g.dependencies(5), &[2]);
        assert_eq!(g.namespec(1), "web:web_1");
    }

    #[test]
    fn unknown_names_are_all_reported() {
        let errs = build(&[("a", pc("a", &["nope", "web:x"]))]).unwrap_err();
        assert_eq!(errs.len(), 2);
        assert_eq!(
            errs[0].to_string(),
            "depends_on names unknown program or group nope"
        );
        assert_eq!(errs[1].section(), "program:a");
    }

    #[test]
    fn cycles_are_spelled_out() {
        let errs = build(&[("a", pc("a", &["b"])), ("b", pc("b", &["a"]))]).unwrap_err();
        assert_eq!(errs[0].to_string(), "depends_on makes a cycle: a -> b -> a");
        let errs = build(&[
            ("x", pc("x", &[])),
            ("a", pc("a", &["x", "b"])),
            ("b", pc("b", &["c"])),
            ("c", pc("c", &["a"])),
        ])
        .unwrap_err();
        assert_eq!(
            errs[0].to_string(),
            "depends_on makes a cycle: a -> b -> c -> a"
        );
        let errs = build(&[("a", pc("a", &["a"]))]).unwrap_err();
        assert_eq!(errs[0].to_string(), "depends_on makes a cycle: a -> a");
    }

    #[test]
    fn a_long_chain_does_not_overflow() {
        let names: Vec<String> = (0..20_000).map(|i| format!("p{i}")).collect();
        let procs: Vec<(&str, ProcessConfig)> = (0..names.len())
            .map(|i| {
                let deps: Vec<&str> = if i + 1 < names.len() {
                    vec![names[i + 1].as_str()]
                } else {
                    vec![]
                };
                (names[i].as_str(), pc(&names[i], &deps))
            })
            .collect();
        let g = build(&procs).unwrap();
        assert_eq!(g.level(0), 19_999);
    }

    #[test]
    fn without_depends_on_there_are_no_edges() {
        let g = build(&[("a", pc("a", &[])), ("b", pc("b", &[]))]).unwrap();
        assert!(!g.has_edges());
        assert_eq!(g.level(1), 0);
    }
}
