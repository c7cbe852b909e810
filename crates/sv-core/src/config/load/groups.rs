//! Which groups a config defines and in what order: `[group:x]`
//! (heterogeneous, naming programs), then the `[program:x]` sections no
//! group claimed, `[eventlistener:x]` pools and `[fcgi-program:x]` groups,
//! sorted by (priority, name) as Supervisor sorts them.

use super::Loader;
use crate::config::datatypes as dt;
use crate::config::{GroupConfig, GroupKind};
use crate::pyfmt::Value;

impl Loader<'_> {
    pub(super) fn groups(&mut self) -> Vec<GroupConfig> {
        let all: Vec<String> = self.doc.sections().map(|s| s.name.clone()).collect();
        let has = |name: &str| all.iter().any(|s| s == name);
        let base_scope = self.scope(&[("here", Value::Str(self.here.clone()))]);
        let mut groups = Vec::new();
        let mut in_hetero_group: Vec<String> = Vec::new();

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
                let target = match (has(&program_section), has(&fcgi_section)) {
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
                in_hetero_group.push(target.clone());
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
