//! The status page's live updates: `GET /events`, a server-sent-events
//! stream of process state changes, fed by the actor's [`Bus`].
//!
//! * Each connection subscribes to the bus. State changes that arrive
//!   within [`BATCH`] of the first one go out as **one** `state` message,
//!   `{"changes": [...]}`, in the order they happened; each change carries
//!   the fields of `getProcessInfo` the page shows (`group`, `name`,
//!   `namespec`, `from`, `statename`, `state`, `pid`, `description`,
//!   `start`, `now`). One `getAllProcessInfo` per batch supplies the start
//!   and stop times and spawn error the description is made of.
//! * A slow client never slows the actor nor pins memory: the bus is a
//!   fixed-size broadcast ring (publishing never waits), and each
//!   connection has a small task that drains its subscription at once,
//!   keeping only the state changes, at most [`MAX_BATCH`] of them. A
//!   client that stops reading therefore holds no slot of the ring (which
//!   would keep up to 4096 events alive for it); when
//!   more changes pile up than one batch may hold, they are dropped and
//!   the client gets a `resync` message instead: the page reloads its
//!   table. A group added or removed is a `resync` too.
//! * A comment line every [`HEARTBEAT`] keeps proxies from timing the
//!   stream out and lets a vanished client be noticed.
//!
//! [`Bus`]: crate::supervisor::Bus

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use serde_json::json;
use sv_core::process::State;
use tokio::sync::Notify;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::task::AbortHandle;
use tokio::time::Instant;

use crate::rpc::Dispatcher;
use crate::supervisor::BusEvent;
use sv_api::ProcessInfo;

/// Where the stream is served (Supervisor has no such URL).
pub const EVENTS_PATH: &str = "/events";
/// How long changes are gathered into one message after the first.
pub const BATCH: Duration = Duration::from_millis(100);
/// How often an idle stream sends a comment.
pub const HEARTBEAT: Duration = Duration::from_secs(15);

