//! Binding the sockets of `[unix_http_server]` and `[inet_http_server]`,
//! before the daemon forks, so a port in use is a start-up error with
//! Supervisor's message; with Supervisor's handling of a stale unix socket
//! (a dead daemon's is replaced, a live one's never) and its backlog.
//!
//! Serving the bound sockets is [`super::serve`]'s job.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sv_core::config::{Listen, ServerConfig};

/// A bound, not yet serving, listener.
#[derive(Debug)]
pub enum Bound {
    /// A unix socket, and the path it is linked at (removed at exit).
    Unix(std::os::unix::net::UnixListener, PathBuf),
    /// An inet socket.
    Tcp(std::net::TcpListener),
}

/// One configured server, bound.
#[derive(Debug)]
pub struct Server {
    /// The config section it comes from (`unix_http_server`, …).
    pub section: String,
    /// Its listening socket.
    pub bound: Bound,
    /// The `username` and `password` basic auth asks for, if any.
    pub credentials: Option<(String, String)>,
}

/// Why a server could not be bound; each message is Supervisor's.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    /// The port, or a live daemon's unix socket, is taken.
    #[error(
        "Another program is already listening on a port that one of our HTTP servers is configured to use.  Shut this program down first before starting supervisord."
    )]
    AddressInUse,
    /// The unix socket could not be created or linked into place.
    #[error("Cannot open an HTTP server: {source} ({file})")]
    Unix {
        /// The configured socket path.
        file: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// The inet socket could not be bound.
    #[error("Cannot open an HTTP server: socket.error reported {0}")]
    Inet(std::io::Error),
    /// `chmod` of the unix socket failed.
    #[error("Cannot set permissions of {file}: {source}")]
    Chmod {
        /// The configured socket path.
        file: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// `chown` of the unix socket was refused.
    #[error(
        "Not permitted to chown {file} to uid/gid ({uid}, {gid}); adjust \"sockchown\" value in config file or on command line to values that the current user ({euid}) can successfully chown"
    )]
    Chown {
        /// The configured socket path.
        file: String,
        /// The `sockchown` user id (-1: unchanged).
        uid: i64,
        /// The `sockchown` group id (-1: unchanged).
        gid: i64,
        /// Who we are.
        euid: u32,
    },
}

fn set_backlog(fd: &impl std::os::fd::AsRawFd) {
    // Supervisor listens with a backlog of 1024; a second listen() only
    // changes the backlog.
    // SAFETY: listen on a socket we own.
    unsafe {
        libc::listen(fd.as_raw_fd(), 1024);
    }
}

/// How long `connect` to an existing unix socket may wait before its owner
/// is taken to be alive but busy (with a full backlog, `connect` waits).
const CONNECT_WAIT: Duration = Duration::from_secs(1);

/// Whether a live program owns the unix socket at `path`. Only a refused
/// connection (nobody listening) or a vanished file means stale. A
/// connection accepted into the backlog means alive however long its owner
/// takes to answer: Supervisor waits for the answer, and an earlier version
/// of ours took a busy daemon's silence for death and unlinked its socket.
/// A `connect` still waiting after [`CONNECT_WAIT`], or failing any other
/// way, also counts as alive: never unlink what we cannot prove dead.
fn socket_alive(path: &Path) -> bool {
    let (tx, rx) = std::sync::mpsc::channel();
    let target = path.to_path_buf();
    // A thread, because a blocking unix `connect` has no timeout of its
    // own; if it is still waiting, the daemon refuses to start and exits.
    let probe = std::thread::Builder::new()
        .name("socket-probe".into())
        .spawn(move || {
            let _ = tx.send(std::os::unix::net::UnixStream::connect(&target).map(drop));
        });
    if probe.is_err() {
        return true;
    }
    match rx.recv_timeout(CONNECT_WAIT) {
        Ok(Ok(())) => true,
        Ok(Err(e)) => !matches!(e.raw_os_error(), Some(libc::ECONNREFUSED | libc::ENOENT)),
        Err(_) => true,
    }
}

