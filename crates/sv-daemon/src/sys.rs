//! Every POSIX call the daemon makes, in one place (nix breaks its API with
//! each minor release; an upgrade should touch only this file): resource
//! limits, privilege drops, daemonizing, signals, reaping, file-descriptor
//! hygiene.

use std::ffi::CString;
use std::os::fd::{AsRawFd, RawFd};

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, FdFlag, fcntl};
use nix::sys::resource::{Resource, getrlimit, setrlimit};
use nix::unistd::{ForkResult, Gid, Uid, User, fork, setsid};
use sv_core::process::ExitStatus;

/// A system call the daemon needed failed. The texts are Supervisor's where
/// it has one (they reach the log, stderr or a process's `spawnerr`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SysError {
    #[error("getrlimit({resource}): {errno}")]
    GetRlimit {
        resource: &'static str,
        errno: Errno,
    },
    #[error(
        "The minimum number of {what} required to run this process is {minimum} as per the \"{setting}\" command-line argument or config file setting. The current environment will only allow you to open {hard} {what}.  Either raise the number of usable {what} in your environment (see README.rst) or lower the {setting} setting in the config file to allow the process to start."
    )]
    RlimitTooLow {
        what: &'static str,
        setting: &'static str,
        minimum: u64,
        hard: u64,
    },
    /// A call that has no message of its own.
    #[error("{0}")]
    Call(Errno),
    #[error("Can't find uid {0}")]
    NoSuchUid(u32),
    #[error("{0}")]
    BadUserName(String),
    #[error("Can't drop privilege as nonroot user")]
    NotRoot,
    #[error("Could not set groups of effective user")]
    SetGroups,
    #[error("Could not set group id of effective user")]
    SetGid,
    #[error("Could not set user id: {0}")]
    SetUid(Errno),
}

/// Mark every inherited descriptor above 2 close-on-exec, once at start-up,
/// so children never see them (Supervisor closes 3..minfds in each child;
/// everything we open ourselves is already close-on-exec).
pub fn mark_inherited_fds_cloexec() {
    let fds: Vec<RawFd> = match std::fs::read_dir("/proc/self/fd") {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok()))
            .filter(|&fd| fd > 2)
            .collect(),
        Err(_) => (3..1024).collect(),
    };
    for fd in fds {
        // SAFETY: only flags change; an fd that is not open fails with EBADF.
        let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        if let Ok(flags) = fcntl(borrowed, FcntlArg::F_GETFD) {
            let flags = FdFlag::from_bits_truncate(flags) | FdFlag::FD_CLOEXEC;
            let _ = fcntl(borrowed, FcntlArg::F_SETFD(flags));
        }
    }
}

/// The limits children should run with, saved before the daemon raises its own.
#[derive(Debug, Clone, Copy)]
pub struct ChildLimits {
    /// Soft RLIMIT_NOFILE for children (what `minfds` asked for, or what
    /// the environment gave, whichever is larger).
    pub nofile_soft: u64,
    pub nofile_hard: u64,
}

const UNLIMITED: u64 = u64::MAX;

/// Supervisor's `set_rlimits_or_exit`: raise RLIMIT_NOFILE to `minfds` and
/// RLIMIT_NPROC to `minprocs` when the soft limit is lower. On top of that the
/// daemon raises its own soft RLIMIT_NOFILE to the hard limit (each child
/// costs it up to three pipe ends), while children get back the limit they
/// would have had under Supervisor. Returns info lines to log, or the usage
/// error.
pub fn raise_rlimits(minfds: i64, minprocs: i64) -> Result<(Vec<String>, ChildLimits), SysError> {
    let mut infos = Vec::new();
    for (resource, name, minimum, setting) in [
        (Resource::RLIMIT_NOFILE, "RLIMIT_NOFILE", minfds, "minfds"),
        (Resource::RLIMIT_NPROC, "RLIMIT_NPROC", minprocs, "minprocs"),
    ] {
        let minimum = minimum.max(0) as u64;
        let (soft, hard) = getrlimit(resource).map_err(|errno| SysError::GetRlimit {
            resource: name,
            errno,
        })?;
        if soft < minimum && soft != UNLIMITED {
            let new_hard = if hard < minimum && hard != UNLIMITED {
                minimum
            } else {
                hard
            };
            setrlimit(resource, minimum, new_hard).map_err(|_| SysError::RlimitTooLow {
                what: if setting == "minfds" {
                    "file descriptors"
                } else {
                    "processes"
                },
                setting,
                minimum,
                hard,
            })?;
            infos.push(format!("Increased {name} limit to {minimum}"));
        }
    }
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).map_err(SysError::Call)?;
    let limits = ChildLimits {
        nofile_soft: soft,
        nofile_hard: hard,
    };
    if soft < hard {
        // Best effort: a daemon that cannot raise it simply has fewer fds.
        let _ = setrlimit(Resource::RLIMIT_NOFILE, hard, hard);
    }
    Ok((infos, limits))
}

/// The RLIMIT_NOFILE children get when the daemon leaves its own limits
/// alone (an embedded daemon).
pub fn child_limits() -> Result<ChildLimits, SysError> {
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).map_err(SysError::Call)?;
    Ok(ChildLimits {
        nofile_soft: soft,
        nofile_hard: hard,
    })
}

/// The daemon's own RLIMIT_NOFILE (soft, hard), after [`raise_rlimits`].
pub fn own_nofile() -> Result<(u64, u64), SysError> {
    getrlimit(Resource::RLIMIT_NOFILE).map_err(SysError::Call)
}

