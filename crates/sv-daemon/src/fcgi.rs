//! `[fcgi-program:x]` sockets: supervisord creates the listening socket and
//! hands it to every process of the group as its stdin (fd 0).
//!
//! Supervisor creates the socket when the group's first process spawns and
//! closes it when the last one is reaped; here it lives as long as the group
//! does, so a web server in front sees queued connections rather than
//! refusals while a worker restarts.

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;

use sv_core::config::FcgiSocket;

/// Create, bind and listen on `socket`.
pub fn open(socket: &FcgiSocket) -> std::io::Result<OwnedFd> {
    let (fd, backlog): (OwnedFd, Option<i64>) = match socket {
        FcgiSocket::Tcp {
            host,
            port,
            backlog,
        } => {
            // std sets SO_REUSEADDR on Unix, as Supervisor does.
            let listener = std::net::TcpListener::bind((host.as_str(), *port))?;
            (listener.into(), *backlog)
        }
        FcgiSocket::Unix {
            path,
            owner,
            mode,
            backlog,
        } => {
            if std::path::Path::new(path).exists() {
                std::fs::remove_file(path)?;
            }
            let listener = std::os::unix::net::UnixListener::bind(path)?;
            let cleanup = |e: std::io::Error| {
                let _ = std::fs::remove_file(path);
                e
            };
            if let Some((uid, gid)) = owner {
                let uid = (*uid >= 0).then(|| nix::unistd::Uid::from_raw(*uid as u32));
                let gid = (*gid >= 0).then(|| nix::unistd::Gid::from_raw(*gid as u32));
                nix::unistd::chown(path.as_str(), uid, gid)
                    .map_err(|e| cleanup(std::io::Error::from(e)))?;
            }
            if let Some(mode) = mode {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(*mode))
                    .map_err(cleanup)?;
            }
            (listener.into(), *backlog)
        }
    };
    if let Some(backlog) = backlog {
        // A second listen() on Linux only changes the backlog.
        // SAFETY: listen on a socket we own.
        if unsafe { libc::listen(fd.as_raw_fd(), backlog as libc::c_int) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(fd)
}

/// Close a group's socket (and remove a unix socket's file).
pub fn close(socket: &FcgiSocket, fd: OwnedFd) {
    drop(fd);
    if let FcgiSocket::Unix { path, .. } = socket {
        let _ = std::fs::remove_file(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_socket_gets_mode_and_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.sock").to_string_lossy().into_owned();
        let socket = FcgiSocket::Unix {
            path: path.clone(),
            owner: None,
            mode: Some(0o640),
            backlog: Some(7),
        };
        let fd = open(&socket).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        assert!(std::os::unix::net::UnixStream::connect(&path).is_ok());
        close(&socket, fd);
        assert!(!std::path::Path::new(&path).exists());
    }

    #[test]
    fn tcp_socket_listens() {
        let socket = FcgiSocket::Tcp {
            host: "127.0.0.1".into(),
            port: 0,
            backlog: None,
        };
        let fd = open(&socket).unwrap();
        let listener = std::net::TcpListener::from(fd);
        let addr = listener.local_addr().unwrap();
        assert!(std::net::TcpStream::connect(addr).is_ok());
    }
}
