//! Loader tests on an in-memory machine, grouped by config section.

use std::collections::BTreeMap;
use std::io;

use super::*;

/// A machine made of a few files, directories and users.
#[derive(Default)]
pub(crate) struct MemHost {
    pub files: BTreeMap<String, String>,
    pub dirs: Vec<String>,
    pub env: Vec<(String, String)>,
}

impl MemHost {
    pub fn new() -> Self {
        MemHost {
            files: BTreeMap::new(),
            dirs: vec![
                "/".into(),
                "/etc".into(),
                "/tmp".into(),
                "/var/log".into(),
                "/srv".into(),
            ],
            env: vec![
                ("HOME".into(), "/root".into()),
                ("SV_X".into(), "ex".into()),
            ],
        }
    }

    pub fn file(mut self, path: &str, text: &str) -> Self {
        self.files.insert(path.to_string(), text.to_string());
        self
    }
}

impl Host for MemHost {
    fn read_to_string(&self, path: &str) -> io::Result<String> {
        self.files
            .get(path)
            .cloned()
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
    }
    fn exists(&self, path: &str) -> bool {
        self.files.contains_key(path) || self.is_dir(path)
    }
    fn is_dir(&self, path: &str) -> bool {
        self.dirs.iter().any(|d| d == path)
    }
    fn glob(&self, pattern: &str) -> Vec<String> {
        // Enough for tests: a single `*` in the last component.
        let (dir, file_pat) = pattern.rsplit_once('/').unwrap_or(("", pattern));
        let (prefix, suffix) = file_pat.split_once('*').unwrap_or((file_pat, ""));
        let star = file_pat.contains('*');
        self.files
            .keys()
            .filter(|path| {
                let Some((d, name)) = path.rsplit_once('/') else {
                    return false;
                };
                d == dir
                    && if star {
                        name.starts_with(prefix)
                            && name.ends_with(suffix)
                            && name.len() >= prefix.len() + suffix.len()
                            && !name.starts_with('.')
                    } else {
                        name == file_pat
                    }
            })
            .cloned()
            .collect()
    }
    fn user_by_name(&self, name: &str) -> Option<UserInfo> {
        match name {
            "root" => self.user_by_uid(0),
            "www" => self.user_by_uid(33),
            _ => None,
        }
    }
    fn user_by_uid(&self, uid: u32) -> Option<UserInfo> {
        match uid {
            0 => Some(UserInfo {
                name: "root".into(),
                uid: 0,
                gid: 0,
                home: "/root".into(),
            }),
            33 => Some(UserInfo {
                name: "www".into(),
                uid: 33,
                gid: 34,
                home: "/var/www".into(),
            }),
            _ => None,
        }
    }
    fn group_by_name(&self, name: &str) -> Option<u32> {
        (name == "wheel").then_some(10)
    }
    fn group_exists(&self, gid: u32) -> bool {
        gid == 10 || gid == 0
    }
    fn hostname(&self) -> String {
        "box".into()
    }
    fn env(&self) -> Vec<(String, String)> {
        self.env.clone()
    }
    fn cwd(&self) -> String {
        "/srv".into()
    }
    fn temp_dir(&self) -> String {
        "/tmp".into()
    }
    fn uid(&self) -> u32 {
        0
    }
}

fn load_text(text: &str) -> Result<Config, LoadError> {
    let host = MemHost::new().file("/etc/sv.conf", text);
    load(&host, "/etc/sv.conf", &CliOverrides::default())
}

fn errors(text: &str) -> Vec<String> {
    match load_text(text) {
        Ok(_) => panic!("config was accepted:\n{text}"),
        Err(e) => e.errors.iter().map(ToString::to_string).collect(),
    }
}

mod section_supervisord {
    use super::*;

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

mod section_program {
    use super::*;

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

mod section_group {
    use super::*;

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

    #[test]
    fn unknown_program_is_refused() {
        let errs = errors("[supervisord]\n[group:g]\nprograms=zzz\n");
        assert!(errs[0].contains("[group:g] names unknown program or fcgi-program zzz"));
    }
}

mod section_eventlistener {
    use super::*;

    #[test]
    fn pool_defaults_and_events() {
        let config = load_text(
            "[supervisord]\n[eventlistener:mon]\ncommand=mon\nevents=process_state,TICK_60\n",
        )
        .unwrap();
        let g = &config.groups[0];
        assert_eq!(g.priority, -1);
        assert_eq!(
            g.kind,
            GroupKind::EventListener {
                buffer_size: 10,
                events: vec!["PROCESS_STATE".into(), "TICK_60".into()],
                result_handler: DEFAULT_RESULT_HANDLER.into(),
            }
        );
        assert_eq!(g.processes[0].priority, 999);
    }

