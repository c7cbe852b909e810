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
//!
//! The scale scenario (`sv_bench.py scale`, issue 19) gets its own smoke at
//! 20 programs: every figure measured on both daemons, the fork+exec
//! baseline, the live web rows for ours, and the JSON the plots read.

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
/// The scale smoke (20 programs, both daemons) takes ≈ 15 s; Supervisor's
/// shutdown alone is ≈ 10 s there (one group stopped per 1 s tick).
const SCALE_DEADLINE: Duration = Duration::from_secs(240);

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

/// Runs `bench/sv_bench.py ARGS` under the venv's Python against this
/// build and Supervisor 4.3.0; returns its stdout and a report for failure
/// messages. Fails unless the harness exits 0 within `deadline`.
fn run_harness(args: &[&str], deadline: Duration) -> (String, String) {
    let python = reference::python();
    let venv = reference::venv_dir();
    let harness = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("bench")
        .join("sv_bench.py");

    let started = Instant::now();
    let mut child = support::command::new(&python)
        .arg(&harness)
        .args(args)
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
    let finished = wait_until(deadline, || {
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
        "sv_bench.py {args:?} still running after {deadline:?}\n{report}"
    );
    let status = status.expect("exit status once finished");
    assert!(
        status.success(),
        "sv_bench.py {args:?} failed: {status}\n{report}"
    );
    eprintln!(
        "sv_bench.py {args:?} passed in {:.1} s",
        elapsed.as_secs_f64()
    );
    (stdout, report)
}

/// The table rows of the harness's output (lines starting with `| `),
/// without the header and separator.
fn result_rows(stdout: &str) -> Vec<Vec<String>> {
    stdout
        .lines()
        .filter(|l| l.starts_with("| "))
        .map(|l| {
            l.split('|')
                .map(|c| c.trim().to_owned())
                .collect::<Vec<_>>()
        })
        .filter(|cells| {
            !matches!(
                cells.get(1).map(String::as_str),
                Some("scenario" | "metric" | "---")
            )
        })
        .collect()
}

#[test]
fn quick_run_measures_every_scenario() {
    let (stdout, report) = run_harness(&["--quick"], DEADLINE);
    let rows = result_rows(&stdout);
    for title in SCENARIOS {
        assert!(
            rows.iter().any(|row| row[1].starts_with(title)),
            "no result row for `{title}`\n{report}"
        );
    }
    // Every row has a reference figure: the reference daemon was measured too.
    for row in &rows {
        assert!(
            row.len() > 4 && row[4] != "—",
            "row without a Supervisor 4.3.0 figure: {row:?}\n{report}"
        );
    }
}

/// Figures of the scale scenario (`sv_bench.py scale`) that both daemons
/// must have at N = 20 (the web page's live rows are ours alone).
const SCALE_METRICS: &[&str] = &[
    "config load",
    "launch -> RPC answered",
    "launch -> all RUNNING",
    "startAllProcesses",
    "stopAllProcesses",
    "SIGTERM -> exit, children gone",
    "idle RSS, all RUNNING",
    "RSS, all configured",
    "getAllProcessInfo daemon CPU per call",
    "our `supervisorctl status`",
    "Supervisor's `supervisorctl status`",
    "web page GET /",
];

#[test]
fn scale_scenario_measures_both_daemons_and_the_baseline() {
    let dir = support::bin::tempdir();
    let json = dir.path().join("scale.json");
    let json_arg = json.to_str().expect("utf-8 temp path");
    let (stdout, report) = run_harness(
        &[
            "scale", "--sizes", "20", "--idle", "0.5", "--cap", "60", "--json", json_arg,
        ],
        SCALE_DEADLINE,
    );
    // Columns: metric, ours 20, Supervisor 20, fork+exec 20.
    let rows = result_rows(&stdout);
    for metric in SCALE_METRICS {
        let row = rows
            .iter()
            .find(|row| row[1].starts_with(metric))
            .unwrap_or_else(|| panic!("no scale row for `{metric}`\n{report}"));
        assert!(
            row[2] != "—" && row[3] != "—",
            "scale row without both daemons' figures: {row:?}\n{report}"
        );
    }
    for metric in ["startAllProcesses", "stopAllProcesses"] {
        let row = rows.iter().find(|row| row[1].starts_with(metric));
        assert!(
            row.is_some_and(|row| row[4] != "—"),
            "no fork+exec baseline for {metric}\n{report}"
        );
    }
    assert!(
        rows.iter()
            .any(|row| row[1].starts_with("web page: rows updated live") && row[2] != "—"),
        "no live-update figure for ours\n{report}"
    );
    // The JSON the plots are drawn from.
    let text = std::fs::read_to_string(&json).expect("the --json file");
    let value: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    for impl_ in ["ours", "reference", "baseline"] {
        assert!(
            value["results"][impl_]["20"].is_array(),
            "no {impl_} samples at 20 in the JSON\n{report}"
        );
    }
}
