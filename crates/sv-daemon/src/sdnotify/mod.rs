//! supervisord's own side of systemd's notification protocol
//! (`sd_notify(3)`), without libsystemd: when systemd starts supervisord
//! with `NOTIFY_SOCKET` set (a `Type=notify` unit), supervisord tells it
//! when it is ready, how its programs are doing, when it reloads and stops,
//! and that it is alive.
//!
//! The protocol is small: one datagram per message, newline-separated
//! `KEY=value` assignments, sent to the unix socket named by
//! `NOTIFY_SOCKET` — a path, or `@name` for a Linux abstract socket. The
//! kernel attaches our credentials, which systemd checks against the
//! unit's main pid (`NotifyAccess=main`).
//!
//! This file holds the pure parts (reading the environment, the messages,
//! the counts, [`Arrivals`] — who is still on the way up — and the one
//! sender, [`Notifier`];
//! [`reporter`] is the task that drives it from the daemon's bus.
//! Children's own notifications (`ready_when=notify`) are a different
//! socket owned by the readiness room, see docs/readiness.md.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::path::PathBuf;
use std::time::Duration;

use sv_api::ProcessState;

pub mod reporter;

/// Why `NOTIFY_SOCKET` cannot be used (logged; supervisord then runs as
/// if it were not set).
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// Neither an absolute path nor `@name` (systemd's `sd_notify`
    /// refuses the same values).
    #[error("NOTIFY_SOCKET={0:?} is neither an absolute path nor an @abstract name")]
    BadAddress(String),
    /// The sending socket cannot be created.
    #[error("cannot open a socket for NOTIFY_SOCKET: {0}")]
    Socket(#[source] std::io::Error),
}

/// Where notifications go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// A socket file.
    Path(PathBuf),
    /// A Linux abstract socket: the name after `@` (the leading NUL byte
    /// of the kernel's address is added when sending).
    Abstract(Vec<u8>),
}

impl Address {
    /// `NOTIFY_SOCKET`'s value, read as `sd_notify` reads it.
    pub fn parse(value: &OsStr) -> Result<Address, NotifyError> {
        let bytes = value.as_bytes();
        match bytes.first() {
            Some(b'/') => Ok(Address::Path(PathBuf::from(value))),
            Some(b'@') if bytes.len() > 1 => Ok(Address::Abstract(bytes[1..].to_vec())),
            _ => Err(NotifyError::BadAddress(
                value.to_string_lossy().into_owned(),
            )),
        }
    }

    fn socket_addr(&self) -> std::io::Result<SocketAddr> {
        match self {
            Address::Path(path) => SocketAddr::from_pathname(path),
            Address::Abstract(name) => {
                use std::os::linux::net::SocketAddrExt;
                SocketAddr::from_abstract_name(name)
            }
        }
    }
}

/// The keepalive period for `WATCHDOG_USEC`/`WATCHDOG_PID`: half the
/// watchdog time, as `sd_watchdog_enabled(3)` advises; `None` when no
/// watchdog is asked of us (unset, zero, unreadable, or for another pid).
pub fn watchdog_interval(usec: Option<&str>, pid: Option<&str>, our_pid: u32) -> Option<Duration> {
    let usec: u64 = usec?.trim().parse().ok()?;
    if usec == 0 {
        return None;
    }
    if let Some(pid) = pid {
        let pid: u32 = pid.trim().parse().ok()?;
        if pid != our_pid {
            return None;
        }
    }
    Some(Duration::from_micros(usec / 2).max(Duration::from_millis(1)))
}

/// How many processes are in which state, for `STATUS=`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub running: usize,
    /// STARTING (which, with `ready_when`, includes not ready yet).
    pub starting: usize,
    pub backoff: usize,
    pub fatal: usize,
    /// STOPPED, STOPPING, EXITED, UNKNOWN.
    pub stopped: usize,
}

impl Counts {
    /// Count `states`.
    pub fn of(states: impl IntoIterator<Item = ProcessState>) -> Counts {
        let mut counts = Counts::default();
        for state in states {
            match state {
                ProcessState::Running => counts.running += 1,
                ProcessState::Starting => counts.starting += 1,
                ProcessState::Backoff => counts.backoff += 1,
                ProcessState::Fatal => counts.fatal += 1,
                _ => counts.stopped += 1,
            }
        }
        counts
    }

    /// The `STATUS=` text `systemctl status` shows.
    pub fn status(&self) -> String {
        format!(
            "{} running, {} starting, {} backoff, {} fatal, {} stopped",
            self.running, self.starting, self.backoff, self.fatal, self.stopped
        )
    }
}

/// Which processes are still on their way up since the daemon (re)started
/// its actor: seen entering STARTING or BACKOFF and not yet arrived
/// (RUNNING — ready, with `ready_when`) or given up (FATAL, EXITED,
/// STOPPED). A process that arrived once stays arrived, so a program that
/// crashes and is restarted forever does not hold READY=1 back; it shows
/// in STATUS= instead. Fed from the bus in order (see [`reporter`]).
#[derive(Debug, Default)]
pub struct Arrivals {
    pending: HashSet<String>,
    arrived: HashSet<String>,
}

