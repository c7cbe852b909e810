//! The task that tells systemd about supervisord's life, for the daemon's
//! whole run (across SIGHUP restarts). It watches the bus, never the
//! process table: the actor only says when a (re)start has issued its
//! autostart wave (the `booted` channel, see `Seams::booted`), and from
//! then on every batch of state changes is followed by one
//! `getAllProcessInfo` of the actor, whose answer is the truth the counts
//! come from.
//!
//! * boot wave issued, then nothing STARTING or BACKOFF → `READY=1` with
//!   `STATUS=` counts; later changes → `STATUS=`;
//! * `SupervisorState(Restarting)` on the bus (SIGHUP, `supervisor.restart`,
//!   once the new file has been read and found valid) → `RELOADING=1`
//!   `MONOTONIC_USEC=`, and `READY=1` again when the new actor settles;
//! * `SupervisorState(Shutdown)` → `STOPPING=1`;
//! * with a watchdog, every half period: a round trip to the actor
//!   (`Op::Info`), then `WATCHDOG=1` — a wedged actor stops the keepalives
//!   and systemd restarts the service, which is the point.

use std::rc::Rc;

use sv_api::{ProcessState, SupervisorState};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::{broadcast, mpsc, oneshot};

use super::{Counts, Notifier, Phase};
use crate::supervisor::{BusEvent, Op};

/// What a drained batch of bus events asks for.
#[derive(Default)]
struct Batch {
    /// Some process changed state (or events were lost): count again.
    changed: bool,
    /// The daemon is gone.
    closed: bool,
}

struct Reporter {
    notifier: Rc<Notifier>,
    bus: broadcast::Receiver<BusEvent>,
    requests: mpsc::Sender<Op>,
    /// Whether the current actor has issued its autostart wave.
    booted: bool,
}

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
    };
    loop {
        tokio::select! {
            // The bus first: a restart's events are taken before the next
            // actor's boot notice.
            biased;
            first = reporter.bus.recv() => {
                let mut batch = Batch::default();
                reporter.absorb(first, &mut batch);
                reporter.drain(&mut batch);
                if batch.closed {
                    return;
                }
                if batch.changed && reporter.booted {
                    reporter.count().await;
                }
            }
            Some(()) = booted.recv() => {
                let mut batch = Batch::default();
                reporter.drain(&mut batch);
                if batch.closed {
                    return;
                }
                reporter.booted = true;
                reporter.count().await;
            }
            () = tick(keepalive.as_mut()) => reporter.keepalive().await,
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
            Ok(BusEvent::SupervisorState(SupervisorState::Restarting)) => {
                self.booted = false;
                self.notifier.reloading();
            }
            Ok(BusEvent::SupervisorState(SupervisorState::Shutdown)) => {
                self.booted = false;
                self.notifier.stopping();
            }
            Ok(BusEvent::ProcessState { .. }) | Err(RecvError::Lagged(_)) => batch.changed = true,
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

    /// Ask the actor for every process's state and tell systemd.
    async fn count(&mut self) {
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
        let counts = Counts::of(
            infos
                .iter()
                .filter_map(|info| ProcessState::from_code(info.state)),
        );
        match self.notifier.phase() {
            Phase::Starting | Phase::Reloading if counts.settled() => self.notifier.ready(&counts),
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
