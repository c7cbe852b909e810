//! Config compatibility with the reference Supervisor 4.3.0.
//!
//! For every top-level `tests/corpus/*.conf` (sorted) this runs
//!
//! * the reference: `<venv python> tests/oracle/dump_config.py -c <file>`,
//! * ours: `supervisord --dump-config -c <file>` and
//!   `supervisord --check-config -c <file>`,
//!
//! all with the same controlled environment and the corpus directory as the
//! working directory, and checks that
//!
//! * the exit statuses agree (`--dump-config`: the same status, 0 or 2;
//!   `--check-config`: success vs failure),
//! * for accepted files both print the same JSON document (compared as
//!   `serde_json::Value`; environment key order is compared too),
//! * the file name prefix (`accept_` / `reject_`) matches the reference's
//!   verdict, so the corpus documents itself.
//!
//! Every disagreement is collected and reported at the end, one block per
//! file. Error messages are printed for rejected files but not compared.
//!
//! `SV_CORPUS_FILTER=<substring>` restricts the run to matching file names.

mod support;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::reference;

const SUPERVISORD: &str = env!("CARGO_BIN_EXE_supervisord");
/// The corpus must not silently shrink.
const MIN_CORPUS_FILES: usize = 30;
/// Parallel workers (the reference is a Python start-up per file).
const WORKERS: usize = 2;
/// Upper bound for one command; a hang is reported as a failure.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// Diff lines shown per file before eliding the rest.
const MAX_DIFF_LINES: usize = 60;

/// The only environment both implementations see.
const CONTROLLED_ENV: &[(&str, &str)] = &[
    ("HOME", "/root"),
    ("TMPDIR", "/tmp"),
    ("SV_TEST_VAR", "hello"),
    ("SV_TEST_PCT", "50%"),
    ("LANG", "C.UTF-8"),
];

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("corpus")
}

/// All top-level `*.conf` files of the corpus, sorted by name.
fn all_corpus_files() -> Vec<PathBuf> {
    let dir = corpus_dir();
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("cannot read corpus directory {}: {err}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("corpus directory entry").path())
        .filter(|path| path.is_file() && path.extension().is_some_and(|ext| ext == "conf"))
        .collect();
    files.sort();
    files
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

fn controlled_command(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = support::command::new(program);
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    cmd.env_clear().env("PATH", path);
    for (key, value) in CONTROLLED_ENV {
        cmd.env(key, value);
    }
    cmd.current_dir(corpus_dir());
    cmd
}

/// Result of one command run.
struct Run {
    /// Exit code; `None` if killed by a signal, timed out or not started.
    code: Option<i32>,
    stdout: String,
    stderr: String,
    /// Set when the command could not be run to completion.
    trouble: Option<String>,
}

impl Run {
    fn ok(&self) -> bool {
        self.code == Some(0)
    }

    fn status(&self) -> String {
        match (&self.trouble, self.code) {
            (Some(trouble), _) => trouble.clone(),
            (None, Some(code)) => format!("exit {code}"),
            (None, None) => "killed by a signal".to_string(),
        }
    }
}

fn read_pipe_in_thread(mut pipe: impl Read + Send + 'static) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        let _ = tx.send(buf);
    });
    rx
}

fn collect_pipe(rx: &mpsc::Receiver<Vec<u8>>) -> String {
    // A grandchild still holding the pipe must not hang the test.
    match rx.recv_timeout(Duration::from_secs(5)) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(_) => "<output pipe still open after the process exited>".to_string(),
    }
}

fn run(mut cmd: Command) -> Run {
    let shown = format!("{cmd:?}");
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(err) => {
            return Run {
                code: None,
                stdout: String::new(),
                stderr: String::new(),
                trouble: Some(format!("could not start {shown}: {err}")),
            };
        }
    };
    let stdout_rx = read_pipe_in_thread(child.stdout.take().expect("piped stdout"));
    let stderr_rx = read_pipe_in_thread(child.stderr.take().expect("piped stderr"));
    let deadline = Instant::now() + COMMAND_TIMEOUT;
    let mut trouble = None;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                trouble = Some(format!(
                    "timed out after {}s (killed)",
                    COMMAND_TIMEOUT.as_secs()
                ));
                break child.wait().ok();
            }
            Ok(None) => thread::sleep(Duration::from_millis(10)),
            Err(err) => {
                let _ = child.kill();
                trouble = Some(format!("waiting for {shown} failed: {err}"));
                break None;
            }
        }
    };
    Run {
        code: if trouble.is_some() {
            None
        } else {
            status.and_then(|s| s.code())
        },
        stdout: collect_pipe(&stdout_rx),
        stderr: collect_pipe(&stderr_rx),
        trouble,
    }
}

