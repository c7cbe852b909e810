//! A process's log files, made when Supervisor makes them (issue 19).
//!
//! Supervisor 4.3.0 opens an explicitly named child log when the process
//! is spawned (its output dispatchers, and their loggers, are made in
//! `Subprocess.spawn`): before the first start the file does not exist,
//! `readProcess*Log` answers `NO_FILE`, `tail` answers `('', 0, false)`
//! and `clearProcessLogs` does nothing. Only AUTO logs exist earlier: each
//! is named and created empty (`mkstemp`) when its group is added.
//!
//! We do the same without holding the actor's first turn: opening 6000
//! files took 84 % of launch → first answer at 6000 programs (ext4
//! allocating inodes). So a group's AUTO names are chosen when it is added
//! (no I/O), the empty files are created [`AUTO_BATCH`] at a time on the
//! actor's idle turns (at once for a process that is spawned or whose log
//! is asked for first), and a process's [`StreamLog`] sinks — its open
//! files, syslog, echo and event taps — are made after its first
//! successful spawn, before any of its output is read, and kept from then
//! on (SIGUSR2, `clearProcessLogs`, rotation act on them). The boot wave
//! opens them a batch ahead of its spawns (`boot.rs`), for processes whose
//! command is found.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use sv_core::config::{LogFile, LogLevel, ProcessConfig, StreamConfig};

use super::Supervisor;
use super::table::ProcKey;
use crate::capture::{self, EventTap, StreamLog};

/// How many processes' AUTO logs one idle turn of the actor creates (two
/// files each at most; a creation can cost a millisecond on a busy disk).
pub(super) const AUTO_BATCH: usize = 16;

/// The AUTO log names of one process, chosen when its group was added.
#[derive(Debug)]
pub(crate) struct AutoLogs {
    /// stdout's and stderr's (`None`: that stream is not AUTO).
    paths: [Option<Box<str>>; 2],
    /// Whether the empty files have been created.
    created: bool,
}

impl AutoLogs {
    /// Name `config`'s AUTO logs (`None` when it has none). Only the name
    /// is chosen here: Supervisor's `mkstemp` name, without the file.
    pub fn choose(
        config: &ProcessConfig,
        childlogdir: &str,
        identifier: &str,
    ) -> Option<Box<AutoLogs>> {
        let mut paths = [None, None];
        let mut any = false;
        for (slot, (channel, stream)) in paths.iter_mut().zip(streams(config)) {
            if let Some(stream) = stream.filter(|s| s.logfile == LogFile::Auto) {
                *slot = capture::log_path(stream, &config.name, channel, childlogdir, identifier)
                    .map(String::into_boxed_str);
                any = true;
            }
        }
        any.then(|| {
            Box::new(AutoLogs {
                paths,
                created: false,
            })
        })
    }
}

/// A process's two streams: stdout, and stderr unless it is redirected.
fn streams(config: &ProcessConfig) -> [(&'static str, Option<&StreamConfig>); 2] {
    [
        ("stdout", Some(&config.stdout)),
        (
            "stderr",
            (!config.redirect_stderr).then_some(&config.stderr),
        ),
    ]
}

/// Where a stream's log file is (whether or not it exists yet): the
/// configured path, or the AUTO name chosen for it; what `getProcessInfo`
/// reports and the log calls read, as Supervisor reads
/// `process.config.stdout_logfile`.
pub(crate) fn log_path<'a>(
    config: &'a ProcessConfig,
    auto: Option<&'a AutoLogs>,
    stderr: bool,
) -> Option<&'a str> {
    let (_, stream) = streams(config)[usize::from(stderr)];
    match &stream?.logfile {
        LogFile::None => None,
        LogFile::Path(path) => Some(path),
        LogFile::Auto => auto.and_then(|a| a.paths[usize::from(stderr)].as_deref()),
    }
}

/// The AUTO logs still to create, in the order their groups were added.
#[derive(Default)]
pub(super) struct PendingAutoLogs(VecDeque<ProcKey>);

impl PendingAutoLogs {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Supervisor {
    /// A process was added whose AUTO logs are to be created.
    pub(super) fn queue_auto_logs(&mut self, key: ProcKey) {
        self.pending_auto_logs.0.push_back(key);
    }

    /// Create the next [`AUTO_BATCH`] processes' AUTO logs; whether some
    /// remain.
    pub(super) fn auto_logs_step(&mut self) -> bool {
        for _ in 0..AUTO_BATCH {
            let Some(key) = self.pending_auto_logs.0.pop_front() else {
                break;
            };
            self.create_auto_logs(key);
        }
        !self.pending_auto_logs.is_empty()
    }

    /// Create `key`'s empty AUTO log files, if not done yet (a process
    /// removed meanwhile is skipped).
    pub(super) fn create_auto_logs(&mut self, key: ProcKey) {
        let Some(managed) = self.table.get_mut(key) else {
            return;
        };
        let Some(auto) = managed.auto_logs.as_mut().filter(|a| !a.created) else {
            return;
        };
        auto.created = true;
        for path in auto.paths.iter().flatten() {
            if let Err(e) = create_empty(path) {
                self.log.log(
                    LogLevel::Warn,
                    &format!(
                        "could not open log file {path} for {}: {e}",
                        managed.process.name()
                    ),
                );
            }
        }
    }

