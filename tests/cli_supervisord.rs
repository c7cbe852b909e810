//! The `supervisord`, `echo_supervisord_conf` and `pidproxy` command lines:
//! flags, help, version, usage errors and exit statuses, as Supervisor 4.3.0
//! has them.

mod support;

use std::fs;
use std::process::Stdio;
use std::time::Duration;

use support::bin::{self, ECHO_SUPERVISORD_CONF, PIDPROXY, SUPERVISORD, run, texts};

const MINIMAL: &str = "[supervisord]\n[program:cat]\ncommand=/bin/cat\n";

fn usage_error(args: &[&str]) -> String {
    let dir = bin::tempdir();
    let out = run(SUPERVISORD, args, dir.path());
    let (stdout, stderr) = texts(&out);
    assert_eq!(
        out.status.code(),
        Some(2),
        "args {args:?}: {stdout}{stderr}"
    );
    assert!(stdout.is_empty(), "usage errors go to stderr: {stdout}");
    let mut lines = stderr.lines();
    let first = lines.next().unwrap_or_default().to_string();
    assert!(first.starts_with("Error: "), "{stderr}");
    assert_eq!(
        lines.next(),
        Some(format!("For help, use {SUPERVISORD} -h").as_str())
    );
    first["Error: ".len()..].to_string()
}

#[test]
fn help_and_version() {
    let dir = bin::tempdir();
    for flag in ["-h", "--help", "-?", "--he"] {
        let out = run(SUPERVISORD, &[flag], dir.path());
        let (stdout, _) = texts(&out);
        assert_eq!(out.status.code(), Some(0), "{flag}");
        assert!(
            stdout.starts_with("supervisord -- run a set of applications as daemons."),
            "{flag}: {stdout}"
        );
        assert!(stdout.contains(&format!("Usage: {SUPERVISORD} [options]")));
        for option in [
            "-c/--configuration",
            "--minprocs",
            "-t/--strip_ansi",
            "--check-config",
        ] {
            assert!(stdout.contains(option), "help lacks {option}");
        }
    }
    let out = run(SUPERVISORD, &["-v"], dir.path());
    assert_eq!(texts(&out).0, "4.3.0\n");
}

#[test]
fn usage_errors_read_like_supervisors() {
    assert_eq!(usage_error(&["--bogus"]), "option --bogus not recognized");
    assert!(usage_error(&["-c"]).contains("requires argument"));
    assert_eq!(
        usage_error(&["-e", "bogus"]),
        "invalid value for -e 'bogus': bad logging level name 'bogus'"
    );
    assert_eq!(
        usage_error(&["-m", "999"]),
        "invalid value for -m '999': 999 can not be converted to an octal type"
    );
    assert_eq!(
        usage_error(&["x", "y"]),
        "positional arguments are not supported: ['x', 'y']"
    );
    assert!(usage_error(&["-n", "-n"]).starts_with("conflicting command line option"));
    assert_eq!(
        usage_error(&["-c", "/nonexistent/sv.conf"]),
        "could not find config file /nonexistent/sv.conf"
    );
}

#[test]
fn command_line_overrides_the_file_and_long_options_abbreviate() {
    let dir = bin::tempdir();
    let conf = dir.path().join("sv.conf");
    fs::write(
        &conf,
        "[supervisord]\nloglevel=error\nidentifier=fromfile\nminfds=10\n",
    )
    .unwrap();
    let conf = conf.to_str().unwrap();
    let out = run(
        SUPERVISORD,
        &[
            "--dump-config",
            "-c",
            conf,
            "--nod",
            "-e",
            "debug",
            "--ident=cli",
            "--minp",
            "7",
            "-a",
            "99",
        ],
        dir.path(),
    );
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let s = &json["supervisord"];
    assert_eq!(s["nodaemon"], true);
    assert_eq!(s["loglevel"], "debug");
    assert_eq!(s["identifier"], "cli");
    assert_eq!(s["minprocs"], 7);
    assert_eq!(s["minfds"], 99);
}

#[test]
fn config_is_found_in_the_working_directory() {
    let dir = bin::tempdir();
    fs::write(dir.path().join("supervisord.conf"), MINIMAL).unwrap();
    let out = run(SUPERVISORD, &["--check-config"], dir.path());
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stdout.starts_with("supervisord.conf: configuration is valid"),
        "{stdout}"
    );
    assert!(stdout.contains("group cat (priority 999): cat"), "{stdout}");
}

