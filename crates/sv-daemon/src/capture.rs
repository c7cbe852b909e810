//! Child output: the pipe readers and the files they write to.
//!
//! Each stdout/stderr pipe gets its own reader task that hands chunks of up
//! to 128 KiB straight to the stream's [`StreamLog`] — the rotating file,
//! syslog, the main log's debug echo — without asking the supervisor actor
//! anything, so a chatty child is drained at full speed and can never block
//! the daemon. A log that cannot be written drops bytes, counts them, and
//! says so in the main log (at most every [`DROP_REPORT_EVERY`]), instead of
//! stopping the reader: the child is never left writing into a full pipe.
//!
//! AUTO log files are named and cleaned up as Supervisor does
//! (`<name>-<channel>---<identifier>-<random>.log` in `childlogdir`).

use std::cell::RefCell;
use std::os::fd::OwnedFd;
use std::rc::Rc;
use std::time::{Duration, Instant};

use sv_core::config::{LogFile, LogLevel, StreamConfig};
use sv_core::events::{CaptureSplitter, Channel, Segment};
use sv_core::logtext;
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use crate::logfile::RotatingFile;
use crate::mainlog::MainLog;
use crate::sys;

/// The read size, as Supervisor's. Each chunk is written out before the next
/// read, so it is copied into the page cache while it is still in the CPU
/// cache: with 1 MiB reads that copy cost 2–3× the CPU (docs/performance.md).
/// A grown pipe (see [`grow_pipe`]) is drained by several reads per wake-up.
const CHUNK: usize = 128 << 10;

/// How long a reader pauses after draining its pipe before looking again.
const COALESCE: Duration = Duration::from_millis(2);

/// How often lost log bytes are reported in the main log, per stream.
pub const DROP_REPORT_EVERY: Duration = Duration::from_secs(10);

/// What a pipe reader tells the supervisor actor (only when events or the
/// listener protocol need it; plain logging never involves the actor).
#[derive(Debug)]
pub enum ChildOutput {
    /// A logged chunk of a stream with `*_events_enabled` (PROCESS_LOG_*).
    Log {
        key: u64,
        pid: u32,
        channel: Channel,
        data: Vec<u8>,
    },
    /// Capture mode closed a capture (PROCESS_COMMUNICATION_*).
    Communication {
        key: u64,
        pid: u32,
        channel: Channel,
        data: Vec<u8>,
    },
    /// An event listener wrote on its stdout (the listener protocol).
    ListenerBytes { key: u64, data: Vec<u8> },
    /// The process exited and its pipes were read dry: sent by the reaper
    /// after them, so every output event of the child comes first.
    Reaped {
        key: u64,
        status: sv_core::process::ExitStatus,
    },
}

/// Where a stream's events go: the actor's output channel.
#[derive(Debug)]
pub struct EventTap {
    pub key: u64,
    pub tx: tokio::sync::mpsc::UnboundedSender<ChildOutput>,
    /// `*_events_enabled`.
    pub events_enabled: bool,
}

/// Where one stream (stdout or stderr) of one process goes.
#[derive(Debug)]
pub struct StreamLog {
    process: String,
    channel: &'static str,
    file: Option<RotatingFile>,
    syslog: bool,
    strip_ansi: bool,
    /// Listener stdout is echoed as a bytes repr, as Supervisor does.
    listener_stdout: bool,
    mainlog: MainLog,
    reported_drops: u64,
    last_report: Option<Instant>,
    /// Capture mode (a pass-through when `*_capture_maxbytes` is 0).
    splitter: CaptureSplitter,
    tap: Option<EventTap>,
    /// The pid of the current child (events report it).
    pid: u32,
}

