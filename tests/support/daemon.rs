//! `TestDaemon`: a real `supervisord -n` on a temp dir, observed through its
//! main log (every wait is a condition with a deadline), killed on drop.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use super::bin::{self, SUPERVISORD};

/// How long any single condition may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(20);

pub struct TestDaemon {
    pub dir: tempfile::TempDir,
    pub child: Child,
    pub log: PathBuf,
    pub pidfile: PathBuf,
    pub conf: PathBuf,
    exited: Option<ExitStatus>,
}

/// The `[supervisord]` section every test daemon uses (debug level, all
/// files in the temp dir), followed by `body`.
pub fn config_text(dir: &Path, extra_supervisord: &str, body: &str) -> String {
    let d = dir.display();
    format!(
        "[supervisord]\nlogfile={d}/supervisord.log\npidfile={d}/supervisord.pid\nchildlogdir={d}\nloglevel=debug\nnodaemon=true\nsilent=true\n{extra_supervisord}\n{body}"
    )
}

/// `supervisord -c <dir>/supervisord.conf` run in `dir`, stdin and stdout
/// closed and stderr discarded (callers may redirect it).
pub fn supervisord_in(dir: &Path) -> Command {
    let mut command = super::command::new(SUPERVISORD);
    command
        .arg("-c")
        .arg(dir.join("supervisord.conf"))
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

impl TestDaemon {
    /// Start a daemon with `body` (program sections etc.).
    pub fn start(body: &str) -> Self {
        Self::start_with("", body)
    }

    /// Start with extra `[supervisord]` options.
    pub fn start_with(extra_supervisord: &str, body: &str) -> Self {
        Self::start_with_env(extra_supervisord, body, &[])
    }

    /// Start with extra `[supervisord]` options and environment variables.
    pub fn start_with_env(extra_supervisord: &str, body: &str, env: &[(&str, &str)]) -> Self {
        let dir = bin::tempdir();
        let conf = dir.path().join("supervisord.conf");
        fs::write(&conf, config_text(dir.path(), extra_supervisord, body)).unwrap();
        let child = supervisord_in(dir.path())
            .envs(env.iter().copied())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start supervisord");
        Self::adopt(dir, child)
    }

    /// Start a daemon on `dir`, its `supervisord.conf` already written.
    pub fn start_in(dir: tempfile::TempDir) -> Self {
        let child = supervisord_in(dir.path())
            .spawn()
            .expect("cannot start supervisord");
        Self::adopt(dir, child)
    }

    /// A daemon started by the caller (`child`, in `dir` with
    /// `supervisord.conf` written by [`config_text`]), once it is up.
    pub fn adopt(dir: tempfile::TempDir, child: Child) -> Self {
        let conf = dir.path().join("supervisord.conf");
        let daemon = TestDaemon {
            log: dir.path().join("supervisord.log"),
            pidfile: dir.path().join("supervisord.pid"),
            conf,
            dir,
            child,
            exited: None,
        };
        daemon.wait_log("supervisord started with pid");
        daemon
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Lines of the main log containing `needle`.
    pub fn lines(&self, needle: &str) -> Vec<String> {
        self.log_text()
            .lines()
            .filter(|l| l.contains(needle))
            .map(str::to_string)
            .collect()
    }

    pub fn count(&self, needle: &str) -> usize {
        self.lines(needle).len()
    }

    /// Wait until the log has at least `n` lines containing `needle`.
    pub fn wait_count(&self, needle: &str, n: usize) {
        let ok = bin::wait_until(DEADLINE, || self.count(needle) >= n);
        assert!(
            ok,
            "timed out waiting for {n} × {needle:?} in the log:\n{}",
            self.log_text()
        );
    }

    pub fn wait_log(&self, needle: &str) {
        self.wait_count(needle, 1);
    }

    /// The pid of the last `spawned: 'name' with pid N` line.
    pub fn pid_of(&self, name: &str) -> u32 {
        let needle = format!("spawned: '{name}' with pid ");
        self.wait_log(&needle);
        let line = self.lines(&needle).pop().unwrap();
        line.rsplit(' ').next().unwrap().trim().parse().unwrap()
    }

    pub fn signal(&self, sig: &str) {
        // A signal the daemon handles, sent before its handler is installed
        // (just after start), would kill it: wait until it catches it.
        let number = match sig {
            "HUP" => Some(1),
            "INT" => Some(2),
            "QUIT" => Some(3),
            "USR2" => Some(12),
            "TERM" => Some(15),
            _ => None,
        };
        if let Some(n) = number {
            let pid = self.child.id();
            let caught = || {
                fs::read_to_string(format!("/proc/{pid}/status"))
                    .ok()
                    .and_then(|s| {
                        let hex = s.lines().find_map(|l| l.strip_prefix("SigCgt:"))?;
                        u64::from_str_radix(hex.trim(), 16).ok()
                    })
                    // Gone or a zombie: nothing to wait for.
                    .is_none_or(|mask| mask & (1 << (n - 1)) != 0)
            };
            bin::wait_until(DEADLINE, caught);
        }
        let ok = super::command::new("kill")
            .args([&format!("-{sig}"), &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{sig} failed");
    }

    /// Wait for the daemon to exit (after a signal).
    pub fn wait_exit(&mut self) -> ExitStatus {
        let child = &mut self.child;
        let mut status = None;
        let ok = bin::wait_until(DEADLINE, || {
            status = child.try_wait().unwrap();
            status.is_some()
        });
        assert!(
            ok,
            "supervisord did not exit:\n{}",
            fs::read_to_string(&self.log).unwrap_or_default()
        );
        self.exited = status;
        status.unwrap()
    }

    /// SIGTERM and wait for a successful exit (at most [`DEADLINE`]).
    pub fn shutdown(&mut self) {
        self.signal("TERM");
        let status = self.wait_exit();
        assert!(status.success(), "supervisord exit status {status:?}");
    }
}

/// Whether a process exists (and is not a zombie).
pub fn alive(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat.contains(") Z "),
        Err(_) => false,
    }
}

pub fn wait_dead(pid: u32) {
    assert!(
        bin::wait_until(DEADLINE, || !alive(pid)),
        "pid {pid} still alive"
    );
}

impl Drop for TestDaemon {
    fn drop(&mut self) {
        if self.exited.is_none() && self.child.try_wait().ok().flatten().is_none() {
            // Ask politely so the children are stopped too, then insist.
            let _ = super::command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
            if !bin::wait_until(Duration::from_secs(15), || {
                self.child.try_wait().ok().flatten().is_some()
            }) {
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
        }
    }
}
