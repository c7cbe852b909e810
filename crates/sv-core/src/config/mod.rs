//! The typed model of `supervisord.conf` and its loader.
//!
//! [`load`] reads the file (and its `[include]`s) through a [`Host`], checks
//! every option, and returns either a [`Config`] or every problem found, each
//! naming the file, line, section and option. The model keeps Supervisor's
//! meaning for each field (`None` where Supervisor has `None`, `AUTO` log
//! files as [`LogFile::Auto`], unexpanded command lines, which Supervisor
//! splits only at spawn time).
//!
//! Submodules: [`datatypes`] (one option's text → value), [`deps`] (the
//! `depends_on` graph: names, cycles, start and stop order), [`host`] (what the
//! loader asks of the machine), `load/` (sections → model, one file per
//! section), [`dump`] (the model as JSON, the shape our oracle test compares
//! with Supervisor's).

use std::sync::Arc;

pub mod datatypes;
pub mod deps;
pub mod dump;
pub mod host;
mod load;

pub use host::{Host, UserInfo};
/// The in-memory machine the loader's tests run on (feature `testkit`).
#[cfg(any(test, feature = "testkit"))]
pub use load::testkit;
pub use load::{CliOverrides, ConfigError, CtlConfig, LoadError, load, load_ctl, search_paths};

/// Supervisor's seven log levels, with its numeric values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// The most verbose level, below TRACE.
    Blather = 3,
    /// Detailed tracing, below DEBUG.
    Trace = 5,
    /// Diagnostics such as child output echoed to the main log.
    Debug = 10,
    /// Normal operation: spawns, exits, state changes.
    Info = 20,
    /// Something unexpected that supervisord recovered from.
    Warn = 30,
    /// A failure of one operation.
    Error = 40,
    /// A failure that stops supervisord.
    Critical = 50,
}

impl LogLevel {
    /// Every level, most severe first.
    pub const ALL: [LogLevel; 7] = [
        LogLevel::Critical,
        LogLevel::Error,
        LogLevel::Warn,
        LogLevel::Info,
        LogLevel::Debug,
        LogLevel::Trace,
        LogLevel::Blather,
    ];

    /// The level for a (lower-case) name as `loglevel=` takes it.
    pub fn from_name(name: &str) -> Option<LogLevel> {
        Self::ALL.into_iter().find(|l| l.name() == name)
    }

    /// The lower-case name `loglevel=` takes.
    pub fn name(self) -> &'static str {
        match self {
            LogLevel::Critical => "critical",
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
            LogLevel::Blather => "blather",
        }
    }

    /// The upper-case name Supervisor writes in its log lines (`INFO`, `WARN`).
    pub fn label(self) -> &'static str {
        match self {
            LogLevel::Critical => "CRIT",
            LogLevel::Error => "ERRO",
            LogLevel::Warn => "WARN",
            LogLevel::Info => "INFO",
            LogLevel::Debug => "DEBG",
            LogLevel::Trace => "TRAC",
            LogLevel::Blather => "BLAT",
        }
    }
}

/// `autorestart=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoRestart {
    /// `false`: never restart.
    Never,
    /// `unexpected`: restart when the exit code is not in `exitcodes`.
    Unexpected,
    /// `true`: always restart.
    Always,
}

/// Where a child stream is logged (`stdout_logfile=`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogFile {
    /// `AUTO`: a file named after the process in `childlogdir`, created at
    /// start-up.
    Auto,
    /// `NONE`/`OFF` (or a redirected stderr): not logged to a file.
    None,
    /// An explicit path (`~` expanded, not made absolute, as Supervisor).
    Path(String),
}

/// The options of one child stream (stdout or stderr).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamConfig {
    /// Where the stream is logged.
    pub logfile: LogFile,
    /// Size at which the log rotates; 0 means never.
    pub logfile_maxbytes: i64,
    /// How many rotated files to keep; 0 means none.
    pub logfile_backups: i64,
    /// Capture-mode buffer size; 0 disables capture mode.
    pub capture_maxbytes: i64,
    /// Whether each chunk of output becomes a PROCESS_LOG event.
    pub events_enabled: bool,
    /// Whether output also goes to syslog.
    pub syslog: bool,
}

