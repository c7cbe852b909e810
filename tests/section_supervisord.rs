//! `[supervisord]` and the daemon's life: start-up, pidfile, daemonizing,
//! signals (TERM/INT/QUIT, HUP, USR2), shutdown order, resource limits, and
//! children that misbehave.

mod support;

use std::fs;
use std::process::Stdio;

use support::bin::{self, SUPERVISORD, wait_until};
use support::daemon::{DEADLINE, TestDaemon, alive, config_text, wait_dead};

/// Positions of the first line containing each needle.
fn order(d: &TestDaemon, needles: &[&str]) -> Vec<usize> {
    let log = d.log_text();
    let lines: Vec<&str> = log.lines().collect();
    needles
        .iter()
        .map(|n| {
            lines
                .iter()
                .position(|l| l.contains(n))
                .unwrap_or_else(|| panic!("{n:?} not in log:\n{log}"))
        })
        .collect()
}

#[test]
fn shutdown_stops_by_priority_and_removes_the_pidfile() {
    let mut d = TestDaemon::start(
        "[program:first]\ncommand=/bin/cat\npriority=1\nstartsecs=0\n\
         [program:middle]\ncommand=/bin/cat\npriority=2\nstartsecs=0\n\
         [program:last_a]\ncommand=/bin/cat\npriority=3\nstartsecs=0\n\
         [program:last_b]\ncommand=/bin/cat\npriority=3\nstartsecs=0\n",
    );
    for name in ["first", "middle", "last_a", "last_b"] {
        d.wait_log(&format!("success: {name} entered RUNNING state"));
    }
    let pid: u32 = fs::read_to_string(&d.pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(pid, d.child.id());
    // Started in ascending priority.
    let started = order(
        &d,
        &["spawned: 'first'", "spawned: 'middle'", "spawned: 'last_a'"],
    );
    assert!(started.windows(2).all(|w| w[0] < w[1]), "{started:?}");
    d.shutdown();
    d.wait_log("received SIGTERM indicating exit request");
    let stopped = order(
        &d,
        &[
            "stopped: last_a",
            "stopped: last_b",
            "stopped: middle",
            "stopped: first",
        ],
    );
    assert!(
        stopped[0] < stopped[2] && stopped[1] < stopped[2],
        "{stopped:?}"
    );
    assert!(stopped[2] < stopped[3], "{stopped:?}");
    assert!(!d.pidfile.exists(), "pidfile removed at exit");
}

#[test]
fn sigint_and_sigquit_also_shut_down() {
    for sig in ["INT", "QUIT"] {
        let mut d = TestDaemon::start("[program:cat]\ncommand=/bin/cat\nstartsecs=0\n");
        let pid = d.pid_of("cat");
        d.signal(sig);
        assert!(d.wait_exit().success());
        d.wait_log(&format!("received SIG{sig} indicating exit request"));
        wait_dead(pid);
    }
}

#[test]
fn a_hundred_programs_stop_together() {
    let body: String = (0..100)
        .map(|i| format!("[program:p{i:03}]\ncommand=/bin/cat\nstartsecs=0\n"))
        .collect();
    let mut d = TestDaemon::start(&body);
    d.wait_count("entered RUNNING state", 100);
    d.shutdown();
    assert_eq!(d.count("stopped: p"), 100);
}

#[test]
fn stop_right_after_start_is_not_lost() {
    let mut d = TestDaemon::start("[program:slow]\ncommand=/bin/cat\nstartsecs=30\n");
    let pid = d.pid_of("slow");
    // Still STARTING (startsecs=30): the stop must not wait for anything.
    d.shutdown();
    d.wait_log("stopped: slow (terminated by SIGTERM)");
    wait_dead(pid);
}

#[test]
fn sighup_restarts_with_the_new_config_and_keeps_running_on_a_bad_one() {
    let mut d = TestDaemon::start("[program:one]\ncommand=/bin/cat\nstartsecs=0\n");
    let first = d.pid_of("one");
    let conf = fs::read_to_string(&d.conf).unwrap();
    fs::write(
        &d.conf,
        format!("{conf}[program:two]\ncommand=/bin/cat\nstartsecs=0\n"),
    )
    .unwrap();
    d.signal("HUP");
    d.wait_log("received SIGHUP indicating restart request");
    d.wait_log("success: two entered RUNNING state");
    d.wait_count("success: one entered RUNNING state", 2);
    wait_dead(first);
    assert_eq!(
        d.child.try_wait().unwrap(),
        None,
        "same daemon, not a new one"
    );

    // A broken file: nothing is stopped, the error is logged.
    let running = d.pid_of("two");
    fs::write(
        &d.conf,
        format!("{conf}[program:bad]\ncommand=x\nautostart=perhaps\n"),
    )
    .unwrap();
    d.signal("HUP");
    d.wait_log("not restarting: the configuration has errors");
    d.wait_log("autostart: not a valid boolean value: 'perhaps'");
    assert!(alive(running));
    d.shutdown();
}

#[test]
fn sigusr2_reopens_the_logs() {
    let mut d = TestDaemon::start("[program:cat]\ncommand=/bin/cat\nstartsecs=0\n");
    d.wait_log("success: cat entered RUNNING state");
    fs::rename(&d.log, d.path("supervisord.log.moved")).unwrap();
    d.signal("USR2");
    d.wait_log("supervisord logreopen");
    let moved = fs::read_to_string(d.path("supervisord.log.moved")).unwrap();
    assert!(moved.contains("received SIGUSR2 indicating log reopen request"));
    d.shutdown();
}

#[test]
fn minfds_raises_the_open_file_limit() {
    let mut d = TestDaemon::start_with(
        "minfds=4096",
        "[program:cat]\ncommand=/bin/sh -c 'ulimit -n > %(here)s/nofile; exec cat'\nstartsecs=0\n",
    );
    d.wait_log("success: cat entered RUNNING state");
    let path = d.path("nofile");
    assert!(wait_until(DEADLINE, || fs::read_to_string(&path)
        .is_ok_and(|s| !s.trim().is_empty())));
    let child_limit: u64 = fs::read_to_string(&path)
        .unwrap()
        .trim()
        .parse()
        .unwrap_or(0);
    assert!(child_limit >= 4096, "child got RLIMIT_NOFILE {child_limit}");
    d.shutdown();
}

#[test]
fn a_thousand_programs_reach_running() {
    let body: String = (0..1000)
        .map(|i| format!("[program:s{i:04}]\ncommand=/bin/cat\nstartsecs=0\n"))
        .collect();
    let mut d = TestDaemon::start_with("minfds=4096", &body);
    d.wait_count("entered RUNNING state", 1000);
    assert_eq!(d.count("too many open files"), 0);
    assert_eq!(d.count("spawnerr"), 0);
    d.shutdown();
    assert_eq!(d.count("stopped: s"), 1000);
}

#[test]
fn misbehaving_children_do_not_block_the_daemon() {
    let mut d = TestDaemon::start(
        "[program:storm]\ncommand=/bin/sh -c 'exit 1'\nstartsecs=0\nautorestart=true\nnumprocs=5\nprocess_name=storm%(process_num)d\n\
         [program:flood]\ncommand=/bin/sh -c 'head -c 20000000 /dev/zero; exec sleep 1000'\nstartsecs=0\nstdout_logfile_maxbytes=1MB\nstdout_logfile_backups=1\nstdout_logfile=%(here)s/flood.log\n\
         [program:closed]\ncommand=/bin/sh -c 'exec >&- 2>&- <&-; exec sleep 1000'\nstartsecs=0\n\
         [program:steady]\ncommand=/bin/cat\nstartsecs=1\n",
    );
    // The storm keeps restarting while a normal program still gets to RUNNING.
    d.wait_log("success: steady entered RUNNING state");
    d.wait_count("spawned: 'storm0'", 20);
    d.wait_log("success: closed entered RUNNING state");
    // 20 MB of output is drained and rotated.
    let rotated = d.path("flood.log.1");
    assert!(wait_until(DEADLINE, || rotated.exists()));
    let total = |d: &TestDaemon| {
        ["flood.log", "flood.log.1"]
            .iter()
            .map(|f| fs::metadata(d.path(f)).map(|m| m.len()).unwrap_or(0))
            .sum::<u64>()
    };
    assert!(wait_until(DEADLINE, || total(&d) > 0));
    // Within the daemon's DEADLINE (a hang detector, not a timing check).
    d.shutdown();
}

#[test]
fn daemonizes_without_nodaemon() {
    let dir = bin::tempdir();
    let conf = dir.path().join("d.conf");
    let text = config_text(
        dir.path(),
        "",
        "[program:cat]\ncommand=/bin/cat\nstartsecs=0\n",
    )
    .replace("nodaemon=true", "nodaemon=false");
    fs::write(&conf, text).unwrap();
    let status = support::command::new(SUPERVISORD)
        .arg("-c")
        .arg(&conf)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(
        status.success(),
        "the launching process exits 0 after the fork"
    );
    let pidfile = dir.path().join("supervisord.pid");
    let log = dir.path().join("supervisord.log");
    assert!(wait_until(DEADLINE, || {
        fs::read_to_string(&log).is_ok_and(|l| l.contains("success: cat entered RUNNING state"))
    }));
    let pid: u32 = fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let text = fs::read_to_string(&log).unwrap();
    assert!(text.contains("daemonizing the supervisord process"));
    assert!(text.contains(&format!("supervisord started with pid {pid}")));
    // The daemon is ours (we started it): stop it by its pid.
    assert!(
        support::command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    assert!(wait_until(DEADLINE, || !pidfile.exists()));
    wait_dead(pid);
}

#[test]
fn bad_config_never_starts() {
    let dir = bin::tempdir();
    let conf = dir.path().join("bad.conf");
    fs::write(
        &conf,
        config_text(dir.path(), "", "[program:x]\ncommand=x\nstartsecs=soon\n"),
    )
    .unwrap();
    let out = support::command::new(SUPERVISORD)
        .arg("-c")
        .arg(&conf)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("startsecs: invalid literal for int()"));
    assert!(!dir.path().join("supervisord.pid").exists());
}

#[test]
fn readme_example_runs_for_real() {
    // The example, run from a copy so the test writes nothing into the repo.
    let dir = bin::tempdir();
    let examples = dir.path().join("examples");
    fs::create_dir_all(examples.join("run")).unwrap();
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/supervisord.conf");
    fs::copy(&source, examples.join("supervisord.conf")).unwrap();
    let mut child = support::command::new(SUPERVISORD)
        .args(["-n", "-c", "examples/supervisord.conf"])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let log = examples.join("run/supervisord.log");
    let has = |needle: &str| fs::read_to_string(&log).is_ok_and(|l| l.contains(needle));
    for needle in [
        "success: ticker entered RUNNING state",
        "success: worker_00 entered RUNNING state",
        "success: worker_02 entered RUNNING state",
        "gave up: crasher entered FATAL state",
    ] {
        assert!(
            wait_until(DEADLINE, || has(needle)),
            "{needle} missing:\n{}",
            fs::read_to_string(&log).unwrap_or_default()
        );
    }
    let pidfile = examples.join("run/supervisord.pid");
    assert!(pidfile.exists());
    assert!(
        support::command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let mut status = None;
    assert!(wait_until(DEADLINE, || {
        status = child.try_wait().unwrap();
        status.is_some()
    }));
    assert!(status.unwrap().success());
    assert!(!pidfile.exists());
    // The pool (priority 20) stops before the ticker (priority 10).
    let text = fs::read_to_string(&log).unwrap();
    let pos = |n: &str| text.find(n).unwrap_or_else(|| panic!("{n} missing"));
    assert!(pos("stopped: worker_00") < pos("stopped: ticker"));
}

#[test]
fn old_auto_logs_are_cleaned_unless_nocleanup() {
    for (nocleanup, expect_kept) in [(false, false), (true, true)] {
        let dir = bin::tempdir();
        let stale = dir.path().join("old-stdout---supervisor-abcd1234.log.2");
        let unrelated = dir.path().join("notes.log");
        fs::write(&stale, "old").unwrap();
        fs::write(&unrelated, "mine").unwrap();
        let conf = dir.path().join("c.conf");
        let extra = if nocleanup { "nocleanup=true" } else { "" };
        fs::write(
            &conf,
            config_text(
                dir.path(),
                extra,
                "[program:cat]\ncommand=/bin/cat\nstartsecs=0\n",
            ),
        )
        .unwrap();
        let mut child = support::command::new(SUPERVISORD)
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let log = dir.path().join("supervisord.log");
        assert!(wait_until(DEADLINE, || fs::read_to_string(&log)
            .is_ok_and(|l| l.contains("success: cat"))));
        assert_eq!(stale.exists(), expect_kept, "nocleanup={nocleanup}");
        assert!(unrelated.exists());
        assert!(
            support::command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status()
                .unwrap()
                .success()
        );
        assert!(wait_until(DEADLINE, || child.try_wait().unwrap().is_some()));
    }
}

#[test]
fn supervisord_user_drops_privileges() {
    // As root, `user=nobody` makes the daemon (and so its children) nobody.
    let dir = bin::tempdir();
    let mut perms = fs::metadata(dir.path()).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o777);
    fs::set_permissions(dir.path(), perms).unwrap();
    let conf = dir.path().join("u.conf");
    fs::write(
        &conf,
        config_text(dir.path(), "user=nobody", "[program:whoami]\ncommand=/bin/sh -c 'id -u > %(here)s/uid.out; exec cat'\nstartsecs=0\n"),
    )
    .unwrap();
    let mut child = support::command::new(SUPERVISORD)
        .arg("-c")
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = dir.path().join("uid.out");
    let ok = wait_until(DEADLINE, || {
        fs::read_to_string(&out).is_ok_and(|s| s.trim() == "65534")
    });
    let log = fs::read_to_string(dir.path().join("supervisord.log")).unwrap_or_default();
    assert!(ok, "{log}");
    assert!(log.contains("Set uid to user 65534 succeeded"), "{log}");
    assert!(
        support::command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    assert!(wait_until(DEADLINE, || child.try_wait().unwrap().is_some()));
}
