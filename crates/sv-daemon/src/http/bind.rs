//! Binding the sockets of `[unix_http_server]` and `[inet_http_server]`,
//! before the daemon forks, so a port in use is a start-up error with
//! Supervisor's message; with Supervisor's handling of a stale unix socket
//! (a dead daemon's is replaced, a live one's never) and its backlog.
//!
//! Serving the bound sockets is [`super::serve`]'s job.

use std::io::{Read, Write};
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

const ADDRESS_IN_USE: &str = "Another program is already listening on a port that one of our HTTP servers is configured to use.  Shut this program down first before starting supervisord.";

fn set_backlog(fd: &impl std::os::fd::AsRawFd) {
    // Supervisor listens with a backlog of 1024; a second listen() only
    // changes the backlog.
    // SAFETY: listen on a socket we own.
    unsafe {
        libc::listen(fd.as_raw_fd(), 1024);
    }
}

/// Whether something answers HTTP on the unix socket `path`.
fn socket_alive(path: &Path) -> bool {
    let Ok(mut stream) = std::os::unix::net::UnixStream::connect(path) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
    if stream.write_all(b"GET / HTTP/1.0\r\n\r\n").is_err() {
        return false;
    }
    let mut byte = [0u8; 1];
    matches!(stream.read(&mut byte), Ok(n) if n > 0)
}

fn bind_unix(file: &str, chmod: u32, chown: (i64, i64)) -> Result<Bound, String> {
    let path = PathBuf::from(file);
    // Bind a private name, set its mode, then link it into place: the
    // socket never exists under its real name with the wrong mode.
    let temp = PathBuf::from(format!("{file}.{}", std::process::id()));
    let _ = std::fs::remove_file(&temp);
    let listener = std::os::unix::net::UnixListener::bind(&temp)
        .map_err(|e| format!("Cannot open an HTTP server: {e} ({file})"))?;
    let cleanup = || {
        let _ = std::fs::remove_file(&temp);
    };
    if let Err(e) = std::fs::set_permissions(&temp, std::fs::Permissions::from_mode(chmod)) {
        cleanup();
        return Err(format!("Cannot set permissions of {file}: {e}"));
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
                    return Err(ADDRESS_IN_USE.to_string());
                }
                eprintln!("Unlinking stale socket {file}");
                let _ = std::fs::remove_file(&path);
                std::thread::sleep(Duration::from_millis(300));
            }
            Err(e) => {
                cleanup();
                return Err(format!("Cannot open an HTTP server: {e} ({file})"));
            }
        }
    }
    cleanup();
    if chown != (-1, -1) {
        let uid = (chown.0 >= 0).then(|| nix::unistd::Uid::from_raw(chown.0 as u32));
        let gid = (chown.1 >= 0).then(|| nix::unistd::Gid::from_raw(chown.1 as u32));
        if nix::unistd::chown(&path, uid, gid).is_err() {
            let _ = std::fs::remove_file(&path);
            return Err(format!(
                "Not permitted to chown {file} to uid/gid ({}, {}); adjust \"sockchown\" value in config file or on command line to values that the current user ({}) can successfully chown",
                chown.0,
                chown.1,
                crate::sys::euid()
            ));
        }
    }
    set_backlog(&listener);
    Ok(Bound::Unix(listener, path))
}

fn bind_tcp(host: &str, port: u16) -> Result<Bound, String> {
    let host = if host.is_empty() { "0.0.0.0" } else { host };
    match std::net::TcpListener::bind((host, port)) {
        Ok(listener) => {
            set_backlog(&listener);
            Ok(Bound::Tcp(listener))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Err(ADDRESS_IN_USE.to_string()),
        Err(e) => Err(format!(
            "Cannot open an HTTP server: socket.error reported {e}"
        )),
    }
}

/// Bind every configured server (before daemonizing).
pub fn bind_all(configs: &[ServerConfig]) -> Result<Vec<Server>, String> {
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