/// Who a child (or the daemon) becomes: resolved in the parent because
/// password and group lookups are not async-signal-safe.
#[derive(Debug, Clone)]
pub struct Identity {
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
}

/// Resolve `uid` into its primary group and group list.
pub fn identity(uid: u32) -> Result<Identity, SysError> {
    let user = User::from_uid(Uid::from_raw(uid))
        .ok()
        .flatten()
        .ok_or(SysError::NoSuchUid(uid))?;
    let name = CString::new(user.name.clone()).map_err(|e| SysError::BadUserName(e.to_string()))?;
    let groups = nix::unistd::getgrouplist(&name, user.gid)
        .map(|gs| gs.into_iter().map(Gid::as_raw).collect())
        .unwrap_or_else(|_| vec![user.gid.as_raw()]);
    Ok(Identity {
        uid,
        gid: user.gid.as_raw(),
        groups,
    })
}

/// Whether switching to `uid` is needed and possible from here; `Ok(false)`
/// when we already are that user.
pub fn needs_switch(uid: u32) -> Result<bool, SysError> {
    let current = Uid::effective().as_raw();
    if current == uid {
        Ok(false)
    } else if current != 0 {
        Err(SysError::NotRoot)
    } else {
        Ok(true)
    }
}

/// Supervisor's `drop_privileges` for the daemon itself (`user=`).
pub fn drop_privileges(uid: u32) -> Result<bool, SysError> {
    if !needs_switch(uid)? {
        return Ok(false);
    }
    let id = identity(uid)?;
    let groups: Vec<Gid> = id.groups.iter().map(|&g| Gid::from_raw(g)).collect();
    nix::unistd::setgroups(&groups).map_err(|_| SysError::SetGroups)?;
    nix::unistd::setgid(Gid::from_raw(id.gid)).map_err(|_| SysError::SetGid)?;
    nix::unistd::setuid(Uid::from_raw(uid)).map_err(SysError::SetUid)?;
    Ok(true)
}

/// Fork into the background (Supervisor's `daemonize`): the parent exits 0,
/// the child changes directory (if asked), points stdio at /dev/null, starts
/// a session and sets the umask. Must run before any thread exists.
/// Returns the message to log about the directory, if any.
pub fn daemonize(directory: Option<&str>, umask: u32) -> Option<(bool, String)> {
    // SAFETY: called from main before the runtime or any thread starts.
    match unsafe { fork() } {
        Ok(ForkResult::Parent { .. }) => std::process::exit(0),
        Ok(ForkResult::Child) => {}
        Err(e) => {
            eprintln!("Error: cannot fork to daemonize: {e}");
            std::process::exit(2);
        }
    }
    let dir_message = directory.map(|dir| match std::env::set_current_dir(dir) {
        Ok(()) => (true, format!("set current directory: '{dir}'")),
        Err(e) => (false, format!("can't chdir into '{dir}': {e}")),
    });
    if let Ok(null) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    {
        for fd in 0..3 {
            // SAFETY: dup2 onto the standard descriptors we own.
            unsafe {
                libc::dup2(null.as_raw_fd(), fd);
            }
        }
    }
    let _ = setsid();
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(umask));
    dir_message
}

/// `kill(pid, sig)`; a negative pid signals the process group.
///
/// A raw `kill`, not nix's: nix's `Signal` has no signal 0 and no real-time
/// signals, and Supervisor delivers both (`signalProcess(x, 0)`,
/// `stopsignal=RTMIN`). The number was validated against Supervisor's list
/// when it was read; the kernel still answers EINVAL for anything else.
pub fn send_signal(pid: i32, signal: i32) -> Result<(), Errno> {
    // SAFETY: kill(2) takes two plain integers and touches no memory of ours.
    let rc = unsafe { libc::kill(pid, signal) };
    if rc == 0 { Ok(()) } else { Err(Errno::last()) }
}

/// Reap every child that has exited, without blocking.
///
/// A raw `waitpid`, not nix's: nix turns a status it cannot name (a child
/// killed by a real-time signal, e.g. `stopsignal=RTMIN`) into an error
/// *after* the kernel has reaped the child, and that exit would be lost.
pub fn reap_all() -> Vec<(u32, ExitStatus)> {
    let mut reaped = Vec::new();
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: `status` is a live c_int the call writes; WNOHANG never
        // blocks.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if pid == -1 && Errno::last() == Errno::EINTR {
            continue;
        }
        // 0: children remain but none has ended; -1: none left (ECHILD).
        if pid <= 0 {
            break;
        }
        let exit = if libc::WIFEXITED(status) {
            ExitStatus::Exited(libc::WEXITSTATUS(status))
        } else if libc::WIFSIGNALED(status) {
            ExitStatus::Signaled {
                signal: libc::WTERMSIG(status),
                core_dumped: libc::WCOREDUMP(status),
            }
        } else {
            // Stopped/continued children are still ours; keep looking.
            continue;
        };
        reaped.push((pid as u32, exit));
    }
    reaped
}

/// The effective uid.
pub fn euid() -> u32 {
    Uid::effective().as_raw()
}

/// Send one line to syslog (LOG_INFO, default facility and ident, as
/// Supervisor's handler does). libc's `syslog` may block; callers send
/// little and rarely.
pub fn syslog_line(line: &str) {
    if let Ok(text) = CString::new(line.replace('\0', "\\0")) {
        // SAFETY: "%s" with one valid C string argument.
        unsafe { libc::syslog(libc::LOG_INFO, c"%s".as_ptr(), text.as_ptr()) };
    }
}

/// Return freed heap memory to the kernel (glibc keeps it otherwise).
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of the allocator.
    unsafe {
        libc::malloc_trim(0);
    }
}
