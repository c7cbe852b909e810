//! From `supervisord.conf` text to a [`Config`]: Supervisor's
//! `ServerOptions.read_config` and `realize`, step by step, except that every
//! problem is collected (with file, line, section and option) instead of
//! stopping at the first.
//!
//! The order of work follows Supervisor's because it is observable:
//! `[supervisord] environment=` adds `ENV_*` names that later sections can
//! expand; options read before a program's per-process loop cannot see
//! `%(process_num)s`. One deliberate difference: log file names are expanded
//! once (Supervisor expands them twice, so `%%` cannot be used in them).
//!
//! One file per concern: `lookup` (reading and expanding one option),
//! `include`, `supervisord`, `program` (process options shared by every
//! process section), `groups`, `eventlistener`, `fcgi`, `servers`,
//! `rpcinterface`, `ctl` (`[supervisorctl]`), and `error` (what is
//! reported).

mod ctl;
mod error;
mod eventlistener;
mod fcgi;
mod groups;
mod include;
mod lookup;
mod program;
mod readiness;
mod rpcinterface;
mod servers;
mod supervisord;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;

use std::collections::BTreeMap;

use sv_ini::Document;

pub use ctl::{CtlConfig, load_ctl};
pub use error::{ConfigError, LoadError};

use super::host::Host;
use super::{Config, LogLevel};
use crate::pyfmt::Value;
use crate::pypath;

/// Values given on the `supervisord` command line, already converted by the
/// command-line parser. They win over the config file, as in Supervisor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CliOverrides {
    /// `-n`: stay in the foreground.
    pub nodaemon: bool,
    /// `-s`: no log output on stdout in the foreground.
    pub silent: bool,
    /// `-u`: the user to run as.
    pub user: Option<String>,
    /// `-m`: the daemon's umask.
    pub umask: Option<u32>,
    /// `-d`: the directory to change to when daemonizing.
    pub directory: Option<String>,
    /// `-l`: the main log file.
    pub logfile: Option<String>,
    /// `-y`: the main log's size before rotation.
    pub logfile_maxbytes: Option<i64>,
    /// `-z`: how many rotated main logs to keep.
    pub logfile_backups: Option<i64>,
    /// `-e`: the main log's level.
    pub loglevel: Option<LogLevel>,
    /// `-j`: the pid file.
    pub pidfile: Option<String>,
    /// `-i`: the identifier `getIdentification` returns.
    pub identifier: Option<String>,
    /// `-q`: where `AUTO` child logs go.
    pub childlogdir: Option<String>,
    /// `-k`: keep stale `AUTO` child logs at start-up.
    pub nocleanup: bool,
    /// `-a`: the file descriptors to require.
    pub minfds: Option<i64>,
    /// `--minprocs`: the processes to require.
    pub minprocs: Option<i64>,
    /// `-t`: strip ANSI escapes from child output.
    pub strip_ansi: bool,
}

/// The files supervisord (and supervisorctl) try, in order, when no `-c` is
/// given. `argv0` is the program path as invoked.
pub fn search_paths(argv0: &str) -> Vec<String> {
    let here = pypath::dirname(pypath::dirname(argv0));
    vec![
        pypath::join(&pypath::join(here, "etc"), "supervisord.conf"),
        pypath::join(here, "supervisord.conf"),
        "supervisord.conf".to_string(),
        "etc/supervisord.conf".to_string(),
        "/etc/supervisord.conf".to_string(),
        "/etc/supervisor/supervisord.conf".to_string(),
    ]
}

/// Where an option's value came from, for error messages.
#[derive(Debug, Clone)]
struct Loc {
    file: std::sync::Arc<str>,
    line: usize,
}

use lookup::Scope;

/// Upper bound on `numprocs`; Supervisor has none and would exhaust memory.
const MAX_NUMPROCS: i64 = 100_000;

/// Load `config_file` with the command-line overrides applied.
pub fn load(host: &dyn Host, config_file: &str, cli: &CliOverrides) -> Result<Config, LoadError> {
    load_counting_scans(host, config_file, cli).0
}

