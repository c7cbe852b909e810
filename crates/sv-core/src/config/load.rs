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

use std::collections::BTreeMap;
use std::fmt;

use sv_ini::Document;

use super::datatypes::{self as dt, py_strip};
use super::host::Host;
use super::*;
use crate::pyfmt::{self, Value, py_repr_str};
use crate::pypath;
use crate::shlex;

/// Values given on the `supervisord` command line, already converted by the
/// command-line parser. They win over the config file, as in Supervisor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CliOverrides {
    pub nodaemon: bool,
    pub silent: bool,
    pub user: Option<String>,
    pub umask: Option<u32>,
    pub directory: Option<String>,
    pub logfile: Option<String>,
    pub logfile_maxbytes: Option<i64>,
    pub logfile_backups: Option<i64>,
    pub loglevel: Option<LogLevel>,
    pub pidfile: Option<String>,
    pub identifier: Option<String>,
    pub childlogdir: Option<String>,
    pub nocleanup: bool,
    pub minfds: Option<i64>,
    pub minprocs: Option<i64>,
    pub strip_ansi: bool,
}

/// One problem in a config, located as precisely as it can be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: Option<String>,
    pub line: Option<usize>,
    pub section: Option<String>,
    pub option: Option<String>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, "{file}:{line}: ")?,
            (Some(file), None) => write!(f, "{file}: ")?,
            _ => {}
        }
        match (&self.section, &self.option) {
            (Some(section), Some(option)) => write!(f, "[{section}] {option}: ")?,
            (Some(section), None) => write!(f, "[{section}]: ")?,
            _ => {}
        }
        f.write_str(&self.message)
    }
}

/// Every problem found in a config; the daemon must not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LoadError {
    pub errors: Vec<ConfigError>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl LoadError {
    fn single(message: String) -> Self {
        LoadError {
            errors: vec![ConfigError {
                file: None,
                line: None,
                section: None,
                option: None,
                message,
            }],
        }
    }
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
    file: String,
    line: usize,
}

/// Names visible to one `%(name)s` expansion.
type Scope = BTreeMap<String, Value>;

/// Upper bound on `numprocs`; Supervisor has none and would exhaust memory.
const MAX_NUMPROCS: i64 = 100_000;

/// Load `config_file` with the command-line overrides applied.
pub fn load(host: &dyn Host, config_file: &str, cli: &CliOverrides) -> Result<Config, LoadError> {
    let cwd = host.cwd();
    let here = pypath::abspath(&cwd, pypath::dirname(config_file));
    if !host.exists(config_file) {
        return Err(LoadError::single(format!(
            "could not find config file {config_file}"
        )));
    }
    let text = match host.read_to_string(config_file) {
        Ok(text) => text,
        Err(e) => {
            return Err(LoadError::single(format!(
                "could not read config file {config_file}: {e}"
            )));
        }
    };
    let env_expansions = host
        .env()
        .into_iter()
        .map(|(k, v)| (format!("ENV_{k}"), Value::Str(v)))
        .collect();
    let mut loader = Loader {
        host,
        doc: Document::new(),
        errors: Vec::new(),
        warnings: Vec::new(),
        infos: Vec::new(),
        env_expansions,
        host_node_name: host.hostname(),
        here,
        cwd,
        config_file: config_file.to_string(),
        included_files: Vec::new(),
        factory_kwargs: Vec::new(),
    };
    if let Err(e) = loader.doc.read_str(&text, config_file) {
        loader.parse_error(&e);
        return Err(LoadError {
            errors: loader.errors,
        });
    }
    loader.read_includes();
    if !loader.errors.is_empty() {
        return Err(LoadError {
            errors: loader.errors,
        });
    }
    if !loader.doc.has_section("supervisord") {
        return Err(LoadError::single(
            ".ini file does not include supervisord section".to_string(),
        ));
    }
    let config = loader.build(cli);
    if loader.errors.is_empty() {
        Ok(config)
    } else {
        Err(LoadError {
            errors: loader.errors,
        })
    }
}