impl Arrivals {
    /// A new actor: nothing seen yet.
    pub fn reset(&mut self) {
        self.pending.clear();
        self.arrived.clear();
    }

    /// `namespec` changed to `to`.
    pub fn saw(&mut self, namespec: &str, to: ProcessState) {
        match to {
            ProcessState::Starting | ProcessState::Backoff => {
                if !self.arrived.contains(namespec) {
                    self.pending.insert(namespec.to_string());
                }
            }
            ProcessState::Running
            | ProcessState::Fatal
            | ProcessState::Exited
            | ProcessState::Stopped => {
                self.pending.remove(namespec);
                self.arrived.insert(namespec.to_string());
            }
            ProcessState::Stopping | ProcessState::Unknown => {}
        }
    }

    /// Bus events were lost: take the processes' current states instead.
    pub fn resync<'a>(&mut self, current: impl IntoIterator<Item = (&'a str, ProcessState)>) {
        self.pending.clear();
        for (namespec, state) in current {
            self.saw(namespec, state);
        }
    }

    /// Nothing is on its way up, and none of `held_back` (programs whose
    /// description says they are `waiting for` a dependency before they
    /// even start) is left.
    pub fn settled<'a>(&self, held_back: impl IntoIterator<Item = &'a str>) -> bool {
        self.pending.is_empty()
            && held_back
                .into_iter()
                .all(|namespec| self.arrived.contains(namespec))
    }
}

/// Where supervisord stands, as last told to systemd.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Started, not yet `READY=1`.
    Starting,
    Ready,
    /// `RELOADING=1` sent; `READY=1` comes again when the reload settles.
    Reloading,
    /// `STOPPING=1` sent; nothing more is said.
    Stopping,
}

/// `READY=1` with the counts.
pub fn ready_message(counts: &Counts) -> String {
    format!("READY=1\nSTATUS={}", counts.status())
}

/// `RELOADING=1` with the monotonic time systemd asks for.
pub fn reloading_message(monotonic_usec: u64) -> String {
    format!("RELOADING=1\nMONOTONIC_USEC={monotonic_usec}\nSTATUS=reloading the configuration")
}

/// `STOPPING=1`.
pub const STOPPING_MESSAGE: &str = "STOPPING=1\nSTATUS=stopping all processes";

/// The watchdog keepalive.
pub const WATCHDOG_MESSAGE: &str = "WATCHDOG=1";

/// The sender, and what it last said (so that each phase is announced
/// once, whether the bus or the restart loop notices it first).
pub struct Notifier {
    socket: UnixDatagram,
    address: SocketAddr,
    watchdog: Option<Duration>,
    phase: Cell<Phase>,
    last_status: RefCell<String>,
}

impl Notifier {
    /// The notifier systemd asks for through the environment, if any.
    pub fn from_env() -> Result<Option<Notifier>, NotifyError> {
        let Some(value) = std::env::var_os("NOTIFY_SOCKET") else {
            return Ok(None);
        };
        let address = Address::parse(&value)?;
        let watchdog = watchdog_interval(
            std::env::var("WATCHDOG_USEC").ok().as_deref(),
            std::env::var("WATCHDOG_PID").ok().as_deref(),
            std::process::id(),
        );
        Notifier::open(&address, watchdog).map(Some)
    }

    /// A notifier sending to `address`, keeping alive every `watchdog`.
    pub fn open(address: &Address, watchdog: Option<Duration>) -> Result<Notifier, NotifyError> {
        let socket = UnixDatagram::unbound().map_err(NotifyError::Socket)?;
        // Never block the daemon on a full socket buffer: systemd reads
        // promptly, and a lost STATUS is replaced by the next.
        socket.set_nonblocking(true).map_err(NotifyError::Socket)?;
        let address = address.socket_addr().map_err(NotifyError::Socket)?;
        Ok(Notifier {
            socket,
            address,
            watchdog,
            phase: Cell::new(Phase::Starting),
            last_status: RefCell::new(String::new()),
        })
    }

    /// The keepalive period, when systemd watches us.
    pub fn watchdog(&self) -> Option<Duration> {
        self.watchdog
    }

    pub fn phase(&self) -> Phase {
        self.phase.get()
    }

    /// Send one message; failures are dropped (systemd going away must not
    /// take the daemon with it).
    fn send(&self, message: &str) {
        let _ = self.socket.send_to_addr(message.as_bytes(), &self.address);
    }

    /// Before the first READY: what supervisord is doing.
    pub fn starting(&self, counts: &Counts) {
        self.status(counts);
    }

    /// `READY=1` (once per start or reload).
    pub fn ready(&self, counts: &Counts) {
        if matches!(self.phase.get(), Phase::Ready | Phase::Stopping) {
            return;
        }
        self.phase.set(Phase::Ready);
        let message = ready_message(counts);
        *self.last_status.borrow_mut() = counts.status();
        self.send(&message);
    }

