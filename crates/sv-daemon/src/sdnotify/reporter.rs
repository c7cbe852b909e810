//! The task that tells systemd about supervisord's life, for the daemon's
//! whole run (across SIGHUP restarts). It watches the bus, never the
//! process table: the actor only says when a (re)start has issued its
//! autostart wave (the `booted` channel, see `Seams::booted`), and from
//! then on a batch of state changes is followed by one `getAllProcessInfo`
//! of the actor, whose answer is the truth the counts come from.
//!
//! * boot wave issued, then every process seen entering STARTING/BACKOFF
//!   since has got somewhere once (RUNNING, FATAL, EXITED, STOPPED — see
//!   [`Arrivals`]), and none is held back `waiting for` a dependency →
//!   `READY=1` with `STATUS=` counts (every batch is counted until then);
//!   later changes → `STATUS=`, counted at most once a second;
//! * `SupervisorState(Restarting)` on the bus (SIGHUP, `supervisor.restart`,
//!   once the new file has been read and found valid) → `RELOADING=1`
//!   `MONOTONIC_USEC=`, and `READY=1` again when the new actor settles;
//! * `SupervisorState(Shutdown)` → `STOPPING=1`;
//! * with a watchdog, every half period: a round trip to the actor
//!   (`Op::Info`), then `WATCHDOG=1` — a wedged actor stops the keepalives
//!   and systemd restarts the service, which is the point.

use std::rc::Rc;
use std::time::Duration;

use sv_api::{ProcessState, SupervisorState};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::time::Instant;

use super::{Arrivals, Counts, Notifier, Phase};
use crate::supervisor::{BusEvent, Op};

/// What a drained batch of bus events asks for.
#[derive(Default)]
struct Batch {
    /// Some process changed state (or events were lost): count again.
    changed: bool,
    /// The actor has issued its boot wave.
    booted: bool,
    /// The deferred count is due.
    due: bool,
    /// The daemon is gone.
    closed: bool,
}

struct Reporter {
    notifier: Rc<Notifier>,
    bus: broadcast::Receiver<BusEvent>,
    requests: mpsc::Sender<Op>,
    /// Whether the current actor has issued its autostart wave.
    booted: bool,
    /// When the processes were last counted (after READY=1, STATUS= is
    /// refreshed at most every [`STATUS_INTERVAL`]).
    last_count: Option<Instant>,
    /// A change not yet counted: count at this deadline.
    count_due: Option<Instant>,
    /// Who is still on the way up (until READY=1).
    arrivals: Arrivals,
    /// Events were lost since the arrivals were last exact.
    lagged: bool,
}

/// After READY=1 the counts are a display for `systemctl status`: a crash
/// storm of a thousand programs costs one `getAllProcessInfo` a second,
/// not one per batch of changes. Before READY=1 every batch counts, so
/// READY=1 is sent the moment the daemon settles.
const STATUS_INTERVAL: Duration = Duration::from_secs(1);

/// Report to systemd until the daemon's bus closes.
pub async fn run(
    notifier: Rc<Notifier>,
    bus: broadcast::Receiver<BusEvent>,
    requests: mpsc::Sender<Op>,
    mut booted: mpsc::UnboundedReceiver<()>,
) {
    let mut keepalive = notifier.watchdog().map(|period| {
        let mut interval = tokio::time::interval(period);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        interval
    });
    let mut reporter = Reporter {
        notifier,
        bus,
        requests,
        booted: false,
        last_count: None,
        count_due: None,
        arrivals: Arrivals::default(),
        lagged: false,
    };
    loop {
        // Whatever woke us, the bus is drained and a boot notice taken
        // after it (so a restart's events come before the next actor's
        // notice) on every turn: a busy bus cannot starve the notice, nor
        // the keepalive.
        let mut batch = Batch::default();
        tokio::select! {
            first = reporter.bus.recv() => reporter.absorb(first, &mut batch),
            Some(()) = booted.recv() => batch.booted = true,
            () = tick(keepalive.as_mut()) => reporter.keepalive().await,
            () = tokio::time::sleep_until(reporter.count_due.unwrap_or_else(Instant::now)),
                if reporter.count_due.is_some() =>
            {
                reporter.count_due = None;
                batch.due = true;
            }
        }
        reporter.drain(&mut batch);
        while booted.try_recv().is_ok() {
            batch.booted = true;
        }
        if batch.closed {
            return;
        }
        if batch.booted {
            reporter.booted = true;
            reporter.count().await;
        } else if batch.due && reporter.booted {
            reporter.count().await;
        } else if batch.changed && reporter.booted {
            reporter.changed().await;
        }
    }
}

async fn tick(interval: Option<&mut tokio::time::Interval>) {
    match interval {
        Some(interval) => {
            interval.tick().await;
        }
        None => std::future::pending().await,
    }
}