/// One process, fully expanded (`[program:x]` with numprocs gives several).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessConfig {
    /// The process name (`process_name=` expanded), unique in its group.
    pub name: String,
    /// The command line, expanded but not split (split at spawn time).
    pub command: String,
    /// `directory=`: where the child starts; `None` keeps the daemon's.
    pub directory: Option<String>,
    /// `umask=`: the child's umask; `None` inherits the daemon's.
    pub umask: Option<u32>,
    /// `priority=`: lower starts earlier and stops later.
    pub priority: i64,
    /// `autostart=`: start when supervisord starts or the group is added.
    pub autostart: bool,
    /// `autorestart=`: what an exit from RUNNING leads to.
    pub autorestart: AutoRestart,
    /// `startsecs=`: how long the child must stay up to count as started.
    pub startsecs: i64,
    /// `startretries=`: how many failed starts in a row are retried before FATAL.
    pub startretries: i64,
    /// The `user=` text as written, and the uid it resolved to.
    pub user: Option<String>,
    /// The uid `user` resolved to, checked when the config was loaded.
    pub uid: Option<u32>,
    /// The child's stdout options.
    pub stdout: StreamConfig,
    /// The child's stderr options (logfile `None` when redirected).
    pub stderr: StreamConfig,
    /// `stopsignal=`, as a signal number.
    pub stopsignal: i32,
    /// `stopwaitsecs=`: how long to wait after the stop signal before SIGKILL.
    pub stopwaitsecs: i64,
    /// `stopasgroup=`: send the stop signal to the child's process group.
    pub stopasgroup: bool,
    /// `killasgroup=`: send SIGKILL to the child's process group.
    pub killasgroup: bool,
    /// `exitcodes=`: the exit statuses that count as expected.
    pub exitcodes: Vec<i32>,
    /// `redirect_stderr=`: stderr goes down the stdout pipe.
    pub redirect_stderr: bool,
    /// `[supervisord] environment` merged with the program's own, in Python
    /// dict order (program keys override).
    pub environment: Vec<(String, String)>,
    /// `None` means AUTO: the daemon's own server URL.
    pub serverurl: Option<String>,
    /// Our readiness and dependency options (`depends_on`, `ready_when`,
    /// …); `None` when the section sets none of them, which keeps the
    /// process exactly as Supervisor 4.3.0 runs it. Shared by a section's
    /// `numprocs` copies.
    pub readiness: Option<Arc<Readiness>>,
}

/// The options of issue 18 (docs/readiness.md), beyond Supervisor's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    /// The section these options were read from (`program:api`), so a
    /// problem found after loading (an unknown name, a cycle) can name it.
    pub section: String,
    /// `depends_on=`: names of groups, `group:process` namespecs or
    /// process names, as written (resolved by [`deps`]).
    pub depends_on: Vec<String>,
    /// `ready_when=`: how readiness is detected; `None` = RUNNING after
    /// `startsecs`, as in Supervisor.
    pub ready_when: Option<ReadyWhen>,
    /// `ready_timeout=` in seconds: not ready by then is a failed start.
    pub ready_timeout: u64,
    /// `watchdog_secs=` (only with `ready_when=notify`): restart a child
    /// that sends no `WATCHDOG=1` for this long.
    pub watchdog_secs: Option<u64>,
    /// `stop_with_dependencies=`: stop this process when a dependency stops.
    pub stop_with_dependencies: bool,
}

/// The default of `ready_timeout=`, in seconds.
pub const DEFAULT_READY_TIMEOUT: u64 = 60;

/// `ready_when=`: one way of telling that a started child is ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadyWhen {
    /// `notify`: the child sends `READY=1` on `$NOTIFY_SOCKET` (systemd's
    /// `Type=notify` protocol).
    Notify,
    /// `tcp:HOST:PORT`: a TCP connection is accepted.
    Tcp {
        /// Host name or address (brackets of an IPv6 literal removed).
        host: String,
        /// The port.
        port: u16,
    },
    /// `http://HOST[:PORT]/PATH`: a GET answers 2xx or 3xx.
    Http {
        /// Host name or address (brackets removed).
        host: String,
        /// The port (80 when not written).
        port: u16,
        /// The path with its query, starting with `/`.
        path: String,
    },
    /// `exec:COMMAND ARGS`: the command exits 0.
    Exec {
        /// The command line split as Supervisor splits `command=`.
        argv: Vec<String>,
    },
    /// `log:REGEX`: a line of the child's stdout or stderr log matches.
    Log {
        /// The regular expression (checked at load).
        pattern: String,
    },
}

