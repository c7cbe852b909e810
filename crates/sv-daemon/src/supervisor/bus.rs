//! The internal event bus: what happened (state changes, groups, log
//! chunks, ticks) as every observer — listener pools, the web page's live
//! view, later metrics and the hub — sees it, and its conversion into the
//! Supervisor event listeners hear of.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use sv_api::SupervisorState;
use sv_core::events::{self as ev, Channel};
use sv_core::process::State;

use tokio::sync::broadcast;

/// Something that happened, as every observer sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BusEvent {
    ProcessState {
        group: String,
        name: String,
        pid: u32,
        from: State,
        to: State,
        expected: bool,
        tries: u32,
    },
    SupervisorState(SupervisorState),
    GroupAdded(String),
    GroupRemoved(String),
    /// `sendRemoteCommEvent` (REMOTE_COMMUNICATION).
    RemoteCommunication {
        kind: String,
        data: String,
    },
    /// A logged chunk of output of a stream with `*_events_enabled`.
    ProcessLog {
        group: String,
        name: String,
        pid: u32,
        channel: Channel,
        data: Vec<u8>,
    },
    /// Output captured between the capture-mode tokens.
    ProcessCommunication {
        group: String,
        name: String,
        pid: u32,
        channel: Channel,
        data: Vec<u8>,
    },
    /// TICK_`period`, `when` the start of the new slice.
    Tick {
        period: u32,
        when: i64,
    },
}

impl BusEvent {
    /// Whether bus subscribers get this event. Chunks of child output
    /// (PROCESS_LOG, PROCESS_COMMUNICATION) go to the listener pools only:
    /// no bus subscriber reads them, and up to 4096 of them (each up to a
    /// pipe read) held in the broadcast ring for a stalled subscriber
    /// would pin megabytes for nothing.
    pub(super) fn is_broadcast(&self) -> bool {
        !matches!(
            self,
            BusEvent::ProcessLog { .. } | BusEvent::ProcessCommunication { .. }
        )
    }

    /// The Supervisor event listeners hear of.
    pub(super) fn into_event(self) -> ev::Event {
        match self {
            BusEvent::ProcessState {
                group,
                name,
                pid,
                from,
                to,
                expected,
                tries,
            } => ev::Event::ProcessState {
                process: name,
                group,
                from,
                to,
                expected,
                tries,
                pid,
            },
            BusEvent::SupervisorState(SupervisorState::Running) => ev::Event::SupervisorRunning,
            BusEvent::SupervisorState(_) => ev::Event::SupervisorStopping,
            BusEvent::GroupAdded(g) => ev::Event::GroupAdded(g),
            BusEvent::GroupRemoved(g) => ev::Event::GroupRemoved(g),
            BusEvent::RemoteCommunication { kind, data } => {
                ev::Event::RemoteCommunication { kind, data }
            }
            BusEvent::ProcessLog {
                group,
                name,
                pid,
                channel,
                data,
            } => ev::Event::ProcessLog {
                channel,
                process: name,
                group,
                pid,
                data,
            },
            BusEvent::ProcessCommunication {
                group,
                name,
                pid,
                channel,
                data,
            } => ev::Event::ProcessCommunication {
                channel,
                process: name,
                group,
                pid,
                data,
            },
            BusEvent::Tick { period, when } => ev::Event::Tick { period, when },
        }
    }
}

/// The internal event bus: one sender, any number of subscribers; a slow
/// subscriber loses old events rather than slowing the actor.
///
/// It also counts the changes a page shows (process states, groups added
/// or removed), so a page rendered from a snapshot can tell, when its live
/// stream opens, whether something changed in between (see
/// `web/live.rs`).
#[derive(Debug, Clone)]
pub struct Bus {
    sender: broadcast::Sender<BusEvent>,
    changes: Arc<AtomicU64>,
}

impl Bus {
    pub fn new() -> Self {
        Bus {
            sender: broadcast::channel(4096).0,
            changes: Arc::default(),
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<BusEvent> {
        self.sender.subscribe()
    }

    /// How many process state changes and group changes were published so
    /// far. Read it *before* taking a snapshot: a different count later
    /// means the snapshot may be stale.
    pub fn changes(&self) -> u64 {
        self.changes.load(Ordering::SeqCst)
    }

    pub(crate) fn publish(&self, event: BusEvent) {
        if matches!(
            event,
            BusEvent::ProcessState { .. } | BusEvent::GroupAdded(_) | BusEvent::GroupRemoved(_)
        ) {
            self.changes.fetch_add(1, Ordering::SeqCst);
        }
        // No subscriber is not an error.
        let _ = self.sender.send(event);
    }
}

impl Default for Bus {
    fn default() -> Self {
        Self::new()
    }
}