    #[test]
    fn bad_pools_are_refused() {
        let errs = errors("[supervisord]\n[eventlistener:mon]\ncommand=mon\n");
        assert!(
            errs[0].contains("section requires an \"events\" line"),
            "{errs:?}"
        );
        let errs = errors(
            "[supervisord]\n[eventlistener:mon]\ncommand=mon\nevents=NOPE\nbuffer_size=0\nredirect_stderr=true\n",
        );
        assert_eq!(errs.len(), 3, "{errs:?}");
    }

    /// The loader checks names against the events vocabulary after Python's
    /// Unicode `str.upper()`, so a dotless i or a long s still names a type.
    #[test]
    fn event_names_are_upper_cased_as_python_does() {
        let config = load_text(
            "[supervisord]\n[eventlistener:mon]\ncommand=mon\nevents=t\u{131}ck_5,proce\u{17f}s_log\n",
        )
        .unwrap();
        let GroupKind::EventListener { events, .. } = &config.groups[0].kind else {
            panic!("{:?}", config.groups[0].kind);
        };
        assert_eq!(events, &["PROCESS_LOG", "TICK_5"]);
        let errs = errors("[supervisord]\n[eventlistener:mon]\ncommand=mon\nevents=tick_7\n");
        assert!(
            errs[0].ends_with("Unknown event type TICK_7 in [eventlistener:mon] events"),
            "{errs:?}"
        );
    }
}

mod section_fcgi_program {
    use super::*;

