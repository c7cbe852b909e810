//! Push for our own nodes: follow the daemon's live stream (`GET /events`,
//! the stream its status page uses) and poll the node the moment a state
//! change arrives there. Supervisor 4.3 answers that URL with 404; such a
//! node is then only polled, and the stream is tried again rarely (the
//! node may be upgraded to ours).

use std::sync::Weak;
use std::time::Duration;

use super::fleet::Node;

/// How long to wait before asking a node without a live stream again.
const NO_STREAM_RETRY: Duration = Duration::from_secs(300);

/// Follow `node`'s live stream for as long as the node is configured.
pub(super) async fn follow_loop(node: Weak<Node>) {
    loop {
        let (client, interval, max_backoff) = {
            let Some(n) = node.upgrade() else { return };
            let Ok(client) = n.client() else { return };
            let s = n.settings();
            (client, s.poll_interval, s.max_backoff)
        };
        // The client's deadline bounds opening the stream (until its head
        // arrives); the stream itself is not bounded.
        let wait = match client.live_events().await {
            Ok(Some(mut stream)) => {
                if let Some(n) = node.upgrade() {
                    n.set_push(true);
                    // Changes may have happened before the stream opened.
                    n.kick();
                }
                while let Ok(Some(_event)) = stream.next().await {
                    let Some(n) = node.upgrade() else { return };
                    n.kick();
                }
                if let Some(n) = node.upgrade() {
                    n.set_push(false);
                    n.kick();
                }
                interval
            }
            Ok(None) => NO_STREAM_RETRY,
            Err(_) => {
                // Down or hung: the poller's backoff says how long.
                let failures = node.upgrade().map_or(0, |n| n.snapshot().failures);
                interval
                    .saturating_mul(1 << failures.min(16))
                    .min(max_backoff.max(interval))
            }
        };
        tokio::time::sleep(wait).await;
    }
}
