//! `NOTIFY_SOCKET` for a `ready_when=notify` child: one datagram unix
//! socket per child, in a private directory, read off the actor by a task
//! that reports what the child said ([`sv_core::notify`]).
//!
//! Only the child's process tree may speak on it: the socket has
//! `SO_PASSCRED`, so the kernel attaches each sender's pid, and a datagram
//! counts only when that pid is the child or one of its descendants
//! (followed through `/proc/<pid>/stat`). `systemd-notify` sends, then waits
//! on a `BARRIER=1` whose descriptor we close at once, so it is still alive
//! to be checked. The socket file belongs to the child's user (`user=`) and
//! is 0600; the directory is 0711, so it cannot be listed.

use std::cell::Cell;
use std::io::{self, IoSliceMut};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use nix::sys::socket::{
    ControlMessageOwned, MsgFlags, UnixCredentials, recvmsg, setsockopt, sockopt,
};
use sv_core::notify::{MAX_DATAGRAM, Notice, parse};
use tokio::io::Interest;
use tokio::net::UnixDatagram;

use super::{AbortOnDrop, Report, Reporter};
use crate::supervisor::ProcKey;

/// How far up the parent chain a sender may be from the child.
const MAX_DEPTH: usize = 64;

/// The most descriptors one datagram can carry (the kernel's SCM_MAX_FD):
/// room for all of them means none is left open in a truncated message.
const MAX_FDS: usize = 253;

/// A child's notify socket; dropping it stops the reader and removes the file.
pub(crate) struct NotifySocket {
    path: PathBuf,
    /// The child's pid once spawned (0 before): whose tree may speak.
    pid: Rc<Cell<u32>>,
    _reader: AbortOnDrop,
}

impl NotifySocket {
    /// Bind `<dir>/<key>.sock` for a child that will run as `uid`.
    pub(crate) fn open(
        dir: &Path,
        key: ProcKey,
        uid: Option<u32>,
        reporter: Reporter,
    ) -> io::Result<NotifySocket> {
        let path = dir.join(format!("{key}.sock"));
        let _ = std::fs::remove_file(&path);
        let std_socket = std::os::unix::net::UnixDatagram::bind(&path)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        if let Some(uid) = uid {
            nix::unistd::chown(&path, Some(nix::unistd::Uid::from_raw(uid)), None)
                .map_err(io::Error::from)?;
        }
        setsockopt(&std_socket, sockopt::PassCred, &true).map_err(io::Error::from)?;
        std_socket.set_nonblocking(true)?;
        let socket = UnixDatagram::from_std(std_socket)?;
        let pid = Rc::new(Cell::new(0));
        let reader = tokio::task::spawn_local(read_loop(socket, key, pid.clone(), reporter));
        Ok(NotifySocket {
            path,
            pid,
            _reader: AbortOnDrop(reader),
        })
    }

    /// What the child finds in `NOTIFY_SOCKET`.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The child is spawned: its tree may speak from now on.
    pub(crate) fn bind_pid(&self, pid: u32) {
        self.pid.set(pid);
    }
}

impl Drop for NotifySocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The private directory the sockets live in, made once per daemon.
pub(crate) fn make_dir() -> io::Result<PathBuf> {
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).map_err(|e| io::Error::other(e.to_string()))?;
    let dir = std::env::temp_dir().join(format!(
        "supervisor-rs-notify-{}-{}",
        std::process::id(),
        hex::encode(random)
    ));
    std::fs::DirBuilder::new().mode(0o711).create(&dir)?;
    // The umask may have taken bits away; children of other users need x.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o711))?;
    Ok(dir)
}

async fn read_loop(socket: UnixDatagram, key: ProcKey, child: Rc<Cell<u32>>, reporter: Reporter) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        if socket.readable().await.is_err() {
            return;
        }
        let received = socket.try_io(Interest::READABLE, || receive(socket.as_raw_fd(), &mut buf));
        let (len, sender) = match received {
            Ok(Some(got)) => got,
            // Too long, or without credentials: dropped, as systemd does.
            Ok(None) => continue,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(_) => return,
        };
        let pid = child.get();
        if pid == 0 || !in_tree(sender, pid) {
            reporter.send(key, pid, Report::Foreign(sender));
            continue;
        }
        for notice in parse(&buf[..len]) {
            let report = match notice {
                Notice::Ready => Report::Ready,
                Notice::Status(text) => Report::Status(text),
                Notice::Watchdog => Report::Watchdog,
                Notice::Stopping => Report::Stopping,
                Notice::MainPid(main) => Report::MainPid(main),
            };
            reporter.send(key, pid, report);
        }
    }
}

/// One datagram: its length and the sender's pid; `None` when it was cut
/// short or came without credentials. Descriptors passed with it
/// (`BARRIER=1`, `FDSTORE=1`) are closed at once.
fn receive(fd: RawFd, buf: &mut [u8]) -> io::Result<Option<(usize, i32)>> {
    let mut cmsg = nix::cmsg_space!(UnixCredentials, [RawFd; MAX_FDS]);
    let mut iov = [IoSliceMut::new(buf)];
    let msg = recvmsg::<()>(fd, &mut iov, Some(&mut cmsg), MsgFlags::MSG_CMSG_CLOEXEC)
        .map_err(io::Error::from)?;
    let mut sender = None;
    if let Ok(cmsgs) = msg.cmsgs() {
        for c in cmsgs {
            match c {
                ControlMessageOwned::ScmCredentials(creds) => sender = Some(creds.pid()),
                ControlMessageOwned::ScmRights(fds) => {
                    for raw in fds {
                        // SAFETY: the kernel just installed `raw` in this
                        // process for us; nothing else knows of it.
                        drop(unsafe { OwnedFd::from_raw_fd(raw) });
                    }
                }
                _ => {}
            }
        }
    }
    if msg.flags.contains(MsgFlags::MSG_TRUNC) {
        return Ok(None);
    }
    Ok(sender.map(|pid| (msg.bytes, pid)))
}

/// Whether `sender` is `child` or one of its descendants.
fn in_tree(sender: i32, child: u32) -> bool {
    let Ok(mut pid) = u32::try_from(sender) else {
        return false;
    };
    for _ in 0..MAX_DEPTH {
        if pid == child {
            return true;
        }
        match parent_of(pid) {
            Some(parent) if parent > 1 => pid = parent,
            _ => return false,
        }
    }
    false
}

/// The parent pid from `/proc/<pid>/stat` (the field after the `)` that
/// ends the command name, which may itself hold spaces and parentheses).
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_own_tree() {
        let me = std::process::id();
        assert!(in_tree(me as i32, me));
        let parent = parent_of(me).expect("a parent");
        assert!(in_tree(me as i32, parent));
        assert!(!in_tree(parent as i32, me));
        assert!(!in_tree(-1, me));
    }
}
