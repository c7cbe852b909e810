//! Our readiness and dependency options in a process section
//! (`depends_on`, `ready_when`, `ready_timeout`, `watchdog_secs`,
//! `stop_with_dependencies`; docs/readiness.md): read per process, after
//! `%(process_num)s` is known, so `ready_when=tcp:127.0.0.1:80%(process_num)02d`
//! gives each copy its own port. A section with none of them yields `None`
//! and runs exactly as in Supervisor 4.3.0 (which ignores these keys).
//!
//! Names in `depends_on` are resolved against the whole config later
//! ([`crate::config::deps`]); here each value is only checked on its own.

use std::sync::Arc;

use super::{Loader, Scope};
use crate::config::datatypes as dt;
use crate::config::deps::DepGraph;
use crate::config::{
    DEFAULT_READY_TIMEOUT, GroupConfig, LogFile, Readiness, ReadyWhen, StreamConfig,
};
use crate::shlex;

/// The option names this file reads, in the order they are checked.
pub(super) const KEYS: [&str; 5] = [
    "depends_on",
    "ready_when",
    "ready_timeout",
    "watchdog_secs",
    "stop_with_dependencies",
];

/// Upper bound on `ready_timeout` and `watchdog_secs` (a day): a larger
/// value is almost surely a unit mistake, and it keeps deadline arithmetic
/// far from overflow.
const MAX_SECS: u64 = 86_400;

impl Loader<'_> {
    /// The readiness options of one process of section `s`; `Err(())` when
    /// one of them was wrong (recorded with file, line and option).
    pub(super) fn readiness(
        &mut self,
        s: &str,
        scope: &Scope,
        stdout: &StreamConfig,
        stderr: &StreamConfig,
    ) -> Result<Option<Arc<Readiness>>, ()> {
        if KEYS.iter().all(|k| self.raw(s, k).is_none()) {
            return Ok(None);
        }
        let depends_on = match self.get(s, "depends_on", None, scope)? {
            Some((v, loc)) => {
                let names: Vec<String> = dt::list_of_strings(&v)
                    .into_iter()
                    .filter(|n| !n.is_empty())
                    .collect();
                if let Some(bad) = names.iter().find(|n| n.chars().any(char::is_whitespace)) {
                    self.error(
                        &loc,
                        s,
                        Some("depends_on"),
                        format!("invalid name {bad:?}: names are separated by commas"),
                    );
                    return Err(());
                }
                names
            }
            None => Vec::new(),
        };
        let ready_when = self.typed_opt(s, "ready_when", scope, parse_ready_when)?;
        if let Some(ReadyWhen::Log { .. }) = &ready_when
            && stdout.logfile == LogFile::None
            && stderr.logfile == LogFile::None
        {
            let loc = self.raw(s, "ready_when").map(|(_, l)| l);
            let loc = loc.unwrap_or_else(|| self.section_loc(s));
            self.error(
                &loc,
                s,
                Some("ready_when"),
                "log: reads the child's log files, but stdout_logfile and stderr_logfile are both NONE".to_string(),
            );
            return Err(());
        }
        let default_timeout = DEFAULT_READY_TIMEOUT.to_string();
        let ready_timeout = self
            .typed(s, "ready_timeout", &default_timeout, scope, seconds)
            .ok_or(())?;
        let watchdog_secs = self.typed_opt(s, "watchdog_secs", scope, seconds)?;
        if watchdog_secs.is_some() && ready_when != Some(ReadyWhen::Notify) {
            let loc = self.raw(s, "watchdog_secs").map(|(_, l)| l);
            let loc = loc.unwrap_or_else(|| self.section_loc(s));
            self.error(
                &loc,
                s,
                Some("watchdog_secs"),
                "watchdog_secs needs ready_when=notify (the child's WATCHDOG=1 keepalives)"
                    .to_string(),
            );
            return Err(());
        }
        let stop_with_dependencies = self
            .typed(s, "stop_with_dependencies", "false", scope, dt::boolean)
            .ok_or(())?;
        Ok(Some(Arc::new(Readiness {
            section: s.to_string(),
            depends_on,
            ready_when,
            ready_timeout,
            watchdog_secs,
            stop_with_dependencies,
        })))
    }
}

