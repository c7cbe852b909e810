//! The typed model of `supervisord.conf` and its loader.
//!
//! [`load`] reads the file (and its `[include]`s) through a [`Host`], checks
//! every option, and returns either a [`Config`] or every problem found, each
//! naming the file, line, section and option. The model keeps Supervisor's
//! meaning for each field (`None` where Supervisor has `None`, `AUTO` log
//! files as [`LogFile::Auto`], unexpanded command lines, which Supervisor
//! splits only at spawn time).
//!
//! Submodules: [`datatypes`] (one option's text → value), [`host`] (what the
//! loader asks of the machine), `load` (sections → model), [`dump`] (the
//! model as JSON, the shape our oracle test compares with Supervisor's).

pub mod datatypes;
pub mod dump;
pub mod host;
mod load;

pub use host::{Host, UserInfo};
pub use load::{CliOverrides, ConfigError, CtlConfig, LoadError, load, load_ctl, search_paths};

/// Supervisor's seven log levels, with its numeric values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    Blather = 3,
    Trace = 5,
    Debug = 10,
    Info = 20,
    Warn = 30,
    Error = 40,
    Critical = 50,
}

impl LogLevel {
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
    pub logfile: LogFile,
    pub logfile_maxbytes: i64,
    pub logfile_backups: i64,
    pub capture_maxbytes: i64,
    pub events_enabled: bool,
    pub syslog: bool,
}

/// One process, fully expanded (`[program:x]` with numprocs gives several).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessConfig {
    pub name: String,
    /// The command line, expanded but not split (split at spawn time).
    pub command: String,
    pub directory: Option<String>,
    pub umask: Option<u32>,
    pub priority: i64,
    pub autostart: bool,
    pub autorestart: AutoRestart,
    pub startsecs: i64,
    pub startretries: i64,
    /// The `user=` text as written, and the uid it resolved to.
    pub user: Option<String>,
    pub uid: Option<u32>,
    pub stdout: StreamConfig,
    pub stderr: StreamConfig,
    pub stopsignal: i32,
    pub stopwaitsecs: i64,
    pub stopasgroup: bool,
    pub killasgroup: bool,
    pub exitcodes: Vec<i32>,
    pub redirect_stderr: bool,
    /// `[supervisord] environment` merged with the program's own, in Python
    /// dict order (program keys override).
    pub environment: Vec<(String, String)>,
    /// `None` means AUTO: the daemon's own server URL.
    pub serverurl: Option<String>,
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
        }
    }
}

/// The listening socket of an `[fcgi-program:x]` group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FcgiSocket {
    Tcp {
        host: String,
        port: u16,
        backlog: Option<i64>,
    },
    Unix {
        path: String,
        owner: Option<(i64, i64)>,
        mode: Option<u32>,
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
        buffer_size: i64,
        /// Subscribed event type names, sorted.
        events: Vec<String>,
        result_handler: String,
    },
    /// `[fcgi-program:x]`.
    FastCgi { socket: FcgiSocket },
}

/// A process group as supervisord runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupConfig {
    pub name: String,
    pub priority: i64,
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
    pub logfile_maxbytes: i64,
    pub logfile_backups: i64,
    pub loglevel: LogLevel,
    /// Absolute and normalised.
    pub pidfile: String,
    pub umask: u32,
    pub nodaemon: bool,
    pub silent: bool,
    pub minfds: i64,
    pub minprocs: i64,
    pub nocleanup: bool,
    pub childlogdir: String,
    pub user: Option<String>,
    pub uid: Option<u32>,
    pub directory: Option<String>,
    pub strip_ansi: bool,
    pub identifier: String,
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
    pub listen: Listen,
    pub username: Option<String>,
    /// Plain text, or `{SHA}` followed by the hex SHA-1 of the password.
    pub password: Option<String>,
}

/// Where an HTTP server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    Inet {
        /// Lower-cased; empty for all interfaces.
        host: String,
        port: u16,
    },
    Unix {
        /// Absolute and normalised.
        file: String,
        chmod: u32,
        /// (uid, gid), `-1` meaning "leave as is".
        chown: (i64, i64),
    },
}

/// An `[rpcinterface:x]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcInterfaceConfig {
    pub name: String,
    pub factory: String,
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
    pub supervisord: SupervisordConfig,
    /// Inet servers first, then unix ones, as Supervisor orders them.
    pub servers: Vec<ServerConfig>,
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

/// Every event type name a listener may subscribe to.
pub const EVENT_TYPES: &[&str] = &[
    "EVENT",
    "PROCESS_COMMUNICATION",
    "PROCESS_COMMUNICATION_STDERR",
    "PROCESS_COMMUNICATION_STDOUT",
    "PROCESS_GROUP",
    "PROCESS_GROUP_ADDED",
    "PROCESS_GROUP_REMOVED",
    "PROCESS_LOG",
    "PROCESS_LOG_STDERR",
    "PROCESS_LOG_STDOUT",
    "PROCESS_STATE",
    "PROCESS_STATE_BACKOFF",
    "PROCESS_STATE_EXITED",
    "PROCESS_STATE_FATAL",
    "PROCESS_STATE_RUNNING",
    "PROCESS_STATE_STARTING",
    "PROCESS_STATE_STOPPED",
    "PROCESS_STATE_STOPPING",
    "PROCESS_STATE_UNKNOWN",
    "REMOTE_COMMUNICATION",
    "SUPERVISOR_STATE_CHANGE",
    "SUPERVISOR_STATE_CHANGE_RUNNING",
    "SUPERVISOR_STATE_CHANGE_STOPPING",
    "TICK",
    "TICK_3600",
    "TICK_5",
    "TICK_60",
];

/// The commented sample configuration `echo_supervisord_conf` prints.
pub const SAMPLE_CONFIG: &str = include_str!("sample.conf");

#[cfg(test)]
mod tests;