impl StreamLog {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        process: &str,
        channel: &'static str,
        file: Option<RotatingFile>,
        stream: &StreamConfig,
        strip_ansi: bool,
        listener_stdout: bool,
        mainlog: MainLog,
    ) -> Self {
        StreamLog {
            process: process.to_string(),
            channel,
            file,
            syslog: stream.syslog,
            strip_ansi,
            listener_stdout,
            mainlog,
            reported_drops: 0,
            last_report: None,
            // Listener stdout speaks the protocol: no capture mode there.
            splitter: CaptureSplitter::new(
                if listener_stdout {
                    0
                } else {
                    stream.capture_maxbytes
                },
                strip_ansi,
            ),
            tap: None,
            pid: 0,
        }
    }

    /// Send events (PROCESS_LOG, PROCESS_COMMUNICATION, listener protocol
    /// bytes) to the actor through `tap`.
    pub fn set_tap(&mut self, tap: EventTap) {
        self.tap = Some(tap);
    }

    /// Whether the reader must not wait to batch output (a listener's
    /// answers are latency-bound).
    pub fn urgent(&self) -> bool {
        self.listener_stdout
    }

    /// A new child: capture mode starts over (Supervisor makes new
    /// dispatchers on each spawn).
    pub fn spawned(&mut self, pid: u32) {
        self.pid = pid;
        self.splitter.reset();
    }

    fn channel(&self) -> Channel {
        if self.channel == "stdout" {
            Channel::Stdout
        } else {
            Channel::Stderr
        }
    }

    /// One read from the child's pipe (Supervisor's `record_output`).
    pub fn write(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        if self.listener_stdout {
            if let Some(tap) = &self.tap {
                let _ = tap.tx.send(ChildOutput::ListenerBytes {
                    key: tap.key,
                    data: data.to_vec(),
                });
            }
            self.log_chunk(data);
            return;
        }
        if !self.splitter.enabled() && self.tap.as_ref().is_none_or(|t| !t.events_enabled) {
            self.log_chunk(data);
            return;
        }
        let mut segments = Vec::new();
        self.splitter.feed(data, &mut segments);
        for segment in segments {
            match segment {
                Segment::Output { data, captured } => {
                    if captured {
                        self.echo(&data);
                    } else {
                        self.log_prepared(&data);
                    }
                    if let Some(tap) = self.tap.as_ref().filter(|t| t.events_enabled) {
                        let _ = tap.tx.send(ChildOutput::Log {
                            key: tap.key,
                            pid: self.pid,
                            channel: self.channel(),
                            data,
                        });
                    }
                }
                Segment::Communication(data) => {
                    if let Some(tap) = &self.tap {
                        let _ = tap.tx.send(ChildOutput::Communication {
                            key: tap.key,
                            pid: self.pid,
                            channel: self.channel(),
                            data,
                        });
                    }
                    self.mainlog.debug(&format!(
                        "{} {} emitted a comm event",
                        sv_core::pyfmt::py_repr_str(&self.process),
                        self.channel
                    ));
                }
            }
        }
    }

    /// A chunk that bypasses capture mode: strip, then log.
    fn log_chunk(&mut self, data: &[u8]) {
        if self.listener_stdout {
            // Supervisor echoes a listener's raw bytes, and strips only
            // what goes to its log file.
            self.echo(data);
            let stripped;
            let data = if self.strip_ansi {
                stripped = logtext::strip_ansi(data);
                &stripped[..]
            } else {
                data
            };
            if let Some(file) = self.file.as_mut() {
                file.write(data);
            }
            self.report_drops();
            return;
        }
        let stripped;
        let data = if self.strip_ansi {
            stripped = logtext::strip_ansi(data);
            &stripped[..]
        } else {
            data
        };
        self.log_prepared(data);
    }

    /// Already-stripped output to the normal log: file, syslog, echo.
    fn log_prepared(&mut self, data: &[u8]) {
        if let Some(file) = self.file.as_mut() {
            file.write(data);
        }
        if self.syslog {
            let text = String::from_utf8_lossy(data);
            for line in text.lines() {
                sys::syslog_line(&format!("{} {line}", self.process));
            }
        }
        self.echo(data);
        self.report_drops();
    }

    /// The main log's debug echo of a chunk.
    fn echo(&self, data: &[u8]) {
        if self.mainlog.enabled(LogLevel::Debug) {
            let text = logtext::echo_text(data, self.listener_stdout);
            self.mainlog.debug(&format!(
                "{} {} output:\n{text}",
                sv_core::pyfmt::py_repr_str(&self.process),
                self.channel
            ));
        }
    }

    fn report_drops(&mut self) {
        let Some(file) = self.file.as_ref() else {
            return;
        };
        if file.dropped == self.reported_drops {
            return;
        }
        let due = self
            .last_report
            .is_none_or(|at| at.elapsed() >= DROP_REPORT_EVERY);
        if !due {
            return;
        }
        let why = file
            .last_error
            .as_ref()
            .map_or_else(|| "unknown error".to_string(), ToString::to_string);
        self.mainlog.log(
            LogLevel::Error,
            &format!(
                "could not write {} bytes of {} {} output to {}: {why} ({} bytes lost so far)",
                file.dropped - self.reported_drops,
                self.process,
                self.channel,
                file.path().display(),
                file.dropped
            ),
        );
        self.reported_drops = file.dropped;
        self.last_report = Some(Instant::now());
    }

    pub fn reopen(&mut self) {
        if let Some(file) = self.file.as_mut() {
            file.reopen();
        }
    }

    /// A log file that could not be opened before, opened now.
    pub fn set_file(&mut self, file: RotatingFile) {
        self.file = Some(file);
    }

    /// The log file, if the stream has one.
    pub fn file(&self) -> Option<&RotatingFile> {
        self.file.as_ref()
    }

    pub fn file_mut(&mut self) -> Option<&mut RotatingFile> {
        self.file.as_mut()
    }
}