/// [`HEARTBEAT`], or `SV_WEB_HEARTBEAT_MS` from the environment (so tests
/// need not wait 15 s for one).
pub(crate) fn heartbeat() -> Duration {
    std::env::var("SV_WEB_HEARTBEAT_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|&ms| ms > 0)
        .map_or(HEARTBEAT, Duration::from_millis)
}
/// More changes than this in one batch: send `resync` instead (the page
/// reloads once rather than patching thousands of rows). Also the most
/// changes a connection holds for a client that does not read.
pub const MAX_BATCH: usize = 1000;

/// What the page is told when it should reload its table.
const RESYNC: &[u8] = b"event: resync\ndata: {}\n\n";
/// The first bytes: the reconnection delay and a comment, so the client
/// sees the stream open at once.
const HELLO: &[u8] = b"retry: 3000\n: supervisor-rs live updates\n\n";
const KEEPALIVE: &[u8] = b": heartbeat\n\n";

/// One state change from the bus.
struct Change {
    group: String,
    name: String,
    from: State,
    to: State,
    pid: u32,
}

enum Seen {
    Change(Change),
    Resync,
    Other,
}

fn classify(event: BusEvent) -> Seen {
    match event {
        BusEvent::ProcessState {
            group,
            name,
            pid,
            from,
            to,
            ..
        } => Seen::Change(Change {
            group,
            name,
            from,
            to,
            pid,
        }),
        BusEvent::GroupAdded(_) | BusEvent::GroupRemoved(_) => Seen::Resync,
        _ => Seen::Other,
    }
}

/// What one connection's drain task gathered for it, waiting to be sent.
#[derive(Default)]
struct Inbox {
    /// State changes not sent yet, oldest first; at most [`MAX_BATCH`].
    changes: Vec<Change>,
    /// When the first of `changes` arrived: its batch closes [`BATCH`] later.
    first_at: Option<Instant>,
    /// The client must reload its table (it fell behind, too many changes
    /// piled up, or the groups changed); `changes` is then empty.
    resync: bool,
    /// The bus closed: the daemon is stopping.
    closed: bool,
}

impl Inbox {
    fn take(&mut self, seen: Seen) {
        match seen {
            // The page reloads anyway: these changes will be in its table.
            Seen::Change(_) if self.resync => {}
            Seen::Change(change) => {
                if self.changes.is_empty() {
                    self.first_at = Some(Instant::now());
                }
                self.changes.push(change);
                if self.changes.len() > MAX_BATCH {
                    self.drop_for_resync();
                }
            }
            Seen::Resync => self.drop_for_resync(),
            Seen::Other => {}
        }
    }

    fn drop_for_resync(&mut self) {
        self.changes = Vec::new();
        self.first_at = None;
        self.resync = true;
    }
}

/// The inbox shared by a connection and its drain task.
#[derive(Default)]
struct Shared {
    inbox: Mutex<Inbox>,
    /// Signalled when the inbox has something new.
    arrived: Notify,
}

impl Shared {
    fn inbox(&self) -> std::sync::MutexGuard<'_, Inbox> {
        // The inbox holds no invariant a panicking holder could break
        // halfway; go on with it.
        self.inbox.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Drain the subscription into the inbox as fast as the bus fills it, so
/// this connection never holds a slot of the ring, however slow its client.
async fn drain(mut rx: broadcast::Receiver<BusEvent>, shared: Arc<Shared>) {
    loop {
        let seen = match rx.recv().await {
            Ok(event) => classify(event),
            // Only if this task itself was starved; the client resyncs.
            Err(RecvError::Lagged(_)) => Seen::Resync,
            Err(RecvError::Closed) => {
                shared.inbox().closed = true;
                shared.arrived.notify_one();
                return;
            }
        };
        if !matches!(seen, Seen::Other) {
            shared.inbox().take(seen);
            shared.arrived.notify_one();
        }
    }
}

/// Ends the drain task when the connection goes away.
struct AbortOnDrop(AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

struct Live {
    shared: Arc<Shared>,
    _drain: AbortOnDrop,
    dispatcher: Dispatcher,
    greeted: bool,
    heartbeat: Duration,
}

/// The `/events` response (the caller checked method and credentials).
/// `stale`: the page's snapshot missed a change (its `since=` is not the
/// bus's count), so the first message after the greeting is `resync`.
pub fn events(dispatcher: Dispatcher, rx: broadcast::Receiver<BusEvent>, stale: bool) -> Response {
    let live = Live::new(dispatcher, rx, heartbeat());
    if stale {
        live.shared.inbox().resync = true;
    }
    let stream = futures_util::stream::unfold(live, |mut live| async move {
        let chunk = live.next().await?;
        Some((Ok::<Bytes, std::convert::Infallible>(chunk), live))
    });
    let mut response = Response::new(Body::from_stream(stream));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // nginx would otherwise hold the messages back.
    headers.insert("X-Accel-Buffering", HeaderValue::from_static("no"));
    response
}

/// What the connection does next, once its inbox has something.
enum Ready {
    Resync,
    Batch(Instant),
    Closed,
}

impl Live {
    /// A stream over `rx`, whose drain task starts now (on the current
    /// runtime).
    fn new(dispatcher: Dispatcher, rx: broadcast::Receiver<BusEvent>, heartbeat: Duration) -> Live {
        let shared = Arc::new(Shared::default());
        let drain = tokio::spawn(drain(rx, Arc::clone(&shared)));
        Live {
            shared,
            _drain: AbortOnDrop(drain.abort_handle()),
            dispatcher,
            greeted: false,
            heartbeat,
        }
    }

    /// What the inbox holds now, if anything.
    fn ready(&self) -> Option<Ready> {
        let mut inbox = self.shared.inbox();
        if inbox.resync {
            inbox.resync = false;
            return Some(Ready::Resync);
        }
        if let Some(first_at) = inbox.first_at {
            return Some(Ready::Batch(first_at + BATCH));
        }
        inbox.closed.then_some(Ready::Closed)
    }

    /// The next chunk to send; `None` ends the stream (the daemon is gone).
    async fn next(&mut self) -> Option<Bytes> {
        if !self.greeted {
            self.greeted = true;
            return Some(Bytes::from_static(HELLO));
        }
        let idle_until = Instant::now() + self.heartbeat;
        let batch_until = loop {
            match self.ready() {
                Some(Ready::Resync) => return Some(Bytes::from_static(RESYNC)),
                Some(Ready::Closed) => return None,
                Some(Ready::Batch(until)) => break until,
                None => {
                    let arrived = self.shared.arrived.notified();
                    if tokio::time::timeout_at(idle_until, arrived).await.is_err() {
                        return Some(Bytes::from_static(KEEPALIVE));
                    }
                }
            }
        };
        // The changes of the next BATCH go out together.
        tokio::time::sleep_until(batch_until).await;
        let batch = {
            let mut inbox = self.shared.inbox();
            if inbox.resync {
                inbox.resync = false;
                return Some(Bytes::from_static(RESYNC));
            }
            inbox.first_at = None;
            std::mem::take(&mut inbox.changes)
        };
        Some(self.message(&batch).await)
    }

    /// One `state` message for `batch`.
    async fn message(&self, batch: &[Change]) -> Bytes {
        let Ok(infos) = self.dispatcher.all_process_info().await else {
            // Shutting down: the page learns the rest when it reloads.
            return Bytes::from_static(RESYNC);
        };
        let by_namespec: HashMap<String, &ProcessInfo> = infos
            .iter()
            .map(|info| (sv_api::make_namespec(&info.group, &info.name), info))
            .collect();
        let changes: Vec<serde_json::Value> = batch
            .iter()
            .filter_map(|change| {
                let namespec = sv_api::make_namespec(&change.group, &change.name);
                let info = by_namespec.get(&namespec)?;
                Some(describe_change(change, &namespec, info))
            })
            .collect();
        if changes.is_empty() {
            return Bytes::from_static(KEEPALIVE);
        }
        let data = json!({ "changes": changes });
        Bytes::from(format!("event: state\ndata: {data}\n\n"))
    }
}

/// A change as the page reads it: the state the change went to, with the
/// pid and description `getProcessInfo` gives for that state (the times
/// and spawn error are the process's current ones).
fn describe_change(change: &Change, namespec: &str, info: &ProcessInfo) -> serde_json::Value {
    // getProcessInfo's pid is 0 once the process is gone.
    let pid = match change.to {
        State::Starting | State::Running | State::Stopping => change.pid,
        _ => 0,
    };
    let (now, start) = (info.now, info.start);
    // Still in that state: the record's own description, which also says
    // what a STARTING process waits for and a notify child's STATUS=.
    let description = if info.state == change.to.code() && info.pid == pid {
        info.description.clone()
    } else {
        sv_api::records::describe(
            change.to.code(),
            pid,
            now,
            start,
            info.stop,
            &info.spawnerr,
            &change.name,
            &crate::supervisor::local_time,
        )
    };
    json!({
        "group": change.group,
        "name": change.name,
        "namespec": namespec,
        "from": change.from.name(),
        "statename": change.to.name(),
        "state": change.to.code(),
        "pid": pid,
        "description": description,
        "start": start,
        "now": now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(name: &str, to: State) -> BusEvent {
        BusEvent::ProcessState {
            group: name.to_string(),
            name: name.to_string(),
            pid: 0,
            from: State::Stopped,
            to,
            expected: true,
            tries: 0,
        }
    }

    /// A stream on a ring of `capacity`, with an actor that never answers
    /// (the paths tested here must not ask it).
    fn live(capacity: usize) -> (broadcast::Sender<BusEvent>, Live) {
        let (tx, rx) = broadcast::channel(capacity);
        let (requests, _) = tokio::sync::mpsc::channel(1);
        let live = Live::new(Dispatcher::new(requests, true), rx, HEARTBEAT);
        (tx, live)
    }

    /// Let the drain task run (the tests' runtime has one thread).
    async fn let_the_drain_run() {
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }

    fn log_chunk(n: usize) -> BusEvent {
        BusEvent::RemoteCommunication {
            kind: format!("chunk {n}"),
            data: "x".repeat(128 << 10),
        }
    }

    /// Regression (issue 14): a client that stopped reading kept its place
    /// in the bus, so the ring's 4096 events (log chunks of up to 128 KiB
    /// among them) stayed alive for it.
    #[tokio::test]
    async fn a_client_that_never_reads_pins_no_bus_events() {
        let (tx, live) = live(64);
        for n in 0..50 {
            tx.send(log_chunk(n)).expect("subscribed");
        }
        let_the_drain_run().await;
        assert_eq!(tx.len(), 0, "every event was let go");
        drop(live);
    }

    #[tokio::test]
    async fn a_stalled_client_holds_at_most_one_batch_then_resyncs() {
        let (tx, mut live) = live(4 * MAX_BATCH);
        assert_eq!(live.next().await.as_deref(), Some(HELLO));
        for i in 0..3 * MAX_BATCH {
            tx.send(change(&format!("p{i}"), State::Running))
                .expect("subscribed");
            if i % 100 == 0 {
                let_the_drain_run().await;
            }
        }
        let_the_drain_run().await;
        assert_eq!(tx.len(), 0);
        assert!(live.shared.inbox().changes.len() <= MAX_BATCH);
        assert_eq!(live.next().await.as_deref(), Some(RESYNC));
        assert!(live.shared.inbox().changes.is_empty());
    }

    #[tokio::test]
    async fn the_drain_task_ends_with_the_connection() {
        let (tx, live) = live(4);
        let_the_drain_run().await;
        assert_eq!(tx.receiver_count(), 1);
        drop(live);
        let_the_drain_run().await;
        assert_eq!(tx.receiver_count(), 0, "the subscription was dropped");
    }

    #[tokio::test]
    async fn a_lagging_client_is_told_to_resync() {
        let (tx, mut live) = live(4);
        assert_eq!(live.next().await.as_deref(), Some(HELLO));
        // More than the ring holds arrive before the client reads again.
        for i in 0..10 {
            tx.send(change(&format!("p{i}"), State::Starting))
                .expect("subscribed");
        }
        assert_eq!(live.next().await.as_deref(), Some(RESYNC));
    }

    #[tokio::test]
    async fn a_burst_larger_than_a_batch_is_a_resync() {
        let (tx, mut live) = live(4 * MAX_BATCH);
        let _ = live.next().await;
        for i in 0..=MAX_BATCH {
            tx.send(change(&format!("p{i}"), State::Running))
                .expect("subscribed");
        }
        assert_eq!(live.next().await.as_deref(), Some(RESYNC));
    }

    #[tokio::test]
    async fn groups_added_or_removed_resync_and_other_events_do_not_count() {
        let (tx, mut live) = live(16);
        let _ = live.next().await;
        tx.send(BusEvent::RemoteCommunication {
            kind: "k".into(),
            data: "d".into(),
        })
        .expect("subscribed");
        tx.send(BusEvent::GroupAdded("g".into()))
            .expect("subscribed");
        assert_eq!(live.next().await.as_deref(), Some(RESYNC));
        drop(tx);
        assert_eq!(live.next().await, None, "the bus closed: the stream ends");
    }
}
