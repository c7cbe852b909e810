//! `pidproxy <pidfile> <command> [args…]`: run a program that daemonizes
//! itself, and pass the signals Supervisor sends on to the pid its pidfile
//! names, so that Supervisor can manage it.
//!
//! Unlike Supervisor's Python version, which looks for its child's exit every
//! 5 s, this waits for SIGCHLD and exits as soon as the child is gone.

use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};

use nix::sys::signal::{SigSet, SigmaskHow, Signal, kill, sigprocmask};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

const FORWARDED: [Signal; 6] = [
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGINT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGQUIT,
];

fn usage(argv0: &str) {
    println!(
        "pidproxy -- run command and proxy signals to it via its pidfile.

This executable runs a command and then monitors a pidfile.  When this
executable receives a signal, it sends the same signal to the pid
in the pidfile.

Usage: {argv0} <pidfile name> <command> [<cmdarg1> ...]
"
    );
}

fn read_pid(pidfile: &str) -> Option<i32> {
    std::fs::read_to_string(pidfile).ok()?.trim().parse().ok()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let argv0 = args.first().map(String::as_str).unwrap_or("pidproxy");
    if args.len() < 3 {
        usage(argv0);
        return ExitCode::from(1);
    }
    let pidfile = &args[1];
    let cmdargs = &args[2..];
    let cwd = std::env::current_dir()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "/".to_string());
    // Like the original: the command path is taken relative to the working
    // directory, with no PATH search.
    let abscmd = sv_core::pypath::abspath(&cwd, &cmdargs[0]);

    let mut waited = SigSet::empty();
    for sig in FORWARDED {
        waited.add(sig);
    }
    waited.add(Signal::SIGCHLD);
    // Block before spawning so no signal can arrive between spawn and wait.
    if let Err(e) = sigprocmask(SigmaskHow::SIG_BLOCK, Some(&waited), None) {
        eprintln!("pidproxy: cannot block signals: {e}");
        return ExitCode::from(1);
    }
    let mut command = Command::new(&abscmd);
    command.arg0(&cmdargs[0]).args(&cmdargs[1..]);
    // SAFETY: sigprocmask is async-signal-safe and touches no Rust state.
    unsafe {
        command.pre_exec(|| {
            sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)
                .map_err(std::io::Error::from)
        });
    }
    let child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            eprintln!("pidproxy: cannot run {abscmd}: {e}");
            return ExitCode::from(127);
        }
    };
    let child_pid = Pid::from_raw(child.id() as i32);
    loop {
        let sig = match waited.wait() {
            Ok(sig) => sig,
            Err(_) => continue,
        };
        if sig == Signal::SIGCHLD {
            loop {
                match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                    Ok(WaitStatus::Exited(pid, _)) | Ok(WaitStatus::Signaled(pid, _, _))
                        if pid == child_pid =>
                    {
                        return ExitCode::SUCCESS;
                    }
                    Ok(WaitStatus::StillAlive) | Err(_) => break,
                    Ok(_) => continue,
                }
            }
            continue;
        }
        match read_pid(pidfile) {
            Some(pid) => {
                let _ = kill(Pid::from_raw(pid), sig);
                if matches!(sig, Signal::SIGTERM | Signal::SIGINT | Signal::SIGQUIT) {
                    return ExitCode::SUCCESS;
                }
            }
            None => println!("Can't read child pidfile {pidfile}!"),
        }
    }
}