impl ReadyWhen {
    /// How it is written in the config (and shown as `waiting for …`).
    pub fn describe(&self) -> String {
        match self {
            ReadyWhen::Notify => "notify".to_string(),
            ReadyWhen::Tcp { host, port } => format!("tcp:{}:{port}", bracket(host)),
            ReadyWhen::Http { host, port, path } => {
                format!("http://{}:{port}{path}", bracket(host))
            }
            ReadyWhen::Exec { argv } => format!("exec:{}", argv.join(" ")),
            ReadyWhen::Log { pattern } => format!("log:{pattern}"),
        }
    }
}

fn bracket(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

impl StreamConfig {
    /// Supervisor's defaults: AUTO log, 50 MB, 10 backups, no capture.
    pub fn supervisor_default() -> Self {
        StreamConfig {
            logfile: LogFile::Auto,
            logfile_maxbytes: 50 * 1024 * 1024,
            logfile_backups: 10,
            capture_maxbytes: 0,
            events_enabled: false,
            syslog: false,
        }
    }
}

impl ProcessConfig {
    /// A process with Supervisor's default for every option but these two.
    pub fn with_defaults(name: &str, command: &str) -> Self {
        ProcessConfig {
            name: name.to_string(),
            command: command.to_string(),
            directory: None,
            umask: None,
            priority: 999,
            autostart: true,
            autorestart: AutoRestart::Unexpected,
            startsecs: 1,
            startretries: 3,
            user: None,
            uid: None,
            stdout: StreamConfig::supervisor_default(),
            stderr: StreamConfig::supervisor_default(),
            stopsignal: 15,
            stopwaitsecs: 10,
            stopasgroup: false,
            killasgroup: false,
            exitcodes: vec![0],
            redirect_stderr: false,
            environment: Vec::new(),
            serverurl: None,
            readiness: None,
        }
    }
}

/// The listening socket of an `[fcgi-program:x]` group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FcgiSocket {
    /// `tcp://host:port`.
    Tcp {
        /// The host name or address, lower-cased.
        host: String,
        /// The TCP port.
        port: u16,
        /// `socket_backlog=`; `None` leaves the system default.
        backlog: Option<i64>,
    },
    /// `unix:///path`.
    Unix {
        /// The socket file, absolute and normalised.
        path: String,
        /// (uid, gid) to chown the socket to: `socket_owner=`, or the program's user.
        owner: Option<(i64, i64)>,
        /// `socket_mode=` (0700 by default).
        mode: Option<u32>,
        /// `socket_backlog=`; `None` leaves the system default.
        backlog: Option<i64>,
    },
}

impl FcgiSocket {
    /// The socket's URL as Supervisor prints it (`tcp://host:port`, `unix:///path`).
    pub fn url(&self) -> String {
        match self {
            FcgiSocket::Tcp { host, port, .. } => format!("tcp://{host}:{port}"),
            FcgiSocket::Unix { path, .. } => format!("unix://{path}"),
        }
    }
}

/// What kind of group this is, with the options only that kind has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupKind {
    /// `[program:x]` (homogeneous) or `[group:x]` (heterogeneous).
    Process,
    /// `[eventlistener:x]`: a pool of listeners.
    EventListener {
        /// `buffer_size=`: how many events wait for a free listener.
        buffer_size: i64,
        /// Subscribed event type names, sorted.
        events: Vec<String>,
        /// `result_handler=` (only Supervisor's default exists here).
        result_handler: String,
    },
    /// `[fcgi-program:x]`.
    FastCgi {
        /// The listening socket its processes share.
        socket: FcgiSocket,
    },
}

/// A process group as supervisord runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupConfig {
    /// The group name (the section name after the colon).
    pub name: String,
    /// `priority=`: lower groups start earlier and stop later.
    pub priority: i64,
    /// Process group, listener pool or FastCGI group.
    pub kind: GroupKind,
    /// Sorted by (priority, name), as Supervisor sorts them.
    pub processes: Vec<ProcessConfig>,
}

