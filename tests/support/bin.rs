//! Running this package's binaries from integration tests.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

pub const SUPERVISORD: &str = env!("CARGO_BIN_EXE_supervisord");
pub const ECHO_SUPERVISORD_CONF: &str = env!("CARGO_BIN_EXE_echo_supervisord_conf");
pub const PIDPROXY: &str = env!("CARGO_BIN_EXE_pidproxy");
pub const SUPERVISORCTL: &str = env!("CARGO_BIN_EXE_supervisorctl");

/// Run `bin args…` in `cwd` to completion.
pub fn run(bin: &str, args: &[&str], cwd: &Path) -> Output {
    super::command::new(bin)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {bin}: {e}"))
}

/// Stdout and stderr as text.
pub fn texts(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Poll `cond` until it holds or `deadline` passes; true if it held.
pub fn wait_until(deadline: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + deadline;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A fresh temporary directory with a short path (unix sockets need one).
pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("sv")
        .tempdir()
        .unwrap_or_else(|e| panic!("cannot create a temp dir: {e}"))
}