/// [`load`], and how many times it walked every section (the tests check
/// that this does not grow with the number of sections).
fn load_counting_scans(
    host: &dyn Host,
    config_file: &str,
    cli: &CliOverrides,
) -> (Result<Config, LoadError>, usize) {
    let cwd = host.cwd();
    let here = pypath::abspath(&cwd, pypath::dirname(config_file));
    if !host.exists(config_file) {
        let error = format!("could not find config file {config_file}");
        return (Err(LoadError::single(error)), 0);
    }
    let text = match host.read_to_string(config_file) {
        Ok(text) => text,
        Err(e) => {
            let error = format!("could not read config file {config_file}: {e}");
            return (Err(LoadError::single(error)), 0);
        }
    };
    let mut loader = Loader::new(host, config_file, here, cwd);
    let result = loader.load(&text, cli);
    (result, loader.section_scans.get())
}

/// One reading of a config file: the document read so far, the problems
/// found, and what every `%(name)s` expansion may see. The section readers
/// in the submodules are `impl Loader` blocks, so each reads and reports
/// the same way.
struct Loader<'h> {
    host: &'h dyn Host,
    doc: Document,
    errors: Vec<ConfigError>,
    warnings: Vec<String>,
    infos: Vec<String>,
    /// `ENV_*` names: the process environment, then `[supervisord]
    /// environment=` keys (Supervisor adds them to the same table).
    env_expansions: std::rc::Rc<BTreeMap<String, Value>>,
    /// How many times the sections were walked in full (a fixed number per
    /// load, however many there are: the tests check it).
    section_scans: std::cell::Cell<usize>,
    /// The section the last option was read from: a program's ~30 options
    /// are read one after another, so its name is hashed once, not 30
    /// times (the hash lookups were the first item of the 6000-program
    /// load's profile).
    last_section: std::cell::Cell<Option<usize>>,
    host_node_name: String,
    here: String,
    cwd: String,
    config_file: String,
    included_files: Vec<String>,
    /// Extra keys of `[rpcinterface:x]` sections, refused once we know
    /// whether any HTTP server will call the factory.
    factory_kwargs: Vec<(Loc, String, String)>,
}

impl<'h> Loader<'h> {
    /// A loader with an empty document; `here` is `%(here)s` of the main
    /// file, `cwd` resolves relative paths.
    fn new(host: &'h dyn Host, config_file: &str, here: String, cwd: String) -> Self {
        Loader {
            host,
            doc: Document::new(),
            errors: Vec::new(),
            warnings: Vec::new(),
            infos: Vec::new(),
            env_expansions: std::rc::Rc::new(
                host.env()
                    .into_iter()
                    .map(|(k, v)| (format!("ENV_{k}"), Value::Str(v)))
                    .collect(),
            ),
            section_scans: std::cell::Cell::new(0),
            last_section: std::cell::Cell::new(None),
            host_node_name: host.hostname(),
            here,
            cwd,
            config_file: config_file.to_string(),
            included_files: Vec::new(),
            factory_kwargs: Vec::new(),
        }
    }

    /// Read `text` (the main file), its includes, then every section.
    fn load(&mut self, text: &str, cli: &CliOverrides) -> Result<Config, LoadError> {
        let errors = |loader: &mut Loader| LoadError {
            errors: std::mem::take(&mut loader.errors),
        };
        let config_file = self.config_file.clone();
        if let Err(e) = self.doc.read_str(text, &config_file) {
            self.parse_error(&e);
            return Err(errors(self));
        }
        self.read_includes();
        if !self.errors.is_empty() {
            return Err(errors(self));
        }
        if !self.doc.has_section("supervisord") {
            return Err(LoadError::single(
                ".ini file does not include supervisord section".to_string(),
            ));
        }
        let config = self.build(cli);
        if self.errors.is_empty() {
            Ok(config)
        } else {
            Err(errors(self))
        }
    }

    /// Every section, in the order Supervisor reads them (observable
    /// through `ENV_*` names and the order of errors).
    fn build(&mut self, cli: &CliOverrides) -> Config {
        let supervisord = self.supervisord_section(cli);
        let rpcinterfaces = self.rpcinterfaces();
        let mut groups = self.groups();
        for group in &mut groups {
            for process in &mut group.processes {
                process.environment =
                    supervisord::merge_env(&supervisord.environment, &process.environment);
            }
        }
        self.check_dependencies(&groups);
        let servers = self.servers();
        if !servers.is_empty() {
            self.refuse_factory_kwargs();
        }
        let serverurl = servers::child_serverurl(&servers);
        Config {
            config_file: self.config_file.clone(),
            here: self.here.clone(),
            supervisord,
            servers,
            rpcinterfaces,
            groups,
            serverurl,
            included_files: std::mem::take(&mut self.included_files),
            warnings: std::mem::take(&mut self.warnings),
            infos: std::mem::take(&mut self.infos),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::load::testkit::*;

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
