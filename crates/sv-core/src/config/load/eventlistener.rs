//! `[eventlistener:x]`: a pool's own options (buffer size, subscribed
//! event types, result handler) on top of the process options every
//! listener shares with a program.

use super::{Loader, Scope};
use crate::config::datatypes as dt;
use crate::config::{DEFAULT_RESULT_HANDLER, GroupConfig, GroupKind};
use crate::events::EventType;

impl Loader<'_> {
    pub(super) fn listener_pool(&mut self, section: &str, scope: &Scope) -> Option<GroupConfig> {
        let pool_name = section["eventlistener:".len()..].to_string();
        let priority = self.typed(section, "priority", "-1", scope, dt::integer);
        let buffer_size = self.typed(section, "buffer_size", "10", scope, dt::integer);
        if let Some(size) = buffer_size
            && size < 1
        {
            let loc = self
                .raw(section, "buffer_size")
                .map(|(_, l)| l)
                .unwrap_or_else(|| self.section_loc(section));
            self.error(
                &loc,
                section,
                Some("buffer_size"),
                format!("[{section}] section sets invalid buffer_size ({size})"),
            );
        }
        let result_handler = self
            .get(
                section,
                "result_handler",
                Some(DEFAULT_RESULT_HANDLER),
                scope,
            )
            .ok()
            .flatten();
        if let Some((handler, loc)) = &result_handler
            && handler != DEFAULT_RESULT_HANDLER
        {
            self.error(
                loc,
                section,
                Some("result_handler"),
                format!(
                    "{handler} cannot be resolved within [{section}]: only {DEFAULT_RESULT_HANDLER} exists in supervisor-rs"
                ),
            );
        }
        let events = self.get(section, "events", Some(""), scope).ok().flatten();
        let mut event_names: Vec<String> = Vec::new();
        if let Some((value, loc)) = events {
            for name in dt::list_of_strings(&value) {
                // Python's `str.upper()`, which is Unicode's, before the lookup.
                let upper = name.to_uppercase();
                if EventType::parse(&upper).is_none() {
                    self.error(
                        &loc,
                        section,
                        Some("events"),
                        format!("Unknown event type {upper} in [{section}] events"),
                    );
                } else if !event_names.contains(&upper) {
                    event_names.push(upper);
                }
            }
            if dt::list_of_strings(&value).is_empty() {
                self.section_error(
                    section,
                    format!("[{section}] section requires an \"events\" line"),
                );
            }
        }
        event_names.sort();
        if let Some(true) = self.typed(section, "redirect_stderr", "false", scope, dt::boolean) {
            let loc = self
                .raw(section, "redirect_stderr")
                .map(|(_, l)| l)
                .unwrap_or_else(|| self.section_loc(section));
            self.error(
                &loc,
                section,
                Some("redirect_stderr"),
                format!(
                    "[{section}] section sets redirect_stderr=true but this is not allowed because it will interfere with the eventlistener protocol"
                ),
            );
        }
        let processes = self.processes(section, &pool_name);
        Some(GroupConfig {
            name: pool_name,
            priority: priority?,
            kind: GroupKind::EventListener {
                buffer_size: buffer_size?,
                events: event_names,
                result_handler: result_handler?.0,
            },
            processes,
        })
    }
}