fn bind_unix(file: &str, chmod: u32, chown: (i64, i64)) -> Result<Bound, BindError> {
    let path = PathBuf::from(file);
    // Bind a private name, set its mode, then link it into place: the
    // socket never exists under its real name with the wrong mode.
    let temp = PathBuf::from(format!("{file}.{}", std::process::id()));
    let _ = std::fs::remove_file(&temp);
    let listener =
        std::os::unix::net::UnixListener::bind(&temp).map_err(|source| BindError::Unix {
            file: file.to_string(),
            source,
        })?;
    let cleanup = || {
        let _ = std::fs::remove_file(&temp);
    };
    if let Err(e) = std::fs::set_permissions(&temp, std::fs::Permissions::from_mode(chmod)) {
        cleanup();
        return Err(BindError::Chmod {
            file: file.to_string(),
            source: e,
        });
    }
    let mut attempts = 0;
    loop {
        match std::fs::hard_link(&temp, &path) {
            Ok(()) => break,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempts < 3 => {
                attempts += 1;
                // Never delete a live daemon's socket: only a dead one.
                if socket_alive(&path) {
                    cleanup();
                    return Err(BindError::AddressInUse);
                }
                eprintln!("Unlinking stale socket {file}");
                let _ = std::fs::remove_file(&path);
                std::thread::sleep(Duration::from_millis(300));
            }
            Err(e) => {
                cleanup();
                return Err(BindError::Unix {
                    file: file.to_string(),
                    source: e,
                });
            }
        }
    }
    cleanup();
    if chown != (-1, -1) {
        let uid = (chown.0 >= 0).then(|| nix::unistd::Uid::from_raw(chown.0 as u32));
        let gid = (chown.1 >= 0).then(|| nix::unistd::Gid::from_raw(chown.1 as u32));
        if nix::unistd::chown(&path, uid, gid).is_err() {
            let _ = std::fs::remove_file(&path);
            return Err(BindError::Chown {
                file: file.to_string(),
                uid: chown.0,
                gid: chown.1,
                euid: crate::sys::euid(),
            });
        }
    }
    set_backlog(&listener);
    Ok(Bound::Unix(listener, path))
}

fn bind_tcp(host: &str, port: u16) -> Result<Bound, BindError> {
    let host = if host.is_empty() { "0.0.0.0" } else { host };
    match std::net::TcpListener::bind((host, port)) {
        Ok(listener) => {
            set_backlog(&listener);
            Ok(Bound::Tcp(listener))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Err(BindError::AddressInUse),
        Err(e) => Err(BindError::Inet(e)),
    }
}

/// Bind every configured server (before daemonizing).
pub fn bind_all(configs: &[ServerConfig]) -> Result<Vec<Server>, BindError> {
    let mut servers = Vec::new();
    for config in configs {
        let bound = match &config.listen {
            Listen::Unix { file, chmod, chown } => bind_unix(file, *chmod, *chown),
            Listen::Inet { host, port } => bind_tcp(host, *port),
        };
        match bound {
            Ok(bound) => servers.push(Server {
                section: config.section.clone(),
                bound,
                credentials: config.username.clone().zip(config.password.clone()),
            }),
            Err(e) => {
                remove_sockets(&servers);
                return Err(e);
            }
        }
    }
    Ok(servers)
}

/// Remove the unix socket files (at exit).
pub fn remove_sockets(servers: &[Server]) {
    for server in servers {
        if let Bound::Unix(_, path) = &server.bound {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_supervisors() {
        assert!(
            BindError::AddressInUse
                .to_string()
                .starts_with("Another program is already listening on a port")
        );
        let chown = BindError::Chown {
            file: "/tmp/s.sock".into(),
            uid: 0,
            gid: -1,
            euid: 1000,
        };
        assert_eq!(
            chown.to_string(),
            "Not permitted to chown /tmp/s.sock to uid/gid (0, -1); adjust \"sockchown\" value in config file or on command line to values that the current user (1000) can successfully chown"
        );
        let unix = BindError::Unix {
            file: "/x/s.sock".into(),
            source: std::io::Error::from_raw_os_error(libc::ENOENT),
        };
        assert_eq!(
            unix.to_string(),
            "Cannot open an HTTP server: No such file or directory (os error 2) (/x/s.sock)"
        );
    }

    #[test]
    fn a_port_in_use_is_refused_with_supervisors_message() {
        let taken = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("a free port");
        let port = taken.local_addr().expect("bound").port();
        assert!(matches!(
            bind_tcp("127.0.0.1", port),
            Err(BindError::AddressInUse)
        ));
    }
}