/// Everything observed for one corpus file.
struct Outcome {
    name: String,
    reference: Run,
    dump: Run,
    check: Run,
}

fn evaluate(path: &Path, python: &Path, script: &Path) -> Outcome {
    let mut reference_cmd = controlled_command(python);
    reference_cmd.arg(script).arg("-c").arg(path);
    let mut dump_cmd = controlled_command(SUPERVISORD);
    dump_cmd.arg("--dump-config").arg("-c").arg(path);
    let mut check_cmd = controlled_command(SUPERVISORD);
    check_cmd.arg("--check-config").arg("-c").arg(path);
    Outcome {
        name: file_name(path),
        reference: run(reference_cmd),
        dump: run(dump_cmd),
        check: run(check_cmd),
    }
}

/// Runs every corpus file once per test binary (shared by both tests).
fn outcomes() -> &'static [Outcome] {
    static OUTCOMES: OnceLock<Vec<Outcome>> = OnceLock::new();
    OUTCOMES.get_or_init(|| {
        let all = all_corpus_files();
        assert!(
            all.len() >= MIN_CORPUS_FILES,
            "the corpus in {} has only {} *.conf files; at least {MIN_CORPUS_FILES} are expected",
            corpus_dir().display(),
            all.len()
        );
        let files: Vec<PathBuf> = match std::env::var("SV_CORPUS_FILTER") {
            Ok(filter) if !filter.is_empty() => all
                .into_iter()
                .filter(|path| file_name(path).contains(&filter))
                .collect(),
            _ => all,
        };
        // Set up the venv on this thread so a failure panics with its own message.
        let python = reference::python();
        let script = reference::dump_config_script();
        assert!(
            script.is_file(),
            "missing oracle script {}",
            script.display()
        );

        let next = AtomicUsize::new(0);
        let slots: Vec<Mutex<Option<Outcome>>> = files.iter().map(|_| Mutex::new(None)).collect();
        thread::scope(|scope| {
            for _ in 0..WORKERS.min(files.len()) {
                scope.spawn(|| {
                    loop {
                        let index = next.fetch_add(1, Ordering::SeqCst);
                        let Some(path) = files.get(index) else { break };
                        let outcome = evaluate(path, &python, &script);
                        *slots[index].lock().unwrap() = Some(outcome);
                    }
                });
            }
        });
        slots
            .into_iter()
            .map(|slot| {
                slot.into_inner()
                    .unwrap()
                    .expect("every corpus file was evaluated")
            })
            .collect()
    })
}

/// Corpus files (`differ_*`) where we deliberately part from Supervisor 4.3.0:
/// (file name, the reference accepts it, we accept it, why).
const DELIBERATE_DIFFERENCES: &[(&str, bool, bool, &str)] = &[(
    "differ_percent_in_logfile.conf",
    false,
    true,
    "log file names are expanded once: `%%` works (Supervisor expands them twice)",
)];

fn deliberate_difference(name: &str) -> Option<&'static (&'static str, bool, bool, &'static str)> {
    DELIBERATE_DIFFERENCES.iter().find(|d| d.0 == name)
}

/// `Some(true)` for `accept_*`, `Some(false)` for `reject_*`; for `differ_*`
/// the reference's verdict from [`DELIBERATE_DIFFERENCES`].
fn expected_verdict(name: &str) -> Option<bool> {
    if name.starts_with("accept_") {
        Some(true)
    } else if name.starts_with("reject_") {
        Some(false)
    } else if name.starts_with("differ_") {
        deliberate_difference(name).map(|d| d.1)
    } else {
        None
    }
}

/// Whether we must accept the file: the reference's verdict, unless the file
/// is a deliberate difference.
fn our_expected_verdict(outcome: &Outcome) -> bool {
    deliberate_difference(&outcome.name).map_or(outcome.reference.ok(), |d| d.2)
}

