//! Children a killed supervisord left behind.
//!
//! When supervisord dies without stopping its children (SIGKILL, OOM killer,
//! a crash), they are reparented and keep running; a new supervisord on the
//! same configuration would start a second copy of each. Supervisor 4.3.0
//! has that bug; we do not. The actor records its live children in a state
//! file beside the pidfile (`<pidfile>.children`), and a new daemon, before
//! it starts anything, stops every recorded child that is still the same
//! process, with the stop signal and `stopwaitsecs` it was started with,
//! then SIGKILL.
//!
//! A pid alone is not an identity — pids are reused — so each record keeps
//! the process's start time (`/proc/<pid>/stat` field 22, clock ticks since
//! boot) and the file keeps the boot id; a process is only signalled when
//! both still match. The children are not ours any more (they were
//! reparented), so they are watched with `/proc`, never `waitpid`; a zombie
//! counts as gone (its new parent may be slow to reap it).
//!
//! The file's format is plain text, one record a line:
//!
//! ```text
//! boot <boot id>
//! daemon <pid> <start time>
//! child <pid> <start time> <stopsignal> <stopwaitsecs> <stop group 0|1> <kill group 0|1> <name>
//! ```

use std::collections::HashMap;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::errno::Errno;

use crate::mainlog::MainLog;
use crate::sys;

/// How often the stopper looks whether a leftover has gone.
const POLL: Duration = Duration::from_millis(20);
/// How long the stopper waits for a leftover after SIGKILL.
const AFTER_KILL: Duration = Duration::from_secs(5);

/// The state file of a daemon whose pidfile is `pidfile`.
pub fn state_path(pidfile: &str) -> PathBuf {
    PathBuf::from(format!("{pidfile}.children"))
}

/// One running child, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub pid: u32,
    pub start: u64,
    pub stopsignal: i32,
    pub stopwaitsecs: u64,
    /// `stopasgroup`: the stop signal goes to the process group.
    pub stop_group: bool,
    /// `killasgroup` (or `stopasgroup`): SIGKILL goes to the group.
    pub kill_group: bool,
    /// `group:name`, for the log.
    pub name: String,
}

/// What a child is, besides its pid, when the actor records it.
pub struct ChildInfo<'a> {
    pub name: String,
    pub config: &'a sv_core::config::ProcessConfig,
}

/// The actor's side: rewrites the state file when asked (the actor
/// coalesces its changes), caching each pid's start time.
pub struct Recorder {
    path: PathBuf,
    /// The boot and daemon lines, the same for every write.
    header: Option<String>,
    starts: HashMap<u32, u64>,
    /// Whether the last write failed (logged once until one succeeds).
    failing: bool,
}

impl Recorder {
    pub fn new(path: PathBuf) -> Self {
        Recorder {
            path,
            header: None,
            starts: HashMap::new(),
            failing: false,
        }
    }

    /// Replace the file with `children` (atomically: write, then rename).
    /// A child whose start time cannot be read is left out — it is gone, or
    /// the read failed (out of descriptors) — and the write counts as
    /// incomplete. Whether the file now holds every child.
    pub fn write<'a>(
        &mut self,
        children: impl Iterator<Item = (u32, ChildInfo<'a>)>,
        log: &MainLog,
    ) -> bool {
        let mut text = self.header.clone().unwrap_or_else(|| {
            let mut header = String::new();
            if let Some(boot) = boot_id() {
                header.push_str(&format!("boot {boot}\n"));
            }
            let me = std::process::id();
            if let Some(start) = start_time(me) {
                header.push_str(&format!("daemon {me} {start}\n"));
                self.header = Some(header.clone());
            }
            header
        });
        let mut complete = true;
        let mut starts = HashMap::new();
        for (pid, info) in children {
            let Some(start) = self.starts.get(&pid).copied().or_else(|| start_time(pid)) else {
                complete = false;
                continue;
            };
            starts.insert(pid, start);
            let c = info.config;
            text.push_str(&format!(
                "child {pid} {start} {} {} {} {} {}\n",
                c.stopsignal,
                c.stopwaitsecs.max(0),
                u8::from(c.stopasgroup),
                u8::from(c.killasgroup || c.stopasgroup),
                info.name.replace('\n', " "),
            ));
        }
        self.starts = starts;
        match write_atomically(&self.path, text.as_bytes()) {
            Ok(()) => {
                self.failing = false;
                complete
            }
            Err(e) => {
                if !self.failing {
                    log.warn(&format!(
                        "cannot record children in {}: {e}",
                        self.path.display()
                    ));
                }
                self.failing = true;
                false
            }
        }
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    // The pidfile's directory may be shared (`/tmp`): never follow a link
    // someone planted at the temporary name — remove it (the link, not
    // its target) and create the file anew, owner-only. `rename` then
    // replaces whatever is at `path` without following it either.
    let _ = std::fs::remove_file(&tmp);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(bytes)?;
    // No fsync: the file guards against a killed daemon, not a lost
    // machine (after a reboot every recorded process is gone anyway).
    drop(file);
    std::fs::rename(&tmp, path)
}

/// A parsed state file.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct StateFile {
    pub boot: Option<String>,
    pub daemon: Option<(u32, u64)>,
    pub children: Vec<Record>,
}