impl Reporter {
    fn absorb(&mut self, event: Result<BusEvent, RecvError>, batch: &mut Batch) {
        match event {
            // An actor's boot begins: its processes are all to be seen.
            Ok(BusEvent::SupervisorState(SupervisorState::Running)) => {
                self.arrivals.reset();
                self.lagged = false;
            }
            Ok(BusEvent::SupervisorState(SupervisorState::Restarting)) => {
                self.booted = false;
                self.notifier.reloading();
            }
            Ok(BusEvent::SupervisorState(SupervisorState::Shutdown)) => {
                self.booted = false;
                self.notifier.stopping();
            }
            Ok(BusEvent::ProcessState {
                group, name, to, ..
            }) => {
                if self.notifier.phase() != Phase::Ready {
                    self.arrivals.saw(&sv_api::make_namespec(&group, &name), to);
                }
                batch.changed = true;
            }
            Err(RecvError::Lagged(_)) => {
                self.lagged = true;
                batch.changed = true;
            }
            Ok(_) => {}
            Err(RecvError::Closed) => batch.closed = true,
        }
    }

    /// Take every event already published (the actor publishes a step's
    /// events before it yields, so this is a consistent point).
    fn drain(&mut self, batch: &mut Batch) {
        loop {
            let event = match self.bus.try_recv() {
                Ok(event) => Ok(event),
                Err(TryRecvError::Empty) => return,
                Err(TryRecvError::Lagged(n)) => Err(RecvError::Lagged(n)),
                Err(TryRecvError::Closed) => Err(RecvError::Closed),
            };
            self.absorb(event, batch);
        }
    }

    /// Something changed: count now, or (after READY=1, when counted
    /// recently) at the end of the interval.
    async fn changed(&mut self) {
        let ready = self.notifier.phase() == Phase::Ready;
        match self.last_count {
            Some(at) if ready && at.elapsed() < STATUS_INTERVAL => {
                self.count_due.get_or_insert(at + STATUS_INTERVAL);
            }
            _ => self.count().await,
        }
    }

    /// Ask the actor for every process's state and tell systemd.
    async fn count(&mut self) {
        self.last_count = Some(Instant::now());
        let (reply, answer) = oneshot::channel();
        if self.requests.send(Op::AllProcessInfo(reply)).await.is_err() {
            return;
        }
        // Refused while shutting down or restarting: nothing to report.
        let Ok(Ok(infos)) = answer.await else {
            return;
        };
        // A restart or shutdown that began while we waited wins over an
        // answer that may predate it.
        let mut batch = Batch::default();
        self.drain(&mut batch);
        if !self.booted {
            return;
        }
        let states: Vec<(String, ProcessState)> = infos
            .iter()
            .filter_map(|info| {
                let state = ProcessState::from_code(info.state)?;
                Some((sv_api::make_namespec(&info.group, &info.name), state))
            })
            .collect();
        let counts = Counts::of(states.iter().map(|(_, state)| *state));
        if std::mem::take(&mut self.lagged) {
            self.arrivals
                .resync(states.iter().map(|(n, s)| (n.as_str(), *s)));
        }
        // Held back by a dependency: STOPPED (or STARTING) with the
        // readiness room's `waiting for …` description.
        let held_back: Vec<String> = infos
            .iter()
            .filter(|info| info.description.starts_with("waiting for"))
            .map(|info| sv_api::make_namespec(&info.group, &info.name))
            .collect();
        let settled = self.arrivals.settled(held_back.iter().map(String::as_str));
        match self.notifier.phase() {
            Phase::Starting | Phase::Reloading if settled => self.notifier.ready(&counts),
            Phase::Starting | Phase::Ready => self.notifier.status(&counts),
            Phase::Reloading | Phase::Stopping => {}
        }
    }

