//! What a new child does to itself before `exec`: take its three standard
//! descriptors, start its own process group, put every signal back to its
//! default, restore its RLIMIT_NOFILE, drop privileges, set its umask,
//! change directory — in Supervisor's order (privileges before the chdir,
//! so a directory only root may enter fails the spawn as it does there) —
//! and exec.
//!
//! The child runs on the daemon's own memory (`clone(CLONE_VM|CLONE_VFORK)`,
//! see [`vfork`](crate::vfork)), while other threads of the daemon may hold
//! the allocator's or any other lock. So [`ChildSetup::new`] prepares every
//! value in the parent (argv and environment as C arrays, the group list as
//! a `gid_t` array, the directory as a C string, the rlimit, the signal
//! sets) and [`ChildSetup::run`] only hands them to raw system calls: no
//! allocation, no lock, no write to memory the parent uses except the error
//! slot it reads afterwards. Identity changes are raw `syscall`s, not libc's
//! `setuid`, because glibc's wrappers broadcast the change to every thread
//! of a multi-threaded process — here, the daemon's threads. A test reads
//! the body of `run` and fails on anything that could allocate.

use std::ffi::{CString, c_char};
use std::os::fd::RawFd;

use crate::sys::{ChildLimits, Identity};

/// Who the child becomes, as the system calls want it.
#[derive(Debug)]
struct Credentials {
    uid: libc::uid_t,
    gid: libc::gid_t,
    groups: Vec<libc::gid_t>,
}

/// A list of C strings and the NULL-terminated pointer array `execve`
/// takes; the pointers point into `strings`, which lives as long.
#[derive(Debug)]
struct CArray {
    _strings: Vec<CString>,
    pointers: Vec<*const c_char>,
}

impl CArray {
    fn new(strings: Vec<CString>) -> Self {
        let mut pointers: Vec<*const c_char> = strings.iter().map(|s| s.as_ptr()).collect();
        pointers.push(std::ptr::null());
        CArray {
            _strings: strings,
            pointers,
        }
    }
}

/// What exec gets: the file, argv (argv[0] as configured) and environment.
#[derive(Debug)]
pub struct Program {
    pub filename: CString,
    pub argv: Vec<CString>,
    pub env: Vec<CString>,
}

/// Everything the child needs after the clone, owned and ready.
#[derive(Debug)]
pub struct ChildSetup {
    filename: CString,
    argv: CArray,
    env: CArray,
    /// Descriptors that become the child's 0, 1 and 2; each is 3 or more
    /// (the parent moves lower ones up), so no `dup2` overwrites a later
    /// source.
    stdio: [RawFd; 3],
    nofile: libc::rlimit,
    credentials: Option<Credentials>,
    umask: Option<libc::mode_t>,
    directory: Option<CString>,
    /// SIG_DFL, to reset each handled signal (and SIGPIPE, which the Rust
    /// runtime ignores) before exec, as `std::process::Command` does.
    default_action: libc::sigaction,
    /// The empty mask the program starts with.
    empty_mask: libc::sigset_t,
}

impl ChildSetup {
    /// Prepare, in the parent, what [`run`](Self::run) will do.
    pub fn new(
        program: Program,
        stdio: [RawFd; 3],
        limits: &ChildLimits,
        identity: Option<&Identity>,
        umask: Option<u32>,
        directory: Option<CString>,
    ) -> Self {
        // SAFETY: zeroed is a valid `sigaction` and `sigset_t` (plain C
        // structs); sigemptyset only writes the set we own.
        let (default_action, empty_mask) = unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = libc::SIG_DFL;
            let mut mask: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut mask);
            (action, mask)
        };
        ChildSetup {
            filename: program.filename,
            argv: CArray::new(program.argv),
            env: CArray::new(program.env),
            stdio,
            nofile: libc::rlimit {
                rlim_cur: limits.nofile_soft as libc::rlim_t,
                rlim_max: limits.nofile_hard as libc::rlim_t,
            },
            credentials: identity.map(|id| Credentials {
                uid: id.uid as libc::uid_t,
                gid: id.gid as libc::gid_t,
                groups: id.groups.iter().map(|&g| g as libc::gid_t).collect(),
            }),
            umask: umask.map(|mask| mask as libc::mode_t),
            directory,
            default_action,
            empty_mask,
        }
    }

    /// Runs in the new child, on the daemon's memory, and returns only if a
    /// step failed: the errno of that step (exec replaces the child
    /// otherwise). The caller has blocked every signal, so no handler of the
    /// daemon can run here before the defaults are back.
    // run:begin (the test below checks everything up to run:end)
    pub fn run(&self) -> libc::c_int {
        // SAFETY: each call gets pointers into data owned by `self`, which
        // the parent keeps alive until the child has exec'd or exited; none
        // of them allocates or takes a lock.
        unsafe {
            let mut target = 0;
            while target < 3 {
                if libc::dup2(self.stdio[target as usize], target) < 0 {
                    return errno();
                }
                target += 1;
            }
            // Supervisor's `setpgrp()`: ^C at supervisord's terminal must not
            // reach the children.
            if libc::setpgid(0, 0) != 0 {
                return errno();
            }
            let mut signal = 1;
            while signal < NSIG {
                let mut current = self.default_action;
                if signal != libc::SIGKILL
                    && signal != libc::SIGSTOP
                    && libc::sigaction(signal, core::ptr::null(), &mut current) == 0
                    && (current.sa_sigaction != libc::SIG_IGN || signal == libc::SIGPIPE)
                    && current.sa_sigaction != libc::SIG_DFL
                {
                    libc::sigaction(signal, &self.default_action, core::ptr::null_mut());
                }
                signal += 1;
            }
            if libc::setrlimit(libc::RLIMIT_NOFILE, &self.nofile) != 0 {
                return errno();
            }
            if let Some(c) = &self.credentials {
                if libc::syscall(libc::SYS_setgroups, c.groups.len(), c.groups.as_ptr()) != 0 {
                    return errno();
                }
                if libc::syscall(libc::SYS_setgid, c.gid) != 0 {
                    return errno();
                }
                if libc::syscall(libc::SYS_setuid, c.uid) != 0 {
                    return errno();
                }
            }
            if let Some(mask) = self.umask {
                libc::umask(mask);
            }
            if let Some(dir) = &self.directory
                && libc::chdir(dir.as_ptr()) != 0
            {
                return errno();
            }
            libc::sigprocmask(libc::SIG_SETMASK, &self.empty_mask, core::ptr::null_mut());
            libc::execve(
                self.filename.as_ptr(),
                self.argv.pointers.as_ptr(),
                self.env.pointers.as_ptr(),
            );
            errno()
        }
    }
    // run:end
}

