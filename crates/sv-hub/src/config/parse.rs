//! Reading and validating the TOML file with Cesi's rules.
//!
//! Cesi accepts exactly `[cesi]` (`database`, `activity_log`,
//! `admin_username`, `admin_password`) and `[[nodes]]` (`name`,
//! `environment`, `username`, `password`, `host`, `port`); every valid
//! Cesi file is valid here. Our additions: `admin_username` and
//! `admin_password` may be left out together (then no account is seeded),
//! a node may give `url` instead of `host`/`port` (then `username` and
//! `password` are optional), a node may give `timeout`, and an optional
//! `[hub]` table holds the hub's own settings.
//!
//! Errors keep Cesi's first line (scripts and people know it) and add a
//! second line with file, line and key, found through toml's spans.

use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::database::Database;
use super::{AdminSeed, HubConfig, HubSettings, NodeConfig};

/// Why the config file cannot be used. The first line of each message is
/// Cesi's own text; the second names file, line and key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// Missing, unreadable, or not TOML.
    #[error("Failed to open/find {file} file. {reason}")]
    Open {
        /// The path as given.
        file: String,
        /// Python-style reason (`[Errno 2] …`) or the TOML error.
        reason: String,
    },
    /// A problem in `[cesi]`.
    #[error(
        "Failed to read '{file}' configuration file. Problem is the cesi section.\n  {file}:{line}: {detail}"
    )]
    Cesi {
        /// The path as given.
        file: String,
        /// 1-based line.
        line: usize,
        /// What is wrong, naming the key.
        detail: String,
    },
    /// A problem in one `[[nodes]]` table.
    #[error(
        "Failed to read '{file}' configuration file. Problem is the nodes section\n  {file}:{line}: {detail}"
    )]
    Nodes {
        /// The path as given.
        file: String,
        /// 1-based line.
        line: usize,
        /// What is wrong, naming the key.
        detail: String,
    },
    /// A problem in our `[hub]` table.
    #[error(
        "Failed to read '{file}' configuration file. Problem is the hub section.\n  {file}:{line}: {detail}"
    )]
    Hub {
        /// The path as given.
        file: String,
        /// 1-based line.
        line: usize,
        /// What is wrong, naming the key.
        detail: String,
    },
    /// A top-level key or table other than `cesi`, `nodes`, `hub`.
    #[error(
        "Failed to read {file} configuration file. Unknown '{name}' section name\n  {file}:{line}: unknown key '{name}'"
    )]
    Unknown {
        /// The path as given.
        file: String,
        /// 1-based line.
        line: usize,
        /// The unknown name.
        name: String,
    },
    /// No `[cesi]` table.
    #[error("Failed to read '{file}' configuration file. You must write 'cesi' section.")]
    NoCesi {
        /// The path as given.
        file: String,
    },
}

/// Reads and validates the config file at `path`.
pub fn load(path: &Path) -> Result<HubConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Open {
        file: path.display().to_string(),
        reason: python_io_error(&e, path),
    })?;
    parse_str(&text, path)
}

/// Python's `OSError` text: `[Errno 2] No such file or directory: 'F'`.
fn python_io_error(error: &io::Error, path: &Path) -> String {
    match error.raw_os_error() {
        Some(code) => {
            let text = io::Error::from_raw_os_error(code).to_string();
            let text = match text.find(" (os error") {
                Some(at) => text[..at].to_string(),
                None => text,
            };
            format!("[Errno {code}] {text}: '{}'", path.display())
        }
        None => format!("{error}: '{}'", path.display()),
    }
}

/// Validates `text` as the config file `path` (used for messages and to
/// resolve relative paths).
pub fn parse_str(text: &str, path: &Path) -> Result<HubConfig, ConfigError> {
    let file = path.display().to_string();
    let lines = LineIndex::new(text);
    let root = DeTable::parse(text).map_err(|e| {
        let (line, col) = e.span().map(|s| lines.line_col(s.start)).unwrap_or((1, 1));
        let message = e.message().lines().next().unwrap_or("").to_string();
        ConfigError::Open {
            file: file.clone(),
            reason: format!("TOML parse error at line {line} col {col}: {message}"),
        }
    })?;
    let ctx = Ctx {
        file: file.clone(),
        lines,
    };
    let base = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();

    // Cesi walks the top level in document order and stops at the first
    // problem; toml's map is sorted, so order by position.
    let mut entries: Vec<(&Spanned<_>, &Spanned<DeValue>)> = root.get_ref().iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);

    let mut cesi = None;
    let mut nodes = Vec::new();
    let mut hub = HubSettings::default();
    for (key, value) in entries {
        let name: &str = key.get_ref();
        match name {
            "cesi" => cesi = Some(ctx.cesi(key, value, &base)?),
            "nodes" => nodes = ctx.nodes(key, value)?,
            "hub" => hub = ctx.hub(key, value)?,
            other => {
                return Err(ConfigError::Unknown {
                    file,
                    line: ctx.line(key),
                    name: other.to_string(),
                });
            }
        }
    }
    let (database, activity_log, admin) = cesi.ok_or(ConfigError::NoCesi { file })?;
    Ok(HubConfig {
        file: path.to_path_buf(),
        database,
        activity_log,
        admin,
        nodes,
        hub,
    })
}

