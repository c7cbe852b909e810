//! `GET /api/v2/events/` (ours): the fleet's changes as server-sent events,
//! for the page and for scripts.
//!
//! * First one `node` event per node the user sees (the current state),
//!   then one per change of a node's health or processes:
//!   `event: node` / `data: {"environment":…,"health":…,"name":…,"node":<Cesi node object>}`.
//! * `event: resync` when the node list was reloaded or this client fell
//!   more than the fleet's event buffer behind: reload everything.
//! * A comment every [`HEARTBEAT`] keeps proxies from closing an idle
//!   stream. A slow client holds at most the broadcast ring's slots; it
//!   never slows the poller (publishing never waits).
//! * A stream costs the hub little: the first events are written one at a
//!   time as the client reads them (not 1000 node objects queued up front),
//!   and at most [`MAX_STREAMS`] are open at once (503 beyond).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use tokio::sync::broadcast::{self, error::RecvError};

use super::{NodesState, visible};
use crate::api::error::ApiError;
use crate::api::guard::{Principal, Read, Require};
use crate::nodes::fleet::{FleetEvent, Node};
use crate::nodes::health::Health;
use crate::nodes::render::piece;

/// How often an idle stream sends a comment.
pub const HEARTBEAT: Duration = Duration::from_secs(15);
/// Most live streams open at once.
pub const MAX_STREAMS: usize = 256;

const HELLO: &[u8] = b"retry: 3000\n: supervisor-hub live updates\n\n";
const RESYNC: &[u8] = b"event: resync\ndata: {}\n\n";
const KEEPALIVE: &[u8] = b": heartbeat\n\n";

/// One `node` event's bytes.
fn node_event(name: &str, environment: &str, health: Health, json: &str) -> Bytes {
    // The node object is already Cesi's bytes; the envelope's keys sort
    // before and after it as written.
    let head = piece(&serde_json::json!({
        "environment": environment,
        "health": health.as_str(),
        "name": name,
    }));
    let head = head.strip_suffix('}').unwrap_or(&head);
    Bytes::from(format!("event: node\ndata: {head},\"node\":{json}}}\n\n"))
}

/// Counts a stream as open until dropped.
struct Slot(Arc<AtomicUsize>);

impl Slot {
    fn take(open: &Arc<AtomicUsize>) -> Option<Slot> {
        let taken = open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < MAX_STREAMS).then_some(n + 1)
            })
            .is_ok();
        taken.then(|| Slot(Arc::clone(open)))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

struct Live {
    rx: broadcast::Receiver<FleetEvent>,
    principal: Principal,
    hello: bool,
    /// Nodes whose current state is still to be sent.
    initial: VecDeque<Arc<Node>>,
    _slot: Slot,
}

impl Live {
    async fn next(&mut self) -> Option<Bytes> {
        if std::mem::take(&mut self.hello) {
            return Some(Bytes::from_static(HELLO));
        }
        if let Some(node) = self.initial.pop_front() {
            let s = node.snapshot();
            return Some(node_event(
                node.name(),
                node.environment(),
                s.health,
                &s.json,
            ));
        }
        loop {
            match tokio::time::timeout(HEARTBEAT, self.rx.recv()).await {
                Err(_) => return Some(Bytes::from_static(KEEPALIVE)),
                Ok(Ok(FleetEvent::Node {
                    name,
                    environment,
                    health,
                    json,
                })) => {
                    if self.principal.sees_environment(&environment) {
                        return Some(node_event(&name, &environment, health, &json));
                    }
                }
                Ok(Ok(FleetEvent::Resync) | Err(RecvError::Lagged(_))) => {
                    return Some(Bytes::from_static(RESYNC));
                }
                Ok(Err(RecvError::Closed)) => return None,
            }
        }
    }
}

/// `GET /api/v2/events/`.
pub(super) async fn events(
    State(state): State<NodesState>,
    auth: Require<Read>,
) -> Result<Response, ApiError> {
    let slot = Slot::take(&state.streams).ok_or(ApiError::Unavailable)?;
    // Subscribe before reading the snapshots, so no change falls between.
    let rx = state.fleet.subscribe();
    let live = Live {
        rx,
        initial: visible(&state, &auth.principal).into(),
        principal: auth.principal,
        hello: true,
        _slot: slot,
    };
    let stream = futures_util::stream::unfold(live, |mut live| async move {
        let chunk = live.next().await?;
        Some((Ok::<Bytes, Infallible>(chunk), live))
    });
    let mut response = Response::new(Body::from_stream(stream));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("X-Accel-Buffering", HeaderValue::from_static("no"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_counted_and_capped() {
        let open = Arc::new(AtomicUsize::new(MAX_STREAMS - 1));
        let last = Slot::take(&open).expect("one left");
        assert!(Slot::take(&open).is_none());
        drop(last);
        assert_eq!(open.load(Ordering::Acquire), MAX_STREAMS - 1);
    }

    #[test]
    fn node_events_carry_the_cesi_object_in_sorted_json() {
        let bytes = node_event("live", "prod", Health::Connected, "{\"general\":{}}");
        let text = std::str::from_utf8(&bytes).unwrap_or_default();
        assert_eq!(
            text,
            "event: node\ndata: {\"environment\":\"prod\",\"health\":\"connected\",\"name\":\"live\",\"node\":{\"general\":{}}}\n\n"
        );
    }
}