impl Loader<'_> {
    /// Resolve every `depends_on` against the whole config: unknown names
    /// and cycles are errors at the `depends_on` line of their section.
    pub(super) fn check_dependencies(&mut self, groups: &[GroupConfig]) {
        let all = groups
            .iter()
            .flat_map(|g| g.processes.iter().map(move |p| (g.name.as_str(), p)));
        let Err(problems) = DepGraph::build(all) else {
            return;
        };
        let mut seen = Vec::new();
        for problem in problems {
            // numprocs copies share a section: say it once.
            let message = problem.to_string();
            if seen.contains(&(problem.section().to_string(), message.clone())) {
                continue;
            }
            seen.push((problem.section().to_string(), message.clone()));
            let section = problem.section();
            let loc = self.raw(section, "depends_on").map(|(_, l)| l);
            let loc = loc.unwrap_or_else(|| self.section_loc(section));
            self.error(&loc, section, Some("depends_on"), message);
        }
    }
}

/// A whole number of seconds, at least 1 and at most a day.
fn seconds(v: &str) -> Result<u64, String> {
    let n = dt::integer(v)?;
    if n < 1 || n as u64 > MAX_SECS {
        return Err(format!("{n} is not between 1 and {MAX_SECS} seconds"));
    }
    Ok(n as u64)
}

/// `ready_when=`'s value.
pub(crate) fn parse_ready_when(v: &str) -> Result<ReadyWhen, String> {
    let v = dt::py_strip(v);
    if v == "notify" {
        return Ok(ReadyWhen::Notify);
    }
    if let Some(rest) = v.strip_prefix("tcp:") {
        let (host, port) = host_port(rest, None)?;
        return Ok(ReadyWhen::Tcp { host, port });
    }
    if let Some(rest) = v.strip_prefix("http://") {
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!("invalid path in {v}"));
        }
        let (host, port) = host_port(authority, Some(80))?;
        return Ok(ReadyWhen::Http {
            host,
            port,
            path: path.to_string(),
        });
    }
    if let Some(rest) = v.strip_prefix("exec:") {
        let argv = shlex::split(rest).map_err(|e| format!("{e} in {v}"))?;
        if argv.is_empty() {
            return Err("exec: needs a command".to_string());
        }
        return Ok(ReadyWhen::Exec { argv });
    }
    if let Some(pattern) = v.strip_prefix("log:") {
        if pattern.is_empty() {
            return Err("log: needs a regular expression".to_string());
        }
        regex::Regex::new(pattern).map_err(|e| format!("invalid regular expression: {e}"))?;
        return Ok(ReadyWhen::Log {
            pattern: pattern.to_string(),
        });
    }
    Err(format!(
        "{v:?} is not one of notify, tcp:HOST:PORT, http://HOST:PORT/PATH, exec:COMMAND, log:REGEX"
    ))
}