/// Byte offset → 1-based line and column.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    fn line_col(&self, offset: usize) -> (usize, usize) {
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self
            .starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(0);
        (line.max(1), offset - start + 1)
    }
}

struct Ctx {
    file: String,
    lines: LineIndex,
}

type Table<'i> = DeTable<'i>;

impl Ctx {
    fn line<T>(&self, spanned: &Spanned<T>) -> usize {
        self.lines.line_col(spanned.span().start).0
    }

    fn cesi_err(&self, line: usize, detail: String) -> ConfigError {
        ConfigError::Cesi {
            file: self.file.clone(),
            line,
            detail,
        }
    }

    fn nodes_err(&self, line: usize, detail: String) -> ConfigError {
        ConfigError::Nodes {
            file: self.file.clone(),
            line,
            detail,
        }
    }

    fn hub_err(&self, line: usize, detail: String) -> ConfigError {
        ConfigError::Hub {
            file: self.file.clone(),
            line,
            detail,
        }
    }

    #[allow(clippy::type_complexity)]
    fn cesi(
        &self,
        key: &Spanned<std::borrow::Cow<'_, str>>,
        value: &Spanned<DeValue<'_>>,
        base: &Path,
    ) -> Result<(Database, PathBuf, Option<AdminSeed>), ConfigError> {
        let DeValue::Table(table) = value.get_ref() else {
            return Err(self.cesi_err(self.line(key), "'cesi' must be a table".into()));
        };
        const KEYS: [&str; 4] = [
            "database",
            "activity_log",
            "admin_username",
            "admin_password",
        ];
        self.only_keys(table, &KEYS, |line, d| self.cesi_err(line, d))?;
        let string = |name: &str, required: bool| -> Result<Option<String>, ConfigError> {
            match table.get(name) {
                None if required => {
                    Err(self.cesi_err(self.line(key), format!("key '{name}' is missing")))
                }
                None => Ok(None),
                Some(v) => match v.get_ref().as_str() {
                    Some(s) => Ok(Some(s.to_string())),
                    None => {
                        Err(self.cesi_err(self.line(v), format!("key '{name}' must be a string")))
                    }
                },
            }
        };
        let database_uri = string("database", true)?.unwrap_or_default();
        let activity_log = string("activity_log", true)?.unwrap_or_default();
        let admin_username = string("admin_username", false)?;
        let admin_password = string("admin_password", false)?;
        let database = Database::from_uri(&database_uri, base).map_err(|e| {
            let line = table.get("database").map(|v| self.line(v)).unwrap_or(1);
            self.cesi_err(line, format!("key 'database': {e}"))
        })?;
        let admin = match (admin_username, admin_password) {
            (Some(username), Some(password)) => {
                if username.is_empty() || username.chars().count() > 16 {
                    let line = table
                        .get("admin_username")
                        .map(|v| self.line(v))
                        .unwrap_or(1);
                    return Err(self.cesi_err(
                        line,
                        "key 'admin_username' must be 1 to 16 characters".into(),
                    ));
                }
                Some(AdminSeed { username, password })
            }
            (None, None) => None,
            (Some(_), None) | (None, Some(_)) => {
                return Err(self.cesi_err(
                    self.line(key),
                    "keys 'admin_username' and 'admin_password' go together".into(),
                ));
            }
        };
        let log = PathBuf::from(activity_log);
        let activity_log = if log.is_absolute() {
            log
        } else {
            base.join(log)
        };
        Ok((database, activity_log, admin))
    }

    fn only_keys(
        &self,
        table: &Table<'_>,
        allowed: &[&str],
        err: impl Fn(usize, String) -> ConfigError,
    ) -> Result<(), ConfigError> {
        let mut keys: Vec<_> = table.keys().collect();
        keys.sort_by_key(|k| k.span().start);
        for k in keys {
            let name: &str = k.get_ref();
            if !allowed.contains(&name) {
                return Err(err(self.line(k), format!("unknown key '{name}'")));
            }
        }
        Ok(())
    }

