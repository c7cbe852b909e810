//! Which groups a config defines and in what order: `[group:x]`
//! (heterogeneous, naming programs), then the `[program:x]` sections no
//! group claimed, `[eventlistener:x]` pools and `[fcgi-program:x]` groups,
//! sorted by (priority, name) as Supervisor sorts them.

use std::collections::HashSet;

use super::Loader;
use crate::config::datatypes as dt;
use crate::config::{GroupConfig, GroupKind};
use crate::pyfmt::Value;

impl Loader<'_> {
    pub(super) fn groups(&mut self) -> Vec<GroupConfig> {
        let base_scope = self.scope(&[("here", Value::Str(self.here.clone()))]);
        let mut groups = Vec::new();
        // Looked up once per program section: a set, not a list (a list made
        // loading a [group:x] of thousands of programs quadratic).
        let mut in_hetero_group: HashSet<String> = HashSet::new();

        for section in self.section_names("group:") {
            let group_name = match dt::process_or_group_name(&section["group:".len()..]) {
                Ok(n) => n,
                Err(message) => {
                    self.section_error(&section, message);
                    continue;
                }
            };
            let programs = match self.get(&section, "programs", None, &base_scope) {
                Ok(Some((v, _))) => dt::list_of_strings(&v),
                Ok(None) => Vec::new(),
                Err(()) => continue,
            };
            let priority = self
                .typed(&section, "priority", "999", &base_scope, dt::integer)
                .unwrap_or(999);
            let mut processes = Vec::new();
            for program in programs {
                let program_section = format!("program:{program}");
                let fcgi_section = format!("fcgi-program:{program}");
                let target = match (
                    self.doc.has_section(&program_section),
                    self.doc.has_section(&fcgi_section),
                ) {
                    (true, true) => {
                        self.section_error(
                            &section,
                            format!("[{section}] name {program} is ambiguous (exists as program and fcgi-program)"),
                        );
                        continue;
                    }
                    (true, false) => program_section,
                    (false, true) => fcgi_section,
                    (false, false) => {
                        self.section_error(
                            &section,
                            format!("[{section}] names unknown program or fcgi-program {program}"),
                        );
                        continue;
                    }
                };
                in_hetero_group.insert(target.clone());
                processes.extend(self.processes(&target, &group_name));
            }
            groups.push(GroupConfig {
                name: group_name,
                priority,
                kind: GroupKind::Process,
                processes,
            });
        }

        for section in self.section_names("program:") {
            if in_hetero_group.contains(&section) {
                continue;
            }
            let Ok(name) = dt::process_or_group_name(&section["program:".len()..]) else {
                // Reported by `processes`, which validates the same name.
                self.processes(&section, "");
                continue;
            };
            let priority = self
                .typed(&section, "priority", "999", &base_scope, dt::integer)
                .unwrap_or(999);
            let processes = self.processes(&section, &name);
            groups.push(GroupConfig {
                name,
                priority,
                kind: GroupKind::Process,
                processes,
            });
        }

        for section in self.section_names("eventlistener:") {
            if let Some(group) = self.listener_pool(&section, &base_scope) {
                groups.push(group);
            }
        }

        for section in self.section_names("fcgi-program:") {
            if in_hetero_group.contains(&section) {
                continue;
            }
            if let Some(group) = self.fcgi_group(&section, &base_scope) {
                groups.push(group);
            }
        }

        // A stable sort, as Python's list.sort().
        groups.sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
        groups
    }
}

#[cfg(test)]
mod tests {
    use crate::config::load::testkit::*;

    #[test]
    fn heterogeneous_group_takes_its_programs() {
        let config = load_text(
            "[supervisord]\n[program:a]\ncommand=a\n[program:b]\ncommand=b\npriority=5\n[program:c]\ncommand=c\n[group:g]\nprograms=a,b\npriority=10\n",
        )
        .unwrap();
        let names: Vec<&str> = config.groups.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["g", "c"]);
        let procs: Vec<&str> = config.groups[0]
            .processes
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(procs, ["a", "b"], "listed order kept inside the group");
    }

    /// Issue 19: each program named by a `[group:x]` was looked for in a
    /// list of every section, and each program section in a list of every
    /// grouped one — quadratic in the number of programs. Now both are
    /// index lookups (the document's, a set), and the whole document is
    /// walked a fixed number of times, whatever its size: a per-program
    /// walk coming back would show here.
    #[test]
    fn regression_group_members_found_by_scanning_every_section() {
        let scans = |n: usize| {
            let mut text = String::from("[supervisord]\n[group:g]\nprograms=");
            let names: Vec<String> = (0..n).map(|i| format!("p{i}")).collect();
            text.push_str(&names.join(","));
            text.push('\n');
            for name in &names {
                text.push_str(&format!("[program:{name}]\ncommand=x\n"));
            }
            text.push_str("[program:alone]\ncommand=y\n");
            let (config, scans) = load_counting_scans(&text);
            let config = config.expect("loads");
            let names: Vec<(&str, usize)> = config
                .groups
                .iter()
                .map(|g| (g.name.as_str(), g.processes.len()))
                .collect();
            assert_eq!(
                names,
                [("alone", 1), ("g", n)],
                "grouped programs are no groups"
            );
            scans
        };
        assert_eq!(scans(3), scans(300));
    }

    #[test]
    fn unknown_program_is_refused() {
        let errs = errors("[supervisord]\n[group:g]\nprograms=zzz\n");
        assert!(errs[0].contains("[group:g] names unknown program or fcgi-program zzz"));
    }
}