/// One more than the highest signal number on Linux (real-time included).
const NSIG: libc::c_int = 65;

/// The calling thread's errno: a read through libc's thread-local pointer.
#[inline(always)]
unsafe fn errno() -> libc::c_int {
    // SAFETY: __errno_location returns the thread's errno slot, always valid.
    unsafe { *libc::__errno_location() }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The functions POSIX lists as async-signal-safe that `run` may call
    /// (`syscall` only for the raw identity calls).
    const SAFE_CALLS: &[&str] = &[
        "dup2",
        "setpgid",
        "sigaction",
        "setrlimit",
        "syscall",
        "umask",
        "chdir",
        "sigprocmask",
        "execve",
    ];

    fn run_source() -> &'static str {
        let source = include_str!("child_setup.rs");
        let begin = source.find("// run:begin").unwrap_or(0);
        let end = source.find("// run:end").unwrap_or(source.len());
        &source[begin..end]
    }

    #[test]
    fn child_setup_is_async_signal_safe() {
        let body = run_source();
        assert!(body.contains("libc::setrlimit"), "markers moved?");
        for forbidden in [
            "format!",
            "vec!",
            "to_string",
            "to_owned",
            "Vec",
            "String",
            "Box",
            "collect",
            "clone",
            "nix::",
            "std::",
            "println",
            "eprintln",
            "log",
            "Rc",
            "Arc",
            "Mutex",
            "CString",
            "libc::setuid",
            "libc::setgid",
            "libc::setgroups",
        ] {
            assert!(
                !body.contains(forbidden),
                "`{forbidden}` in ChildSetup::run: it runs between clone and exec"
            );
        }
        for (at, _) in body.match_indices("libc::") {
            let name: String = body[at + "libc::".len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let is_constant_or_type = name.chars().all(|c| c.is_uppercase() || c == '_')
                || name.starts_with("SYS_")
                || name == "c_int";
            assert!(
                is_constant_or_type || SAFE_CALLS.contains(&name.as_str()),
                "libc::{name} is not on the async-signal-safe list"
            );
        }
        // Besides libc, only null pointers.
        let rest = body
            .replace("core::ptr::null_mut()", "")
            .replace("core::ptr::null()", "");
        let stray = rest
            .match_indices("::")
            .filter(|(at, _)| !rest[..*at].ends_with("libc"))
            .count();
        assert_eq!(stray, 0, "a path call other than libc in ChildSetup::run");
    }

    fn program() -> Program {
        Program {
            filename: c"/bin/true".into(),
            argv: vec![c"true".into(), c"-x".into()],
            env: vec![c"A=1".into()],
        }
    }

    #[test]
    fn prepared_values_are_what_the_calls_get() {
        let limits = ChildLimits {
            nofile_soft: 1024,
            nofile_hard: 4096,
        };
        let identity = Identity {
            uid: 1000,
            gid: 100,
            groups: vec![100, 27],
        };
        let setup = ChildSetup::new(
            program(),
            [5, 6, 6],
            &limits,
            Some(&identity),
            Some(0o022),
            None,
        );
        assert_eq!(setup.nofile.rlim_cur, 1024);
        assert_eq!(setup.nofile.rlim_max, 4096);
        let c = setup
            .credentials
            .as_ref()
            .map(|c| (c.uid, c.gid, c.groups.clone()));
        assert_eq!(c, Some((1000, 100, vec![100, 27])));
        assert_eq!(setup.umask, Some(0o022));
        assert_eq!(setup.stdio, [5, 6, 6]);
        // NULL-terminated arrays pointing at the prepared strings.
        assert_eq!(setup.argv.pointers.len(), 3);
        assert!(setup.argv.pointers[2].is_null());
        assert_eq!(setup.env.pointers.len(), 2);
        assert!(setup.env.pointers[1].is_null());
        // SAFETY: the pointer is into `setup.argv`, alive here.
        let arg1 = unsafe { std::ffi::CStr::from_ptr(setup.argv.pointers[1]) };
        assert_eq!(arg1, c"-x");
        assert_eq!(setup.default_action.sa_sigaction, libc::SIG_DFL);
    }
}
