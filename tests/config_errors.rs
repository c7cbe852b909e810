//! Hostile and broken config files: the loader must refuse them with a
//! located message and exit status 2 (or accept them, where Supervisor does),
//! and never crash, hang or take long.

mod support;

use std::fs;
use std::path::Path;

use support::bin::{self, ECHO_SUPERVISORD_CONF, SUPERVISORD, run, texts};

/// Run `--check-config` on `bytes`; returns (exit code, stderr).
fn check(dir: &Path, name: &str, bytes: &[u8]) -> (i32, String) {
    let conf = dir.join(name);
    fs::write(&conf, bytes).unwrap();
    let out = run(
        SUPERVISORD,
        &["--check-config", "-c", conf.to_str().unwrap()],
        dir,
    );
    let code = out
        .status
        .code()
        .unwrap_or_else(|| panic!("supervisord died by a signal on {name}: {:?}", out.status));
    (code, texts(&out).1)
}

#[test]
fn truncated_sample_configs_never_crash() {
    let dir = bin::tempdir();
    let sample = run(ECHO_SUPERVISORD_CONF, &[], dir.path()).stdout;
    for cut in (0..sample.len()).step_by(89) {
        let (code, stderr) = check(dir.path(), "cut.conf", &sample[..cut]);
        assert!(
            code == 0 || code == 2,
            "cut at {cut}: exit {code}: {stderr}"
        );
        if code == 2 {
            assert!(stderr.starts_with("Error: "), "cut at {cut}: {stderr}");
        }
    }
}

#[test]
fn binary_garbage_is_refused_with_the_file_named() {
    let dir = bin::tempdir();
    // Deterministic pseudo-random bytes, invalid UTF-8 included.
    let mut state: u32 = 0x1234_5678;
    let garbage: Vec<u8> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state >> 24) as u8
        })
        .collect();
    let (code, stderr) = check(dir.path(), "garbage.conf", &garbage);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("could not read config file") && stderr.contains("garbage.conf"),
        "{stderr}"
    );

    let (code, stderr) = check(dir.path(), "nul.conf", b"[supervisord]\n\0\0\0\n");
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("nul.conf:2: "), "{stderr}");
}

#[test]
fn text_before_any_section_is_refused() {
    let dir = bin::tempdir();
    let (code, stderr) = check(dir.path(), "nohdr.conf", b"command=cat\n[supervisord]\n");
    assert_eq!(code, 2);
    assert!(stderr.contains("nohdr.conf:1: "), "{stderr}");
}

#[test]
fn huge_values_are_handled() {
    let dir = bin::tempdir();
    let long_arg = "x".repeat(1 << 20);
    let text = format!("[supervisord]\n[program:big]\ncommand=/bin/echo {long_arg}\n");
    let (code, stderr) = check(dir.path(), "big.conf", text.as_bytes());
    assert_eq!(code, 0, "{stderr}");
    let (code, stderr) = check(
        dir.path(),
        "bignum.conf",
        b"[supervisord]\n[program:n]\ncommand=cat\nstartsecs=999999999999999999999999999\n",
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("bignum.conf:4: [program:n] startsecs: "),
        "{stderr}"
    );
    let (code, stderr) = check(
        dir.path(),
        "manyprocs.conf",
        b"[supervisord]\n[program:n]\ncommand=cat\nprocess_name=%(process_num)d\nnumprocs=1000000000\n",
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("numprocs"), "{stderr}");
}

#[test]
fn unknown_options_and_sections_are_ignored_like_supervisor() {
    let dir = bin::tempdir();
    let (code, stderr) = check(
        dir.path(),
        "unknown.conf",
        b"[supervisord]\nfrobnicate=yes\n[program:a]\ncommand=a\ncolour=blue\n[Program:b]\n[ program:c ]\n[whatever]\nx=1\n",
    );
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn bad_expansions_are_located() {
    let dir = bin::tempdir();
    let (code, stderr) = check(
        dir.path(),
        "expand.conf",
        b"[supervisord]\n[program:a]\ncommand=run %(nope)s\n[program:b]\ncommand=run 100%\n[program:c]\ncommand=run %(here\n",
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("expand.conf:3: [program:a] command: Format string 'run %(nope)s' for 'program:a.command' contains names ('nope')"), "{stderr}");
    assert!(stderr.contains("expand.conf:5: [program:b] command: Format string 'run 100%' for 'program:b.command' is badly formatted"), "{stderr}");
    assert!(
        stderr.contains("expand.conf:7: [program:c] command: "),
        "{stderr}"
    );
}

#[test]
fn includes_missing_dirs_and_cycles() {
    let dir = bin::tempdir();
    fs::write(
        dir.path().join("a.ini"),
        "[program:a]\ncommand=a\n[include]\nfiles=main.conf b.ini\n",
    )
    .unwrap();
    fs::write(dir.path().join("b.ini"), "[program:b]\ncommand=b\n").unwrap();
    // Includes are not recursive (as in Supervisor): a cycle is harmless.
    let (code, stderr) = check(
        dir.path(),
        "main.conf",
        b"[supervisord]\n[include]\nfiles=a.ini nodir/*.conf\n",
    );
    assert_eq!(code, 0, "{stderr}");
    let out = run(
        SUPERVISORD,
        &["--check-config", "-c", "main.conf"],
        dir.path(),
    );
    let (stdout, _) = texts(&out);
    assert!(
        stdout.contains("warning: No file matches via include"),
        "{stdout}"
    );
    assert!(stdout.contains("group a (priority 999): a"), "{stdout}");
    assert!(
        !stdout.contains("group b "),
        "a.ini's own [include] is not followed: {stdout}"
    );
}