    /// `STATUS=` when the counts changed.
    pub fn status(&self, counts: &Counts) {
        if self.phase.get() == Phase::Stopping {
            return;
        }
        let status = counts.status();
        if *self.last_status.borrow() == status {
            return;
        }
        self.send(&format!("STATUS={status}"));
        *self.last_status.borrow_mut() = status;
    }

    /// `RELOADING=1` (once per reload).
    pub fn reloading(&self) {
        if matches!(self.phase.get(), Phase::Reloading | Phase::Stopping) {
            return;
        }
        self.phase.set(Phase::Reloading);
        self.last_status.borrow_mut().clear();
        self.send(&reloading_message(crate::sys::monotonic_usec()));
    }

    /// `STOPPING=1` (once).
    pub fn stopping(&self) {
        if self.phase.get() == Phase::Stopping {
            return;
        }
        self.phase.set(Phase::Stopping);
        self.send(STOPPING_MESSAGE);
    }

    /// `WATCHDOG=1`.
    pub fn keepalive(&self) {
        self.send(WATCHDOG_MESSAGE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_absolute_paths_or_abstract_names() {
        assert_eq!(
            Address::parse(OsStr::new("/run/systemd/notify")).ok(),
            Some(Address::Path("/run/systemd/notify".into()))
        );
        assert_eq!(
            Address::parse(OsStr::new("@sv/notify")).ok(),
            Some(Address::Abstract(b"sv/notify".to_vec()))
        );
        for bad in ["", "@", "relative/sock", "notify"] {
            assert!(Address::parse(OsStr::new(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn watchdog_is_half_the_period_and_only_for_us() {
        assert_eq!(
            watchdog_interval(Some("30000000"), None, 7),
            Some(Duration::from_secs(15))
        );
        assert_eq!(
            watchdog_interval(Some("30000000"), Some("7"), 7),
            Some(Duration::from_secs(15))
        );
        assert_eq!(watchdog_interval(Some("30000000"), Some("8"), 7), None);
        assert_eq!(watchdog_interval(Some("0"), None, 7), None);
        assert_eq!(watchdog_interval(Some("soon"), None, 7), None);
        assert_eq!(watchdog_interval(None, Some("7"), 7), None);
    }

    #[test]
    fn counts() {
        use ProcessState::*;
        let counts = Counts::of([Running, Running, Fatal, Exited, Stopped, Backoff, Starting]);
        assert_eq!(
            counts.status(),
            "2 running, 1 starting, 1 backoff, 1 fatal, 2 stopped"
        );
    }

    #[test]
    fn arrivals_settle_once_each_process_got_somewhere() {
        use ProcessState::*;
        let mut arrivals = Arrivals::default();
        assert!(arrivals.settled([]));
        arrivals.saw("a", Starting);
        arrivals.saw("b", Starting);
        assert!(!arrivals.settled([]));
        arrivals.saw("a", Running);
        arrivals.saw("b", Backoff);
        assert!(!arrivals.settled([]));
        arrivals.saw("b", Starting);
        arrivals.saw("b", Fatal);
        assert!(arrivals.settled([]));
        // A crash loop after arriving does not count again.
        arrivals.saw("a", Exited);
        arrivals.saw("a", Starting);
        assert!(arrivals.settled([]));
        // A program held back by a dependency is not settled until it
        // has got somewhere itself.
        assert!(!arrivals.settled(["c"]));
        arrivals.saw("c", Starting);
        arrivals.saw("c", Running);
        assert!(arrivals.settled(["c"]));
        arrivals.reset();
        arrivals.resync([("a", Starting), ("b", Running)]);
        assert!(!arrivals.settled([]));
        arrivals.resync([("a", Running), ("b", Running)]);
        assert!(arrivals.settled([]));
    }

    #[test]
    fn messages_are_systemds_assignments() {
        let counts = Counts::of([ProcessState::Running]);
        assert_eq!(
            ready_message(&counts),
            "READY=1\nSTATUS=1 running, 0 starting, 0 backoff, 0 fatal, 0 stopped"
        );
        assert_eq!(
            reloading_message(42),
            "RELOADING=1\nMONOTONIC_USEC=42\nSTATUS=reloading the configuration"
        );
    }

    /// Each phase is announced once, in order, and nothing after STOPPING.
    #[test]
    fn phases_are_announced_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("notify");
        let receiver = UnixDatagram::bind(&path).expect("bind");
        receiver.set_nonblocking(true).expect("nonblocking");
        let notifier = Notifier::open(&Address::Path(path), None).expect("open");
        let counts = Counts::of([ProcessState::Running]);
        notifier.ready(&counts);
        notifier.ready(&counts);
        notifier.status(&counts);
        notifier.reloading();
        notifier.reloading();
        notifier.ready(&counts);
        notifier.stopping();
        notifier.ready(&counts);
        notifier.stopping();
        let mut got = Vec::new();
        let mut buf = [0u8; 512];
        while let Ok(n) = receiver.recv(&mut buf) {
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            got.push(text.lines().next().unwrap_or_default().to_string());
        }
        assert_eq!(
            got,
            ["READY=1", "RELOADING=1", "READY=1", "STOPPING=1"],
            "{got:?}"
        );
    }
}
