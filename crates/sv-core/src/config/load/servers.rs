//! `[inet_http_server]` and `[unix_http_server]` (with their `:name`
//! variants): where each listens, its credentials, its connection cap
//! (`max_connections`, ours), and the URL children get as
//! `SUPERVISOR_SERVER_URL`.

use super::{Loader, Scope};
use crate::config::datatypes::{self as dt, py_strip};
use crate::config::{Listen, ServerConfig};
use crate::pyfmt::Value;

/// A server section's `(username, password)`: both set or both `None`.
type Credentials = (Option<String>, Option<String>);

impl Loader<'_> {
    pub(super) fn servers(&mut self) -> Vec<ServerConfig> {
        let mut servers = Vec::new();
        let env_scope = self.scope(&[]);
        for section in self.section_names("inet_http_server") {
            let Some((username, password)) = self.credentials(&section, &env_scope) else {
                continue;
            };
            let port = match self.get(&section, "port", None, &env_scope) {
                Ok(Some((port, loc))) => match dt::inet_address(&port) {
                    Ok(addr) => Some(addr),
                    Err(message) => {
                        self.error(&loc, &section, Some("port"), message);
                        None
                    }
                },
                Ok(None) => {
                    self.section_error(&section, format!("section [{section}] has no port value"));
                    None
                }
                Err(()) => None,
            };
            let max_connections = self.max_connections(&section, &env_scope);
            if let (Some((host, port)), Ok(max_connections)) = (port, max_connections) {
                servers.push(ServerConfig {
                    name: section.split_once(':').map(|(_, n)| n.to_string()),
                    section,
                    listen: Listen::Inet { host, port },
                    username,
                    password,
                    max_connections,
                });
            }
        }
        for section in self.section_names("unix_http_server") {
            let here_scope = self.scope(&[("here", Value::Str(self.here.clone()))]);
            let file = match self.get(&section, "file", None, &here_scope) {
                Ok(Some((file, loc))) => {
                    let file = py_strip(&file).to_string();
                    if file.is_empty() {
                        // Supervisor would take the working directory for a
                        // stale socket and try to delete it.
                        self.error(
                            &loc,
                            &section,
                            Some("file"),
                            "the socket file name is empty".into(),
                        );
                        None
                    } else {
                        Some(self.normalize_path(&file))
                    }
                }
                Ok(None) => {
                    self.section_error(&section, format!("section [{section}] has no file value"));
                    None
                }
                Err(()) => None,
            };
            let credentials = self.credentials(&section, &env_scope);
            let host = self.host;
            let chown = self
                .typed_opt(&section, "chown", &env_scope, |v| {
                    dt::colon_separated_user_group(host, v)
                        .map_err(|_| format!("Invalid sockchown value {v}"))
                })
                .map(|c| c.unwrap_or((-1, -1)));
            let chmod = self
                .typed_opt(&section, "chmod", &env_scope, |v| {
                    dt::octal(v).map_err(|_| format!("Invalid chmod value {v}"))
                })
                .map(|c| c.unwrap_or(0o700));
            let max_connections = self.max_connections(&section, &env_scope);
            if let (
                Some(file),
                Some((username, password)),
                Ok(chown),
                Ok(chmod),
                Ok(max_connections),
            ) = (file, credentials, chown, chmod, max_connections)
            {
                servers.push(ServerConfig {
                    name: section.split_once(':').map(|(_, n)| n.to_string()),
                    section,
                    listen: Listen::Unix { file, chmod, chown },
                    username,
                    password,
                    max_connections,
                });
            }
        }
        servers
    }

    /// `max_connections` of a server section: a positive integer, if set.
    /// Ours: Supervisor reads only the options it knows from these
    /// sections and ignores any other, so a config with it still loads
    /// there. `Err` when invalid (recorded with file, line and option).
    fn max_connections(&mut self, section: &str, scope: &Scope) -> Result<Option<usize>, ()> {
        self.typed_opt(section, "max_connections", scope, |v| {
            dt::integer(v).and_then(|n| {
                usize::try_from(n)
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("max_connections must be a positive integer, not {n}"))
            })
        })
    }

    /// `username`/`password` of a server section: both or neither. `None`
    /// when either failed to expand or only one is set (recorded).
    pub(super) fn credentials(&mut self, section: &str, scope: &Scope) -> Option<Credentials> {
        let username = self.get(section, "username", None, scope).ok()?;
        let password = self.get(section, "password", None, scope).ok()?;
        let username = username.map(|(v, _)| v);
        let password = password.map(|(v, _)| v);
        if username.is_some() != password.is_some() {
            self.section_error(
                section,
                format!(
                    "Section [{section}] contains incomplete authentication: If a username or a password is specified, both the username and password must be specified"
                ),
            );
            return None;
        }
        Some((username, password))
    }
}

