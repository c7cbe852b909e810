//! Starting a child without copying the daemon: `clone(CLONE_VM |
//! CLONE_VFORK)`, what `posix_spawn` does inside glibc. The child borrows
//! the daemon's memory on a stack of its own until it has exec'd, and the
//! calling thread waits that long; nothing is copied, so a spawn costs the
//! same with 10 or 10,000 programs (a `fork` copies the page tables of the
//! whole daemon, and its cost grows with the daemon).
//!
//! The parent side, here: block every signal around the clone (no handler of
//! the daemon may run in the child before it has reset them), give the child
//! its stack, and read the error slot the child fills when a step before
//! exec, or exec itself, failed. Such a child has already exited: it is
//! reaped here, at once, so the actor's `waitpid(-1)` never sees it, as with
//! `std::process::Command`'s error pipe.
//!
//! Descriptors need no closing in the child: everything the daemon opens is
//! close-on-exec (Rust's std, tokio and mio open with `O_CLOEXEC`, and
//! inherited ones are marked at start, `sys::mark_inherited_fds_cloexec`).

use std::cell::RefCell;
use std::io;

use crate::child_setup::ChildSetup;

/// The child's stack: 64 KiB is many times what [`ChildSetup::run`] and the
/// libc wrappers it calls use; a guard page below it turns an overflow into
/// a fault instead of a write into the daemon's memory.
const STACK_SIZE: usize = 64 * 1024;

/// An anonymous mapping with a guard page at its low end.
struct Stack {
    base: *mut libc::c_void,
    len: usize,
}

