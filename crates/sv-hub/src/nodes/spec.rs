//! What the hub knows about a node before talking to it: [`NodeSpec`]
//! (the config side converts Cesi's `[[nodes]]` tables and our `url`
//! addition into it) and the poller's [`FleetSettings`].

use std::time::Duration;

/// Default per-node deadline for one poll (connect + answer).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);
/// Default time between two polls of a healthy node.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(2);
/// Longest wait between two polls of a dead node.
pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(60);
/// Default deadline of a state change (`startProcess` waits `startsecs`,
/// `stopProcess` up to `stopwaitsecs`).
pub const DEFAULT_ACTION_TIMEOUT: Duration = Duration::from_secs(60);

/// One configured node.
#[derive(Clone, PartialEq, Eq)]
pub struct NodeSpec {
    /// Identifier used in URLs and JSON.
    pub name: String,
    /// Free label used for grouping (`""` allowed, as in Cesi).
    pub environment: String,
    /// `unix:///path/supervisor.sock` or `http://host:port/RPC2`.
    pub url: String,
    /// Basic-auth user; `None` sends no credentials.
    pub username: Option<String>,
    /// Basic-auth password. Never logged, never returned.
    pub password: Option<String>,
    /// This node's poll deadline; `None`: the fleet's.
    pub timeout: Option<Duration>,
    /// This node's poll interval; `None`: the fleet's.
    pub poll_interval: Option<Duration>,
}

/// Shows everything but the password.
impl std::fmt::Debug for NodeSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeSpec")
            .field("name", &self.name)
            .field("environment", &self.environment)
            .field("url", &redact_url(&self.url))
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "…"))
            .field("timeout", &self.timeout)
            .field("poll_interval", &self.poll_interval)
            .finish()
    }
}

impl NodeSpec {
    /// A node at `url` without credentials or own timings.
    pub fn new(name: &str, environment: &str, url: &str) -> NodeSpec {
        NodeSpec {
            name: name.to_string(),
            environment: environment.to_string(),
            url: url.to_string(),
            username: None,
            password: None,
            timeout: None,
            poll_interval: None,
        }
    }

    /// This spec with basic-auth credentials as Cesi sends them: left out
    /// only when username and password are both empty.
    pub fn with_credentials(mut self, username: &str, password: &str) -> NodeSpec {
        if username.is_empty() && password.is_empty() {
            self.username = None;
            self.password = None;
        } else {
            self.username = Some(username.to_string());
            self.password = Some(password.to_string());
        }
        self
    }
}

/// Cesi's node URL from its `host` and `port` keys (spec §1.2): `http://`
/// prepended when the host has no `http://`/`https://` scheme, a trailing
/// `/` of the path removed, `/RPC2` appended to the path. Credentials are
/// kept apart (in [`NodeSpec::username`]/[`NodeSpec::password`]).
pub fn cesi_url(host: &str, port: &str) -> String {
    let with_scheme = if host.starts_with("http://") || host.starts_with("https://") {
        host.to_string()
    } else {
        format!("http://{host}")
    };
    let (scheme, rest) = with_scheme.split_once("://").unwrap_or(("http", host));
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let path = path.strip_suffix('/').unwrap_or(path);
    format!("{scheme}://{authority}:{port}{path}/RPC2")
}

/// The URL without any `user:password@` part, for messages.
pub fn redact_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let end = rest.find('/').unwrap_or(rest.len());
            match rest[..end].rfind('@') {
                Some(at) => format!("{scheme}://…@{}", &rest[at + 1..]),
                None => url.to_string(),
            }
        }
        None => url.to_string(),
    }
}

/// How the fleet polls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetSettings {
    /// Time between two polls of a healthy node.
    pub poll_interval: Duration,
    /// Deadline of one poll (connect + answer), unless a node sets its own.
    pub timeout: Duration,
    /// A poll that answered but took longer than this marks the node slow.
    pub slow_after: Duration,
    /// Longest wait between two polls of a failing node (the wait doubles
    /// from `poll_interval` after each failure).
    pub max_backoff: Duration,
    /// Deadline of one state change (start, stop, restart, signal, clear).
    pub action_timeout: Duration,
    /// Follow the live stream of nodes that serve one (ours).
    pub follow_events: bool,
}

impl Default for FleetSettings {
    fn default() -> Self {
        FleetSettings {
            poll_interval: DEFAULT_POLL_INTERVAL,
            timeout: DEFAULT_TIMEOUT,
            slow_after: DEFAULT_TIMEOUT / 2,
            max_backoff: DEFAULT_MAX_BACKOFF,
            action_timeout: DEFAULT_ACTION_TIMEOUT,
            follow_events: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cesi_urls_are_built_as_cesi_builds_them() {
        assert_eq!(cesi_url("127.0.0.1", "9001"), "http://127.0.0.1:9001/RPC2");
        assert_eq!(
            cesi_url("https://example.invalid/sub/", "9001"),
            "https://example.invalid:9001/sub/RPC2"
        );
        assert_eq!(cesi_url("http://h", "80"), "http://h:80/RPC2");
    }

    #[test]
    fn credentials_follow_cesis_rule_and_never_show() {
        let spec = NodeSpec::new("a", "prod", "http://h:1/RPC2").with_credentials("", "");
        assert_eq!(spec.username, None);
        let spec = spec.with_credentials("u", "");
        assert_eq!(spec.username.as_deref(), Some("u"));
        assert_eq!(spec.password.as_deref(), Some(""));
        let spec = spec.with_credentials("u", "s3cret");
        assert!(!format!("{spec:?}").contains("s3cret"));
        assert_eq!(
            redact_url("http://u:pw@h:1/RPC2"),
            "http://…@h:1/RPC2".to_string()
        );
    }
}