    fn nodes(
        &self,
        key: &Spanned<std::borrow::Cow<'_, str>>,
        value: &Spanned<DeValue<'_>>,
    ) -> Result<Vec<NodeConfig>, ConfigError> {
        let DeValue::Array(items) = value.get_ref() else {
            return Err(self.nodes_err(
                self.line(key),
                "'nodes' must be an array of tables ([[nodes]])".into(),
            ));
        };
        let mut nodes = Vec::with_capacity(items.len());
        for item in items.iter() {
            let DeValue::Table(table) = item.get_ref() else {
                return Err(self.nodes_err(self.line(item), "a node must be a table".into()));
            };
            nodes.push(self.node(table, self.line(item))?);
        }
        Ok(nodes)
    }

    fn node(&self, table: &Table<'_>, line: usize) -> Result<NodeConfig, ConfigError> {
        const KEYS: [&str; 8] = [
            "name",
            "environment",
            "username",
            "password",
            "host",
            "port",
            "url",
            "timeout",
        ];
        self.only_keys(table, &KEYS, |l, d| self.nodes_err(l, d))?;
        let string = |name: &str, required: bool| -> Result<Option<String>, ConfigError> {
            match table.get(name) {
                None if required => Err(self.nodes_err(line, format!("key '{name}' is missing"))),
                None => Ok(None),
                Some(v) => match v.get_ref().as_str() {
                    Some(s) => Ok(Some(s.to_string())),
                    None => {
                        Err(self.nodes_err(self.line(v), format!("key '{name}' must be a string")))
                    }
                },
            }
        };
        let name = string("name", true)?.unwrap_or_default();
        let environment = string("environment", true)?.unwrap_or_default();
        let url = string("url", false)?;
        let credentials_required = url.is_none();
        let username = string("username", credentials_required)?.unwrap_or_default();
        let password = string("password", credentials_required)?.unwrap_or_default();
        let endpoint = match url {
            Some(url) => {
                for clash in ["host", "port"] {
                    if let Some(v) = table.get(clash) {
                        return Err(self.nodes_err(
                            self.line(v),
                            format!("key '{clash}' cannot be given with 'url'"),
                        ));
                    }
                }
                let url_line = table.get("url").map(|v| self.line(v)).unwrap_or(line);
                check_url(&url).map_err(|d| self.nodes_err(url_line, format!("key 'url': {d}")))?
            }
            None => {
                let host = string("host", true)?.unwrap_or_default();
                let port = match table.get("port") {
                    None => return Err(self.nodes_err(line, "key 'port' is missing".into())),
                    Some(v) => match v.get_ref() {
                        DeValue::String(s) => s.to_string(),
                        DeValue::Integer(i) => i.as_str().to_string(),
                        _ => {
                            return Err(self.nodes_err(
                                self.line(v),
                                "key 'port' must be a string or an integer".into(),
                            ));
                        }
                    },
                };
                let host_line = table.get("host").map(|v| self.line(v)).unwrap_or(line);
                cesi_endpoint(&host, &port)
                    .map_err(|d| self.nodes_err(host_line, format!("key 'host': {d}")))?
            }
        };
        let timeout = match table.get("timeout") {
            None => None,
            Some(v) => Some(seconds(v.get_ref()).ok_or_else(|| {
                self.nodes_err(
                    self.line(v),
                    "key 'timeout' must be a positive number of seconds".into(),
                )
            })?),
        };
        Ok(NodeConfig {
            name,
            environment,
            endpoint,
            username,
            password,
            timeout,
            line,
        })
    }

