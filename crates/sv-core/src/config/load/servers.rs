//! `[inet_http_server]` and `[unix_http_server]` (with their `:name`
//! variants): where each listens, its credentials, and the URL children
//! get as `SUPERVISOR_SERVER_URL`.

use super::{Loader, Scope};
use crate::config::datatypes::{self as dt, py_strip};
use crate::config::{Listen, ServerConfig};
use crate::pyfmt::Value;

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
            if let Some((host, port)) = port {
                servers.push(ServerConfig {
                    name: section.split_once(':').map(|(_, n)| n.to_string()),
                    section,
                    listen: Listen::Inet { host, port },
                    username,
                    password,
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
            if let (Some(file), Some((username, password)), Ok(chown), Ok(chmod)) =
                (file, credentials, chown, chmod)
            {
                servers.push(ServerConfig {
                    name: section.split_once(':').map(|(_, n)| n.to_string()),
                    section,
                    listen: Listen::Unix { file, chmod, chown },
                    username,
                    password,
                });
            }
        }
        servers
    }

    /// `username`/`password` of a server section: both or neither.
    #[allow(clippy::type_complexity)]
    pub(super) fn credentials(
        &mut self,
        section: &str,
        scope: &Scope,
    ) -> Option<(Option<String>, Option<String>)> {
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
