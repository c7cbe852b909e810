//! Every process a test starts is built here ([`new`]), so that it begins
//! with default signal dispositions whatever the test runner inherited.
//!
//! `cargo test &` from a non-interactive shell starts the test binary with
//! SIGINT and SIGQUIT ignored, and an ignored disposition survives `exec`:
//! the reference `supervisorctl` then shrugs off the Ctrl-C a `tail -f`
//! step sends it, and a daemon under test hands ignored signals on. The
//! hook resets every catchable signal to `SIG_DFL` between fork and exec.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::os::unix::process::CommandExt;
use std::process::Command;

/// `Command::new(program)` whose child starts with default signal
/// dispositions (and, as std does anyway, an empty signal mask).
pub fn new(program: impl AsRef<OsStr>) -> Command {
    let mut command = Command::new(program);
    // SAFETY: the hook runs in the forked child before exec and only calls
    // `signal(2)`, which is async-signal-safe; it touches no memory of the
    // parent's (no allocation, no locks).
    unsafe {
        command.pre_exec(reset_signal_dispositions);
    }
    command
}

/// Set every signal but SIGKILL and SIGSTOP (which cannot be caught or
/// ignored) back to `SIG_DFL`. Runs between fork and exec: async-signal-safe
/// calls only.
fn reset_signal_dispositions() -> std::io::Result<()> {
    use nix::libc;
    for signal in 1..libc::SIGRTMAX() {
        if signal == libc::SIGKILL || signal == libc::SIGSTOP {
            continue;
        }
        // SAFETY: `signal(2)` with SIG_DFL is async-signal-safe; numbers the
        // kernel does not accept (glibc's reserved real-time signals) only
        // return SIG_ERR, which is ignored on purpose.
        unsafe {
            libc::signal(signal, libc::SIG_DFL);
        }
    }
    Ok(())
}
