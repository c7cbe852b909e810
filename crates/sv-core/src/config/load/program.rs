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
        let scope = self.scope(&common);
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
        for process_num in first..last {
            // Supervisor's per-process names: the common ones, process_num,
            // numprocs, every ENV_*, then ENV_* of this program's environment.
            let mut scope = scope.clone();
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
            });
        }
        processes.sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
        processes
    }

    /// The `<channel>_logfile*` and `<channel>_syslog` options of one
    /// process (capture and events are per section and filled by the caller).
    pub(super) fn stream(&mut self, s: &str, channel: &str, scope: &Scope) -> Option<StreamConfig> {
        let host = self.host;
        let lf_key = format!("{channel}_logfile");
        // Expanded once, like every other option. Supervisor expands log file
        // names twice, which makes `%%` unusable in them; that is a bug we fix.
        let logfile = match self.get(s, &lf_key, None, scope) {
            Err(()) => None,
            Ok(None) => Some(LogFile::Auto),
            Ok(Some((value, loc))) => match value.to_lowercase().as_str() {
                "none" | "off" => Some(LogFile::None),
                "auto" => Some(LogFile::Auto),
                "syslog" => Some(LogFile::Path("syslog".to_string())),
                _ => match dt::existing_dirpath(host, &value) {
                    Ok(path) => Some(LogFile::Path(path)),
                    Err(message) => {
                        self.error(&loc, s, Some(&lf_key), message);
                        None
                    }
                },
            },
        };
        let backups = self.typed(
            s,
            &format!("{channel}_logfile_backups"),
            "10",
            scope,
            dt::integer,
        );
        let maxbytes = self.typed(
            s,
            &format!("{channel}_logfile_maxbytes"),
            "50MB",
            scope,
            dt::byte_size,
        );
        let syslog_key = format!("{channel}_syslog");
        let syslog = self.typed(s, &syslog_key, "false", scope, dt::boolean);
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