    #[test]
    fn sockets() {
        let config = load_text(
            "[supervisord]\n[fcgi-program:php]\ncommand=php-cgi\nsocket=unix:///tmp/%(program_name)s.sock\n[fcgi-program:t]\ncommand=t\nsocket=tcp://LocalHost:9002\n",
        )
        .unwrap();
        let urls: Vec<String> = config
            .groups
            .iter()
            .map(|g| match &g.kind {
                GroupKind::FastCgi { socket } => socket.url(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(urls, ["unix:///tmp/php.sock", "tcp://localhost:9002"]);
        let errs = errors("[supervisord]\n[fcgi-program:p]\ncommand=p\nsocket=unix://rel.sock\n");
        assert!(
            errs[0].contains("is not an absolute path in [fcgi-program:p] socket"),
            "{errs:?}"
        );
        let errs = errors("[supervisord]\n[fcgi-program:p]\ncommand=p\n");
        assert!(
            errs[0].contains("section requires a \"socket\" line"),
            "{errs:?}"
        );
    }
}

mod section_http_servers {
    use super::*;

    #[test]
    fn servers_and_serverurl() {
        let config = load_text(
            "[supervisord]\n[inet_http_server]\nport=*:9001\n[unix_http_server]\nfile=%(here)s/../tmp/s.sock\nchmod=0770\nchown=www:wheel\n",
        )
        .unwrap();
        assert_eq!(config.servers.len(), 2);
        assert_eq!(
            config.servers[0].listen,
            Listen::Inet {
                host: "".into(),
                port: 9001
            }
        );
        assert_eq!(
            config.servers[1].listen,
            Listen::Unix {
                file: "/tmp/s.sock".into(),
                chmod: 0o770,
                chown: (33, 10)
            }
        );
        assert_eq!(config.serverurl.as_deref(), Some("unix:///tmp/s.sock"));
    }

    #[test]
    fn incomplete_auth_and_missing_values() {
        let errs = errors("[supervisord]\n[inet_http_server]\nport=9001\nusername=u\n");
        assert!(errs[0].contains("contains incomplete authentication"));
        let errs = errors("[supervisord]\n[inet_http_server]\n[unix_http_server]\n");
        assert!(errs[0].contains("section [inet_http_server] has no port value"));
        assert!(errs[1].contains("section [unix_http_server] has no file value"));
        let errs = errors("[supervisord]\n[unix_http_server]\nfile=\n");
        assert!(errs[0].contains("the socket file name is empty"));
    }
}

mod section_include {
    use super::*;

    #[test]
    fn includes_are_read_sorted_with_their_own_here() {
        let host = MemHost::new()
            .file(
                "/etc/sv.conf",
                "[supervisord]\n[include]\nfiles=conf.d/*.ini missing/*.ini\n",
            )
            .file("/etc/conf.d/b.ini", "[program:b]\ncommand=%(here)s/b\n")
            .file("/etc/conf.d/a.ini", "[program:a]\ncommand=a\n")
            .file("/etc/conf.d/.hidden.ini", "[program:h]\ncommand=h\n");
        let config = load(&host, "/etc/sv.conf", &CliOverrides::default()).unwrap();
        assert_eq!(
            config.included_files,
            ["/etc/conf.d/a.ini", "/etc/conf.d/b.ini"]
        );
        assert_eq!(config.groups[1].processes[0].command, "/etc/conf.d/b");
        assert_eq!(
            config.warnings,
            ["No file matches via include \"/etc/missing/*.ini\""]
        );
        assert_eq!(
            config.infos,
            [
                "Included extra file \"/etc/conf.d/a.ini\" during parsing",
                "Included extra file \"/etc/conf.d/b.ini\" during parsing"
            ]
        );
    }

    #[test]
    fn include_without_files_and_bad_included_file() {
        let errs = errors("[supervisord]\n[include]\n");
        assert!(errs[0].contains(".ini file has [include] section, but no files setting"));
        let host = MemHost::new()
            .file("/etc/sv.conf", "[supervisord]\n[include]\nfiles=x.ini\n")
            .file("/etc/x.ini", "[program:a]\njunk line\n");
        let err = load(&host, "/etc/sv.conf", &CliOverrides::default()).unwrap_err();
        assert!(err.to_string().starts_with("/etc/x.ini:2: "), "{err}");
    }
}

mod section_rpcinterface {
    use super::*;

    #[test]
    fn only_the_main_interface_exists() {
        let ok = load_text(
            "[supervisord]\n[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n",
        )
        .unwrap();
        assert_eq!(ok.rpcinterfaces[0].name, "supervisor");
        let errs = errors(
            "[supervisord]\n[rpcinterface:x]\nsupervisor.rpcinterface_factory = mypkg:make\n",
        );
        assert!(errs[0].contains("mypkg:make cannot be resolved within [rpcinterface:x]"));
        let errs = errors("[supervisord]\n[rpcinterface:x]\n");
        assert!(errs[0].contains("does not specify a supervisor.rpcinterface_factory"));
    }

    #[test]
    fn default_section_reaches_the_factory_when_a_server_calls_it() {
        let text = "[DEFAULT]\nautostart=false\n[supervisord]\n[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n";
        assert!(load_text(text).is_ok());
        let errs = errors(&format!("{text}[inet_http_server]\nport=9001\n"));
        assert!(errs[0].contains("takes no option 'autostart'"), "{errs:?}");
    }
}

mod file_level {
    use super::*;

    #[test]
    fn parse_errors_are_all_reported() {
        let errs = errors("[supervisord]\nfoo\n[program:x]\ncommand=x\nbar baz\n");
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs[0].starts_with("/etc/sv.conf:2: "));
        assert!(errs[1].starts_with("/etc/sv.conf:5: "));
    }

    #[test]
    fn missing_file() {
        let host = MemHost::new();
        let err = load(&host, "/etc/none.conf", &CliOverrides::default()).unwrap_err();
        assert_eq!(err.to_string(), "could not find config file /etc/none.conf");
    }

    #[test]
    fn sample_config_loads() {
        let config = load_text(SAMPLE_CONFIG).unwrap();
        assert_eq!(config.servers.len(), 1);
        assert_eq!(config.rpcinterfaces.len(), 1);
    }

    #[test]
    fn search_paths_follow_supervisor() {
        assert_eq!(
            search_paths("/usr/local/bin/supervisord"),
            [
                "/usr/local/etc/supervisord.conf",
                "/usr/local/supervisord.conf",
                "supervisord.conf",
                "etc/supervisord.conf",
                "/etc/supervisord.conf",
                "/etc/supervisor/supervisord.conf"
            ]
        );
        assert_eq!(search_paths("supervisord")[0], "etc/supervisord.conf");
    }
}

mod section_supervisorctl {
    use super::*;

    fn ctl(text: &str) -> Result<CtlConfig, LoadError> {
        let host = MemHost::new().file("/etc/sv.conf", text);
        load_ctl(&host, "/etc/sv.conf")
    }

    #[test]
    fn defaults_and_values() {
        assert_eq!(ctl("[supervisorctl]\n").unwrap(), CtlConfig::default());
        let c = ctl(
            "[supervisorctl]\nserverurl=unix://%(here)s/../tmp//s.sock\nusername=u\npassword=%(ENV_SV_X)s\nprompt=box\nhistory_file=~/.sc_history\n",
        )
        .unwrap();
        assert_eq!(c.serverurl, "unix:///tmp/s.sock");
        assert_eq!(c.password.as_deref(), Some("ex"));
        assert_eq!(c.prompt, "box");
        assert_eq!(c.history_file.as_deref(), Some("/root/.sc_history"));
    }

    #[test]
    fn missing_section_and_plugins() {
        let e = ctl("[supervisord]\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            ".ini file does not include supervisorctl section"
        );
        let e = ctl("[supervisorctl]\nprompt=%(here)s\n").unwrap_err();
        assert!(e.to_string().contains("cannot be expanded"), "{e}");
        let e = ctl("[supervisorctl]\n[ctlplugin:x]\nsupervisor.ctl_factory=x:y\n").unwrap_err();
        assert!(e.to_string().contains("cannot be loaded"), "{e}");
    }
}