impl Stack {
    fn new() -> io::Result<Stack> {
        let page = page_size();
        let len = STACK_SIZE + page;
        // SAFETY: a fresh private anonymous mapping; nothing else refers to it.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let stack = Stack { base, len };
        // SAFETY: the first page of the mapping we just made.
        if unsafe { libc::mprotect(base, page, libc::PROT_NONE) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(stack)
    }

    /// The highest address, 16-byte aligned: stacks grow down.
    fn top(&self) -> *mut libc::c_void {
        let end = self.base as usize + self.len;
        (end & !15) as *mut libc::c_void
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`, no longer used by any child.
        unsafe {
            libc::munmap(self.base, self.len);
        }
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf reads a constant.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096).max(4096)
}

thread_local! {
    /// One stack per spawning thread (the actor's), made on first use and
    /// reused: when `clone` returns the child no longer runs on it.
    static STACK: RefCell<Option<Stack>> = const { RefCell::new(None) };
}

/// What the child gets: the prepared setup and the slot for its errno.
struct Job<'a> {
    setup: &'a ChildSetup,
    error: libc::c_int,
}

extern "C" fn child_main(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the `Job` that `spawn` keeps alive (and does not
    // touch) until the child has exec'd or exited. `run` is async-signal-safe.
    unsafe {
        let job = arg.cast::<Job>();
        let error = (*job).setup.run();
        std::ptr::write_volatile(std::ptr::addr_of_mut!((*job).error), error);
        libc::_exit(127)
    }
}

/// Start a child that runs `setup` and execs. Returns its pid once it has
/// exec'd; the errno of the failed step otherwise (the child is reaped),
/// or of the clone itself (EAGAIN when the process table is full).
pub fn spawn(setup: &ChildSetup) -> io::Result<u32> {
    STACK.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(Stack::new()?);
        }
        let Some(stack) = slot.as_ref() else {
            return Err(io::Error::from_raw_os_error(libc::ENOMEM));
        };
        let mut job = Job { setup, error: 0 };
        // SAFETY: the masks are plain C structs we own. The child runs
        // `child_main` on `stack` with `job`, both alive until `clone`
        // returns, which CLONE_VFORK delays until the child has exec'd or
        // exited.
        let (pid, clone_error) = unsafe {
            let mut all: libc::sigset_t = std::mem::zeroed();
            let mut old: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&mut all);
            libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
            let pid = libc::clone(
                child_main,
                stack.top(),
                libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
                std::ptr::addr_of_mut!(job).cast(),
            );
            let clone_error = io::Error::last_os_error();
            libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
            (pid, clone_error)
        };
        if pid < 0 {
            return Err(clone_error);
        }
        // SAFETY: the child is done with `job`; volatile because it wrote
        // the slot behind the compiler's back.
        let error = unsafe { std::ptr::read_volatile(std::ptr::addr_of!(job.error)) };
        if error != 0 {
            reap(pid);
            return Err(io::Error::from_raw_os_error(error));
        }
        Ok(pid as u32)
    })
}

/// Collect a child that failed before exec (it has exited already).
fn reap(pid: libc::pid_t) {
    let mut status = 0;
    loop {
        // SAFETY: waitpid on our own child; `status` is a live c_int.
        let rc = unsafe { libc::waitpid(pid, &mut status, 0) };
        if rc == -1 && io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        break;
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::CString;
    use std::io::Read;
    use std::os::fd::{AsRawFd, OwnedFd};

    use super::*;
    use crate::child_setup::Program;
    use crate::sys::ChildLimits;

    fn limits() -> ChildLimits {
        ChildLimits {
            nofile_soft: 1024,
            nofile_hard: 4096,
        }
    }

    fn program(argv: &[&str]) -> Program {
        let c = |s: &str| CString::new(s).unwrap();
        Program {
            filename: c(argv[0]),
            argv: argv.iter().map(|s| c(s)).collect(),
            env: vec![c("ONLY=this")],
        }
    }

    fn wait(pid: u32) -> i32 {
        let mut status = 0;
        // SAFETY: our child; a live c_int.
        unsafe { libc::waitpid(pid as i32, &mut status, 0) };
        status
    }

    /// Run `sh -c script` with every option and return its stdout.
    fn run_shell(script: &str, umask: Option<u32>, dir: Option<&str>) -> (String, i32) {
        let (out_r, out_w) = std::io::pipe().unwrap();
        let (in_r, _in_w) = std::io::pipe().unwrap();
        let (in_r, out_w) = (OwnedFd::from(in_r), OwnedFd::from(out_w));
        let setup = ChildSetup::new(
            program(&["/bin/sh", "-c", script]),
            [in_r.as_raw_fd(), out_w.as_raw_fd(), out_w.as_raw_fd()],
            &limits(),
            None,
            umask,
            dir.map(|d| CString::new(d).unwrap()),
        );
        let pid = spawn(&setup).unwrap();
        drop((out_w, in_r));
        let mut text = String::new();
        std::io::BufReader::new(out_r)
            .read_to_string(&mut text)
            .unwrap();
        (text, wait(pid))
    }

    #[test]
    fn every_option_reaches_the_child() {
        let script = "echo env=$ONLY; umask; pwd; ulimit -n; ulimit -Hn; \
                      ls /proc/self/fd | sort -n | tr '\\n' ' '; echo; \
                      echo pgid=$(($(cut -d' ' -f5 /proc/self/stat) == $$)); \
                      grep -E '^Sig(Blk|Ign)' /proc/self/status";
        let (text, status) = run_shell(script, Some(0o027), Some("/tmp"));
        assert_eq!(status, 0, "{text}");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "env=this");
        assert_eq!(lines[1], "0027");
        assert_eq!(lines[2], "/tmp");
        assert_eq!(lines[3], "1024", "soft limit restored");
        assert_eq!(lines[4], "4096");
        // 0, 1, 2 and the descriptor `ls` opens for the directory: nothing
        // this process opened leaked (what it inherited without
        // close-on-exec from whoever started the tests stays open, as it
        // would in any child; supervisord marks those at start).
        let inherited: Vec<String> = std::fs::read_dir("/proc/self/fd")
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
            .filter(|&fd| {
                // SAFETY: F_GETFD on a number; a closed one answers -1.
                let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
                fd > 2 && flags >= 0 && flags & libc::FD_CLOEXEC == 0
            })
            .map(|fd| fd.to_string())
            .collect();
        let seen: Vec<&str> = lines[5]
            .split_whitespace()
            .filter(|fd| !inherited.iter().any(|i| i == fd))
            .collect();
        assert_eq!(seen, ["0", "1", "2", "3"], "{}", lines[5]);
        assert_eq!(lines[6], "pgid=1", "own process group");
        assert_eq!(lines[7], "SigBlk:\t0000000000000000");
        // What this process ignores, but SIGPIPE (which Rust ignores): back
        // to its default, as std's Command does.
        let ours = std::fs::read_to_string("/proc/self/status").unwrap();
        let ignored = ours
            .lines()
            .find_map(|l| l.strip_prefix("SigIgn:\t"))
            .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
            .unwrap();
        let pipe_bit = 1u64 << (libc::SIGPIPE - 1);
        assert_eq!(lines[8], format!("SigIgn:\t{:016x}", ignored & !pipe_bit));
    }

    #[test]
    fn exec_and_setup_failures_come_back_as_errno() {
        let (_r, w) = std::io::pipe().unwrap();
        let w = OwnedFd::from(w);
        let fd = w.as_raw_fd();
        let setup = ChildSetup::new(
            program(&["/nonexistent/program"]),
            [fd, fd, fd],
            &limits(),
            None,
            None,
            None,
        );
        let e = spawn(&setup).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOENT));
        let setup = ChildSetup::new(
            program(&["/bin/true"]),
            [fd, fd, fd],
            &limits(),
            None,
            None,
            Some(CString::new("/nonexistent/dir").unwrap()),
        );
        let e = spawn(&setup).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOENT));
    }
}
