//! supervisord's own log: Supervisor's line format
//! (`2026-11-22 01:34:05,123 INFO spawned: 'x' with pid 42`), its seven
//! levels, a rotating file (or syslog when `logfile=syslog`), and an echo to
//! stdout in the foreground unless `silent`.
//!
//! A main log that cannot be written (a full disk, `/dev/full`) never stops
//! the daemon: the lines are dropped, and the loss is said — at most every
//! [`DROP_REPORT_EVERY`] — on the sinks that still work: the stdout echo
//! when it is on (stderr otherwise) and syslog.

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;
use std::time::Instant;

use sv_core::config::{LogLevel, SupervisordConfig};

use crate::capture::DROP_REPORT_EVERY;
use crate::logfile::RotatingFile;
use crate::sys;

/// The main log file cannot be opened (a start-up error).
#[derive(Debug, thiserror::Error)]
#[error("could not open log file {path}: {source}")]
pub struct OpenError {
    path: String,
    source: std::io::Error,
}

/// Where the main log goes. Cheap to clone: the actor and every pipe reader
/// (for the debug echo of child output) share one log on the actor's thread.
#[derive(Debug, Clone)]
pub struct MainLog(Rc<RefCell<Inner>>);

#[derive(Debug)]
struct Inner {
    level: LogLevel,
    file: Option<RotatingFile>,
    syslog: bool,
    stdout: bool,
    /// Bytes of the file's `dropped` already reported.
    reported_drops: u64,
    last_report: Option<Instant>,
}

/// `YYYY-MM-DD HH:MM:SS,mmm` in local time.
pub fn timestamp() -> String {
    let now = jiff::Zoned::now();
    format!(
        "{},{:03}",
        now.strftime("%Y-%m-%d %H:%M:%S"),
        now.millisecond()
    )
}

impl Inner {
    /// Say, on the other sinks, that the file lost lines (throttled).
    fn report_drops(&mut self) {
        let Some(file) = self.file.as_ref() else {
            return;
        };
        if file.dropped == self.reported_drops
            || self
                .last_report
                .is_some_and(|at| at.elapsed() < DROP_REPORT_EVERY)
        {
            return;
        }
        let why = file
            .last_error
            .as_ref()
            .map_or_else(|| "unknown error".to_string(), ToString::to_string);
        let message = format!(
            "could not write the main log to {}: {why} ({} bytes lost so far)",
            file.path().display(),
            file.dropped
        );
        self.reported_drops = file.dropped;
        self.last_report = Some(Instant::now());
        let line = format!("{} {} {message}\n", timestamp(), LogLevel::Error.label());
        if self.stdout {
            let _ = std::io::stdout().lock().write_all(line.as_bytes());
        } else {
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
        }
        sys::syslog_line(&message);
    }
}

impl MainLog {
    /// A log that only echoes to stderr: for messages before the real log
    /// exists.
    pub fn bootstrap() -> Self {
        MainLog(Rc::new(RefCell::new(Inner {
            level: LogLevel::Info,
            file: None,
            syslog: false,
            stdout: true,
            reported_drops: 0,
            last_report: None,
        })))
    }

    /// The log `[supervisord]` asks for. `foreground` is `nodaemon`.
    pub fn open(config: &SupervisordConfig) -> Result<Self, OpenError> {
        let syslog = config.logfile == "syslog";
        let file = if syslog {
            None
        } else {
            Some(
                RotatingFile::open(
                    &config.logfile,
                    config.logfile_maxbytes,
                    config.logfile_backups,
                )
                .map_err(|source| OpenError {
                    path: config.logfile.clone(),
                    source,
                })?,
            )
        };
        Ok(MainLog(Rc::new(RefCell::new(Inner {
            level: config.loglevel,
            file,
            syslog,
            stdout: config.nodaemon && !config.silent,
            reported_drops: 0,
            last_report: None,
        }))))
    }

    pub fn level(&self) -> LogLevel {
        self.0.borrow().level
    }

    /// Whether a message at `level` would be written (skip formatting otherwise).
    pub fn enabled(&self, level: LogLevel) -> bool {
        level >= self.0.borrow().level
    }

    pub fn log(&self, level: LogLevel, message: &str) {
        let mut inner = self.0.borrow_mut();
        if level < inner.level {
            return;
        }
        let line = format!("{} {} {message}\n", timestamp(), level.label());
        if let Some(file) = inner.file.as_mut() {
            file.write(line.as_bytes());
        }
        if inner.syslog {
            for part in line.trim_end_matches('\n').split('\n') {
                sys::syslog_line(part);
            }
        }
        if inner.stdout {
            let _ = std::io::stdout().lock().write_all(line.as_bytes());
        }
        inner.report_drops();
    }

    /// SIGUSR2: reopen the file (after logrotate moved it).
    pub fn reopen(&self) {
        if let Some(file) = self.0.borrow_mut().file.as_mut() {
            file.reopen();
        }
    }

    /// The log file's path, unless logging to syslog.
    pub fn path(&self) -> Option<std::path::PathBuf> {
        self.0
            .borrow()
            .file
            .as_ref()
            .map(|f| f.path().to_path_buf())
    }

    /// `clearLog`: delete the file and start a new one.
    pub fn clear(&self) -> std::io::Result<()> {
        match self.0.borrow_mut().file.as_mut() {
            Some(file) => file.clear(),
            None => Ok(()),
        }
    }

    pub fn critical(&self, m: &str) {
        self.log(LogLevel::Critical, m)
    }
    pub fn warn(&self, m: &str) {
        self.log(LogLevel::Warn, m)
    }
    pub fn info(&self, m: &str) {
        self.log(LogLevel::Info, m)
    }
    pub fn debug(&self, m: &str) {
        self.log(LogLevel::Debug, m)
    }
}
