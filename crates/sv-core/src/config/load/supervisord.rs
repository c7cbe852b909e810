//! `[supervisord]`: the daemon's own options, realized with the
//! command-line overrides (the command line wins, then the file, then the
//! default), and the `environment=` every program inherits.

use super::{CliOverrides, Loader};
use crate::config::datatypes as dt;
use crate::config::{LogLevel, SupervisordConfig};
use crate::pyfmt::Value;
use crate::pypath;
use crate::shlex;

impl Loader<'_> {
    pub(super) fn supervisord_section(&mut self, cli: &CliOverrides) -> SupervisordConfig {
        const S: &str = "supervisord";
        let scope = self.scope(&[("here", Value::Str(self.here.clone()))]);
        let host = self.host;
        let minfds = self.typed(S, "minfds", "1024", &scope, dt::integer);
        let minprocs = self.typed(S, "minprocs", "200", &scope, dt::integer);
        let directory = self
            .typed_opt(S, "directory", &scope, |v| dt::existing_directory(host, v))
            .unwrap_or(None);
        let user = self
            .get(S, "user", None, &scope)
            .ok()
            .flatten()
            .map(|(v, _)| v);
        let umask = self.typed(S, "umask", "022", &scope, dt::octal);
        let logfile = self.typed(S, "logfile", "supervisord.log", &scope, |v| {
            dt::existing_dirpath(host, v)
        });
        let logfile_maxbytes = self.typed(S, "logfile_maxbytes", "50MB", &scope, dt::byte_size);
        let logfile_backups = self.typed(S, "logfile_backups", "10", &scope, dt::integer);
        let loglevel = self.typed(S, "loglevel", "info", &scope, dt::logging_level);
        let pidfile = self.typed(S, "pidfile", "supervisord.pid", &scope, |v| {
            dt::existing_dirpath(host, v)
        });
        let identifier = self
            .get(S, "identifier", Some("supervisor"), &scope)
            .ok()
            .flatten()
            .map(|(v, _)| v);
        let nodaemon = self.typed(S, "nodaemon", "false", &scope, dt::boolean);
        let silent = self.typed(S, "silent", "false", &scope, dt::boolean);
        let tempdir = host.temp_dir();
        let childlogdir = self.typed(S, "childlogdir", &tempdir, &scope, |v| {
            dt::existing_directory(host, v)
        });
        let nocleanup = self.typed(S, "nocleanup", "false", &scope, dt::boolean);
        let strip_ansi = self.typed(S, "strip_ansi", "false", &scope, dt::boolean);
        // Read once and expanded once, with host_node_name available (as
        // Supervisor 4.4 does; 4.3 expanded twice, which made `%%` unusable).
        let env_scope = self.scope(&[
            ("here", Value::Str(self.here.clone())),
            ("host_node_name", Value::Str(self.host_node_name.clone())),
        ]);
        let environment = self
            .typed(S, "environment", "", &env_scope, |v| {
                shlex::dict_of_key_value_pairs(v).map_err(|e| e.to_string())
            })
            .unwrap_or_default();
        for (k, v) in &environment {
            std::rc::Rc::make_mut(&mut self.env_expansions)
                .insert(format!("ENV_{k}"), Value::Str(v.clone()));
        }

        // Realize: the command line wins, then the file, then the default.
        let user = cli.user.clone().or(user);
        let uid = match &user {
            Some(name) => match dt::name_to_uid(host, name) {
                Ok(uid) => Some(uid),
                Err(message) => {
                    let loc = match (&cli.user, self.raw(S, "user")) {
                        (None, Some((_, loc))) => loc,
                        _ => self.section_loc(S),
                    };
                    self.error(&loc, S, Some("user"), message);
                    None
                }
            },
            None => None,
        };
        let logfile = cli.logfile.clone().or(logfile).unwrap_or_default();
        let logfile = if logfile == "syslog" {
            logfile
        } else {
            pypath::abspath(&self.cwd, &logfile)
        };
        let pidfile = cli.pidfile.clone().or(pidfile).unwrap_or_default();
        SupervisordConfig {
            logfile,
            logfile_maxbytes: cli.logfile_maxbytes.or(logfile_maxbytes).unwrap_or(0),
            logfile_backups: cli.logfile_backups.or(logfile_backups).unwrap_or(0),
            loglevel: cli.loglevel.or(loglevel).unwrap_or(LogLevel::Info),
            pidfile: pypath::abspath(&self.cwd, &pidfile),
            umask: cli.umask.or(umask).unwrap_or(0o22),
            nodaemon: cli.nodaemon || nodaemon.unwrap_or(false),
            silent: cli.silent || silent.unwrap_or(false),
            minfds: cli.minfds.or(minfds).unwrap_or(1024),
            minprocs: cli.minprocs.or(minprocs).unwrap_or(200),
            nocleanup: cli.nocleanup || nocleanup.unwrap_or(false),
            childlogdir: cli.childlogdir.clone().or(childlogdir).unwrap_or_default(),
            user,
            uid,
            directory: cli.directory.clone().or(directory),
            strip_ansi: cli.strip_ansi || strip_ansi.unwrap_or(false),
            identifier: cli
                .identifier
                .clone()
                .or(identifier)
                .unwrap_or_else(|| "supervisor".to_string()),
            environment,
        }
    }
}