/// `HOST:PORT` (`[v6]:PORT` for an IPv6 literal); the port may be left out
/// only when there is a `default`.
fn host_port(s: &str, default: Option<u16>) -> Result<(String, u16), String> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("unclosed [ in {s}"))?;
        (host, after.strip_prefix(':'))
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, Some(p)),
            Some(_) => return Err(format!("write an IPv6 address in brackets: {s}")),
            None => (s, None),
        }
    };
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c == '/') {
        return Err(format!("invalid host in {s}"));
    }
    let port = match (port, default) {
        (Some(p), _) => match p.parse::<u16>() {
            Ok(p) if p > 0 => p,
            _ => return Err(format!("invalid port {p:?} in {s}")),
        },
        (None, Some(d)) => d,
        (None, None) => return Err(format!("missing port in {s}")),
    };
    Ok((host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::parse_ready_when;
    use crate::config::ReadyWhen;
    use crate::config::load::testkit::*;

    #[test]
    fn ready_when_kinds() {
        assert_eq!(parse_ready_when("notify"), Ok(ReadyWhen::Notify));
        assert_eq!(
            parse_ready_when("tcp:127.0.0.1:5432"),
            Ok(ReadyWhen::Tcp {
                host: "127.0.0.1".into(),
                port: 5432
            })
        );
        assert_eq!(
            parse_ready_when("tcp:[::1]:80").map(|r| r.describe()),
            Ok("tcp:[::1]:80".to_string())
        );
        assert_eq!(
            parse_ready_when("http://localhost/health?x=1"),
            Ok(ReadyWhen::Http {
                host: "localhost".into(),
                port: 80,
                path: "/health?x=1".into()
            })
        );
        assert_eq!(
            parse_ready_when("exec:pg_isready -h 'a b'"),
            Ok(ReadyWhen::Exec {
                argv: vec!["pg_isready".into(), "-h".into(), "a b".into()]
            })
        );
        assert!(matches!(
            parse_ready_when("log:ready to accept .*"),
            Ok(ReadyWhen::Log { .. })
        ));
        for bad in [
            "tcp:localhost",
            "tcp:localhost:0",
            "tcp:::1:80",
            "http://:80/",
            "exec:",
            "log:(",
            "udp:1",
        ] {
            assert!(parse_ready_when(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_section_without_the_keys_is_supervisors() {
        let config = load_text("[supervisord]\n[program:w]\ncommand=w\n").unwrap();
        assert_eq!(config.groups[0].processes[0].readiness, None);
        let dumped = crate::config::dump::to_json(&config);
        assert!(!dumped.to_string().contains("readiness"));
    }

    #[test]
    fn the_dump_shows_the_keys_when_used() {
        let config = load_text(
            "[supervisord]\n[program:db]\ncommand=db\nready_when=tcp:127.0.0.1:5432\n[program:w]\ncommand=w\ndepends_on=db\n",
        )
        .unwrap();
        let dumped = crate::config::dump::to_json(&config).to_string();
        assert!(
            dumped.contains(r#""readiness":{"depends_on":[],"ready_when":"tcp:127.0.0.1:5432","ready_timeout":60,"watchdog_secs":null,"stop_with_dependencies":false}"#),
            "{dumped}"
        );
    }

    #[test]
    fn keys_are_read_per_process() {
        let config = load_text(
            "[supervisord]\n[program:db]\ncommand=db\n[program:w]\ncommand=w\nnumprocs=2\nprocess_name=w%(process_num)d\ndepends_on=db\nready_when=tcp:127.0.0.1:80%(process_num)02d\nstop_with_dependencies=true\n",
        )
        .unwrap();
        let w = &config.groups[1].processes;
        let r0 = w[0].readiness.as_ref().unwrap();
        let r1 = w[1].readiness.as_ref().unwrap();
        assert_eq!(r0.depends_on, vec!["db".to_string()]);
        assert_eq!(r0.ready_timeout, crate::config::DEFAULT_READY_TIMEOUT);
        assert!(r0.stop_with_dependencies);
        assert_eq!(r0.section, "program:w");
        assert_eq!(
            r0.ready_when.as_ref().unwrap().describe(),
            "tcp:127.0.0.1:8000"
        );
        assert_eq!(
            r1.ready_when.as_ref().unwrap().describe(),
            "tcp:127.0.0.1:8001"
        );
    }

    #[test]
    fn errors_name_file_line_and_option() {
        let errs = errors("[supervisord]\n[program:w]\ncommand=w\nready_when=udp:1\n");
        assert!(
            errs[0].contains(":4: [program:w] ready_when: \"udp:1\" is not one of"),
            "{errs:?}"
        );
        let errs = errors("[supervisord]\n[program:w]\ncommand=w\nwatchdog_secs=5\n");
        assert!(
            errs[0]
                .contains(":4: [program:w] watchdog_secs: watchdog_secs needs ready_when=notify"),
            "{errs:?}"
        );
        let errs = errors("[supervisord]\n[program:w]\ncommand=w\nready_timeout=0\n");
        assert!(
            errs[0].contains("ready_timeout: 0 is not between"),
            "{errs:?}"
        );
        let errs = errors(
            "[supervisord]\n[program:w]\ncommand=w\nstdout_logfile=NONE\nstderr_logfile=NONE\nready_when=log:up\n",
        );
        assert!(errs[0].contains("ready_when: log: reads"), "{errs:?}");
    }

    #[test]
    fn unknown_names_and_cycles_are_refused_at_their_line() {
        let errs = errors("[supervisord]\n[program:a]\ncommand=a\ndepends_on=ghost\n");
        assert!(
            errs[0].contains(
                ":4: [program:a] depends_on: depends_on names unknown program or group ghost"
            ),
            "{errs:?}"
        );
        let errs = errors(
            "[supervisord]\n[program:a]\ncommand=a\ndepends_on=b\n[program:b]\ncommand=b\nnumprocs=1\ndepends_on=a\n",
        );
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            errs[0].contains(":4: [program:a] depends_on: depends_on makes a cycle: a -> b -> a"),
            "{errs:?}"
        );
    }
}
