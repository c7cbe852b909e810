//! Child output: the pipe readers and the files they write to.
//!
//! Each stdout/stderr pipe gets its own reader task that copies chunks of up
//! to 128 KiB straight into the stream's log file, without asking the
//! supervisor actor anything, so a chatty child is drained at full speed and
//! can never block the daemon. A log that cannot be written drops bytes (and
//! counts them) instead of stopping the reader.
//!
//! AUTO log files are named and cleaned up as Supervisor does
//! (`<name>-<channel>---<identifier>-<random>.log` in `childlogdir`).

use std::cell::RefCell;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::rc::Rc;

use sv_core::config::{LogFile, StreamConfig};
use tokio::net::unix::pipe;

use crate::logfile::RotatingFile;

/// Supervisor's pipe read size.
const CHUNK: usize = 131_072;

/// A stream's log file, shared by its reader task and the actor (for
/// reopening and, later, tailing).
pub type Sink = Rc<RefCell<RotatingFile>>;

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
    let filled = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .is_ok();
    if !filled {
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

/// Open a stream's log file (mode 0600 for new AUTO files, as `mkstemp`).
pub fn open_sink(path: &str, stream: &StreamConfig) -> std::io::Result<Sink> {
    let file = RotatingFile::open(path, stream.logfile_maxbytes, stream.logfile_backups)?;
    Ok(Rc::new(RefCell::new(file)))
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
    Data,
    WouldBlock,
    Closed,
}

fn read_once(receiver: &pipe::Receiver, sink: Option<&Sink>) -> ReadOutcome {
    READ_BUFFER.with(|buf| {
        let mut buf = buf.borrow_mut();
        match receiver.try_read(&mut buf) {
            Ok(0) => ReadOutcome::Closed,
            Ok(n) => {
                if let Some(sink) = sink {
                    sink.borrow_mut().write(&buf[..n]);
                }
                ReadOutcome::Data
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => ReadOutcome::WouldBlock,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => ReadOutcome::Data,
            Err(_) => ReadOutcome::Closed,
        }
    })
}

/// Copy everything from `fd` into `sink` until end of file. Runs on the
/// actor's thread (spawned with `spawn_local`).
pub fn start_reader(fd: OwnedFd, sink: Option<Sink>) {
    let receiver = match pipe::Receiver::from_owned_fd(fd) {
        Ok(r) => r,
        Err(_) => return,
    };
    tokio::task::spawn_local(async move {
        loop {
            if receiver.readable().await.is_err() {
                break;
            }
            match read_once(&receiver, sink.as_ref()) {
                ReadOutcome::Data | ReadOutcome::WouldBlock => continue,
                ReadOutcome::Closed => break,
            }
        }
    });
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
