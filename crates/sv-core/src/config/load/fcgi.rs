//! `[fcgi-program:x]`: the group's listening socket (`tcp://host:port` or
//! `unix:///path` with owner, mode and backlog) on top of the process
//! options.

use super::{Loader, Scope};
use crate::config::datatypes as dt;
use crate::config::{FcgiSocket, GroupConfig, GroupKind};
use crate::pyfmt::Value;
use crate::pypath;

impl Loader<'_> {
    pub(super) fn fcgi_group(&mut self, section: &str, scope: &Scope) -> Option<GroupConfig> {
        let host = self.host;
        let name = match dt::process_or_group_name(&section["fcgi-program:".len()..]) {
            Ok(name) => name,
            Err(_) => {
                self.processes(section, "");
                return None;
            }
        };
        let priority = self.typed(section, "priority", "999", scope, dt::integer);
        let uid = self
            .typed_opt(section, "user", scope, |v| dt::name_to_uid(host, v))
            .ok()?;
        let backlog = self
            .typed_opt(section, "socket_backlog", scope, |v| {
                let n = dt::integer(v)?;
                if (1..=65535).contains(&n) {
                    Ok(n)
                } else {
                    Err(format!("Invalid socket_backlog value {n}"))
                }
            })
            .ok()?;
        let owner = self
            .typed_opt(section, "socket_owner", scope, |v| {
                dt::colon_separated_user_group(host, v)
                    .map_err(|_| format!("Invalid socket_owner value {v}"))
            })
            .ok()?;
        let mode = self
            .typed_opt(section, "socket_mode", scope, |v| {
                dt::octal(v).map_err(|_| format!("Invalid socket_mode value {v}"))
            })
            .ok()?;
        let mut socket_scope = scope.clone();
        socket_scope.insert("program_name".into(), Value::Str(name.clone()));
        let socket = self.get(section, "socket", None, &socket_scope).ok()?;
        let socket = match socket {
            Some((url, _)) if !url.is_empty() => {
                let loc = self
                    .raw(section, "socket")
                    .map(|(_, l)| l)
                    .unwrap_or_else(|| self.section_loc(section));
                match self.fcgi_socket(&url, uid, owner, mode, backlog) {
                    Ok(socket) => Some(socket),
                    Err(message) => {
                        self.error(
                            &loc,
                            section,
                            Some("socket"),
                            format!("{message} in [{section}] socket"),
                        );
                        None
                    }
                }
            }
            _ => {
                self.section_error(
                    section,
                    format!("[{section}] section requires a \"socket\" line"),
                );
                None
            }
        };
        let processes = self.processes(section, &name);
        Some(GroupConfig {
            name,
            priority: priority?,
            kind: GroupKind::FastCgi { socket: socket? },
            processes,
        })
    }

    pub(super) fn fcgi_socket(
        &self,
        url: &str,
        proc_uid: Option<u32>,
        owner: Option<(i64, i64)>,
        mode: Option<u32>,
        backlog: Option<i64>,
    ) -> Result<FcgiSocket, String> {
        if let Some(path) = url.strip_prefix("unix://") {
            if !pypath::isabs(path) {
                return Err(format!("Unix socket path {path} is not an absolute path"));
            }
            let path = self.normalize_path(path);
            let owner = owner.or_else(|| {
                let uid = proc_uid?;
                if uid == self.host.uid() {
                    return None;
                }
                let gid = self.host.user_by_uid(uid)?.gid;
                Some((uid as i64, gid as i64))
            });
            return Ok(FcgiSocket::Unix {
                path,
                owner,
                mode: Some(mode.unwrap_or(0o700)),
                backlog,
            });
        }
        if owner.is_some() || mode.is_some() {
            return Err(
                "socket_owner and socket_mode params should only be used with a Unix domain socket"
                    .to_string(),
            );
        }
        // `tcp://host:port`, host without blanks or colons, port all digits.
        let bad = || format!("Bad socket format {url}");
        let rest = url.strip_prefix("tcp://").ok_or_else(bad)?;
        let (host, port) = rest.rsplit_once(':').ok_or_else(bad)?;
        if host.is_empty()
            || host.contains(':')
            || host.chars().any(dt::is_py_space)
            || port.is_empty()
            || !port.chars().all(|c| c.is_ascii_digit())
        {
            return Err(bad());
        }
        let port: i64 = port.parse().map_err(|_| bad())?;
        if !(1..=0xffff).contains(&port) {
            return Err(format!("{port} is out of range for a port (1-65535)"));
        }
        Ok(FcgiSocket::Tcp {
            host: host.to_lowercase(),
            port: port as u16,
            backlog,
        })
    }
}