/// `[supervisord] environment` overlaid with a program's own, in Python
/// dict order (an overridden key keeps its first position).
pub(super) fn merge_env(
    global: &[(String, String)],
    own: &[(String, String)],
) -> Vec<(String, String)> {
    let mut merged: Vec<(String, String)> = global.to_vec();
    for (k, v) in own {
        match merged.iter_mut().find(|(key, _)| key == k) {
            Some(slot) => slot.1 = v.clone(),
            None => merged.push((k.clone(), v.clone())),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use crate::config::load::testkit::*;

    #[test]
    fn defaults_are_supervisors() {
        let config = load_text("[supervisord]\n").unwrap();
        let s = &config.supervisord;
        assert_eq!(s.logfile, "/srv/supervisord.log");
        assert_eq!(s.pidfile, "/srv/supervisord.pid");
        assert_eq!(s.logfile_maxbytes, 50 * 1024 * 1024);
        assert_eq!(s.logfile_backups, 10);
        assert_eq!(s.loglevel, LogLevel::Info);
        assert_eq!(s.umask, 0o22);
        assert_eq!((s.minfds, s.minprocs), (1024, 200));
        assert_eq!(s.childlogdir, "/tmp");
        assert_eq!(s.identifier, "supervisor");
        assert!(!s.nodaemon && !s.silent && !s.nocleanup && !s.strip_ansi);
        assert_eq!(config.serverurl, None);
        assert!(config.groups.is_empty());
    }

    #[test]
    fn missing_section_is_refused() {
        assert_eq!(
            errors("[program:x]\ncommand=cat\n"),
            vec![".ini file does not include supervisord section"]
        );
    }

    #[test]
    fn command_line_wins_over_file() {
        let host = MemHost::new().file(
            "/etc/sv.conf",
            "[supervisord]\nloglevel=debug\nnodaemon=false\nidentifier=file\n",
        );
        let cli = CliOverrides {
            loglevel: Some(LogLevel::Warn),
            nodaemon: true,
            identifier: Some("cli".into()),
            ..CliOverrides::default()
        };
        let config = load(&host, "/etc/sv.conf", &cli).unwrap();
        assert_eq!(config.supervisord.loglevel, LogLevel::Warn);
        assert!(config.supervisord.nodaemon);
        assert_eq!(config.supervisord.identifier, "cli");
    }

    #[test]
    fn environment_feeds_later_expansions() {
        let config = load_text(
            "[supervisord]\nenvironment=APP=\"/srv/app\",N=1\n[program:x]\ncommand=%(ENV_APP)s/run %(ENV_SV_X)s\n",
        )
        .unwrap();
        let p = &config.groups[0].processes[0];
        assert_eq!(p.command, "/srv/app/run ex");
        assert_eq!(
            p.environment,
            vec![
                ("APP".to_string(), "/srv/app".to_string()),
                ("N".into(), "1".into())
            ]
        );
    }

    #[test]
    fn every_bad_option_is_reported_with_its_line() {
        let errs = errors("[supervisord]\nminfds=lots\nloglevel=warning\nnodaemon=perhaps\n");
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert!(errs[0].starts_with("/etc/sv.conf:2: [supervisord] minfds: invalid literal"));
        assert!(errs[1].starts_with(
            "/etc/sv.conf:3: [supervisord] loglevel: bad logging level name 'warning'"
        ));
        assert!(
            errs[2].contains(":4: [supervisord] nodaemon: not a valid boolean value: 'perhaps'")
        );
    }

    #[test]
    fn missing_directories_are_reported() {
        let errs = errors("[supervisord]\nlogfile=/nope/x.log\nchildlogdir=/nope\n");
        assert!(
            errs[0].contains("The directory named as part of the path /nope/x.log does not exist")
        );
        assert!(errs[1].contains("/nope is not an existing directory"));
    }
}