/// The URL children get as `SUPERVISOR_SERVER_URL`: the first unix server,
/// else the last inet one (as Supervisor keeps it), if any server exists.
pub(super) fn child_serverurl(servers: &[ServerConfig]) -> Option<String> {
    servers
        .iter()
        .find_map(|s| match &s.listen {
            Listen::Unix { file, .. } => Some(format!("unix://{file}")),
            Listen::Inet { .. } => None,
        })
        .or_else(|| {
            servers.iter().rev().find_map(|s| match &s.listen {
                Listen::Inet { host, port } => {
                    let host = if host.is_empty() { "localhost" } else { host };
                    Some(format!("http://{host}:{port}"))
                }
                Listen::Unix { .. } => None,
            })
        })
}

#[cfg(test)]
mod tests {
    use crate::config::load::testkit::*;

    #[test]
    fn servers_and_serverurl() {
        let config = load_text(
            "[supervisord]\n[inet_http_server]\nport=*:9001\n[unix_http_server]\nfile=%(here)s/../tmp/s.sock\nchmod=0770\nchown=www:wheel\n",
        )
        .unwrap();
        assert_eq!(config.servers.len(), 2);
        assert_eq!(
            config.servers[0].listen,
            Listen::Inet {
                host: "".into(),
                port: 9001
            }
        );
        assert_eq!(
            config.servers[1].listen,
            Listen::Unix {
                file: "/tmp/s.sock".into(),
                chmod: 0o770,
                chown: (33, 10)
            }
        );
        assert_eq!(config.serverurl.as_deref(), Some("unix:///tmp/s.sock"));
    }

    #[test]
    fn max_connections_is_optional_and_positive() {
        let config = load_text(
            "[supervisord]\n[inet_http_server]\nport=9001\nmax_connections=7\n[unix_http_server]\nfile=/tmp/s.sock\n",
        )
        .unwrap();
        assert_eq!(config.servers[0].max_connections, Some(7));
        assert_eq!(
            config.servers[1].max_connections, None,
            "absent: the default"
        );
        let errs = errors("[supervisord]\n[unix_http_server]\nfile=/tmp/s\nmax_connections=0\n");
        assert!(
            errs[0].contains("max_connections must be a positive integer, not 0"),
            "{errs:?}"
        );
        assert!(
            errs[0].starts_with("/etc/sv.conf:4: [unix_http_server] max_connections: "),
            "{errs:?}"
        );
        let errs = errors("[supervisord]\n[inet_http_server]\nport=9001\nmax_connections=lots\n");
        assert!(errs[0].contains("invalid literal for int()"), "{errs:?}");
        assert!(errs[0].contains("max_connections"), "{errs:?}");
        let errs = errors("[supervisord]\n[inet_http_server]\nport=9001\nmax_connections=-3\n");
        assert!(errs[0].contains("not -3"), "{errs:?}");
    }

    #[test]
    fn incomplete_auth_and_missing_values() {
        let errs = errors("[supervisord]\n[inet_http_server]\nport=9001\nusername=u\n");
        assert!(errs[0].contains("contains incomplete authentication"));
        let errs = errors("[supervisord]\n[inet_http_server]\n[unix_http_server]\n");
        assert!(errs[0].contains("section [inet_http_server] has no port value"));
        assert!(errs[1].contains("section [unix_http_server] has no file value"));
        let errs = errors("[supervisord]\n[unix_http_server]\nfile=\n");
        assert!(errs[0].contains("the socket file name is empty"));
    }
}
