//! The hub's configuration: Cesi 2.7.1's TOML file read unchanged, plus
//! the hub's own optional additions in the same file.
//!
//! * [`parse`] reads and validates the file with Cesi's rules and exit
//!   messages (every error also names file, line and key).
//! * [`database`] turns Cesi's SQLAlchemy URI into the store to open.
//!
//! Relative paths (`sqlite:///users.db`, `activity_log`) are resolved
//! against the directory of the config file: Cesi used its package
//! directory and the working directory (its quirk Q21), neither of which
//! means anything for a single binary.

pub mod database;
pub mod parse;

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use database::Database;
pub use parse::{ConfigError, check_url, load, parse_str};

/// Default per-node deadline for one XML-RPC call.
pub const DEFAULT_NODE_TIMEOUT: Duration = Duration::from_secs(2);
/// Default interval between two polls of a node.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(2);
/// Default lifetime of a login session.
pub const DEFAULT_SESSION_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// The whole configuration file, validated and resolved.
#[derive(Clone, PartialEq)]
pub struct HubConfig {
    /// The config file as given on the command line.
    pub file: PathBuf,
    /// Cesi's `database`, resolved.
    pub database: Database,
    /// Cesi's `activity_log`, resolved against the config file's directory.
    pub activity_log: PathBuf,
    /// The admin account to create when it does not exist (Cesi's
    /// `admin_username`/`admin_password`; Cesi ignored them). `None` when
    /// the file names neither key: then the first start prints a setup token.
    pub admin: Option<AdminSeed>,
    /// `[[nodes]]` in file order.
    pub nodes: Vec<NodeConfig>,
    /// The hub's own settings (`[hub]`, all optional).
    pub hub: HubSettings,
}

/// The admin account named by the config file.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminSeed {
    /// `admin_username`.
    pub username: String,
    /// `admin_password`, in clear as the file holds it (never logged).
    pub password: String,
}

/// One `[[nodes]]` table.
#[derive(Clone, PartialEq)]
pub struct NodeConfig {
    /// `name`: the node's identifier in URLs and JSON.
    pub name: String,
    /// `environment`: a free label (`""` allowed).
    pub environment: String,
    /// Where the node's XML-RPC interface is: `unix:///path/sock` or
    /// `http://host:port/RPC2` (built from Cesi's `host`/`port`, or our
    /// `url`), without credentials.
    pub endpoint: String,
    /// Basic-auth user (`""` for none).
    pub username: String,
    /// Basic-auth password (`""` for none). Never logged or returned.
    pub password: String,
    /// Our `timeout` (seconds): the per-call deadline for this node.
    pub timeout: Option<Duration>,
    /// Config file line of the table, for messages.
    pub line: usize,
}

/// `[hub]`: the hub's additions. Cesi has no such table; all keys optional.
#[derive(Clone, PartialEq)]
pub struct HubSettings {
    /// `poll_interval` (seconds): how often nodes without a live stream
    /// are polled.
    pub poll_interval: Duration,
    /// `node_timeout` (seconds): default per-node deadline.
    pub node_timeout: Duration,
    /// `cookie_secure`: add `Secure` to the session cookie (behind TLS).
    pub cookie_secure: bool,
    /// `session_ttl` (seconds): how long a login session lives.
    pub session_ttl: Duration,
    /// `trusted_proxies`: peer addresses whose `proxy_user_header` is
    /// believed (single sign-on through a reverse proxy).
    pub trusted_proxies: Vec<IpAddr>,
    /// `proxy_user_header`: the header naming the signed-in user, e.g.
    /// `X-Forwarded-User` (oauth2-proxy). `None` disables proxy sign-on.
    pub proxy_user_header: Option<String>,
    /// `secret`: a fixed server secret; when absent one is generated once
    /// and kept in the database.
    pub secret: Option<String>,
}

impl Default for HubSettings {
    fn default() -> Self {
        HubSettings {
            poll_interval: DEFAULT_POLL_INTERVAL,
            node_timeout: DEFAULT_NODE_TIMEOUT,
            cookie_secure: false,
            session_ttl: DEFAULT_SESSION_TTL,
            trusted_proxies: Vec::new(),
            proxy_user_header: None,
            secret: None,
        }
    }
}

impl NodeConfig {
    /// The node's deadline: its own `timeout`, else the hub's default.
    pub fn effective_timeout(&self, hub: &HubSettings) -> Duration {
        self.timeout.unwrap_or(hub.node_timeout)
    }
}

// Debug by hand: passwords must never reach a log line through `{:?}`.
impl fmt::Debug for AdminSeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminSeed")
            .field("username", &self.username)
            .field("password", &"<hidden>")
            .finish()
    }
}

impl fmt::Debug for NodeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeConfig")
            .field("name", &self.name)
            .field("environment", &self.environment)
            .field("endpoint", &self.endpoint)
            .field("username", &self.username)
            .field("password", &"<hidden>")
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl fmt::Debug for HubSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HubSettings")
            .field("poll_interval", &self.poll_interval)
            .field("node_timeout", &self.node_timeout)
            .field("cookie_secure", &self.cookie_secure)
            .field("session_ttl", &self.session_ttl)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("proxy_user_header", &self.proxy_user_header)
            .field("secret", &self.secret.as_ref().map(|_| "<hidden>"))
            .finish()
    }
}

impl fmt::Debug for HubConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HubConfig")
            .field("file", &self.file)
            .field("database", &self.database)
            .field("activity_log", &self.activity_log)
            .field("admin", &self.admin)
            .field("nodes", &self.nodes)
            .field("hub", &self.hub)
            .finish()
    }
}

impl HubConfig {
    /// What `--check-config` prints: every setting, no secret.
    pub fn summary(&self) -> String {
        use fmt::Write as _;
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = writeln!(out, "config file: {}", self.file.display());
        let _ = writeln!(out, "database: {}", self.database.redacted());
        let _ = writeln!(out, "activity log: {}", self.activity_log.display());
        match &self.admin {
            Some(seed) => {
                let _ = writeln!(out, "admin account: {}", seed.username);
            }
            None => {
                let _ = writeln!(
                    out,
                    "admin account: none named (a setup token is printed at first start)"
                );
            }
        }
        let hub = &self.hub;
        let _ = writeln!(
            out,
            "poll interval: {}s, node timeout: {}s, session ttl: {}s, cookie secure: {}",
            hub.poll_interval.as_secs_f64(),
            hub.node_timeout.as_secs_f64(),
            hub.session_ttl.as_secs(),
            hub.cookie_secure
        );
        match &hub.proxy_user_header {
            Some(header) => {
                let proxies: Vec<String> =
                    hub.trusted_proxies.iter().map(|p| p.to_string()).collect();
                let _ = writeln!(
                    out,
                    "proxy sign-on: header {header} from {}",
                    proxies.join(", ")
                );
            }
            None => {
                let _ = writeln!(out, "proxy sign-on: off");
            }
        }
        let _ = writeln!(out, "nodes: {}", self.nodes.len());
        for node in &self.nodes {
            let auth = if node.username.is_empty() && node.password.is_empty() {
                "no credentials"
            } else {
                "with credentials"
            };
            let _ = writeln!(
                out,
                "  {} [{}] {} ({auth}, timeout {}s)",
                node.name,
                node.environment,
                node.endpoint,
                node.effective_timeout(hub).as_secs_f64()
            );
        }
        out
    }
}