/// `[supervisord]`, after command-line overrides (Supervisor's "realized"
/// options).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupervisordConfig {
    /// An absolute, normalised path, or `syslog`.
    pub logfile: String,
    /// Size at which the main log rotates; 0 means never.
    pub logfile_maxbytes: i64,
    /// How many rotated main logs to keep.
    pub logfile_backups: i64,
    /// The lowest level the main log records.
    pub loglevel: LogLevel,
    /// Absolute and normalised.
    pub pidfile: String,
    /// The daemon's umask.
    pub umask: u32,
    /// Stay in the foreground.
    pub nodaemon: bool,
    /// In the foreground, keep log lines off stdout.
    pub silent: bool,
    /// File descriptors the daemon requires (raising its soft limit).
    pub minfds: i64,
    /// Processes the daemon requires (raising its soft limit).
    pub minprocs: i64,
    /// Keep stale `AUTO` child logs at start-up.
    pub nocleanup: bool,
    /// Where `AUTO` child logs go.
    pub childlogdir: String,
    /// The user to switch to, as written.
    pub user: Option<String>,
    /// The uid `user` resolved to.
    pub uid: Option<u32>,
    /// Where to change directory when daemonizing.
    pub directory: Option<String>,
    /// Strip ANSI escapes from child output before logging it.
    pub strip_ansi: bool,
    /// What `getIdentification` returns.
    pub identifier: String,
    /// `environment=`: added to every child's environment and to `ENV_*` names.
    pub environment: Vec<(String, String)>,
}

/// An HTTP server section (`[inet_http_server]`, `[unix_http_server]`, or
/// their `:suffix` variants).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// The section name, e.g. `unix_http_server`.
    pub section: String,
    /// The part after `:` in the section name, if any.
    pub name: Option<String>,
    /// Where the server listens.
    pub listen: Listen,
    /// Basic-auth user name, when the server requires one.
    pub username: Option<String>,
    /// Plain text, or `{SHA}` followed by the hex SHA-1 of the password.
    pub password: Option<String>,
    /// `max_connections` (ours; Supervisor has no cap): the most
    /// connections this server holds open at once. `None`: the default.
    pub max_connections: Option<usize>,
}

/// Where an HTTP server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    /// A TCP socket (`port=host:port`).
    Inet {
        /// Lower-cased; empty for all interfaces.
        host: String,
        /// The TCP port.
        port: u16,
    },
    /// A unix domain socket (`file=`).
    Unix {
        /// Absolute and normalised.
        file: String,
        /// `chmod=`: the socket file's mode.
        chmod: u32,
        /// (uid, gid), `-1` meaning "leave as is".
        chown: (i64, i64),
    },
}

/// An `[rpcinterface:x]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcInterfaceConfig {
    /// The section name after the colon.
    pub name: String,
    /// `supervisor.rpcinterface_factory=` (only Supervisor's own exists here).
    pub factory: String,
    /// The section's other keys, expanded, which would go to the factory.
    pub kwargs: Vec<(String, String)>,
}

/// The factory of Supervisor's own `supervisor.*` namespace, the only one a
/// Rust daemon can provide.
pub const MAIN_RPCINTERFACE_FACTORY: &str = "supervisor.rpcinterface:make_main_rpcinterface";
/// The default (and only supported) eventlistener result handler.
pub const DEFAULT_RESULT_HANDLER: &str = "supervisor.dispatchers:default_handler";

/// A loaded, validated supervisord configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The config file as found or given.
    pub config_file: String,
    /// Absolute directory of the config file (`%(here)s`).
    pub here: String,
    /// `[supervisord]`, with command-line overrides applied.
    pub supervisord: SupervisordConfig,
    /// Inet servers first, then unix ones, as Supervisor orders them.
    pub servers: Vec<ServerConfig>,
    /// `[rpcinterface:x]` sections, in file order.
    pub rpcinterfaces: Vec<RpcInterfaceConfig>,
    /// Sorted by (priority, name).
    pub groups: Vec<GroupConfig>,
    /// The URL children get as `SUPERVISOR_SERVER_URL` (first unix server,
    /// else first inet server), if any server is configured.
    pub serverurl: Option<String>,
    /// Files read through `[include]`, in reading order.
    pub included_files: Vec<String>,
    /// Supervisor's parse warnings, word for word.
    pub warnings: Vec<String>,
    /// Supervisor's parse infos (`Included extra file …`), word for word.
    pub infos: Vec<String>,
}

/// The commented sample configuration `echo_supervisord_conf` prints.
pub const SAMPLE_CONFIG: &str = include_str!("sample.conf");