/// A stream's log, shared by its reader task and the actor (for reopening,
/// clearing and tailing).
pub type Sink = Rc<RefCell<StreamLog>>;

/// The log files of one process.
#[derive(Debug, Default, Clone)]
pub struct ChildLogs {
    pub stdout: Option<Sink>,
    pub stderr: Option<Sink>,
}

impl ChildLogs {
    /// Reopen both files (SIGUSR2).
    pub fn reopen(&self) {
        for sink in [&self.stdout, &self.stderr].into_iter().flatten() {
            sink.borrow_mut().reopen();
        }
    }
}

fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789_";
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        // No entropy source (a very early boot): the name only has to
        // differ from the previous run's, as Supervisor's tempfile name does.
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
            ^ u128::from(std::process::id());
        bytes = (seed as u64).to_le_bytes();
    }
    bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

/// The path of a stream's log: the configured one, a fresh AUTO name, or
/// none.
pub fn log_path(
    stream: &StreamConfig,
    process: &str,
    channel: &str,
    childlogdir: &str,
    identifier: &str,
) -> Option<String> {
    match &stream.logfile {
        LogFile::None => None,
        LogFile::Path(path) => Some(path.clone()),
        LogFile::Auto => Some(sv_core::pypath::join(
            childlogdir,
            &format!("{process}-{channel}---{identifier}-{}.log", random_suffix()),
        )),
    }
}

/// Open a stream's log file. AUTO files are created with mode 0600, as
/// Python's `mkstemp` makes them.
pub fn open_file(path: &str, stream: &StreamConfig) -> std::io::Result<RotatingFile> {
    if stream.logfile == LogFile::Auto && !std::path::Path::new(path).exists() {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .create_new(true)
            .write(true)
            .mode(0o600)
            .open(path)?;
    }
    RotatingFile::open(path, stream.logfile_maxbytes, stream.logfile_backups)
}

/// Whether `name` is an AUTO child log of `identifier` (Supervisor's
/// anchored-at-start `.+?---<identifier>-\S+\.log\.{0,1}\d{0,4}`).
pub fn is_auto_log_name(name: &str, identifier: &str) -> bool {
    let marker = format!("---{identifier}-");
    let mut start = 1;
    while let Some(found) = name.get(start..).and_then(|rest| rest.find(&marker)) {
        let after = &name[start + found + marker.len()..];
        let mut seen_non_space = false;
        for (i, c) in after.char_indices() {
            if seen_non_space && after[i..].starts_with(".log") {
                return true;
            }
            if c.is_whitespace() {
                break;
            }
            seen_non_space = true;
        }
        start += found + 1;
    }
    false
}

/// Delete old AUTO logs of `identifier` in `childlogdir`; returns warnings.
pub fn clean_auto_logs(childlogdir: &str, identifier: &str) -> Vec<String> {
    let mut warnings = Vec::new();
    let entries = match std::fs::read_dir(childlogdir) {
        Ok(entries) => entries,
        Err(_) => return vec!["Could not clear childlog dir".to_string()],
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_auto_log_name(&name, identifier) {
            let path = entry.path();
            if std::fs::remove_file(&path).is_err() {
                warnings.push(format!("Failed to clean up '{}'", path.display()));
            }
        }
    }
    warnings
}

thread_local! {
    /// One read buffer for every pipe reader: they all run on the actor's
    /// thread and never hold it across an await, so 1000 children cost one
    /// 128 KiB buffer instead of 2000 of them.
    static READ_BUFFER: RefCell<Vec<u8>> = RefCell::new(vec![0u8; CHUNK]);
}

/// What one non-blocking read of a pipe gave.
enum ReadOutcome {
    /// Data, and maybe more waiting (the buffer was filled).
    Full,
    /// A read that emptied a full default-size pipe: a bulk writer.
    Bulk,
    /// A sizeable read that drained the pipe: read again as soon as ready.
    Drained,
    /// A small read (or none): a line-at-a-time writer, worth batching.
    Trickle,
    Closed,
}

/// A read this large emptied a full default-size (64 KiB) pipe.
const BULK_READ: usize = 64 * 1024;
/// Reads smaller than this come from line-at-a-time writers.
const TRICKLE_READ: usize = 4 * 1024;

