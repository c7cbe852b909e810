//! supervisord's own log: Supervisor's line format
//! (`2026-11-22 01:34:05,123 INFO spawned: 'x' with pid 42`), its seven
//! levels, a rotating file (or syslog when `logfile=syslog`), and an echo to
//! stdout in the foreground unless `silent`.

use std::io::Write;

use sv_core::config::{LogLevel, SupervisordConfig};

use crate::logfile::RotatingFile;
use crate::sys;

/// Where the main log goes.
#[derive(Debug)]
pub struct MainLog {
    level: LogLevel,
    file: Option<RotatingFile>,
    syslog: bool,
    stdout: bool,
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

impl MainLog {
    /// A log that only echoes to stderr: for messages before the real log
    /// exists.
    pub fn bootstrap() -> Self {
        MainLog {
            level: LogLevel::Info,
            file: None,
            syslog: false,
            stdout: true,
        }
    }

    /// The log `[supervisord]` asks for. `foreground` is `nodaemon`.
    pub fn open(config: &SupervisordConfig) -> Result<Self, String> {
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
                .map_err(|e| format!("could not open log file {}: {e}", config.logfile))?,
            )
        };
        Ok(MainLog {
            level: config.loglevel,
            file,
            syslog,
            stdout: config.nodaemon && !config.silent,
        })
    }

    pub fn level(&self) -> LogLevel {
        self.level
    }

    /// Whether a message at `level` would be written (skip formatting otherwise).
    pub fn enabled(&self, level: LogLevel) -> bool {
        level >= self.level
    }

    pub fn log(&mut self, level: LogLevel, message: &str) {
        if !self.enabled(level) {
            return;
        }
        let line = format!("{} {} {message}\n", timestamp(), level.label());
        if let Some(file) = self.file.as_mut() {
            file.write(line.as_bytes());
        }
        if self.syslog {
            for part in line.trim_end_matches('\n').split('\n') {
                sys::syslog_line(part);
            }
        }
        if self.stdout {
            let _ = std::io::stdout().lock().write_all(line.as_bytes());
        }
    }

    /// SIGUSR2: reopen the file (after logrotate moved it).
    pub fn reopen(&mut self) {
        if let Some(file) = self.file.as_mut() {
            file.reopen();
        }
    }

    pub fn critical(&mut self, m: &str) {
        self.log(LogLevel::Critical, m)
    }
    pub fn warn(&mut self, m: &str) {
        self.log(LogLevel::Warn, m)
    }
    pub fn info(&mut self, m: &str) {
        self.log(LogLevel::Info, m)
    }
    pub fn debug(&mut self, m: &str) {
        self.log(LogLevel::Debug, m)
    }
}
