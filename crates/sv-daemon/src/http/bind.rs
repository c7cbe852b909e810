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
    /// Its `max_connections`, if configured (see `serve::max_connections`).
    pub max_connections: Option<usize>,
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

/// Where a unix socket is bound before it is linked into place: a
/// directory of its own, mode 0700, beside the final name (so the hard link
/// stays on one filesystem). Removed, with the socket, when dropped.
#[derive(Debug)]
struct TempName {
    /// The private directory.
    dir: PathBuf,
    /// The socket inside it.
    socket: PathBuf,
}

impl Drop for TempName {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.socket);
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// A new directory only we can enter, in `parent`, with a random name.
fn private_dir(parent: &Path) -> std::io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    for _ in 0..8 {
        let mut bytes = [0u8; 4];
        let suffix = match getrandom::fill(&mut bytes) {
            Ok(()) => hex::encode(bytes),
            Err(_) => std::process::id().to_string(),
        };
        let dir = parent.join(format!(".sv{suffix}"));
        // mkdir never follows or reuses an existing entry: a directory
        // created here is ours, and its mode can only be narrower than
        // 0700 under the umask (fixed just below).
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => {
                std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
                return Ok(dir);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::ErrorKind::AlreadyExists.into())
}

/// A listening unix socket for `file`, bound in a [`private_dir`] beside
/// it. `bind` gives the socket the umask's mode (often 0775 or 0777) until
/// it is chmod-ed; bound where no one else can enter, it is never reachable
/// with that mode. (The umask is process-wide, so narrowing it around the
/// bind could affect other threads; Supervisor binds at `<file>.<pid>`,
/// reachable in between.)
fn bind_hidden(file: &str) -> std::io::Result<(std::os::unix::net::UnixListener, TempName)> {
    let parent = match Path::new(file).parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let dir = private_dir(parent)?;
    let temp = TempName {
        socket: dir.join("s"),
        dir,
    };
    let listener = std::os::unix::net::UnixListener::bind(&temp.socket)?;
    Ok((listener, temp))
}

fn bind_unix(file: &str, chmod: u32, chown: (i64, i64)) -> Result<Bound, BindError> {
    let path = PathBuf::from(file);
    // Bind a private name, set its mode, then link it into place: the
    // socket never exists under its real name with the wrong mode.
    let (listener, temp) = bind_hidden(file).map_err(|source| BindError::Unix {
        file: file.to_string(),
        source,
    })?;
    // `temp` is removed on every return, by its `Drop`.
    if let Err(e) = std::fs::set_permissions(&temp.socket, std::fs::Permissions::from_mode(chmod)) {
        return Err(BindError::Chmod {
            file: file.to_string(),
            source: e,
        });
    }
    let mut attempts = 0;
    loop {
        match std::fs::hard_link(&temp.socket, &path) {
            Ok(()) => break,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempts < 3 => {
                attempts += 1;
                // Never delete a live daemon's socket: only a dead one.
                if socket_alive(&path) {
                    return Err(BindError::AddressInUse);
                }
                eprintln!("Unlinking stale socket {file}");
                let _ = std::fs::remove_file(&path);
                std::thread::sleep(Duration::from_millis(300));
            }
            Err(e) => {
                return Err(BindError::Unix {
                    file: file.to_string(),
                    source: e,
                });
            }
        }
    }
    drop(temp);
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
                max_connections: config.max_connections,
            }),
            Err(e) => {
                remove_sockets(&servers);
                return Err(e);
            }
        }
    }
    Ok(servers)
}

/// The start-up warning for an inet server that others may reach: one
/// that listens beyond this machine's loopback (all interfaces, an address
/// that is not a loopback one, or a host name other than `localhost`, which
/// is not resolved here). `None` for unix sockets and loopback servers.
/// Supervisor says nothing of this; its CRIT line about a server without
/// authentication is written as well.
pub fn exposure_warning(config: &ServerConfig) -> Option<String> {
    let Listen::Inet { host, port } = &config.listen else {
        return None;
    };
    let loopback = host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if loopback {
        return None;
    }
    let shown = if host.is_empty() { "*" } else { host };
    let guard = if config.password.is_some() {
        "only its password guards it (plain HTTP: put TLS in front of it)"
    } else {
        "it has no password, so anyone who can connect controls every program"
    };
    Some(format!(
        "Server '{}' listens on {shown}:{port}, beyond this machine's loopback; {guard}",
        config.section
    ))
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

    fn inet(host: &str, password: Option<&str>) -> ServerConfig {
        ServerConfig {
            section: "inet_http_server".into(),
            name: None,
            listen: Listen::Inet {
                host: host.into(),
                port: 9001,
            },
            username: password.map(|_| "user".into()),
            password: password.map(Into::into),
            max_connections: None,
        }
    }

    #[test]
    fn only_servers_beyond_loopback_are_warned_about() {
        for host in ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"] {
            assert_eq!(exposure_warning(&inet(host, None)), None, "{host}");
        }
        assert_eq!(
            exposure_warning(&inet("", None)).as_deref(),
            Some(
                "Server 'inet_http_server' listens on *:9001, beyond this machine's loopback; it has no password, so anyone who can connect controls every program"
            )
        );
        for host in ["0.0.0.0", "192.0.2.7", "::", "example.org"] {
            let warning = exposure_warning(&inet(host, Some("secret"))).unwrap_or_default();
            assert!(
                warning.contains(&format!("listens on {host}:9001"))
                    && warning.contains("only its password guards it"),
                "{host}: {warning}"
            );
        }
    }

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

    /// Issue 15 item 7: the socket was bound at `<file>.<pid>` beside its
    /// final name, so until the chmod it had the umask's mode (often
    /// 0775 or 0777) in a directory others may enter, and anyone could
    /// connect. It must be bound where only we can reach it; the directory
    /// here is world-writable and searchable, like `/tmp` or `/run`.
    #[test]
    fn a_unix_socket_is_bound_where_no_one_else_can_reach_it() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().expect("a temp dir");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o1777))
            .expect("chmod");
        let file = dir.path().join("s.sock");
        let file_str = file.to_str().expect("a UTF-8 temp path");
        let (listener, temp) = bind_hidden(file_str).expect("bind");
        let parent = temp.socket.parent().expect("a parent directory");
        let meta = std::fs::metadata(parent).expect("stat the parent");
        assert_eq!(
            meta.mode() & 0o077,
            0,
            "{} is bound in {} (mode {:o}): others can reach it before the chmod",
            temp.socket.display(),
            parent.display(),
            meta.mode() & 0o7777
        );
        assert_eq!(meta.uid(), crate::sys::euid(), "the directory is ours");
        assert!(!file.exists(), "not under its real name yet");
        drop(temp);
        drop(listener);
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.map(|e| e.file_name()))
            .collect();
        assert!(left.is_empty(), "nothing is left behind: {left:?}");
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
