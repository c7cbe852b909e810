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
//! * A slow client never slows the actor: the bus is a fixed-size
//!   broadcast ring (publishing never waits), a connection only pulls from
//!   it when its socket can take more, and a connection that fell behind
//!   (or a burst larger than [`MAX_BATCH`], or a group added or removed)
//!   gets a `resync` message: the page reloads its table. Nothing grows
//!   per client beyond one batch.
//! * A comment line every [`HEARTBEAT`] keeps proxies from timing the
//!   stream out and lets a vanished client be noticed.
//!
//! [`Bus`]: crate::supervisor::Bus

use std::collections::HashMap;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use serde_json::json;
use sv_core::process::State;
use sv_xmlrpc::Value;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::time::Instant;

use crate::rpc::Dispatcher;
use crate::supervisor::BusEvent;

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
/// reloads once rather than patching thousands of rows).
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

struct Live {
    rx: broadcast::Receiver<BusEvent>,
    dispatcher: Dispatcher,
    greeted: bool,
    heartbeat: Duration,
}

/// The `/events` response (the caller checked method and credentials).
pub fn events(dispatcher: Dispatcher, rx: broadcast::Receiver<BusEvent>) -> Response {
    let live = Live {
        rx,
        dispatcher,
        greeted: false,
        heartbeat: heartbeat(),
    };
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

impl Live {
    /// The next chunk to send; `None` ends the stream (the daemon is gone).
    async fn next(&mut self) -> Option<Bytes> {
        if !self.greeted {
            self.greeted = true;
            return Some(Bytes::from_static(HELLO));
        }
        let idle_until = Instant::now() + self.heartbeat;
        let first = loop {
            match tokio::time::timeout_at(idle_until, self.rx.recv()).await {
                Err(_) => return Some(Bytes::from_static(KEEPALIVE)),
                Ok(Err(RecvError::Closed)) => return None,
                Ok(Err(RecvError::Lagged(_))) => return Some(Bytes::from_static(RESYNC)),
                Ok(Ok(event)) => match classify(event) {
                    Seen::Change(change) => break change,
                    Seen::Resync => return Some(Bytes::from_static(RESYNC)),
                    Seen::Other => {}
                },
            }
        };
        let mut batch = vec![first];
        let batch_until = Instant::now() + BATCH;
        loop {
            match tokio::time::timeout_at(batch_until, self.rx.recv()).await {
                Err(_) | Ok(Err(RecvError::Closed)) => break,
                Ok(Err(RecvError::Lagged(_))) => return Some(Bytes::from_static(RESYNC)),
                Ok(Ok(event)) => match classify(event) {
                    Seen::Change(change) => {
                        batch.push(change);
                        if batch.len() > MAX_BATCH {
                            return Some(Bytes::from_static(RESYNC));
                        }
                    }
                    Seen::Resync => return Some(Bytes::from_static(RESYNC)),
                    Seen::Other => {}
                },
            }
        }
        Some(self.message(&batch).await)
    }

    /// One `state` message for `batch`.
    async fn message(&self, batch: &[Change]) -> Bytes {
        let infos = match self
            .dispatcher
            .call_for_web("supervisor.getAllProcessInfo", vec![])
            .await
        {
            Ok(Value::Array(infos)) => infos,
            // Shutting down: the page learns the rest when it reloads.
            _ => return Bytes::from_static(RESYNC),
        };
        let by_namespec: HashMap<String, &Value> = infos
            .iter()
            .map(|info| {
                let text = |key: &str| info.get(key).and_then(Value::as_str).unwrap_or("");
                (sv_api::make_namespec(text("group"), text("name")), info)
            })
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

fn int(info: &Value, key: &str) -> i64 {
    match info.get(key) {
        Some(Value::Int(v)) => i64::from(*v),
        Some(Value::I8(v)) => *v,
        _ => 0,
    }
}

/// A change as the page reads it: the state the change went to, with the
/// pid and description `getProcessInfo` gives for that state (the times
/// and spawn error are the process's current ones).
fn describe_change(change: &Change, namespec: &str, info: &Value) -> serde_json::Value {
    // getProcessInfo's pid is 0 once the process is gone.
    let pid = match change.to {
        State::Starting | State::Running | State::Stopping => change.pid,
        _ => 0,
    };
    let now = int(info, "now");
    let start = int(info, "start");
    let spawnerr = info.get("spawnerr").and_then(Value::as_str).unwrap_or("");
    let description = sv_api::records::describe(
        change.to.code(),
        pid,
        now,
        start,
        int(info, "stop"),
        spawnerr,
        &change.name,
        &crate::supervisor::local_time,
    );
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
        let live = Live {
            rx,
            dispatcher: Dispatcher::new(requests, true),
            greeted: false,
            heartbeat: HEARTBEAT,
        };
        (tx, live)
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