    /// Before `key`'s child is spawned: its AUTO files exist and its sinks
    /// (open log files, syslog, echo, event taps) are made, once; a log
    /// file that could not be opened at an earlier spawn is tried again,
    /// as Supervisor opens its files anew at every spawn.
    pub(super) fn open_logs(&mut self, key: ProcKey) {
        self.create_auto_logs(key);
        let Some(managed) = self.table.get(key) else {
            return;
        };
        let pc = std::sync::Arc::clone(&managed.process.config);
        // The stdout sink is always made, so its presence says "made".
        if managed.logs.stdout.is_some() {
            for (stderr, (_, stream)) in [false, true].into_iter().zip(streams(&pc)) {
                let sink = if stderr {
                    &managed.logs.stderr
                } else {
                    &managed.logs.stdout
                };
                let (Some(sink), Some(stream)) = (sink, stream) else {
                    continue;
                };
                if sink.borrow().file().is_some() {
                    continue;
                }
                let path = log_path(&pc, managed.auto_logs.as_deref(), stderr);
                if let Some(file) = path.and_then(|path| self.open_file(&pc.name, path, stream)) {
                    sink.borrow_mut().set_file(file);
                }
            }
            return;
        }
        let is_listener = managed.listener.is_some();
        let strip_ansi = self.config.supervisord.strip_ansi;
        let mut sinks = [None, None];
        for (stderr, (channel, stream)) in [false, true].into_iter().zip(streams(&pc)) {
            let Some(stream) = stream else {
                continue;
            };
            let path = log_path(&pc, managed.auto_logs.as_deref(), stderr);
            let file = path.and_then(|path| self.open_file(&pc.name, path, stream));
            let listener_stdout = is_listener && channel == "stdout";
            let mut sink = StreamLog::new(
                &pc.name,
                channel,
                file,
                stream,
                strip_ansi,
                listener_stdout,
                self.log.clone(),
            );
            if listener_stdout || stream.events_enabled || stream.capture_maxbytes > 0 {
                sink.set_tap(EventTap {
                    key,
                    tx: self.output_tx.clone(),
                    events_enabled: stream.events_enabled,
                });
            }
            sinks[usize::from(stderr)] = Some(Rc::new(RefCell::new(sink)));
        }
        if let Some(managed) = self.table.get_mut(key) {
            let [stdout, stderr] = sinks;
            managed.logs.stdout = stdout;
            managed.logs.stderr = stderr;
        }
    }
}

impl Supervisor {
    /// Open a log file for appending, or say in the main log why not.
    fn open_file(
        &self,
        process: &str,
        path: &str,
        stream: &StreamConfig,
    ) -> Option<crate::logfile::RotatingFile> {
        match capture::open_file(path, stream) {
            Ok(file) => Some(file),
            Err(e) => {
                self.log.log(
                    LogLevel::Warn,
                    &format!("could not open log file {path} for {process}: {e}"),
                );
                None
            }
        }
    }
}

/// Create an empty AUTO log as Python's `mkstemp` does (mode 0600); one
/// that exists already is left alone.
fn create_empty(path: &str) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new()
        .create_new(true)
        .write(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(stdout: LogFile, stderr: LogFile, redirect: bool) -> ProcessConfig {
        let mut pc = ProcessConfig::with_defaults("web", "web");
        pc.stdout.logfile = stdout;
        pc.stderr.logfile = stderr;
        pc.redirect_stderr = redirect;
        pc
    }

    #[test]
    fn paths_are_the_configured_ones_or_the_chosen_auto_names() {
        let pc = config(LogFile::Path("/x/out.log".into()), LogFile::Auto, false);
        let auto = AutoLogs::choose(&pc, "/logs", "supervisor").expect("one AUTO");
        assert_eq!(log_path(&pc, Some(&auto), false), Some("/x/out.log"));
        let err = log_path(&pc, Some(&auto), true).expect("an AUTO name");
        assert!(err.starts_with("/logs/web-stderr---supervisor-"), "{err}");
        assert!(auto.paths[0].is_none());
    }

    #[test]
    fn no_auto_names_without_auto_streams() {
        let pc = config(LogFile::None, LogFile::Path("/x/err.log".into()), false);
        assert!(AutoLogs::choose(&pc, "/logs", "supervisor").is_none());
        assert_eq!(log_path(&pc, None, false), None);
        assert_eq!(log_path(&pc, None, true), Some("/x/err.log"));
    }

    #[test]
    fn a_redirected_stderr_has_no_log() {
        let pc = config(LogFile::Auto, LogFile::Auto, true);
        let auto = AutoLogs::choose(&pc, "/logs", "supervisor").expect("stdout AUTO");
        assert!(auto.paths[1].is_none());
        assert_eq!(log_path(&pc, Some(&auto), true), None);
    }

    #[test]
    fn creating_an_existing_auto_log_keeps_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.log");
        std::fs::write(&path, "kept").expect("write");
        let path = path.display().to_string();
        create_empty(&path).expect("exists: fine");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "kept");
        let fresh = dir.path().join("b.log").display().to_string();
        create_empty(&fresh).expect("created");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&fresh)
            .expect("stat")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
