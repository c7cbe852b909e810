//! What one spawn costs the daemon, and how that grows with the daemon's
//! memory: `spawn::spawn` (clone with CLONE_VM|CLONE_VFORK, nothing copied)
//! against the `std::process::Command` + `pre_exec` path it replaced (a
//! `fork`, which copies the page tables of the whole daemon), each starting
//! a batch of `/bin/sleep` children with three pipes, from a process that
//! first touches 0, 64 and 256 MiB of heap (a daemon with thousands of
//! programs holds tens of MiB). The children are killed and reaped by pid
//! after each batch; that part is not timed.
//!
//! `cargo bench -p sv-daemon --bench spawn` (SPAWN_BENCH_N sets the batch,
//! 300 by default). Prints microseconds per spawn, best of three batches.

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Instant;

use sv_core::config::ProcessConfig;
use sv_daemon::spawn::{SpawnContext, spawn};
use sv_daemon::sys::ChildLimits;

fn context() -> SpawnContext {
    SpawnContext {
        base_env: std::env::vars().collect(),
        server_url: None,
        limits: ChildLimits {
            nofile_soft: 1024,
            nofile_hard: 4096,
        },
    }
}

fn stop(pids: &[i32]) {
    for &pid in pids {
        // SAFETY: our own children, by pid.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
            libc::waitpid(pid, std::ptr::null_mut(), 0);
        }
    }
}

/// Microseconds per spawn for a batch of `n` through the daemon's path.
fn ours(n: usize) -> f64 {
    let ctx = context();
    let config = ProcessConfig::with_defaults("bench", "/bin/sleep 1000");
    let started = Instant::now();
    let mut kept = Vec::with_capacity(n);
    for _ in 0..n {
        match spawn(&ctx, "bench", &config, None) {
            Ok(child) => kept.push(child),
            Err(e) => panic!("spawn: {e}"),
        }
    }
    let per = started.elapsed().as_secs_f64() * 1e6 / n as f64;
    let pids: Vec<i32> = kept.iter().map(|c| c.pid as i32).collect();
    stop(&pids);
    per
}

/// The same batch through std's fork path, as the daemon spawned before.
fn forked(n: usize) -> f64 {
    let env = context().base_env;
    let nofile = libc::rlimit {
        rlim_cur: 1024,
        rlim_max: 4096,
    };
    let started = Instant::now();
    let mut kept = Vec::with_capacity(n);
    for _ in 0..n {
        let mut command = Command::new("/bin/sleep");
        command
            .arg("1000")
            .env_clear()
            .envs(env.iter().cloned())
            .process_group(0)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // SAFETY: setrlimit is async-signal-safe; `nofile` is a plain struct.
        unsafe {
            command.pre_exec(move || {
                if libc::setrlimit(libc::RLIMIT_NOFILE, &nofile) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        match command.spawn() {
            Ok(child) => kept.push(child),
            Err(e) => panic!("spawn: {e}"),
        }
    }
    let per = started.elapsed().as_secs_f64() * 1e6 / n as f64;
    let pids: Vec<i32> = kept.iter().map(|c| c.id() as i32).collect();
    stop(&pids);
    per
}

fn best(run: impl Fn() -> f64) -> f64 {
    (0..3).map(|_| run()).fold(f64::INFINITY, f64::min)
}

fn main() {
    let n: usize = std::env::var("SPAWN_BENCH_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    // Room for the batch's pipes.
    let _ = nix::sys::resource::setrlimit(
        nix::sys::resource::Resource::RLIMIT_NOFILE,
        8192.max(4 * n as u64),
        8192.max(4 * n as u64),
    );
    let mut heap: Vec<Vec<u8>> = Vec::new();
    let mut held = 0;
    println!("spawn of /bin/sleep with 3 pipes, batch of {n}, best of 3, µs per spawn");
    for mib in [0usize, 64, 256] {
        while held < mib {
            // Touched, so the pages are mapped and a fork must copy them.
            heap.push(vec![1u8; 1 << 20]);
            held += 1;
        }
        let vfork = best(|| ours(n));
        let fork = best(|| forked(n));
        println!(
            "heap {mib:>3} MiB: clone(VM|VFORK) {vfork:>7.1} µs   std fork+exec {fork:>7.1} µs   ({:.2}×)",
            fork / vfork
        );
    }
    std::hint::black_box(&heap);
}
