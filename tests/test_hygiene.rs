//! The test suite's own hygiene: what holds for every test, whatever shell
//! runs `cargo test`.
mod support;

use std::fs;
use std::process::Stdio;

use support::command;

/// Set in the environment of the re-run of this binary that plays the
/// test runner started from a background shell.
const PROBE: &str = "SV_TEST_SIGNAL_PROBE";

/// The `SigIgn:` mask of a process, from `/proc/<pid>/status`.
fn ignored_mask(pid: &str) -> u64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("cannot read /proc/{pid}/status: {e}"));
    let hex = status
        .lines()
        .find_map(|l| l.strip_prefix("SigIgn:"))
        .unwrap_or_else(|| panic!("no SigIgn in /proc/{pid}/status:\n{status}"))
        .trim();
    u64::from_str_radix(hex, 16).unwrap_or_else(|e| panic!("SigIgn {hex:?}: {e}"))
}

/// The bit of `signal` in a `SigIgn` mask.
fn bit(signal: nix::sys::signal::Signal) -> u64 {
    1 << (signal as u32 - 1)
}

/// Regression (issue 15): `cargo test &` from a non-interactive shell
/// starts the tests with SIGINT and SIGQUIT ignored, the reference
/// `supervisorctl` inherited that, ignored the Ctrl-C of a `tail -f` step,
/// and two compat steps failed. Every process a test starts goes through
/// `support::command::new`, which resets the dispositions.
///
/// This binary runs itself again under `sh -c 'trap "" INT QUIT; exec …'`
/// (what a background shell does); the re-run checks that it does ignore
/// both, starts a child through the helper and checks that the child
/// ignores neither.
#[test]
fn test_children_start_with_default_signal_dispositions() {
    if std::env::var_os(PROBE).is_some() {
        probe();
        return;
    }
    let me = std::env::current_exe().expect("the test binary's path");
    let out = command::new("sh")
        .arg("-c")
        .arg("trap '' INT QUIT; exec \"$0\" --exact --nocapture --test-threads=1 \"$1\"")
        .arg(&me)
        .arg("test_children_start_with_default_signal_dispositions")
        .env(PROBE, "1")
        .stdin(Stdio::null())
        .output()
        .expect("run the test binary under a shell that ignores SIGINT");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the probe failed:\n{text}");
    assert!(
        text.contains("probe: child SigIgn"),
        "the probe did not run:\n{text}"
    );
}

/// The re-run: SIGINT and SIGQUIT are ignored here, not in the child.
fn probe() {
    use nix::sys::signal::Signal::{SIGINT, SIGQUIT};
    let wanted = bit(SIGINT) | bit(SIGQUIT);
    let mine = ignored_mask("self");
    assert_eq!(
        mine & wanted,
        wanted,
        "the probe should start with SIGINT and SIGQUIT ignored (SigIgn {mine:#x})"
    );
    let mut child = command::new("sleep")
        .arg("30")
        .stdin(Stdio::null())
        .spawn()
        .expect("start sleep");
    // `spawn` returns once the child has exec'ed (or failed to).
    let theirs = ignored_mask(&child.id().to_string());
    let _ = child.kill();
    let _ = child.wait();
    println!("probe: child SigIgn {theirs:#x} (parent {mine:#x})");
    // The standard signals, 1 to 31. (glibc keeps 32 and 33 for itself and
    // refuses to touch them; whatever the runner left there stays.)
    let standard = (1u64 << 31) - 1;
    assert_eq!(
        theirs & standard,
        0,
        "a test's child must ignore no standard signal (SigIgn {theirs:#x})"
    );
}