struct Loader<'h> {
    host: &'h dyn Host,
    doc: Document,
    errors: Vec<ConfigError>,
    warnings: Vec<String>,
    infos: Vec<String>,
    /// `ENV_*` names: the process environment, then `[supervisord]
    /// environment=` keys (Supervisor adds them to the same table).
    env_expansions: Scope,
    host_node_name: String,
    here: String,
    cwd: String,
    config_file: String,
    included_files: Vec<String>,
    /// Extra keys of `[rpcinterface:x]` sections, refused once we know
    /// whether any HTTP server will call the factory.
    factory_kwargs: Vec<(Loc, String, String)>,
}

impl Loader<'_> {
    fn parse_error(&mut self, e: &sv_ini::ParseError) {
        for line_error in &e.errors {
            let what = match line_error.kind {
                sv_ini::LineErrorKind::MissingSectionHeader => {
                    "File contains no section headers; this line comes before any [section]"
                }
                sv_ini::LineErrorKind::NoDelimiter => "line is not 'key = value' (no '=' or ':')",
                sv_ini::LineErrorKind::EmptyKey => "option line has an empty key",
            };
            self.errors.push(ConfigError {
                file: Some(e.file.clone()),
                line: Some(line_error.line),
                section: None,
                option: None,
                message: format!("{what}: {}", py_repr_str(&line_error.text)),
            });
        }
    }

    fn section_loc(&self, section: &str) -> Loc {
        match self.doc.section(section) {
            Some(s) => Loc {
                file: s.file.clone(),
                line: s.line,
            },
            None => Loc {
                file: self.config_file.clone(),
                line: 0,
            },
        }
    }

    fn error(&mut self, loc: &Loc, section: &str, option: Option<&str>, message: String) {
        self.errors.push(ConfigError {
            file: Some(loc.file.clone()),
            line: (loc.line > 0).then_some(loc.line),
            section: Some(section.to_string()),
            option: option.map(str::to_string),
            message,
        });
    }

    fn section_error(&mut self, section: &str, message: String) {
        let loc = self.section_loc(section);
        self.error(&loc, section, None, message);
    }

    fn scope(&self, extra: &[(&str, Value)]) -> Scope {
        let mut scope = self.env_expansions.clone();
        for (k, v) in extra {
            scope.insert((*k).to_string(), v.clone());
        }
        scope
    }

    /// Supervisor's `expand()`: Python `%` against the scope.
    fn expand(template: &str, scope: &Scope, name: &str) -> Result<String, String> {
        pyfmt::format(template, &|key: &str| scope.get(key).cloned()).map_err(|e| match e {
            pyfmt::FormatError::UnknownName(key) => {
                let available: Vec<&str> = scope.keys().map(String::as_str).collect();
                format!(
                    "Format string {} for {} contains names ({}) which cannot be expanded. Available names: {}",
                    py_repr_str(template),
                    py_repr_str(name),
                    py_repr_str(&key),
                    available.join(", ")
                )
            }
            pyfmt::FormatError::Bad(why) => format!(
                "Format string {} for {} is badly formatted: {why}",
                py_repr_str(template),
                py_repr_str(name)
            ),
        })
    }

    /// The raw (unexpanded) value of an option and where it is, falling back
    /// to `[DEFAULT]` as configparser does.
    fn raw(&self, section: &str, key: &str) -> Option<(String, Loc)> {
        self.doc.get(section, key).map(|e| {
            (
                e.value.clone(),
                Loc {
                    file: e.file.clone(),
                    line: e.line,
                },
            )
        })
    }

    /// Supervisor's `saneget`: the option (or `default`) expanded in
    /// `scope`. `Ok(None)` when absent without a default; `Err(())` when the
    /// expansion failed (already recorded).
    fn get(
        &mut self,
        section: &str,
        key: &str,
        default: Option<&str>,
        scope: &Scope,
    ) -> Result<Option<(String, Loc)>, ()> {
        let (value, loc) = match self.raw(section, key) {
            Some(found) => found,
            None => match default {
                Some(d) => (d.to_string(), self.section_loc(section)),
                None => return Ok(None),
            },
        };
        match Self::expand(&value, scope, &format!("{section}.{key}")) {
            Ok(expanded) => Ok(Some((expanded, loc))),
            Err(message) => {
                self.error(&loc, section, Some(key), message);
                Err(())
            }
        }
    }

    /// `get` followed by a conversion; `None` when anything failed (recorded).
    fn typed<T>(
        &mut self,
        section: &str,
        key: &str,
        default: &str,
        scope: &Scope,
        convert: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let (value, loc) = self.get(section, key, Some(default), scope).ok()??;
        match convert(&value) {
            Ok(v) => Some(v),
            Err(message) => {
                self.error(&loc, section, Some(key), message);
                None
            }
        }
    }

    /// Like `typed`, but `None` (without error) when the option is absent.
    fn typed_opt<T>(
        &mut self,
        section: &str,
        key: &str,
        scope: &Scope,
        convert: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ()> {
        let Some((value, loc)) = self.get(section, key, None, scope)? else {
            return Ok(None);
        };
        match convert(&value) {
            Ok(v) => Ok(Some(v)),
            Err(message) => {
                self.error(&loc, section, Some(key), message);
                Err(())
            }
        }
    }

    /// Supervisor's `expand_here`: literal `%(here)s` text becomes `dir` in
    /// every section (including values a section inherits from `[DEFAULT]`).
    fn expand_here(&mut self, dir: &str) {
        const HERE: &str = "%(here)s";
        let names: Vec<String> = self.doc.sections().map(|s| s.name.clone()).collect();
        for section in names {
            let changed: Vec<sv_ini::Entry> = self
                .doc
                .items(&section)
                .into_iter()
                .filter(|e| e.value.contains(HERE))
                .map(|e| sv_ini::Entry {
                    value: e.value.replace(HERE, dir),
                    ..e.clone()
                })
                .collect();
            for entry in changed {
                // Like configparser's set(): a value inherited from
                // [DEFAULT] becomes the section's own.
                self.doc.insert(&section, entry);
            }
        }
    }

    fn read_includes(&mut self) {
        if !self.doc.has_section("include") {
            return;
        }
        let here = self.here.clone();
        self.expand_here(&here);
        let Some((files, loc)) = self.raw("include", "files") else {
            self.section_error(
                "include",
                ".ini file has [include] section, but no files setting".to_string(),
            );
            return;
        };
        let scope = self.scope(&[
            ("here", Value::Str(self.here.clone())),
            ("host_node_name", Value::Str(self.host_node_name.clone())),
        ]);
        let files = match Self::expand(&files, &scope, "include.files") {
            Ok(files) => files,
            Err(message) => {
                self.error(&loc, "include", Some("files"), message);
                return;
            }
        };
        let base = pypath::dirname(&pypath::abspath(&self.cwd, &self.config_file)).to_string();
        for pattern in files.split(dt::is_py_space).filter(|p| !p.is_empty()) {
            let pattern = pypath::join(&base, pattern);
            let mut matches = self.host.glob(&pattern);
            if matches.is_empty() {
                self.warnings
                    .push(format!("No file matches via include \"{pattern}\""));
                continue;
            }
            // Python sorts whole path strings; code point order is byte order in UTF-8.
            matches.sort();
            for filename in matches {
                self.infos
                    .push(format!("Included extra file \"{filename}\" during parsing"));
                let text = match self.host.read_to_string(&filename) {
                    Ok(text) => text,
                    Err(e) => {
                        self.error(
                            &loc,
                            "include",
                            Some("files"),
                            format!("could not read included file {filename}: {e}"),
                        );
                        continue;
                    }
                };
                self.included_files.push(filename.clone());
                match self.doc.read_str(&text, &filename) {
                    Ok(()) => {
                        let dir = pypath::abspath(&self.cwd, pypath::dirname(&filename));
                        self.expand_here(&dir);
                    }
                    Err(e) => self.parse_error(&e),
                }
            }
        }
    }

    fn build(&mut self, cli: &CliOverrides) -> Config {
        let supervisord = self.supervisord_section(cli);
        let rpcinterfaces = self.rpcinterfaces();
        let mut groups = self.groups();
        for group in &mut groups {
            for process in &mut group.processes {
                process.environment = merge_env(&supervisord.environment, &process.environment);
            }
        }
        let servers = self.servers();
        // Supervisor hands extra keys to the interface factory, which takes
        // none, when it builds the HTTP servers: with any server configured
        // the daemon dies at start-up. Refuse such a config up front instead.
        if !servers.is_empty() {
            for (loc, section, key) in std::mem::take(&mut self.factory_kwargs) {
                self.error(
                    &loc,
                    &section,
                    Some(&key),
                    format!(
                        "{MAIN_RPCINTERFACE_FACTORY} takes no option {} (options of [DEFAULT] also reach this section)",
                        py_repr_str(&key)
                    ),
                );
            }
        }
        let serverurl = servers
            .iter()
            .find_map(|s| match &s.listen {
                Listen::Unix { file, .. } => Some(format!("unix://{file}")),
                Listen::Inet { .. } => None,
            })
            .or_else(|| {
                // Supervisor keeps the last inet server when no unix one exists.
                servers.iter().rev().find_map(|s| match &s.listen {
                    Listen::Inet { host, port } => {
                        let host = if host.is_empty() { "localhost" } else { host };
                        Some(format!("http://{host}:{port}"))
                    }
                    Listen::Unix { .. } => None,
                })
            });
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

    fn supervisord_section(&mut self, cli: &CliOverrides) -> SupervisordConfig {
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
            self.env_expansions
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

    fn section_names(&self, prefix: &str) -> Vec<String> {
        self.doc
            .sections()
            .filter(|s| s.name.starts_with(prefix))
            .map(|s| s.name.clone())
            .collect()
    }

    fn rpcinterfaces(&mut self) -> Vec<RpcInterfaceConfig> {
        const FACTORY_KEY: &str = "supervisor.rpcinterface_factory";
        let scope = self.scope(&[]);
        let mut out = Vec::new();
        for section in self.section_names("rpcinterface:") {
            let name = section["rpcinterface:".len()..].to_string();
            let Ok(factory) = self.get(&section, FACTORY_KEY, None, &scope) else {
                continue;
            };
            let Some((factory, loc)) = factory else {
                self.section_error(
                    &section,
                    format!("section [{section}] does not specify a {FACTORY_KEY}"),
                );
                continue;
            };
            if factory != MAIN_RPCINTERFACE_FACTORY {
                self.error(
                    &loc,
                    &section,
                    Some(FACTORY_KEY),
                    format!(
                        "{factory} cannot be resolved within [{section}]: only Supervisor's own interface ({MAIN_RPCINTERFACE_FACTORY}) exists in supervisor-rs"
                    ),
                );
                continue;
            }
            let keys: Vec<String> = self
                .doc
                .options(&section)
                .into_iter()
                .filter(|k| *k != FACTORY_KEY)
                .map(str::to_string)
                .collect();
            let mut kwargs = Vec::new();
            for key in keys {
                if let Ok(Some((value, loc))) = self.get(&section, &key, None, &scope) {
                    self.factory_kwargs
                        .push((loc, section.clone(), key.clone()));
                    kwargs.push((key, value));
                }
            }
            out.push(RpcInterfaceConfig {
                name,
                factory,
                kwargs,
            });
        }
        out
    }

    fn groups(&mut self) -> Vec<GroupConfig> {
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

    fn listener_pool(&mut self, section: &str, scope: &Scope) -> Option<GroupConfig> {
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
                let upper = name.to_uppercase();
                if !EVENT_TYPES.contains(&upper.as_str()) {
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

    fn fcgi_group(&mut self, section: &str, scope: &Scope) -> Option<GroupConfig> {
        let host = self.host;
        let name = match dt::process_or_group_name(&section["fcgi-program:".len()..]) {
            Ok(name) => name,
            Err(_) => {
                self.processes(section, "");
                return None;
            }
        };
        let priority = self.typed(section, "priority", "999", scope, dt::integer);
        let uid = self
            .typed_opt(section, "user", scope, |v| dt::name_to_uid(host, v))
            .ok()?;
        let backlog = self
            .typed_opt(section, "socket_backlog", scope, |v| {
                let n = dt::integer(v)?;
                if (1..=65535).contains(&n) {
                    Ok(n)
                } else {
                    Err(format!("Invalid socket_backlog value {n}"))
                }
            })
            .ok()?;
        let owner = self
            .typed_opt(section, "socket_owner", scope, |v| {
                dt::colon_separated_user_group(host, v)
                    .map_err(|_| format!("Invalid socket_owner value {v}"))
            })
            .ok()?;
        let mode = self
            .typed_opt(section, "socket_mode", scope, |v| {
                dt::octal(v).map_err(|_| format!("Invalid socket_mode value {v}"))
            })
            .ok()?;
        let mut socket_scope = scope.clone();
        socket_scope.insert("program_name".into(), Value::Str(name.clone()));
        let socket = self.get(section, "socket", None, &socket_scope).ok()?;
        let socket = match socket {
            Some((url, _)) if !url.is_empty() => {
                let loc = self
                    .raw(section, "socket")
                    .map(|(_, l)| l)
                    .unwrap_or_else(|| self.section_loc(section));
                match self.fcgi_socket(&url, uid, owner, mode, backlog) {
                    Ok(socket) => Some(socket),
                    Err(message) => {
                        self.error(
                            &loc,
                            section,
                            Some("socket"),
                            format!("{message} in [{section}] socket"),
                        );
                        None
                    }
                }
            }
            _ => {
                self.section_error(
                    section,
                    format!("[{section}] section requires a \"socket\" line"),
                );
                None
            }
        };
        let processes = self.processes(section, &name);
        Some(GroupConfig {
            name,
            priority: priority?,
            kind: GroupKind::FastCgi { socket: socket? },
            processes,
        })
    }

    fn fcgi_socket(
        &self,
        url: &str,
        proc_uid: Option<u32>,
        owner: Option<(i64, i64)>,
        mode: Option<u32>,
        backlog: Option<i64>,
    ) -> Result<FcgiSocket, String> {
        if let Some(path) = url.strip_prefix("unix://") {
            if !pypath::isabs(path) {
                return Err(format!("Unix socket path {path} is not an absolute path"));
            }
            let path = self.normalize_path(path);
            let owner = owner.or_else(|| {
                let uid = proc_uid?;
                if uid == self.host.uid() {
                    return None;
                }
                let gid = self.host.user_by_uid(uid)?.gid;
                Some((uid as i64, gid as i64))
            });
            return Ok(FcgiSocket::Unix {
                path,
                owner,
                mode: Some(mode.unwrap_or(0o700)),
                backlog,
            });
        }
        if owner.is_some() || mode.is_some() {
            return Err(
                "socket_owner and socket_mode params should only be used with a Unix domain socket"
                    .to_string(),
            );
        }
        // `tcp://host:port`, host without blanks or colons, port all digits.
        let bad = || format!("Bad socket format {url}");
        let rest = url.strip_prefix("tcp://").ok_or_else(bad)?;
        let (host, port) = rest.rsplit_once(':').ok_or_else(bad)?;
        if host.is_empty()
            || host.contains(':')
            || host.chars().any(dt::is_py_space)
            || port.is_empty()
            || !port.chars().all(|c| c.is_ascii_digit())
        {
            return Err(bad());
        }
        let port: i64 = port.parse().map_err(|_| bad())?;
        if !(1..=0xffff).contains(&port) {
            return Err(format!("{port} is out of range for a port (1-65535)"));
        }
        Ok(FcgiSocket::Tcp {
            host: host.to_lowercase(),
            port: port as u16,
            backlog,
        })
    }

    fn normalize_path(&self, path: &str) -> String {
        let expanded = pypath::expanduser(path, &|u| self.host.home_dir(u));
        pypath::abspath(&self.cwd, &expanded)
    }

    /// Supervisor's `processes_from_section`: the processes one
    /// `[program:x]` (or listener/fcgi) section defines, for `group_name`.
    fn processes(&mut self, section: &str, group_name: &str) -> Vec<ProcessConfig> {
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
    fn stream(&mut self, s: &str, channel: &str, scope: &Scope) -> Option<StreamConfig> {
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

    fn servers(&mut self) -> Vec<ServerConfig> {
        let mut servers = Vec::new();
        let env_scope = self.scope(&[]);
        for section in self.section_names("inet_http_server") {
            let Some((username, password)) = self.credentials(&section, &env_scope) else {
                continue;
            };
            let port = match self.get(&section, "port", None, &env_scope) {
                Ok(Some((port, loc))) => match dt::inet_address(&port) {
                    Ok(addr) => Some(addr),
                    Err(message) => {
                        self.error(&loc, &section, Some("port"), message);
                        None
                    }
                },
                Ok(None) => {
                    self.section_error(&section, format!("section [{section}] has no port value"));
                    None
                }
                Err(()) => None,
            };
            if let Some((host, port)) = port {
                servers.push(ServerConfig {
                    name: section.split_once(':').map(|(_, n)| n.to_string()),
                    section,
                    listen: Listen::Inet { host, port },
                    username,
                    password,
                });
            }
        }
        for section in self.section_names("unix_http_server") {
            let here_scope = self.scope(&[("here", Value::Str(self.here.clone()))]);
            let file = match self.get(&section, "file", None, &here_scope) {
                Ok(Some((file, loc))) => {
                    let file = py_strip(&file).to_string();
                    if file.is_empty() {
                        // Supervisor would take the working directory for a
                        // stale socket and try to delete it.
                        self.error(
                            &loc,
                            &section,
                            Some("file"),
                            "the socket file name is empty".into(),
                        );
                        None
                    } else {
                        Some(self.normalize_path(&file))
                    }
                }
                Ok(None) => {
                    self.section_error(&section, format!("section [{section}] has no file value"));
                    None
                }
                Err(()) => None,
            };
            let credentials = self.credentials(&section, &env_scope);
            let host = self.host;
            let chown = self
                .typed_opt(&section, "chown", &env_scope, |v| {
                    dt::colon_separated_user_group(host, v)
                        .map_err(|_| format!("Invalid sockchown value {v}"))
                })
                .map(|c| c.unwrap_or((-1, -1)));
            let chmod = self
                .typed_opt(&section, "chmod", &env_scope, |v| {
                    dt::octal(v).map_err(|_| format!("Invalid chmod value {v}"))
                })
                .map(|c| c.unwrap_or(0o700));
            if let (Some(file), Some((username, password)), Ok(chown), Ok(chmod)) =
                (file, credentials, chown, chmod)
            {
                servers.push(ServerConfig {
                    name: section.split_once(':').map(|(_, n)| n.to_string()),
                    section,
                    listen: Listen::Unix { file, chmod, chown },
                    username,
                    password,
                });
            }
        }
        servers
    }

    /// `username`/`password` of a server section: both or neither.
    #[allow(clippy::type_complexity)]
    fn credentials(
        &mut self,
        section: &str,
        scope: &Scope,
    ) -> Option<(Option<String>, Option<String>)> {
        let username = self.get(section, "username", None, scope).ok()?;
        let password = self.get(section, "password", None, scope).ok()?;
        let username = username.map(|(v, _)| v);
        let password = password.map(|(v, _)| v);
        if username.is_some() != password.is_some() {
            self.section_error(
                section,
                format!(
                    "Section [{section}] contains incomplete authentication: If a username or a password is specified, both the username and password must be specified"
                ),
            );
            return None;
        }
        Some((username, password))
    }
}

/// `[supervisord] environment` overlaid with a program's own, in Python
/// dict order (an overridden key keeps its first position).
fn merge_env(global: &[(String, String)], own: &[(String, String)]) -> Vec<(String, String)> {
    let mut merged: Vec<(String, String)> = global.to_vec();
    for (k, v) in own {
        match merged.iter_mut().find(|(key, _)| key == k) {
            Some(slot) => slot.1 = v.clone(),
            None => merged.push((k.clone(), v.clone())),
        }
    }
    merged
}

/// The `[supervisorctl]` section, as supervisorctl reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CtlConfig {
    /// `unix:///abs/path` (normalised) or `http://host:port`.
    pub serverurl: String,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The interactive prompt is `<prompt>> `.
    pub prompt: String,
    /// Normalised path of the readline history, if any.
    pub history_file: Option<String>,
}

impl Default for CtlConfig {
    fn default() -> Self {
        CtlConfig {
            serverurl: "http://localhost:9001".to_string(),
            username: None,
            password: None,
            prompt: "supervisor".to_string(),
            history_file: None,
        }
    }
}

/// Load the `[supervisorctl]` section of `config_file` (Supervisor's
/// `ClientOptions.read_config`): no `[include]`, `%(here)s` only in
/// `serverurl` and `history_file`, `ENV_*` everywhere. `[ctlplugin:x]`
/// sections name Python plug-ins, which cannot load here: they are refused.
pub fn load_ctl(host: &dyn Host, config_file: &str) -> Result<CtlConfig, LoadError> {
    let cwd = host.cwd();
    let here = pypath::dirname(&pypath::abspath(&cwd, config_file)).to_string();
    if !host.exists(config_file) {
        return Err(LoadError::single(format!(
            "could not find config file {config_file}"
        )));
    }
    let text = host
        .read_to_string(config_file)
        .map_err(|e| LoadError::single(format!("could not read config file {config_file}: {e}")))?;
    let mut loader = Loader {
        host,
        doc: Document::new(),
        errors: Vec::new(),
        warnings: Vec::new(),
        infos: Vec::new(),
        env_expansions: host
            .env()
            .into_iter()
            .map(|(k, v)| (format!("ENV_{k}"), Value::Str(v)))
            .collect(),
        host_node_name: host.hostname(),
        here,
        cwd,
        config_file: config_file.to_string(),
        included_files: Vec::new(),
        factory_kwargs: Vec::new(),
    };
    if let Err(e) = loader.doc.read_str(&text, config_file) {
        loader.parse_error(&e);
        return Err(LoadError {
            errors: loader.errors,
        });
    }
    const S: &str = "supervisorctl";
    if !loader.doc.has_section(S) {
        return Err(LoadError::single(
            ".ini file does not include supervisorctl section".to_string(),
        ));
    }
    let defaults = CtlConfig::default();
    let env_scope = loader.scope(&[]);
    let here_scope = loader.scope(&[("here", Value::Str(loader.here.clone()))]);
    let serverurl = loader
        .get(S, "serverurl", Some(&defaults.serverurl), &here_scope)
        .ok()
        .flatten()
        .map(|(url, _)| match url.strip_prefix("unix://") {
            Some(path) => format!("unix://{}", loader.normalize_path(path)),
            None => url,
        });
    let prompt = loader.get(S, "prompt", Some(&defaults.prompt), &env_scope);
    let username = loader.get(S, "username", None, &env_scope);
    let password = loader.get(S, "password", None, &env_scope);
    let history_file = loader.get(S, "history_file", None, &here_scope);
    for section in loader.section_names("ctlplugin:") {
        let loc = loader.section_loc(&section);
        loader.error(
            &loc,
            &section,
            Some("supervisor.ctl_factory"),
            "supervisorctl plug-ins are Python code and cannot be loaded by supervisor-rs"
                .to_string(),
        );
    }
    let (Some(serverurl), Ok(prompt), Ok(username), Ok(password), Ok(history_file)) =
        (serverurl, prompt, username, password, history_file)
    else {
        return Err(LoadError {
            errors: loader.errors,
        });
    };
    if !loader.errors.is_empty() {
        return Err(LoadError {
            errors: loader.errors,
        });
    }
    Ok(CtlConfig {
        serverurl,
        username: username.map(|(v, _)| v),
        password: password.map(|(v, _)| v),
        prompt: prompt.map_or(defaults.prompt, |(v, _)| v),
        history_file: history_file
            .map(|(v, _)| v)
            .filter(|v| !v.is_empty())
            .map(|v| loader.normalize_path(&v)),
    })
}
