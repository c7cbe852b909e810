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

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use tokio::sync::broadcast::{self, error::RecvError};

use super::{NodesState, visible};
use crate::api::guard::{Principal, Read, Require};
use crate::nodes::fleet::FleetEvent;
use crate::nodes::health::Health;
use crate::nodes::render::piece;

/// How often an idle stream sends a comment.
pub const HEARTBEAT: Duration = Duration::from_secs(15);

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

struct Live {
    rx: broadcast::Receiver<FleetEvent>,
    principal: Principal,
    queued: VecDeque<Bytes>,
}

impl Live {
    async fn next(&mut self) -> Option<Bytes> {
        if let Some(bytes) = self.queued.pop_front() {
            return Some(bytes);
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
pub(super) async fn events(State(state): State<NodesState>, auth: Require<Read>) -> Response {
    // Subscribe before reading the snapshots, so no change falls between.
    let rx = state.fleet.subscribe();
    let mut queued = VecDeque::from([Bytes::from_static(HELLO)]);
    for node in visible(&state, &auth.principal) {
        let s = node.snapshot();
        queued.push_back(node_event(
            node.name(),
            node.environment(),
            s.health,
            &s.json,
        ));
    }
    let live = Live {
        rx,
        principal: auth.principal,
        queued,
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
    response
}

#[cfg(test)]
mod tests {
    use super::*;

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
