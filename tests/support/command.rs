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
    // A test runner started by systemd (a CI agent's Type=notify unit)
    // must not make every daemon under test report to that systemd and
    // stay in the foreground; tests/systemd_notify.rs sets its own.
    for name in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] {
        command.env_remove(name);
    }
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

/// Installs Debian packages for a test group on first use (`apt-get update`
/// then `apt-get install -y`), as root or through passwordless `sudo`;
/// `what` names the group in the one line it prints. `Err` says why the
/// install failed (the last lines of apt's stderr).
pub fn apt_install(what: &str, packages: &[&str]) -> Result<(), String> {
    use std::io::Write as _;
    let root = nix::unistd::Uid::current().is_root();
    let run = |args: &[&str]| -> Result<(), String> {
        let mut command = if root {
            new(args[0])
        } else {
            let mut c = new("sudo");
            c.arg("-n").arg(args[0]);
            c
        };
        let out = command
            .args(&args[1..])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", args.join(" ")))?;
        if out.status.success() {
            return Ok(());
        }
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: String = err.lines().rev().take(5).collect::<Vec<_>>().join(" | ");
        Err(format!(
            "`{}` failed ({}): {tail}",
            args.join(" "),
            out.status
        ))
    };
    let _ = writeln!(
        std::io::stderr(),
        "{what}: installing Debian {} (first use)",
        packages.join(" and ")
    );
    run(&["apt-get", "update", "-qq"])?;
    let mut install = vec!["apt-get", "install", "-y", "-qq"];
    install.extend_from_slice(packages);
    run(&install)
}