    fn hub(
        &self,
        key: &Spanned<std::borrow::Cow<'_, str>>,
        value: &Spanned<DeValue<'_>>,
    ) -> Result<HubSettings, ConfigError> {
        let DeValue::Table(table) = value.get_ref() else {
            return Err(self.hub_err(self.line(key), "'hub' must be a table".into()));
        };
        const KEYS: [&str; 7] = [
            "poll_interval",
            "node_timeout",
            "cookie_secure",
            "session_ttl",
            "trusted_proxies",
            "proxy_user_header",
            "secret",
        ];
        self.only_keys(table, &KEYS, |l, d| self.hub_err(l, d))?;
        let mut hub = HubSettings::default();
        for (k, v) in table.iter() {
            let name: &str = k.get_ref();
            let line = self.line(v);
            let bad = |what: &str| self.hub_err(line, format!("key '{name}' must be {what}"));
            match name {
                "poll_interval" => {
                    hub.poll_interval =
                        seconds(v.get_ref()).ok_or_else(|| bad("a positive number of seconds"))?
                }
                "node_timeout" => {
                    hub.node_timeout =
                        seconds(v.get_ref()).ok_or_else(|| bad("a positive number of seconds"))?
                }
                "session_ttl" => {
                    hub.session_ttl = seconds(v.get_ref())
                        .filter(|d| d.as_secs() >= 60)
                        .ok_or_else(|| bad("a number of seconds, at least 60"))?
                }
                "cookie_secure" => match v.get_ref() {
                    DeValue::Boolean(b) => hub.cookie_secure = *b,
                    _ => return Err(bad("true or false")),
                },
                "proxy_user_header" => match v.get_ref().as_str() {
                    Some(h) if is_header_name(h) => hub.proxy_user_header = Some(h.to_string()),
                    _ => return Err(bad("a header name such as \"X-Forwarded-User\"")),
                },
                "secret" => match v.get_ref().as_str() {
                    Some(s) if s.len() >= 16 => hub.secret = Some(s.to_string()),
                    _ => return Err(bad("a string of at least 16 characters")),
                },
                "trusted_proxies" => {
                    let DeValue::Array(items) = v.get_ref() else {
                        return Err(bad("a list of IP addresses"));
                    };
                    for item in items.iter() {
                        let ip = item
                            .get_ref()
                            .as_str()
                            .and_then(|s| s.parse::<IpAddr>().ok())
                            .ok_or_else(|| bad("a list of IP addresses"))?;
                        hub.trusted_proxies.push(ip);
                    }
                }
                _ => {}
            }
        }
        if hub.proxy_user_header.is_some() && hub.trusted_proxies.is_empty() {
            return Err(self.hub_err(
                self.line(key),
                "key 'proxy_user_header' needs 'trusted_proxies' (the header is believed only from those addresses)".into(),
            ));
        }
        Ok(hub)
    }
}

fn is_header_name(h: &str) -> bool {
    !h.is_empty()
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn seconds(value: &DeValue<'_>) -> Option<Duration> {
    let secs = match value {
        DeValue::Integer(i) => i.as_str().parse::<f64>().ok()?,
        DeValue::Float(f) => f.as_str().parse::<f64>().ok()?,
        _ => return None,
    };
    (secs.is_finite() && secs > 0.0 && secs <= 86_400.0 * 365.0)
        .then(|| Duration::from_secs_f64(secs))
}

/// Cesi's URL rule (`crate::nodes::cesi_url`: `http://` prepended unless
/// the host has a scheme, the path's trailing `/` removed, `:port` after
/// the host, `/RPC2` appended). An `https://` host is accepted, as Cesi
/// accepts it — its own sample config has one — and the node shows as
/// unreachable with the reason, because `sv-client` speaks no TLS.
fn cesi_endpoint(host: &str, port: &str) -> Result<String, String> {
    let rest = host
        .strip_prefix("http://")
        .or_else(|| host.strip_prefix("https://"))
        .unwrap_or(host);
    if rest.split('/').next().unwrap_or("").is_empty() {
        return Err("the host is empty".into());
    }
    Ok(crate::nodes::cesi_url(host, port))
}

const NO_TLS: &str = "https is not supported: the hub's XML-RPC client speaks http and unix sockets only (put the node behind a local unix socket or plain http on a private network)";

/// Our `url`: `unix:///abs/path` or `http://host:port[/path]` (a bare
/// `http://host:port` gets `/RPC2`). Also checks the node overrides' `url`
/// (`crate::api::overrides`), so both say the same.
pub fn check_url(url: &str) -> Result<String, String> {
    if let Some(path) = url.strip_prefix("unix://") {
        if !path.starts_with('/') {
            return Err(
                "a unix socket path must be absolute (unix:///path/to/supervisor.sock)".into(),
            );
        }
        return Ok(url.to_string());
    }
    if url.starts_with("https://") {
        return Err(NO_TLS.into());
    }
    if let Some(rest) = url.strip_prefix("http://") {
        let netloc = rest.split('/').next().unwrap_or("");
        if netloc.is_empty() {
            return Err("the host is empty".into());
        }
        // A bare http://host:port means Supervisor's usual endpoint.
        return Ok(if rest.contains('/') {
            url.to_string()
        } else {
            format!("{url}/RPC2")
        });
    }
    Err("must start with unix://, http:// or https://".into())
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
