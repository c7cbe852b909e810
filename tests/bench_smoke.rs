//! Smoke run of the side-by-side benchmark harness, so that it cannot rot.
//!
//! `bench/sv_bench.py --quick` runs every scenario once with tiny sizes
//! against this build's `supervisord` and `supervisorctl` and against the
//! reference Supervisor 4.3.0 from the shared venv (installed on first use by
//! [`support::reference`]; a failed install fails this test, it is never
//! skipped). The figures are not checked — the machine is noisy — only that
//! every scenario was measured on both daemons and the harness exited 0.
//! The harness is stdlib-only Python; it runs under the venv's interpreter,
//! which is known to exist once the venv does.

mod support;

use std::io::Read;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use support::bin::{SUPERVISORCTL, SUPERVISORD, wait_until};
use support::reference;

/// The quick run takes ≈ 45 s on an idle 2-core machine; past this the
/// harness is stopped (SIGTERM: it stops its own daemons) and the test fails.
const DEADLINE: Duration = Duration::from_secs(180);

/// Scenario titles the quick run must report (one table row or more each).
const SCENARIOS: &[&str] = &[
    "idle, ",
    "startAll/stopAll, ",
    "supervisord -n, ",
    "RPC, ",
    "log capture, 1 x",
    "log capture, 3 x",
    "respawn latency",
    "PROCESS_STATE events",
    "supervisorctl status",
    "getAllProcessInfo during output",
];

#[test]
fn quick_run_measures_every_scenario() {
    let python = reference::python();
    let venv = reference::venv_dir();
    let harness = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("bench")
        .join("sv_bench.py");

    let started = Instant::now();
    let mut child = support::command::new(&python)
        .arg(&harness)
        .arg("--quick")
        .arg("--ours")
        .arg(SUPERVISORD)
        .arg("--ours-ctl")
        .arg(SUPERVISORCTL)
        .arg("--venv")
        .arg(&venv)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));

    // Drain both pipes on threads so the harness never blocks on a full pipe.
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });

    let mut status = None;
    let finished = wait_until(DEADLINE, || {
        status = child.try_wait().expect("wait for the harness");
        status.is_some()
    });
    if !finished {
        // SIGTERM lets the harness stop every daemon it started (atexit).
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        if !wait_until(Duration::from_secs(30), || {
            matches!(child.try_wait(), Ok(Some(_)))
        }) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
    let elapsed = started.elapsed();
    let stdout = out_reader.join().expect("stdout reader");
    let stderr = err_reader.join().expect("stderr reader");
    let report = format!(
        "--- harness stdout ---\n{stdout}\n--- harness stderr ---\n{stderr}\n--- after {:.1} s",
        elapsed.as_secs_f64()
    );
    assert!(
        finished,
        "sv_bench.py --quick still running after {DEADLINE:?}\n{report}"
    );
    let status = status.expect("exit status once finished");
    assert!(
        status.success(),
        "sv_bench.py --quick failed: {status}\n{report}"
    );

    let rows: Vec<&str> = stdout.lines().filter(|l| l.starts_with("| ")).collect();
    for title in SCENARIOS {
        assert!(
            rows.iter()
                .any(|row| row.starts_with(&format!("| {title}"))),
            "no result row for `{title}`\n{report}"
        );
    }
    // Every row has a reference figure: the reference daemon was measured too.
    for row in &rows {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        if cells.get(1) == Some(&"scenario") || cells.get(1) == Some(&"---") {
            continue;
        }
        assert!(
            cells.len() > 4 && cells[4] != "—",
            "row without a Supervisor 4.3.0 figure: {row}\n{report}"
        );
    }
    eprintln!(
        "sv_bench.py --quick passed in {:.1} s",
        elapsed.as_secs_f64()
    );
}
