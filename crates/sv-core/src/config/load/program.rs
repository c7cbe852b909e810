//! The process options of `[program:x]` (and of listeners and FastCGI
//! programs, which share them): Supervisor's `processes_from_section`,
//! including the per-process expansion of `numprocs` copies and each
//! stream's log file options.

use super::{Loader, MAX_NUMPROCS, Scope};
use crate::config::datatypes::{self as dt, py_strip};
use crate::config::{LogFile, ProcessConfig, StreamConfig};
use crate::pyfmt::Value;
use crate::shlex;

impl Loader<'_> {
    /// Supervisor's `processes_from_section`: the processes one
    /// `[program:x]` (or listener/fcgi) section defines, for `group_name`.
    pub(super) fn processes(&mut self, section: &str, group_name: &str) -> Vec<ProcessConfig> {
        let host = self.host;
        let suffix = section.split_once(':').map_or("", |(_, s)| s);
        let program_name = match dt::process_or_group_name(suffix) {
            Ok(name) => name,
            Err(message) => {
                self.section_error(section, message);
                return Vec::new();
            }
        };
        let common = [
            ("here", Value::Str(self.here.clone())),
            ("program_name", Value::Str(program_name.clone())),
            ("host_node_name", Value::Str(self.host_node_name.clone())),
            ("group_name", Value::Str(group_name.to_string())),
        ];
        let mut scope = self.scope(&common);
        let s = section;
        let priority = self.typed(s, "priority", "999", &scope, dt::integer);
        let autostart = self.typed(s, "autostart", "true", &scope, dt::boolean);
        let autorestart = self.typed(s, "autorestart", "unexpected", &scope, dt::auto_restart);
        let startsecs = self.typed(s, "startsecs", "1", &scope, dt::integer);
        let startretries = self.typed(s, "startretries", "3", &scope, dt::integer);
        let stopsignal = self.typed(s, "stopsignal", "TERM", &scope, dt::signal_number);
        let stopwaitsecs = self.typed(s, "stopwaitsecs", "10", &scope, dt::integer);
        let stopasgroup = self.typed(s, "stopasgroup", "false", &scope, dt::boolean);
        let killasgroup_default = if stopasgroup == Some(true) {
            "true"
        } else {
            "false"
        };
        let killasgroup = self.typed(s, "killasgroup", killasgroup_default, &scope, dt::boolean);
        let exitcodes = self.typed(s, "exitcodes", "0", &scope, dt::list_of_exitcodes);
        let redirect_stderr = self.typed(s, "redirect_stderr", "false", &scope, dt::boolean);
        let numprocs = self.typed(s, "numprocs", "1", &scope, |v| {
            let n = dt::integer(v)?;
            if n > MAX_NUMPROCS {
                Err(format!(
                    "numprocs {n} is more than supervisor-rs allows ({MAX_NUMPROCS})"
                ))
            } else {
                Ok(n)
            }
        });
        let numprocs_start = self.typed(s, "numprocs_start", "0", &scope, dt::integer);
        let environment_raw = self.raw(s, "environment");
        let stdout_capture = self.typed(s, "stdout_capture_maxbytes", "0", &scope, dt::byte_size);
        let stdout_events = self.typed(s, "stdout_events_enabled", "false", &scope, dt::boolean);
        let stderr_capture = self.typed(s, "stderr_capture_maxbytes", "0", &scope, dt::byte_size);
        let stderr_events = self.typed(s, "stderr_events_enabled", "false", &scope, dt::boolean);
        let serverurl = match self.get(s, "serverurl", None, &scope) {
            Ok(Some((v, _))) if py_strip(&v).to_uppercase() == "AUTO" => Some(None),
            Ok(Some((v, _))) => Some(Some(v)),
            Ok(None) => Some(None),
            Err(()) => None,
        };
        let user = self.get(s, "user", None, &scope).ok().flatten();
        let uid = match &user {
            Some((name, loc)) => match dt::name_to_uid(host, name) {
                Ok(uid) => Some(Some(uid)),
                Err(message) => {
                    self.error(loc, s, Some("user"), message);
                    None
                }
            },
            None => Some(None),
        };
        let umask = self.typed_opt(s, "umask", &scope, dt::octal);
        let process_name = match self.raw(s, "process_name") {
            Some((template, loc)) => match dt::process_or_group_name(&template) {
                Ok(t) => Some((t, loc)),
                Err(message) => {
                    self.error(&loc, s, Some("process_name"), message);
                    None
                }
            },
            None => Some(("%(program_name)s".to_string(), self.section_loc(s))),
        };
        if let (Some(n), Some((template, loc))) = (numprocs, &process_name)
            && n > 1
            && !template.contains("%(process_num)")
        {
            self.error(
                loc,
                s,
                Some("process_name"),
                "%(process_num) must be present within process_name when numprocs > 1".to_string(),
            );
        }
        if stopasgroup == Some(true) && killasgroup == Some(false) {
            self.section_error(
                s,
                "Cannot set stopasgroup=true and killasgroup=false".to_string(),
            );
        }

        if self.raw(s, "command").is_none() {
            self.section_error(s, format!("program section {s} does not specify a command"));
            return Vec::new();
        }

        // Everything below repeats per process; stop here if the shared part failed.
        let (
            Some(priority),
            Some(autostart),
            Some(autorestart),
            Some(startsecs),
            Some(startretries),
            Some(stopsignal),
            Some(stopwaitsecs),
            Some(stopasgroup),
            Some(killasgroup),
            Some(exitcodes),
            Some(redirect_stderr),
            Some(numprocs),
            Some(numprocs_start),
            Some(stdout_capture),
            Some(stdout_events),
            Some(stderr_capture),
            Some(stderr_events),
            Some(serverurl),
            Some(uid),
            Ok(umask),
            Some((process_name, process_name_loc)),
        ) = (
            priority,
            autostart,
            autorestart,
            startsecs,
            startretries,
            stopsignal,
            stopwaitsecs,
            stopasgroup,
            killasgroup,
            exitcodes,
            redirect_stderr,
            numprocs,
            numprocs_start,
            stdout_capture,
            stdout_events,
            stderr_capture,
            stderr_events,
            serverurl,
            uid,
            umask,
            process_name,
        )
        else {
            return Vec::new();
        };

        let mut processes = Vec::with_capacity(numprocs.clamp(0, MAX_NUMPROCS) as usize);
        let first = numprocs_start;
        let last = numprocs_start.saturating_add(numprocs);
        let common_names = scope.mark();
        for process_num in first..last {
            // Supervisor's per-process names: the common ones, process_num,
            // numprocs, every ENV_*, then ENV_* of this program's environment
            // (the previous process's are forgotten first).
            scope.truncate(common_names);
            scope.insert("process_num".into(), Value::Int(process_num));
            scope.insert("numprocs".into(), Value::Int(numprocs));
            let environment = match &environment_raw {
                None => Vec::new(),
                Some((raw, loc)) => {
                    let parsed = Self::expand(raw, &scope, "environment").and_then(|v| {
                        shlex::dict_of_key_value_pairs(&v).map_err(|e| e.to_string())
                    });
                    match parsed {
                        Ok(env) => env,
                        Err(message) => {
                            self.error(loc, s, Some("environment"), message);
                            return processes;
                        }
                    }
                }
            };
            for (k, v) in &environment {
                scope.insert(format!("ENV_{k}"), Value::Str(v.clone()));
            }
            let directory = match self.get(s, "directory", None, &scope) {
                Ok(d) => d.map(|(d, _)| d),
                Err(()) => return processes,
            };
            let stdout = self.stream(s, "stdout", &scope);
            let stderr = self.stream(s, "stderr", &scope);
            let (Some(stdout), Some(mut stderr)) = (stdout, stderr) else {
                return processes;
            };
            if redirect_stderr {
                if let LogFile::Path(_) = stderr.logfile {
                    self.warnings.push(format!(
                        "For [{s}], redirect_stderr=true but stderr_logfile has also been set to a filename, the filename has been ignored"
                    ));
                }
                stderr.logfile = LogFile::None;
            }
            let Ok(readiness) = self.readiness(s, &scope, &stdout, &stderr) else {
                return processes;
            };
            let command = match self.get(s, "command", None, &scope) {
                Ok(Some((command, _))) => command,
                // Absence was reported before the loop.
                Ok(None) | Err(()) => return processes,
            };
            let name = match Self::expand(&process_name, &scope, "process_name") {
                Ok(name) => name,
                Err(message) => {
                    self.error(&process_name_loc, s, Some("process_name"), message);
                    return processes;
                }
            };
            processes.push(ProcessConfig {
                name,
                command,
                directory,
                umask,
                priority,
                autostart,
                autorestart,
                startsecs,
                startretries,
                user: user.as_ref().map(|(u, _)| u.clone()),
                uid,
                stdout: StreamConfig {
                    capture_maxbytes: stdout_capture,
                    events_enabled: stdout_events,
                    ..stdout
                },
                stderr: StreamConfig {
                    capture_maxbytes: stderr_capture,
                    events_enabled: stderr_events,
                    ..stderr
                },
                stopsignal,
                stopwaitsecs,
                stopasgroup,
                killasgroup,
                exitcodes: exitcodes.clone(),
                redirect_stderr,
                environment,
                serverurl: serverurl.clone(),
                readiness,
            });
        }
        processes.sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
        processes
    }

    /// The `<channel>_logfile*` and `<channel>_syslog` options of one
    /// process (capture and events are per section and filled by the caller).
    pub(super) fn stream(&mut self, s: &str, channel: &str, scope: &Scope) -> Option<StreamConfig> {
        let host = self.host;
        let [lf_key, backups_key, maxbytes_key, syslog_key] = if channel == "stdout" {
            [
                "stdout_logfile",
                "stdout_logfile_backups",
                "stdout_logfile_maxbytes",
                "stdout_syslog",
            ]
        } else {
            [
                "stderr_logfile",
                "stderr_logfile_backups",
                "stderr_logfile_maxbytes",
                "stderr_syslog",
            ]
        };
        // Expanded once, like every other option. Supervisor expands log file
        // names twice, which makes `%%` unusable in them; that is a bug we fix.
        let logfile = match self.get(s, lf_key, None, scope) {
            Err(()) => None,
            Ok(None) => Some(LogFile::Auto),
            Ok(Some((value, loc))) => match value.to_lowercase().as_str() {
                "none" | "off" => Some(LogFile::None),
                "auto" => Some(LogFile::Auto),
                "syslog" => Some(LogFile::Path("syslog".to_string())),
                _ => match dt::existing_dirpath(host, &value) {
                    Ok(path) => Some(LogFile::Path(path)),
                    Err(message) => {
                        self.error(&loc, s, Some(lf_key), message);
                        None
                    }
                },
            },
        };
        let backups = self.typed(s, backups_key, "10", scope, dt::integer);
        let maxbytes = self.typed(s, maxbytes_key, "50MB", scope, dt::byte_size);
        let syslog = self.typed(s, syslog_key, "false", scope, dt::boolean);
        let (mut logfile, backups, maxbytes, mut syslog) = (logfile?, backups?, maxbytes?, syslog?);
        if logfile == LogFile::Path("syslog".to_string()) {
            self.warnings.push(format!(
                "For [{s}], {lf_key}=syslog but this is deprecated and will be removed.  Use {syslog_key}=true to enable syslog instead."
            ));
            logfile = LogFile::None;
            syslog = true;
        }
        if logfile == LogFile::Auto && maxbytes == 0 {
            self.warnings.push(format!(
                "For [{s}], AUTO logging used for {lf_key} without rollover, set maxbytes > 0 to avoid filling up filesystem unintentionally"
            ));
        }
        Some(StreamConfig {
            logfile,
            logfile_maxbytes: maxbytes,
            logfile_backups: backups,
            capture_maxbytes: 0,
            events_enabled: false,
            syslog,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::config::load::testkit::*;

    #[test]
    fn defaults_are_supervisors() {
        let config = load_text("[supervisord]\n[program:cat]\ncommand=/bin/cat\n").unwrap();
        let g = &config.groups[0];
        assert_eq!((g.name.as_str(), g.priority), ("cat", 999));
        let p = &g.processes[0];
        assert_eq!(p.name, "cat");
        assert!(p.autostart);
        assert_eq!(p.autorestart, AutoRestart::Unexpected);
        assert_eq!((p.startsecs, p.startretries, p.stopwaitsecs), (1, 3, 10));
        assert_eq!(p.stopsignal, 15);
        assert_eq!(p.exitcodes, vec![0]);
        assert_eq!(p.stdout.logfile, LogFile::Auto);
        assert_eq!(p.stdout.logfile_maxbytes, 50 * 1024 * 1024);
        assert_eq!(p.serverurl, None);
        assert!(!p.stopasgroup && !p.killasgroup);
    }

    #[test]
    fn numprocs_expands_names_and_sorts_them_as_strings() {
        let config = load_text(
            "[supervisord]\n[program:w]\ncommand=w --port 80%(process_num)02d\nprocess_name=%(program_name)s_%(process_num)s\nnumprocs=11\n",
        )
        .unwrap();
        let names: Vec<&str> = config.groups[0]
            .processes
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(names[..4], ["w_0", "w_1", "w_10", "w_2"]);
        assert_eq!(config.groups[0].processes[2].command, "w --port 8010");
    }

    #[test]
    fn numprocs_requires_process_num() {
        let errs = errors("[supervisord]\n[program:w]\ncommand=w\nnumprocs=2\n");
        assert!(
            errs[0]
                .contains("%(process_num) must be present within process_name when numprocs > 1")
        );
    }

    #[test]
    fn stopasgroup_without_killasgroup_is_refused() {
        let errs =
            errors("[supervisord]\n[program:w]\ncommand=w\nstopasgroup=true\nkillasgroup=false\n");
        assert!(errs[0].contains("Cannot set stopasgroup=true and killasgroup=false"));
        let ok = load_text("[supervisord]\n[program:w]\ncommand=w\nstopasgroup=true\n").unwrap();
        assert!(ok.groups[0].processes[0].killasgroup);
    }

    #[test]
    fn missing_command_and_unknown_names() {
        let errs = errors("[supervisord]\n[program:w]\nnumprocs=1\n");
        assert!(errs[0].contains("program section program:w does not specify a command"));
        let errs = errors("[supervisord]\n[program:w]\ncommand=%(nope)s\n");
        assert!(
            errs[0].contains("contains names ('nope') which cannot be expanded"),
            "{errs:?}"
        );
        assert!(errs[0].contains("Available names: ENV_HOME, ENV_SV_X, group_name, here, host_node_name, numprocs, process_num, program_name"), "{errs:?}");
    }

    #[test]
    fn options_before_the_process_loop_cannot_see_process_num() {
        let errs = errors("[supervisord]\n[program:w]\ncommand=w\npriority=%(process_num)d\n");
        assert!(
            errs[0].contains("[program:w] priority: Format string"),
            "{errs:?}"
        );
    }

    #[test]
    fn program_environment_is_visible_to_command() {
        let config = load_text(
            "[supervisord]\nenvironment=A=global,B=global\n[program:w]\ncommand=run %(ENV_B)s\nenvironment=B=own\n",
        )
        .unwrap();
        let p = &config.groups[0].processes[0];
        assert_eq!(p.command, "run own");
        assert_eq!(
            p.environment,
            vec![("A".into(), "global".into()), ("B".into(), "own".into())]
        );
    }

    #[test]
    fn log_file_magic_names_and_warnings() {
        let config = load_text(
            "[supervisord]\n[program:w]\ncommand=w\nstdout_logfile=syslog\nstderr_logfile=NONE\n[program:v]\ncommand=v\nstdout_logfile_maxbytes=0\nredirect_stderr=true\nstderr_logfile=/tmp/e.log\n",
        )
        .unwrap();
        let v = &config.groups[0].processes[0];
        assert_eq!(v.stderr.logfile, LogFile::None);
        let w = &config.groups[1].processes[0];
        assert_eq!(w.stdout.logfile, LogFile::None);
        assert!(w.stdout.syslog);
        assert_eq!(w.stderr.logfile, LogFile::None);
        assert_eq!(config.warnings.len(), 3, "{:?}", config.warnings);
        // Sections are read in file order, whatever their group order.
        assert!(
            config.warnings[0]
                .starts_with("For [program:w], stdout_logfile=syslog but this is deprecated")
        );
        assert!(
            config.warnings[1].starts_with(
                "For [program:v], AUTO logging used for stdout_logfile without rollover"
            )
        );
        assert!(config.warnings[2].starts_with(
            "For [program:v], redirect_stderr=true but stderr_logfile has also been set"
        ));
    }

    #[test]
    fn users_resolve_or_fail() {
        let config = load_text("[supervisord]\n[program:w]\ncommand=w\nuser=www\n").unwrap();
        assert_eq!(config.groups[0].processes[0].uid, Some(33));
        let errs = errors("[supervisord]\n[program:w]\ncommand=w\nuser=ghost\n");
        assert!(
            errs[0].ends_with("[program:w] user: Invalid user name ghost"),
            "{errs:?}"
        );
    }

    #[test]
    fn bad_names_are_refused() {
        let errs = errors("[supervisord]\n[program:a b]\ncommand=w\n");
        assert!(
            errs[0].contains("Invalid name: 'a b' because of character: ' '"),
            "{errs:?}"
        );
    }
}