#[test]
fn check_config_reports_every_error_with_its_place() {
    let dir = bin::tempdir();
    let conf = dir.path().join("bad.conf");
    fs::write(
        &conf,
        "[supervisord]\n[program:a]\ncommand=a\nautostart=sometimes\nstopsignal=TERMINATE\n[program:b]\nexitcodes=0,300\n",
    )
    .unwrap();
    let out = run(
        SUPERVISORD,
        &["--check-config", "-c", conf.to_str().unwrap()],
        dir.path(),
    );
    let (_, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(2));
    let path = conf.display();
    for want in [
        format!("Error: {path}:4: [program:a] autostart: not a valid boolean value: 'sometimes'"),
        format!(
            "Error: {path}:5: [program:a] stopsignal: value 'TERMINATE' is not a valid signal name"
        ),
        format!("Error: {path}:7: [program:b] exitcodes: not a valid list of exit codes: '0,300'"),
        format!(
            "Error: {path}:6: [program:b]: program section program:b does not specify a command"
        ),
    ] {
        assert!(stderr.contains(&want), "missing {want:?} in\n{stderr}");
    }
}

#[test]
fn echo_supervisord_conf_prints_a_config_that_loads() {
    let dir = bin::tempdir();
    let out = run(ECHO_SUPERVISORD_CONF, &[], dir.path());
    assert_eq!(out.status.code(), Some(0));
    let conf = dir.path().join("sample.conf");
    fs::write(&conf, &out.stdout).unwrap();
    for section in [
        "[unix_http_server]",
        "[supervisord]",
        "[rpcinterface:supervisor]",
        "[supervisorctl]",
        ";[program:theprogramname]",
        ";[eventlistener:",
        ";[group:",
        ";[fcgi-program:",
        ";[include]",
    ] {
        assert!(
            String::from_utf8_lossy(&out.stdout).contains(section),
            "sample lacks {section}"
        );
    }
    let check = run(
        SUPERVISORD,
        &["--check-config", "-c", conf.to_str().unwrap()],
        dir.path(),
    );
    assert_eq!(check.status.code(), Some(0), "{}", texts(&check).1);
}

#[test]
fn example_config_of_the_readme_is_valid() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = run(
        SUPERVISORD,
        &["--check-config", "-c", "examples/supervisord.conf"],
        root,
    );
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("http://127.0.0.1:9001"), "{stdout}");
    assert!(
        stdout.contains("worker_00, worker_01, worker_02"),
        "{stdout}"
    );
}

#[test]
fn pidproxy_usage_and_child_exit() {
    let dir = bin::tempdir();
    let out = run(PIDPROXY, &[], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(texts(&out).0.contains("Usage: "));
    let out = run(
        PIDPROXY,
        &["/nonexistent.pid", "/bin/echo", "hello"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        texts(&out).0,
        "hello\n",
        "the command's output passes through untouched"
    );
}

#[test]
fn pidproxy_forwards_term_to_the_pid_in_the_pidfile() {
    let dir = bin::tempdir();
    let pidfile = dir.path().join("daemon.pid");
    let script = format!("sleep 300 & echo $! > {}; wait", pidfile.display());
    let mut proxy = support::command::new(PIDPROXY)
        .args([pidfile.to_str().unwrap(), "/bin/sh", "-c", &script])
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    assert!(bin::wait_until(Duration::from_secs(10), || {
        fs::read_to_string(&pidfile).is_ok_and(|s| s.ends_with('\n'))
    }));
    let daemon_pid: i32 = fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let status = support::command::new("kill")
        .args(["-TERM", &proxy.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut exit = None;
    assert!(bin::wait_until(Duration::from_secs(10), || {
        exit = proxy.try_wait().unwrap();
        exit.is_some()
    }));
    assert_eq!(exit.and_then(|s| s.code()), Some(0));
    // The daemon named in the pidfile got the TERM.
    assert!(bin::wait_until(Duration::from_secs(10), || {
        !std::path::Path::new(&format!("/proc/{daemon_pid}")).exists()
            || fs::read_to_string(format!("/proc/{daemon_pid}/stat"))
                .is_ok_and(|s| s.contains(") Z "))
    }));
}
