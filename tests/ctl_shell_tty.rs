//! Our `supervisorctl` shell on a real pseudo-terminal (driven by
//! `tests/compat/tty_drive.py`): tab completion of commands and process
//! names, `tail -f` interrupted by Ctrl-C back to the prompt, `fg`, the
//! history file, and a clean exit.

mod support;

use std::time::Duration;

use serde_json::json;
use support::pair::{Daemon, Impl, Options};

const BODY: &str = r#"
[program:ticker]
command=sh -c 'while :; do echo tick; sleep 0.2; done'
startsecs=0

[program:other]
command=sleep 1000
startsecs=0

[program:echo]
command=sh -c 'while read line; do echo "got $line"; done'
startsecs=0
"#;

#[test]
fn shell_completes_interrupts_and_keeps_history() {
    let daemon = Daemon::start(Impl::Ours, BODY, Options::default());
    let ok = daemon
        .wait_states(
            &[
                ("ticker", "RUNNING"),
                ("other", "RUNNING"),
                ("echo", "RUNNING"),
            ],
            Duration::from_secs(20),
        )
        .is_ok();
    assert!(ok, "programs did not start\n{}", daemon.diagnostics());
    let history = daemon.path("history");
    let steps = json!([
        ["stat\t", "status "],
        ["tic\t", "ticker "],
        ["\n", "supervisor> "],
        ["tail -f ticker\n", "<=="],
        ["", "\r\ntick"],
        ["\u{3}", "supervisor> "],
        ["version\n", "supervisor> "],
        ["fg echo\n", "<=="],
        ["hello\n", "got hello"],
        ["\u{3}", "supervisor> "],
        ["quit\n", null],
    ]);
    let out = support::command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/compat/tty_drive.py"
        ))
        .arg(steps.to_string())
        .arg(support::bin::SUPERVISORCTL)
        .arg("-c")
        .arg(daemon.path("supervisord.conf"))
        .arg("-r")
        .arg(&history)
        .output()
        .expect("run python3 tests/compat/tty_drive.py");
    let text = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "driver failed: {stderr}\n{text}");
    let expect = |what: &str, ok: bool| {
        assert!(
            ok,
            "{what}\n--- terminal ---\n{text}\n--- stderr ---\n{stderr}"
        );
    };
    expect(
        "`stat<TAB>tic<TAB>` completes to `status ticker` and runs it",
        text.contains("status ticker") && text.contains("ticker                           RUNNING"),
    );
    expect(
        "tail -f streams, and Ctrl-C returns to the prompt",
        text.contains("==> Press Ctrl-C to exit <==") && text.contains("tick\n"),
    );
    expect("the command after Ctrl-C runs", text.contains("4.3.0\n"));
    expect(
        "fg forwards typed lines to the program and shows its output",
        text.contains("got hello\n"),
    );
    expect("quit exits 0", text.trim_end().ends_with("exit 0"));
    let saved = std::fs::read_to_string(&history).unwrap_or_default();
    expect(
        "the history file keeps the commands",
        saved.contains("status ticker") && saved.contains("tail -f ticker"),
    );
}

/// `supervisorctl completion bash` is valid bash; a closed pipe
/// (`… | head -1`) ends it quietly with status 0; unknown shells exit 2.
#[test]
fn completion_scripts_and_closed_pipes() {
    let script = support::command::new(support::bin::SUPERVISORCTL)
        .args(["completion", "bash"])
        .output()
        .expect("run supervisorctl completion bash");
    assert!(script.status.success());
    let dir = support::bin::tempdir();
    let path = dir.path().join("supervisorctl.bash");
    std::fs::write(&path, &script.stdout).unwrap();
    let check = support::command::new("bash")
        .arg("-n")
        .arg(&path)
        .output()
        .expect("bash -n");
    assert!(
        check.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    let unknown = support::command::new(support::bin::SUPERVISORCTL)
        .args(["completion", "tcsh"])
        .output()
        .expect("run supervisorctl completion tcsh");
    assert_eq!(unknown.status.code(), Some(2));
    // The reader goes away after one line: no error, status 0.
    let piped = support::command::new("bash")
        .arg("-c")
        .arg(format!(
            "set -o pipefail; {} completion fish | head -c 10 >/dev/null",
            support::bin::SUPERVISORCTL
        ))
        .output()
        .expect("bash -c pipeline");
    assert!(
        piped.status.success() && piped.stderr.is_empty(),
        "{:?} {}",
        piped.status,
        String::from_utf8_lossy(&piped.stderr)
    );
}