/// Problems with the corpus entry itself or with the oracle run.
fn reference_problems(outcome: &Outcome) -> Vec<String> {
    let mut problems = Vec::new();
    let reference = &outcome.reference;
    if !matches!(reference.code, Some(0) | Some(2)) {
        problems.push(format!(
            "the reference oracle did not finish normally ({}); this is a bug in \
             tests/oracle/dump_config.py or the venv, not in supervisord",
            reference.status()
        ));
        return problems;
    }
    match expected_verdict(&outcome.name) {
        Some(true) if !reference.ok() => problems.push(
            "named accept_ but the reference REJECTS it: fix or rename the corpus file".to_string(),
        ),
        Some(false) if reference.ok() => problems.push(
            "named reject_ but the reference ACCEPTS it: fix or rename the corpus file".to_string(),
        ),
        None => problems.push(
            "corpus file names must start with accept_ or reject_ (or differ_ with an entry in DELIBERATE_DIFFERENCES)"
                .to_string(),
        ),
        _ => {}
    }
    problems
}

fn indent(text: &str) -> String {
    let text = text.trim_end();
    if text.is_empty() {
        return "    <empty>".to_string();
    }
    text.lines()
        .map(|line| format!("    {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn first_line(text: &str) -> &str {
    text.lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("<empty>")
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 200 {
        let cut: String = text.chars().take(200).collect();
        format!("{cut}…")
    } else {
        text
    }
}

/// Names of the elements when every element is an object with a string `name`.
fn element_names(items: &[Value]) -> Option<Vec<&str>> {
    items
        .iter()
        .map(|item| item.get("name").and_then(Value::as_str))
        .collect()
}

/// Field-by-field differences between the reference document and ours.
fn diff_json(path: &str, reference: &Value, ours: &Value, out: &mut Vec<String>) {
    match (reference, ours) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, va) in a {
                let child = format!("{path}.{key}");
                match b.get(key) {
                    Some(vb) => diff_json(&child, va, vb, out),
                    None => out.push(format!(
                        "{child}: missing in ours (reference: {})",
                        short(va)
                    )),
                }
            }
            for (key, vb) in b {
                if !a.contains_key(key) {
                    out.push(format!(
                        "{path}.{key}: not in the reference (ours: {})",
                        short(vb)
                    ));
                }
            }
            // Environment dicts keep insertion order (it becomes the child's
            // environment order); Value equality ignores key order.
            if path.ends_with(".environment")
                && a.len() == b.len()
                && a.keys().all(|k| b.contains_key(k))
            {
                let order_a: Vec<&String> = a.keys().collect();
                let order_b: Vec<&String> = b.keys().collect();
                if order_a != order_b {
                    out.push(format!(
                        "{path}: key order differs: reference {order_a:?} vs ours {order_b:?}"
                    ));
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            let names_a = element_names(a);
            let names_b = element_names(b);
            if let (Some(na), Some(nb)) = (&names_a, &names_b) {
                if na != nb {
                    out.push(format!(
                        "{path}: names differ: reference {na:?} vs ours {nb:?}"
                    ));
                }
            } else if a.len() != b.len() {
                out.push(format!(
                    "{path}: {} elements in the reference vs {} in ours",
                    a.len(),
                    b.len()
                ));
            }
            for (index, (va, vb)) in a.iter().zip(b.iter()).enumerate() {
                let label = match va.get("name").and_then(Value::as_str) {
                    Some(name) => format!("{path}[{index}]({name})"),
                    None => format!("{path}[{index}]"),
                };
                diff_json(&label, va, vb, out);
            }
            for (index, va) in a.iter().enumerate().skip(b.len()) {
                out.push(format!(
                    "{path}[{index}]: missing in ours (reference: {})",
                    short(va)
                ));
            }
            for (index, vb) in b.iter().enumerate().skip(a.len()) {
                out.push(format!(
                    "{path}[{index}]: not in the reference (ours: {})",
                    short(vb)
                ));
            }
        }
        _ => {
            if reference != ours {
                out.push(format!(
                    "{path}: reference {} vs ours {}",
                    short(reference),
                    short(ours)
                ));
            }
        }
    }
}

fn parse_document(run: &Run, who: &str) -> Result<Value, String> {
    serde_json::from_str(&run.stdout).map_err(|err| {
        format!(
            "{who} printed no valid JSON on stdout ({err}); stdout was:\n{}",
            indent(&run.stdout)
        )
    })
}

fn failure_block(outcome: &Outcome, ours: &Run, problems: &[String]) -> String {
    let mut block = format!("==== {} ====\n", outcome.name);
    for problem in problems {
        block.push_str(&format!("  * {}\n", problem.replace('\n', "\n    ")));
    }
    block.push_str(&format!(
        "  reference ({}) stderr:\n{}\n",
        outcome.reference.status(),
        indent(&outcome.reference.stderr)
    ));
    block.push_str(&format!(
        "  ours ({}) stderr:\n{}\n",
        ours.status(),
        indent(&ours.stderr)
    ));
    block
}

fn finish(test: &str, outcomes: &[Outcome], failures: Vec<(String, String)>) {
    if failures.is_empty() {
        println!(
            "{test}: all {} corpus files agree with the reference",
            outcomes.len()
        );
        return;
    }
    panic!(
        "\n{test}: {} of {} corpus files disagree with the reference Supervisor {}:\n\n{}\n\
         Files that disagree:\n{}\n",
        failures.len(),
        outcomes.len(),
        reference::SUPERVISOR_VERSION,
        failures
            .iter()
            .map(|(_, block)| block.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        failures
            .iter()
            .map(|(name, _)| format!("  {name}"))
            .collect::<Vec<_>>()
            .join("\n"),
    );
}

#[test]
fn corpus_is_large_enough() {
    let files = all_corpus_files();
    assert!(
        files.len() >= MIN_CORPUS_FILES,
        "only {} corpus files in {}; at least {MIN_CORPUS_FILES} are expected",
        files.len(),
        corpus_dir().display()
    );
    let unnamed: Vec<String> = files
        .iter()
        .map(|path| file_name(path))
        .filter(|name| expected_verdict(name).is_none())
        .collect();
    assert!(
        unnamed.is_empty(),
        "corpus files must be named accept_*.conf or reject_*.conf: {unnamed:?}"
    );
}

#[test]
fn dump_config_matches_reference() {
    let outcomes = outcomes();
    let mut failures = Vec::new();
    for outcome in outcomes {
        let ours = &outcome.dump;
        let mut problems = reference_problems(outcome);
        if deliberate_difference(&outcome.name).is_some() {
            if ours.trouble.is_some() || ours.ok() != our_expected_verdict(outcome) {
                problems.push(format!(
                    "deliberate difference not kept: ours {}",
                    ours.status()
                ));
            }
        } else if outcome.reference.code != ours.code || ours.trouble.is_some() {
            problems.push(format!(
                "exit status differs: reference {} vs ours {}",
                outcome.reference.status(),
                ours.status()
            ));
        } else if outcome.reference.ok() {
            match (
                parse_document(&outcome.reference, "the reference"),
                parse_document(ours, "ours"),
            ) {
                (Ok(expected), Ok(actual)) => {
                    let mut diffs = Vec::new();
                    diff_json("$", &expected, &actual, &mut diffs);
                    if !diffs.is_empty() {
                        let total = diffs.len();
                        diffs.truncate(MAX_DIFF_LINES);
                        if total > MAX_DIFF_LINES {
                            diffs.push(format!(
                                "... and {} more differences",
                                total - MAX_DIFF_LINES
                            ));
                        }
                        problems.push(format!(
                            "configuration differs (reference vs ours):\n{}",
                            diffs.join("\n")
                        ));
                    }
                }
                (Err(err), _) | (_, Err(err)) => problems.push(err),
            }
        } else {
            if !ours.stderr.contains("Error:") {
                problems.push(
                    "ours rejected the file without an `Error: <message>` line on stderr"
                        .to_string(),
                );
            }
            // Messages are not compared; show them side by side for review
            // (visible with --nocapture).
            println!(
                "{}\n  reference: {}\n  ours:      {}",
                outcome.name,
                first_line(&outcome.reference.stderr),
                first_line(&ours.stderr),
            );
        }
        if !problems.is_empty() {
            failures.push((
                outcome.name.clone(),
                failure_block(outcome, ours, &problems),
            ));
        }
    }
    finish("supervisord --dump-config", outcomes, failures);
}

#[test]
fn check_config_matches_reference_verdict() {
    let outcomes = outcomes();
    let mut failures = Vec::new();
    for outcome in outcomes {
        let ours = &outcome.check;
        let mut problems = reference_problems(outcome);
        if ours.trouble.is_some() || our_expected_verdict(outcome) != ours.ok() {
            problems.push(format!(
                "verdict differs: reference {} ({}) vs ours {} ({})",
                if outcome.reference.ok() {
                    "accepts"
                } else {
                    "rejects"
                },
                outcome.reference.status(),
                if ours.ok() { "accepts" } else { "rejects" },
                ours.status()
            ));
        }
        if !problems.is_empty() {
            failures.push((
                outcome.name.clone(),
                failure_block(outcome, ours, &problems),
            ));
        }
    }
    finish("supervisord --check-config", outcomes, failures);
}
