//! Failed-login throttling, per peer address and per user name, in
//! memory (Cesi had none, its defect D16).
//!
//! After [`MAX_FAILURES`] failures inside [`WINDOW`] a key is refused
//! until its oldest failure leaves the window; a success clears the
//! user's count. The table is bounded so a flood of made-up user names
//! cannot grow it without limit.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed inside the window.
pub const MAX_FAILURES: usize = 5;
/// How far back failures count.
pub const WINDOW: Duration = Duration::from_secs(300);
/// Most keys remembered; beyond it the stalest are dropped.
const MAX_KEYS: usize = 10_000;

/// The limiter.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginLimiter {
    /// A new, empty limiter.
    pub fn new() -> LoginLimiter {
        LoginLimiter::default()
    }

    /// Whether any of `keys` is currently locked out.
    pub fn is_blocked(&self, keys: &[String], now: Instant) -> bool {
        let mut map = self.lock();
        keys.iter().any(|k| match map.get_mut(k) {
            Some(times) => {
                prune(times, now);
                times.len() >= MAX_FAILURES
            }
            None => false,
        })
    }

    /// Counts one failure against each of `keys`.
    pub fn failed(&self, keys: &[String], now: Instant) {
        let mut map = self.lock();
        if map.len() >= MAX_KEYS {
            map.retain(|_, times| {
                prune(times, now);
                !times.is_empty()
            });
            if map.len() >= MAX_KEYS {
                map.clear();
            }
        }
        for k in keys {
            let times = map.entry(k.clone()).or_default();
            prune(times, now);
            times.push_back(now);
            while times.len() > MAX_FAILURES {
                times.pop_front();
            }
        }
    }

    /// Forgets the failures of `key` (a successful login).
    pub fn succeeded(&self, key: &str) {
        self.lock().remove(key);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<Instant>>> {
        // The map holds plain counters; a panic elsewhere leaves it valid.
        self.failures.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn prune(times: &mut VecDeque<Instant>, now: Instant) {
    while let Some(first) = times.front() {
        if now.duration_since(*first) >= WINDOW {
            times.pop_front();
        } else {
            break;
        }
    }
}

/// The limiter keys of one attempt: the peer and the user name.
pub fn keys(peer: Option<std::net::IpAddr>, username: &str) -> Vec<String> {
    let mut keys = vec![format!("user:{username}")];
    if let Some(ip) = peer {
        keys.push(format!("peer:{ip}"));
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_lock_until_the_window_passes() {
        let limiter = LoginLimiter::new();
        let t0 = Instant::now();
        let k = keys(Some([10, 0, 0, 1].into()), "alice");
        for i in 0..MAX_FAILURES {
            assert!(!limiter.is_blocked(&k, t0), "attempt {i}");
            limiter.failed(&k, t0);
        }
        assert!(limiter.is_blocked(&k, t0));
        // Another user from the same peer is refused too; the same user
        // from elsewhere as well.
        assert!(limiter.is_blocked(&keys(Some([10, 0, 0, 1].into()), "bob"), t0));
        assert!(limiter.is_blocked(&keys(None, "alice"), t0));
        assert!(!limiter.is_blocked(&k, t0 + WINDOW));
    }

    #[test]
    fn success_clears_the_user() {
        let limiter = LoginLimiter::new();
        let t0 = Instant::now();
        let k = keys(None, "alice");
        for _ in 0..MAX_FAILURES {
            limiter.failed(&k, t0);
        }
        limiter.succeeded("user:alice");
        assert!(!limiter.is_blocked(&k, t0));
    }
}
