//! Repeated failed authentications from one peer: after [`MAX_FAILURES`]
//! 401s within [`WINDOW`], the peer is answered 429 until the window ends,
//! with one WARN line per window naming the peer (never a user name or
//! password). Other peers are not affected. Supervisor has no such limit;
//! with it a password can be guessed at ten tries a minute, not thousands a
//! second.
//!
//! Fixed windows: the first failure opens a window of [`WINDOW`]; when it
//! ends the count starts again. A locked-out peer is refused even with the
//! right credentials, or the 429 would tell a guesser which try was right.
//! The table holds at most [`MAX_PEERS`] peers; expired entries are dropped
//! when it fills, and a peer that finds it full of live entries is not
//! tracked (failing open: the table can never be made to grow without
//! bound, nor to lock anyone out who has not failed).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::peer::Peer;

/// Failures within one window before the peer is refused.
pub const MAX_FAILURES: u32 = 10;

/// How long a window lasts, from the peer's first failure in it.
pub const WINDOW: Duration = Duration::from_secs(60);

/// The most peers tracked at once.
const MAX_PEERS: usize = 4096;

/// One server's record of failed authentications by peer.
#[derive(Default)]
pub struct AuthFailures {
    peers: Mutex<HashMap<Peer, Window>>,
}

#[derive(Clone, Copy, Debug)]
struct Window {
    opened: Instant,
    failures: u32,
}

impl Window {
    fn live(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.opened) < WINDOW
    }
}

impl AuthFailures {
    /// Whether `peer` is locked out at `now`; if so, how long until its
    /// window ends (for `Retry-After`).
    pub fn locked_out(&self, peer: Peer, now: Instant) -> Option<Duration> {
        let peers = self.peers.lock().unwrap_or_else(|e| e.into_inner());
        let window = peers.get(&peer)?;
        (window.live(now) && window.failures >= MAX_FAILURES)
            .then(|| WINDOW.saturating_sub(now.saturating_duration_since(window.opened)))
    }

    /// Record a failed authentication by `peer`; `Some(warning)` the once
    /// per window the peer reaches the limit — the line to log.
    pub fn failed(&self, peer: Peer, now: Instant) -> Option<String> {
        let mut peers = self.peers.lock().unwrap_or_else(|e| e.into_inner());
        if !peers.contains_key(&peer) && peers.len() >= MAX_PEERS {
            peers.retain(|_, w| w.live(now));
            if peers.len() >= MAX_PEERS {
                return None;
            }
        }
        let window = peers.entry(peer).or_insert(Window {
            opened: now,
            failures: 0,
        });
        if !window.live(now) {
            *window = Window {
                opened: now,
                failures: 0,
            };
        }
        window.failures = window.failures.saturating_add(1);
        (window.failures == MAX_FAILURES).then(|| {
            format!(
                "{MAX_FAILURES} failed HTTP authentications from {peer} within {} s; answering it 429 until {} s after its first failure",
                WINDOW.as_secs(),
                WINDOW.as_secs()
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Peer {
        Peer::Ip(s.parse().expect("ip"))
    }

    #[test]
    fn the_limit_locks_one_peer_out_for_the_rest_of_its_window() {
        let limits = AuthFailures::default();
        let t0 = Instant::now();
        let a = ip("10.0.0.1");
        let mut warnings = Vec::new();
        for i in 0..MAX_FAILURES {
            assert_eq!(limits.locked_out(a, t0), None, "after {i} failures");
            warnings.extend(limits.failed(a, t0 + Duration::from_secs(u64::from(i))));
        }
        assert_eq!(warnings.len(), 1, "one warning per window");
        assert!(warnings[0].contains("from 10.0.0.1"), "{}", warnings[0]);
        let later = t0 + Duration::from_secs(50);
        assert_eq!(limits.locked_out(a, later), Some(Duration::from_secs(10)));
        assert_eq!(limits.failed(a, later), None, "no second warning");
        assert_eq!(
            limits.locked_out(ip("10.0.0.2"), later),
            None,
            "others unaffected"
        );
        assert_eq!(limits.locked_out(Peer::Uid(0), later), None);
        // The window ends: a fresh count, and a warning again if reached.
        let next = t0 + WINDOW;
        assert_eq!(limits.locked_out(a, next), None);
        let warned = (0..MAX_FAILURES)
            .filter_map(|_| limits.failed(a, next))
            .count();
        assert_eq!(warned, 1);
    }

    #[test]
    fn the_table_is_bounded_and_fails_open() {
        let limits = AuthFailures::default();
        let t0 = Instant::now();
        for i in 0..MAX_PEERS {
            let octets = u32::try_from(i).expect("small").to_be_bytes();
            limits.failed(Peer::Ip(std::net::Ipv4Addr::from(octets).into()), t0);
        }
        let newcomer = ip("192.168.1.1");
        for _ in 0..MAX_FAILURES {
            assert_eq!(limits.failed(newcomer, t0), None);
        }
        assert_eq!(limits.locked_out(newcomer, t0), None, "not tracked: full");
        // Once the old windows end they make room.
        let later = t0 + WINDOW;
        for _ in 0..MAX_FAILURES {
            limits.failed(newcomer, later);
        }
        assert!(limits.locked_out(newcomer, later).is_some());
        assert!(limits.peers.lock().expect("lock").len() <= MAX_PEERS);
    }
}
