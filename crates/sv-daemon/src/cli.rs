//! The `supervisord` command line: Supervisor's flags with their short and
//! long names (long names may be abbreviated to a unique prefix, as with
//! getopt), parsed by clap, validated with Supervisor's datatypes, and
//! reported in Supervisor's usage-error format:
//!
//! ```text
//! Error: <message>
//! For help, use <argv0> -h
//! ```
//!
//! with exit status 2. Two flags are ours: `--check-config` and
//! `--dump-config`.

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{ArgAction, CommandFactory, FromArgMatches, Parser};
use sv_core::config::{CliOverrides, Host, datatypes as dt};

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Print the usage text and exit 0.
    Help,
    /// Print the version and exit 0.
    Version,
    /// Run (or, with `check`/`dump`, only check) with this configuration.
    Run(Box<Invocation>),
}

/// What to do after loading the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Supervise (the normal case).
    #[default]
    Run,
    /// Load, validate, print a summary, exit.
    Check,
    /// Load, validate, print the resolved configuration as JSON, exit.
    Dump,
}

/// A parsed, validated command line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Invocation {
    /// `-c`; `None` means "search the default locations".
    pub configfile: Option<String>,
    pub overrides: CliOverrides,
    pub mode: Mode,
}

/// A usage error: printed as `Error: <message>` plus the help hint, exit 2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

#[derive(Parser, Debug)]
#[command(
    name = "supervisord",
    disable_help_flag = true,
    disable_version_flag = true,
    infer_long_args = true,
    args_override_self = false
)]
struct RawArgs {
    #[arg(short = 'h', long = "help", short_alias = '?', action = ArgAction::SetTrue)]
    help: bool,
    #[arg(short = 'v', long = "version", action = ArgAction::SetTrue)]
    version: bool,
    #[arg(short = 'c', long = "configuration")]
    configuration: Option<String>,
    #[arg(short = 'n', long = "nodaemon", action = ArgAction::SetTrue)]
    nodaemon: bool,
    #[arg(short = 's', long = "silent", action = ArgAction::SetTrue)]
    silent: bool,
    #[arg(short = 'u', long = "user")]
    user: Option<String>,
    #[arg(short = 'm', long = "umask")]
    umask: Option<String>,
    #[arg(short = 'd', long = "directory")]
    directory: Option<String>,
    #[arg(short = 'l', long = "logfile")]
    logfile: Option<String>,
    #[arg(short = 'y', long = "logfile_maxbytes")]
    logfile_maxbytes: Option<String>,
    #[arg(short = 'z', long = "logfile_backups")]
    logfile_backups: Option<String>,
    #[arg(short = 'e', long = "loglevel")]
    loglevel: Option<String>,
    #[arg(short = 'j', long = "pidfile")]
    pidfile: Option<String>,
    #[arg(short = 'i', long = "identifier")]
    identifier: Option<String>,
    #[arg(short = 'q', long = "childlogdir")]
    childlogdir: Option<String>,
    #[arg(short = 'k', long = "nocleanup", action = ArgAction::SetTrue)]
    nocleanup: bool,
    #[arg(short = 'a', long = "minfds")]
    minfds: Option<String>,
    #[arg(short = 't', long = "strip_ansi", action = ArgAction::SetTrue)]
    strip_ansi: bool,
    #[arg(long = "minprocs")]
    minprocs: Option<String>,
    /// Accepted for compatibility; Python's profiler has no Rust meaning.
    #[arg(long = "profile_options")]
    profile_options: Option<String>,
    #[arg(long = "check-config", action = ArgAction::SetTrue)]
    check_config: bool,
    #[arg(long = "dump-config", action = ArgAction::SetTrue)]
    dump_config: bool,
    #[arg(hide = true, num_args = 0..)]
    positional: Vec<String>,
}

/// The usage text printed by `-h`.
pub fn help_text(argv0: &str) -> String {
    format!(
        "supervisord -- run a set of applications as daemons.

Usage: {argv0} [options]

Options:
-c/--configuration FILENAME -- configuration file path (searches if not given)
-n/--nodaemon -- run in the foreground (same as 'nodaemon=true' in config file)
-s/--silent -- no logs to stdout (maps to 'silent=true' in config file)
-h/--help -- print this usage message and exit
-v/--version -- print supervisord version number and exit
-u/--user USER -- run supervisord as this user (or numeric uid)
-m/--umask UMASK -- use this umask for daemon subprocess (default is 022)
-d/--directory DIRECTORY -- directory to chdir to when daemonized
-l/--logfile FILENAME -- use FILENAME as logfile path
-y/--logfile_maxbytes BYTES -- use BYTES to limit the max size of logfile
-z/--logfile_backups NUM -- number of backups to keep when max bytes reached
-e/--loglevel LEVEL -- use LEVEL as log level (debug,info,warn,error,critical)
-j/--pidfile FILENAME -- write a pid file for the daemon process to FILENAME
-i/--identifier STR -- identifier used for this instance of supervisord
-q/--childlogdir DIRECTORY -- the log directory for child process logs
-k/--nocleanup -- do not remove old AUTO child log files at startup
-a/--minfds NUM -- the minimum number of file descriptors for start success
-t/--strip_ansi -- strip ansi escape codes from process output
--minprocs NUM  -- the minimum number of processes available for start success
--profile_options OPTIONS -- accepted for compatibility and ignored

supervisor-rs additions:
--check-config -- load and validate the configuration, print a summary, exit
                  (status 0 when valid, 2 when not)
--dump-config -- load and validate the configuration, print it resolved as JSON
"
    )
}