/// Parse a state file; malformed lines are skipped (the file is ours, but
/// a half-written or hand-edited one must not stop the daemon).
pub fn parse(text: &str) -> StateFile {
    let mut state = StateFile::default();
    for line in text.lines() {
        let mut words = line.splitn(8, ' ');
        match words.next() {
            Some("boot") => state.boot = words.next().map(str::to_string),
            Some("daemon") => {
                let pid = words.next().and_then(|w| w.parse().ok());
                let start = words.next().and_then(|w| w.parse().ok());
                if let (Some(pid), Some(start)) = (pid, start) {
                    state.daemon = Some((pid, start));
                }
            }
            Some("child") => {
                let fields: Vec<&str> = words.collect();
                if let Some(record) = parse_child(&fields) {
                    state.children.push(record);
                }
            }
            _ => {}
        }
    }
    state
}

fn parse_child(f: &[&str]) -> Option<Record> {
    let [pid, start, sig, wait, sg, kg, name] = f else {
        return None;
    };
    Some(Record {
        pid: pid.parse().ok().filter(|p| *p > 1)?,
        start: start.parse().ok()?,
        stopsignal: sig.parse().ok().filter(|s| *s > 0)?,
        stopwaitsecs: wait.parse().ok()?,
        stop_group: *sg == "1",
        kill_group: *kg == "1",
        name: (*name).to_string(),
    })
}

/// This boot's id (`/proc/sys/kernel/random/boot_id`).
fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty() && !s.contains(' '))
}

/// A process's start time, unless it is gone or a zombie.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces or
    // parentheses itself: count fields from the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_ascii_whitespace();
    // Field 3 is the state; field 22 the start time.
    if fields.next()? == "Z" {
        return None;
    }
    fields.nth(18)?.parse().ok()
}

/// Whether the recorded process is still the one we recorded.
fn same(pid: u32, start: u64) -> bool {
    start_time(pid) == Some(start)
}

/// Stop the children a previous daemon recorded in `path`, then remove the
/// file. Runs at start-up, before the runtime and before any autostart;
/// blocks for at most the longest `stopwaitsecs` plus a few seconds.
pub fn stop_leftovers(path: &Path, log: &MainLog) {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
        Err(e) => {
            log.warn(&format!("cannot read {}: {e}", path.display()));
            return;
        }
    };
    // The file makes us signal processes: only one we could have written
    // ourselves is believed (a plain file, our user's or root's, writable
    // by no one else); anything else is left alone and not removed.
    if let Some(why) = untrusted(&meta) {
        log.warn(&format!("ignoring {}: {why}", path.display()));
        return;
    }
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => {
            log.warn(&format!("cannot read {}: {e}", path.display()));
            return;
        }
    };
    let state = parse(&text);
    let rebooted = matches!((&state.boot, boot_id()), (Some(old), Some(now)) if *old != now);
    if let Some((pid, start)) = state.daemon
        && pid != std::process::id()
        && !rebooted
        && same(pid, start)
    {
        // Not leftovers: their daemon lives (a second supervisord with
        // the same pidfile and no socket to collide on).
        log.warn(&format!(
            "the supervisord that wrote {} (pid {pid}) is still running; its children are left alone",
            path.display()
        ));
        return;
    }
    if !rebooted {
        stop_all(&state.children, log);
    }
    if let Err(e) = std::fs::remove_file(path) {
        log.warn(&format!("cannot remove {}: {e}", path.display()));
    }
}

