//! The dependency rules of docs/architecture.md, checked on the real graph:
//! the pure crates pull in no runtime, HTTP stack or POSIX layer, and the
//! daemon never depends on the client.

use std::process::Command;

fn normal_deps(package: &str) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let out = Command::new(cargo)
        .args([
            "tree",
            "--offline",
            "-e",
            "normal",
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