fn clap_error_message(err: &clap::Error) -> String {
    let arg = || match err.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(s)) => s.split_whitespace().next().unwrap_or("").to_string(),
        _ => String::new(),
    };
    match err.kind() {
        ErrorKind::UnknownArgument => format!("option {} not recognized", arg()),
        ErrorKind::InvalidValue | ErrorKind::NoEquals => {
            format!("option {} requires argument", arg())
        }
        ErrorKind::ArgumentConflict => format!("conflicting command line option {}", arg()),
        ErrorKind::TooManyValues => format!("option {} must not have an argument", arg()),
        _ => err
            .to_string()
            .lines()
            .next()
            .unwrap_or("bad command line")
            .trim_start_matches("error: ")
            .to_string(),
    }
}

fn convert<T>(
    flag: &str,
    value: Option<String>,
    f: impl FnOnce(&str) -> Result<T, String>,
) -> Result<Option<T>, UsageError> {
    value
        .map(|v| {
            f(&v).map_err(|msg| {
                UsageError(format!(
                    "invalid value for {flag} {}: {msg}",
                    sv_core::pyfmt::py_repr_str(&v)
                ))
            })
        })
        .transpose()
}

/// Parse `args` (without the program name).
pub fn parse(host: &dyn Host, args: &[String]) -> Result<Action, UsageError> {
    let command = RawArgs::command();
    let matches = command
        .try_get_matches_from(
            std::iter::once("supervisord".to_string()).chain(args.iter().cloned()),
        )
        .map_err(|e| UsageError(clap_error_message(&e)))?;
    let raw =
        RawArgs::from_arg_matches(&matches).map_err(|e| UsageError(clap_error_message(&e)))?;
    if raw.help {
        return Ok(Action::Help);
    }
    if raw.version {
        return Ok(Action::Version);
    }
    if !raw.positional.is_empty() {
        let quoted: Vec<String> = raw
            .positional
            .iter()
            .map(|p| sv_core::pyfmt::py_repr_str(p))
            .collect();
        return Err(UsageError(format!(
            "positional arguments are not supported: [{}]",
            quoted.join(", ")
        )));
    }
    let overrides = CliOverrides {
        nodaemon: raw.nodaemon,
        silent: raw.silent,
        user: raw.user,
        umask: convert("-m", raw.umask, dt::octal)?,
        directory: convert("-d", raw.directory, |v| dt::existing_directory(host, v))?,
        logfile: convert("-l", raw.logfile, |v| dt::existing_dirpath(host, v))?,
        logfile_maxbytes: convert("-y", raw.logfile_maxbytes, dt::byte_size)?,
        logfile_backups: convert("-z", raw.logfile_backups, dt::integer)?,
        loglevel: convert("-e", raw.loglevel, dt::logging_level)?,
        pidfile: convert("-j", raw.pidfile, |v| dt::existing_dirpath(host, v))?,
        identifier: raw.identifier,
        childlogdir: convert("-q", raw.childlogdir, |v| dt::existing_directory(host, v))?,
        nocleanup: raw.nocleanup,
        minfds: convert("-a", raw.minfds, dt::integer)?,
        minprocs: convert("--minprocs", raw.minprocs, dt::integer)?,
        strip_ansi: raw.strip_ansi,
    };
    let mode = match (raw.check_config, raw.dump_config) {
        (_, true) => Mode::Dump,
        (true, false) => Mode::Check,
        (false, false) => Mode::Run,
    };
    Ok(Action::Run(Box::new(Invocation {
        configfile: raw.configuration,
        overrides,
        mode,
    })))
}

/// The config file to use: `-c` as given, else the first of Supervisor's
/// search paths that exists.
pub fn find_config(
    host: &dyn Host,
    argv0: &str,
    given: Option<&str>,
) -> Result<String, UsageError> {
    if let Some(path) = given {
        return Ok(path.to_string());
    }
    let paths = sv_core::config::search_paths(argv0);
    paths
        .iter()
        .find(|p| host.exists(p))
        .cloned()
        .ok_or_else(|| {
            UsageError(format!(
                "No config file found at default paths ({}); use the -c option to specify a config file at a different path",
                paths.join(", ")
            ))
        })
}