fn read_once(fd: &OwnedFd, sink: Option<&Sink>) -> ReadOutcome {
    READ_BUFFER.with(|buf| {
        let mut buf = buf.borrow_mut();
        match nix::unistd::read(fd, &mut buf) {
            Ok(0) => ReadOutcome::Closed,
            Ok(n) => {
                if let Some(sink) = sink {
                    sink.borrow_mut().write(&buf[..n]);
                }
                if n == buf.len() {
                    ReadOutcome::Full
                } else if n >= BULK_READ {
                    ReadOutcome::Bulk
                } else if n >= TRICKLE_READ {
                    ReadOutcome::Drained
                } else {
                    ReadOutcome::Trickle
                }
            }
            Err(nix::errno::Errno::EAGAIN) => ReadOutcome::Trickle,
            Err(nix::errno::Errno::EINTR) => ReadOutcome::Full,
            Err(_) => ReadOutcome::Closed,
        }
    })
}

/// A pipe that carries bulk output gets a 1 MiB buffer (best effort), so a
/// fast writer is drained in a quarter of the wake-ups. Only pipes that
/// prove busy grow: pipe buffers count against a per-user kernel quota.
fn grow_pipe(fd: &OwnedFd) {
    let _ = nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_SETPIPE_SZ(1 << 20));
}

/// Copy everything from `fd` into `sink` until end of file. Runs on the
/// actor's thread (spawned with `spawn_local`).
///
/// A read shorter than the buffer means the pipe is empty (pipes return
/// what they hold), so readiness is cleared without the extra read that
/// would only answer EAGAIN: per chunk of output this costs one read and one
/// write, as in Supervisor's loop.
pub fn start_reader(fd: OwnedFd, sink: Option<Sink>) -> Option<PipeDrain> {
    if nix::fcntl::fcntl(
        &fd,
        nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
    )
    .is_err()
    {
        return None;
    }
    // SAFETY: `fd` is an open pipe end that the AsyncFd owns from here on;
    // nothing else closes or replaces it while registered.
    let Ok(async_fd) = (unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) }) else {
        return None;
    };
    let async_fd = Rc::new(async_fd);
    let drain = PipeDrain {
        fd: Rc::clone(&async_fd),
        sink: sink.clone(),
    };
    let urgent = sink.as_ref().is_some_and(|s| s.borrow().urgent());
    tokio::task::spawn_local(async move {
        let mut grown = false;
        loop {
            let Ok(mut guard) = async_fd.readable().await else {
                break;
            };
            match read_once(async_fd.get_ref(), sink.as_ref()) {
                ReadOutcome::Full => continue,
                ReadOutcome::Bulk => {
                    if !grown {
                        grown = true;
                        grow_pipe(async_fd.get_ref());
                    }
                    guard.clear_ready();
                }
                ReadOutcome::Drained => guard.clear_ready(),
                ReadOutcome::Trickle if urgent => guard.clear_ready(),
                ReadOutcome::Trickle => {
                    guard.clear_ready();
                    drop(guard);
                    // Let a chatty child's output gather for a moment: one
                    // read of many lines costs a fraction of many reads of
                    // one line each. Quiet children never reach this twice.
                    tokio::time::sleep(COALESCE).await;
                }
                ReadOutcome::Closed => break,
            }
        }
    });
    Some(drain)
}

/// A handle on a reader's pipe for the reaper: Supervisor reads a child's
/// pipes dry before it handles the exit, so output written just before an
/// exit is logged (and its events sent) before the exit's state change.
/// Runs on the actor's thread, like the reader.
pub struct PipeDrain {
    fd: Rc<AsyncFd<OwnedFd>>,
    sink: Option<Sink>,
}

impl PipeDrain {
    /// Read what the pipe holds now (never blocks: the fd is non-blocking).
    pub fn drain(&self) {
        while let ReadOutcome::Full = read_once(self.fd.get_ref(), self.sink.as_ref()) {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_log_names() {
        assert!(is_auto_log_name(
            "cat-stdout---supervisor-4hx588g5.log",
            "supervisor"
        ));
        assert!(is_auto_log_name(
            "cat-stdout---supervisor-4hx588g5.log.3",
            "supervisor"
        ));
        assert!(!is_auto_log_name(
            "cat-stdout---other-4hx588g5.log",
            "supervisor"
        ));
        assert!(
            !is_auto_log_name("---supervisor-x.log", "supervisor"),
            "needs a name first"
        );
        assert!(
            !is_auto_log_name("cat---supervisor-.log", "supervisor"),
            "needs a suffix"
        );
        assert!(!is_auto_log_name("supervisord.log", "supervisor"));
    }

    #[test]
    fn auto_paths_look_like_mkstemp_names() {
        let s = StreamConfig::supervisor_default();
        let p = log_path(&s, "web", "stdout", "/tmp", "supervisor").unwrap();
        let name = p.strip_prefix("/tmp/web-stdout---supervisor-").unwrap();
        assert_eq!(name.len(), 8 + 4);
        assert!(is_auto_log_name(&p[5..], "supervisor"));
    }
}
