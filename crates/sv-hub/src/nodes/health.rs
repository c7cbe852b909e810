//! A node's health as the poller last saw it, and how a failed call is
//! classified. Only `Connected` and `Slow` count as Cesi's
//! `connected: true`; every other state shows `connected: false` with no
//! processes, whatever went wrong (Cesi answers 500 for a wrong password
//! on any node — spec D2; here it only marks that node).

use std::time::Duration;

/// What the last poll of a node found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Health {
    /// Not polled yet (the hub just started or the node was just added).
    Pending,
    /// Answered within the slow threshold.
    Connected,
    /// Answered, but later than the slow threshold.
    Slow,
    /// Refused, reset, no such socket, or no answer within the deadline.
    Unreachable,
    /// HTTP 401: wrong or missing credentials.
    AuthFailed,
    /// Something answered that is not a working Supervisor (another HTTP
    /// status, not XML-RPC, a fault or an unexpected shape).
    NotSupervisor,
}

impl Health {
    /// Cesi's `connected`.
    pub fn connected(self) -> bool {
        matches!(self, Health::Connected | Health::Slow)
    }

    /// The name the API shows.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Pending => "pending",
            Health::Connected => "connected",
            Health::Slow => "slow",
            Health::Unreachable => "unreachable",
            Health::AuthFailed => "auth_failed",
            Health::NotSupervisor => "not_supervisor",
        }
    }

    /// The health of a poll that answered after `took`.
    pub fn answered(took: Duration, slow_after: Duration) -> Health {
        if took > slow_after {
            Health::Slow
        } else {
            Health::Connected
        }
    }
}

/// The health a failed call stands for, and a message safe to show (no
/// URL, so no credentials that a URL might carry).
pub fn classify(error: &sv_client::Error) -> (Health, String) {
    use sv_client::Error as E;
    match error {
        E::Timeout => (Health::Unreachable, "no answer within the deadline".into()),
        E::Io(e) => (Health::Unreachable, e.to_string()),
        E::Http(e) => (Health::Unreachable, e.to_string()),
        E::BadUrl(_) => (
            Health::Unreachable,
            "unsupported node URL (use unix:// or http://)".into(),
        ),
        E::Status { status: 401, .. } => (Health::AuthFailed, error.to_string()),
        E::Status { .. } | E::Decode(_) | E::Record(_) | E::Fault(_) => {
            (Health::NotSupervisor, error.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_map_to_health() {
        let refused = sv_client::Error::Io(std::io::ErrorKind::ConnectionRefused.into());
        assert_eq!(classify(&refused).0, Health::Unreachable);
        assert_eq!(classify(&sv_client::Error::Timeout).0, Health::Unreachable);
        let denied = sv_client::Error::Status {
            status: 401,
            reason: "Unauthorized".into(),
        };
        assert_eq!(classify(&denied).0, Health::AuthFailed);
        let other = sv_client::Error::Status {
            status: 404,
            reason: "Not Found".into(),
        };
        assert_eq!(classify(&other).0, Health::NotSupervisor);
        let bad = sv_client::Error::BadUrl("https://u:secret@h".into());
        assert!(!classify(&bad).1.contains("secret"));
    }

    #[test]
    fn only_answers_count_as_connected() {
        assert!(Health::Connected.connected() && Health::Slow.connected());
        for h in [
            Health::Pending,
            Health::Unreachable,
            Health::AuthFailed,
            Health::NotSupervisor,
        ] {
            assert!(!h.connected());
        }
        let ms = Duration::from_millis;
        assert_eq!(Health::answered(ms(10), ms(1000)), Health::Connected);
        assert_eq!(Health::answered(ms(1500), ms(1000)), Health::Slow);
    }
}
