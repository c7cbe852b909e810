//! The dependency rules of docs/architecture.md, checked on the real graph:
//! the pure crates pull in no runtime, HTTP stack or POSIX layer, and the
//! daemon never depends on the client, and the hub never on the daemon.

use std::path::{Path, PathBuf};
use std::process::Command;

fn normal_deps(package: &str) -> String {
    deps(package, "normal")
}

/// `cargo tree` of `package` over the dependency `edges` (`normal`,
/// `normal,dev` …), one crate per line.
fn deps(package: &str, edges: &str) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let out = Command::new(cargo)
        .args([
            "tree",
            "--offline",
            "-e",
            edges,
            "--prefix",
            "none",
            "-p",
            package,
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run cargo tree: {e}"));
    assert!(
        out.status.success(),
        "cargo tree -p {package} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn crate_names(tree: &str) -> Vec<String> {
    tree.lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

#[test]
fn pure_crates_have_no_io_stack() {
    for package in ["sv-ini", "sv-xmlrpc", "sv-api", "sv-core"] {
        let names = crate_names(&normal_deps(package));
        for banned in ["tokio", "hyper", "axum", "nix", "libc"] {
            assert!(
                !names.iter().any(|n| n == banned),
                "{package} depends on {banned}: {names:?}"
            );
        }
    }
}

#[test]
fn daemon_never_depends_on_the_client() {
    let names = crate_names(&normal_deps("sv-daemon"));
    assert!(!names.iter().any(|n| n == "sv-client"), "{names:?}");
}

/// The hub is a client of every node: it reaches daemons only through
/// `sv-client` and their shared vocabulary in `sv-api`, so it can never
/// call into daemon internals (issue 16). Dev-dependencies included: its
/// tests start the daemon binary, they do not link it.
#[test]
fn hub_depends_on_client_and_api_never_on_the_daemon() {
    let names = crate_names(&deps("sv-hub", "normal,dev"));
    for banned in ["sv-daemon", "sv-ctl", "sv-core", "supervisor-rs"] {
        assert!(
            !names.iter().any(|n| n == banned),
            "sv-hub depends on {banned}: {names:?}"
        );
    }
    for needed in ["sv-client", "sv-api"] {
        assert!(
            names.iter().any(|n| n == needed),
            "sv-hub lacks {needed}: {names:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// Source rules (issue 14): checked on the text of the sources, because they
// are about where code lives, not what it does.

/// Every `.rs` file below `dir` (relative to the workspace root).
fn rust_files(dir: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join(dir), &mut out);
    assert!(!out.is_empty(), "no sources under {dir}");
    out.sort();
    out
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The source without its `#[cfg(test)] mod tests { … }` tail, which by this
/// project's layout is always last in a file.
fn without_tests(text: &str) -> &str {
    text.find("#[cfg(test)]\nmod tests")
        .map_or(text, |at| &text[..at])
}

#[test]
fn the_web_page_never_handles_xmlrpc_values() {
    for path in rust_files("crates/sv-daemon/src/web") {
        let text = read(&path);
        // The XML-RPC value type can only be reached through sv_xmlrpc
        // (nothing re-exports it), so naming the crate is the whole rule.
        for banned in ["sv_xmlrpc", "call_for_web"] {
            assert!(
                !without_tests(&text).contains(banned),
                "{} uses {banned}: the page calls the dispatcher's typed methods",
                path.display()
            );
        }
    }
}

/// The value of an integer constant declared on `line`
/// (`const NAME: i32 = 70;`, any integer type, any spacing), if it is one.
fn integer_constant(line: &str) -> Option<(String, i64)> {
    let rest = line
        .trim_start()
        .strip_prefix("pub ")
        .unwrap_or(line.trim_start());
    let rest = rest.strip_prefix("const ")?;
    let (name, rest) = rest.split_once(':')?;
    let (_, value) = rest.split_once('=')?;
    let value = value.trim().trim_end_matches(';').trim();
    Some((name.trim().to_string(), value.parse().ok()?))
}

#[test]
fn supervisorctl_defines_no_fault_or_state_codes() {
    // An integer constant holding a fault code or a process state's code is
    // a second copy of sv_api's vocabulary, whatever it is called. Codes
    // below 10 are left out: they are also the ctl's own exit statuses
    // (LSB's 1–7), which are not wire codes.
    let mut wire: Vec<i64> = (10..=200)
        .filter(|code| sv_api::name_for_code(*code as i32) != "UNKNOWN")
        .collect();
    wire.extend([10, 20, 30, 40, 100, 200, 1000]);
    for path in rust_files("crates/sv-ctl/src") {
        for line in read(&path).lines() {
            if let Some((name, value)) = integer_constant(line) {
                assert!(
                    !wire.contains(&value),
                    "{} defines {name} = {value}, a wire code: use sv_api's",
                    path.display()
                );
            }
        }
    }
}

/// Files allowed past the size rule: data tables and test-only files.
const LONG_FILES_ALLOWED: &[&str] = &[
    // CPython's repr()/ascii() tables and %-format, ported case by case.
    "crates/sv-core/src/pyfmt.rs",
];

#[test]
fn no_source_file_grows_past_one_concern() {
    for crate_dir in ["crates", "src"] {
        for path in rust_files(crate_dir) {
            let rel = path
                .strip_prefix(env!("CARGO_MANIFEST_DIR"))
                .unwrap_or(&path)
                .to_string_lossy()
                .into_owned();
            let test_file =
                rel.ends_with("/tests.rs") || rel.contains("/tests/") || rel.contains("/benches/");
            if test_file || LONG_FILES_ALLOWED.contains(&rel.as_str()) {
                continue;
            }
            let lines = without_tests(&read(&path)).lines().count();
            assert!(
                lines <= 750,
                "{rel} has {lines} lines outside its tests: split it by responsibility"
            );
        }
    }
}

/// Every process a test starts goes through `tests/support/command.rs`,
/// which gives it default signal dispositions (`cargo test &` from a
/// background shell otherwise hands on an ignored SIGINT). This file is the
/// one exception: it only runs `cargo tree` and has no support module.
#[test]
fn tests_start_processes_only_through_the_support_command() {
    let bare = concat!("Command", "::new(");
    let mut offenders = Vec::new();
    for dir in ["tests", "crates/sv-hub/tests"] {
        for path in rust_files(dir) {
            let name = path.to_string_lossy();
            if name.ends_with("tests/support/command.rs") || name.ends_with("tests/architecture.rs")
            {
                continue;
            }
            let text = read(&path);
            for (n, line) in text.lines().enumerate() {
                if line.contains(bare) {
                    offenders.push(format!("{name}:{}: {}", n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "use support::command::new instead:\n{}",
        offenders.join("\n")
    );
}