    /// One round trip through the actor, then `WATCHDOG=1`.
    async fn keepalive(&self) {
        let (reply, answer) = oneshot::channel();
        if self.requests.send(Op::Info(reply)).await.is_err() {
            return;
        }
        if answer.await.is_ok() {
            self.notifier.keepalive();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::os::unix::net::UnixDatagram;

    use sv_api::records::ProcessInfo;

    use super::*;
    use crate::sdnotify::Address;
    use crate::supervisor::Bus;

    /// The actor's part, faked: answers `getAllProcessInfo` with the
    /// states the test sets, and counts the calls.
    fn fake_actor(
        mut requests: mpsc::Receiver<Op>,
        states: Rc<std::cell::RefCell<Vec<ProcessState>>>,
        calls: Rc<Cell<usize>>,
    ) {
        tokio::task::spawn_local(async move {
            while let Some(op) = requests.recv().await {
                if let Op::AllProcessInfo(reply) = op {
                    calls.set(calls.get() + 1);
                    let infos = states
                        .borrow()
                        .iter()
                        .map(|s| ProcessInfo {
                            state: s.code(),
                            ..ProcessInfo::default()
                        })
                        .collect();
                    let _ = reply.send(Ok(infos));
                }
            }
        });
    }

    fn received(socket: &UnixDatagram) -> Vec<String> {
        let mut got = Vec::new();
        let mut buf = [0u8; 512];
        while let Ok(n) = socket.recv(&mut buf) {
            got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        got
    }

    fn change(bus: &Bus, to: ProcessState) {
        bus.publish(BusEvent::ProcessState {
            group: "p".into(),
            name: "p".into(),
            pid: 1,
            from: ProcessState::Stopped,
            to,
            expected: true,
            tries: 0,
        });
    }

    /// Let every ready task run (the clock is paused: nothing else moves).
    async fn settle() {
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
    }

    /// READY=1 waits for the boot notice and for every start to arrive; after
    /// it, a burst of changes is counted once, at the end of the interval.
    #[tokio::test(start_paused = true)]
    async fn ready_after_boot_and_settling_then_status_coalesced() {
        let local = tokio::task::LocalSet::new();
        local
            .run_until(async {
                let dir = tempfile::tempdir().expect("tempdir");
                let path = dir.path().join("notify");
                let systemd = UnixDatagram::bind(&path).expect("bind");
                systemd.set_nonblocking(true).expect("nonblocking");
                let notifier = Rc::new(Notifier::open(&Address::Path(path), None).expect("open"));
                let bus = Bus::new();
                let (requests_tx, requests_rx) = mpsc::channel(16);
                let (booted_tx, booted_rx) = mpsc::unbounded_channel();
                let states = Rc::new(std::cell::RefCell::new(vec![ProcessState::Starting]));
                let calls = Rc::new(Cell::new(0));
                fake_actor(requests_rx, states.clone(), calls.clone());
                tokio::task::spawn_local(run(notifier, bus.subscribe(), requests_tx, booted_rx));

                // The boot wave: counted only once the actor says it is out.
                bus.publish(BusEvent::SupervisorState(SupervisorState::Running));
                change(&bus, ProcessState::Starting);
                settle().await;
                assert_eq!(calls.get(), 0);
                booted_tx.send(()).expect("booted");
                settle().await;
                assert_eq!(calls.get(), 1);
                assert_eq!(
                    received(&systemd),
                    ["STATUS=0 running, 1 starting, 0 backoff, 0 fatal, 0 stopped"]
                );

                *states.borrow_mut() = vec![ProcessState::Running];
                change(&bus, ProcessState::Running);
                settle().await;
                assert_eq!(
                    received(&systemd),
                    ["READY=1\nSTATUS=1 running, 0 starting, 0 backoff, 0 fatal, 0 stopped"]
                );

                // A burst right after: one count, a second later.
                let before = calls.get();
                states.borrow_mut().push(ProcessState::Fatal);
                for _ in 0..50 {
                    change(&bus, ProcessState::Running);
                    settle().await;
                }
                assert_eq!(calls.get(), before);
                tokio::time::advance(STATUS_INTERVAL).await;
                settle().await;
                assert_eq!(calls.get(), before + 1);
                assert_eq!(
                    received(&systemd),
                    ["STATUS=1 running, 0 starting, 0 backoff, 1 fatal, 0 stopped"]
                );

                // A restart: RELOADING, and nothing counted until the next
                // boot notice; a program crashing over and over after it
                // first got RUNNING does not hold READY=1 back.
                bus.publish(BusEvent::SupervisorState(SupervisorState::Restarting));
                settle().await;
                let got = received(&systemd);
                assert_eq!(got.len(), 1);
                assert!(
                    got[0].starts_with("RELOADING=1\nMONOTONIC_USEC="),
                    "{got:?}"
                );
                bus.publish(BusEvent::SupervisorState(SupervisorState::Running));
                change(&bus, ProcessState::Starting);
                change(&bus, ProcessState::Running);
                change(&bus, ProcessState::Exited);
                change(&bus, ProcessState::Starting);
                *states.borrow_mut() = vec![ProcessState::Starting];
                booted_tx.send(()).expect("booted");
                settle().await;
                assert_eq!(
                    received(&systemd),
                    ["READY=1\nSTATUS=0 running, 1 starting, 0 backoff, 0 fatal, 0 stopped"]
                );
                bus.publish(BusEvent::SupervisorState(SupervisorState::Shutdown));
                settle().await;
                assert_eq!(
                    received(&systemd),
                    ["STOPPING=1\nSTATUS=stopping all processes"]
                );
            })
            .await;
    }
}