/// Why a state file is not to be believed, if it is not.
fn untrusted(meta: &std::fs::Metadata) -> Option<&'static str> {
    if !meta.file_type().is_file() {
        return Some("not a regular file");
    }
    if meta.uid() != sys::euid() && meta.uid() != 0 {
        return Some("owned by another user");
    }
    if meta.mode() & 0o022 != 0 {
        return Some("writable by others");
    }
    None
}

/// A leftover being stopped.
struct Leftover<'a> {
    record: &'a Record,
    /// When SIGKILL is due; `None` once it was sent.
    kill_at: Option<Instant>,
    gone: bool,
}

fn stop_all(records: &[Record], log: &MainLog) {
    let began = Instant::now();
    let mut left: Vec<Leftover> = Vec::new();
    for record in records {
        if !same(record.pid, record.start) {
            continue;
        }
        log.info(&format!(
            "stopping leftover {} (pid {}) from a previous supervisord",
            record.name, record.pid
        ));
        let target = target(record.pid, record.stop_group);
        match sys::send_signal(target, record.stopsignal) {
            Ok(()) | Err(Errno::ESRCH) => {}
            Err(e) => {
                log.warn(&format!(
                    "cannot signal leftover {} (pid {}): {}",
                    record.name,
                    record.pid,
                    e.desc()
                ));
                continue;
            }
        }
        left.push(Leftover {
            record,
            kill_at: Some(began + Duration::from_secs(record.stopwaitsecs)),
            gone: false,
        });
    }
    let mut killed_at: Option<Instant> = None;
    while left.iter().any(|l| !l.gone) {
        let now = Instant::now();
        for l in left.iter_mut().filter(|l| !l.gone) {
            let r = l.record;
            if !same(r.pid, r.start) {
                l.gone = true;
                log.info(&format!("stopped leftover {} (pid {})", r.name, r.pid));
            } else if l.kill_at.is_some_and(|at| at <= now) {
                l.kill_at = None;
                killed_at.get_or_insert(now);
                log.warn(&format!(
                    "killing leftover {} (pid {}) with SIGKILL",
                    r.name, r.pid
                ));
                let _ = sys::send_signal(target(r.pid, r.kill_group), libc::SIGKILL);
            }
        }
        if killed_at.is_some_and(|at| now.duration_since(at) > AFTER_KILL)
            && left.iter().all(|l| l.gone || l.kill_at.is_none())
        {
            for l in left.iter().filter(|l| !l.gone) {
                log.critical(&format!(
                    "leftover {} (pid {}) survived SIGKILL",
                    l.record.name, l.record.pid
                ));
            }
            return;
        }
        std::thread::sleep(POLL);
    }
}

/// The pid to `kill`: the process, or its group (children lead their own).
fn target(pid: u32, group: bool) -> i32 {
    let pid = pid as i32;
    if group { -pid } else { pid }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_file_round_trips_and_skips_malformed_lines() {
        let text = "boot abc-123\ndaemon 77 4242\n\
                    child 100 5000 15 10 1 1 web:web_00\n\
                    child x 1 1 1 1 1 bad\nchild 1 5 15 10 0 0 init\n\
                    child 101 5001 34 3 0 1 a name with spaces\ngarbage\n";
        let state = parse(text);
        assert_eq!(state.boot.as_deref(), Some("abc-123"));
        assert_eq!(state.daemon, Some((77, 4242)));
        assert_eq!(state.children.len(), 2);
        assert_eq!(
            state.children[1],
            Record {
                pid: 101,
                start: 5001,
                stopsignal: 34,
                stopwaitsecs: 3,
                stop_group: false,
                kill_group: true,
                name: "a name with spaces".into(),
            }
        );
    }

    #[test]
    fn our_own_start_time_is_readable_and_a_stranger_never_matches() {
        let me = std::process::id();
        let start = start_time(me).expect("own start time");
        assert!(same(me, start));
        assert!(!same(me, start + 1));
    }
}
