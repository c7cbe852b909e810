//! `[program:x]` on real processes: spawning, states, backoff, restarts,
//! stopping and signals, environment, users — observed through the main log
//! that operators grep, with Supervisor's exact messages.

mod support;

use std::fs;

use support::daemon::{TestDaemon, alive, wait_dead};

#[test]
fn autostart_reaches_running_after_startsecs() {
    let mut d = TestDaemon::start("[program:cat]\ncommand=/bin/cat\nstartsecs=1\n");
    let pid = d.pid_of("cat");
    assert!(alive(pid));
    d.wait_log("success: cat entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)");
    d.shutdown();
    wait_dead(pid);
    d.wait_log("stopped: cat (terminated by SIGTERM)");
}

#[test]
fn crash_goes_backoff_then_fatal() {
    let mut d = TestDaemon::start(
        "[program:crasher]\ncommand=/bin/sh -c 'echo boom >&2; exit 3'\nstartretries=1\n",
    );
    d.wait_log("gave up: crasher entered FATAL state, too many start retries too quickly");
    assert_eq!(
        d.count("spawned: 'crasher'"),
        2,
        "startretries + 1 attempts"
    );
    assert_eq!(d.count("exited: crasher (exit status 3; not expected)"), 2);
    d.shutdown();
    let stderr_log = fs::read_dir(d.dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("crasher-stderr---supervisor-")
        })
        .expect("AUTO stderr log");
    assert_eq!(
        fs::read_to_string(stderr_log.path()).unwrap(),
        "boom\nboom\n"
    );
}

#[test]
fn unexpected_exit_restarts_at_once_and_expected_does_not() {
    let mut d = TestDaemon::start(
        "[program:flaky]\ncommand=/bin/sh -c 'exit 3'\nstartsecs=0\nstartretries=0\n\
         [program:done]\ncommand=/bin/sh -c 'exit 2'\nstartsecs=0\nexitcodes=0,2\n\
         [program:never]\ncommand=/bin/sh -c 'exit 1'\nstartsecs=0\nautorestart=false\n",
    );
    // startsecs=0: never "too quick", so it is restarted each time (spec §2.3).
    d.wait_count("spawned: 'flaky'", 3);
    d.wait_log("exited: done (exit status 2; expected)");
    d.wait_log("exited: never (exit status 1; not expected)");
    d.shutdown();
    assert_eq!(d.count("spawned: 'done'"), 1);
    assert_eq!(d.count("spawned: 'never'"), 1);
}

#[test]
fn autorestart_true_restarts_even_expected_exits() {
    let mut d = TestDaemon::start(
        "[program:again]\ncommand=/bin/sh -c 'exit 0'\nstartsecs=0\nautorestart=true\n",
    );
    d.wait_count("exited: again (exit status 0; expected)", 3);
    d.shutdown();
}

#[test]
fn ignoring_sigterm_gets_sigkill_after_stopwaitsecs() {
    let mut d = TestDaemon::start(
        "[program:stubborn]\ncommand=/bin/sh -c 'trap \"\" TERM; echo ready; while :; do sleep 1; done'\nstartsecs=0\nstopwaitsecs=1\n",
    );
    let pid = d.pid_of("stubborn");
    d.wait_log("success: stubborn entered RUNNING state");
    d.shutdown();
    d.wait_log(&format!("killing 'stubborn' ({pid}) with SIGKILL"));
    d.wait_log("stopped: stubborn (terminated by SIGKILL)");
    wait_dead(pid);
}

#[test]
fn stopasgroup_stops_grandchildren() {
    let body = "[program:forker]\ncommand=/bin/sh -c 'sleep 1000 & echo $! > grandchild.pid; wait'\nstartsecs=0\nstopasgroup=true\n\
                [program:lonely]\ncommand=/bin/sh -c 'sleep 1000 & echo $! > orphan.pid; wait'\nstartsecs=0\n";
    let mut d = TestDaemon::start(body);
    let grandchild_file = d.path("grandchild.pid");
    let orphan_file = d.path("orphan.pid");
    let read_pid = |p: &std::path::Path| -> Option<u32> {
        fs::read_to_string(p)
            .ok()
            .and_then(|s| s.trim().parse().ok())
    };
    assert!(support::bin::wait_until(support::daemon::DEADLINE, || {
        read_pid(&grandchild_file).is_some() && read_pid(&orphan_file).is_some()
    }));
    let grandchild = read_pid(&grandchild_file).unwrap();
    let orphan = read_pid(&orphan_file).unwrap();
    d.shutdown();
    wait_dead(grandchild);
    // Without stopasgroup only the shell gets SIGTERM; its child survives,
    // as under Supervisor. Clean it up ourselves (it is ours: the test made it).
    assert!(
        alive(orphan),
        "without stopasgroup the grandchild is left alone"
    );
    let _ = support::command::new("kill")
        .args(["-KILL", &orphan.to_string()])
        .status();
}

#[test]
fn spawn_errors_are_reported_and_end_fatal() {
    let mut d = TestDaemon::start(
        "[program:missing]\ncommand=no-such-program-anywhere\nstartretries=0\n\
         [program:nodir]\ncommand=/bin/true\ndirectory=/nonexistent/dir\nstartretries=0\n",
    );
    d.wait_log("spawnerr: can't find command 'no-such-program-anywhere'");
    d.wait_log("gave up: missing entered FATAL state");
    d.wait_log("spawnerr: couldn't chdir to /nonexistent/dir: ENOENT");
    d.wait_log("gave up: nodir entered FATAL state");
    d.shutdown();
}

#[test]
fn environment_directory_and_umask_reach_the_child() {
    let mut d = TestDaemon::start_with(
        "environment=GLOBAL=\"g\",SHARED=\"from-global\"",
        "[program:envdump]\ncommand=/bin/sh -c 'env > %(here)s/env.out; pwd > %(here)s/pwd.out; umask > %(here)s/umask.out; exec sleep 1000'\n\
         directory=/tmp\numask=027\nenvironment=SHARED=\"mine\",OWN=\"%(program_name)s-%(process_num)d\"\nstartsecs=0\n",
    );
    d.wait_log("success: envdump entered RUNNING state");
    let read = |name: &str| fs::read_to_string(d.path(name)).unwrap_or_default();
    assert!(support::bin::wait_until(support::daemon::DEADLINE, || {
        read("env.out").contains("OWN=")
            && !read("pwd.out").is_empty()
            && !read("umask.out").is_empty()
    }));
    let env = read("env.out");
    for want in [
        "SUPERVISOR_ENABLED=1",
        "SUPERVISOR_PROCESS_NAME=envdump",
        "SUPERVISOR_GROUP_NAME=envdump",
        "GLOBAL=g",
        "SHARED=mine",
        "OWN=envdump-0",
    ] {
        assert!(env.lines().any(|l| l == want), "missing {want} in\n{env}");
    }
    assert!(
        !env.contains("SUPERVISOR_SERVER_URL"),
        "no server configured, no URL"
    );
    assert_eq!(read("pwd.out").trim(), "/tmp");
    assert_eq!(read("umask.out").trim(), "0027");
    d.shutdown();
}

/// The daemon's descriptors (log files, pipes of other children, the
/// HTTP socket, epoll, the main log) are all close-on-exec: a child sees
/// 0, 1 and 2 and nothing else, with nothing closed one by one.
#[test]
fn a_child_sees_only_its_three_standard_descriptors() {
    let mut d = TestDaemon::start(
        "[unix_http_server]\nfile=%(here)s/s.sock\n\
         [program:other]\ncommand=/bin/cat\nstartsecs=0\nstdout_logfile=%(here)s/other.log\n\
         [program:fds]\ncommand=/bin/sh -c 'ls /proc/self/fd > %(here)s/fds.tmp; mv %(here)s/fds.tmp %(here)s/fds.out; exec sleep 1000'\n\
         startsecs=0\nstdout_logfile=%(here)s/fds.log\nstderr_logfile=%(here)s/fds.err\npriority=999\n",
    );
    d.wait_log("success: fds entered RUNNING state");
    let path = d.path("fds.out");
    assert!(support::bin::wait_until(support::daemon::DEADLINE, || {
        path.exists()
    }));
    let listed = fs::read_to_string(&path).unwrap_or_default();
    let mut fds: Vec<u32> = listed.lines().filter_map(|l| l.parse().ok()).collect();
    fds.sort_unstable();
    // 3 is the directory `ls` itself opened to list them.
    assert_eq!(fds, [0, 1, 2, 3], "the child saw: {listed}");
    d.shutdown();
}

#[test]
fn numprocs_and_redirect_stderr() {
    let mut d = TestDaemon::start(
        "[program:w]\ncommand=/bin/sh -c 'echo out %(process_num)02d; echo err %(process_num)02d >&2; exec sleep 1000'\n\
         process_name=w_%(process_num)02d\nnumprocs=3\nstartsecs=0\nredirect_stderr=true\nstdout_logfile=%(here)s/%(process_num)02d.log\n",
    );
    for n in ["00", "01", "02"] {
        d.wait_log(&format!("success: w_{n} entered RUNNING state"));
        let path = d.path(&format!("{n}.log"));
        assert!(support::bin::wait_until(support::daemon::DEADLINE, || {
            fs::read_to_string(&path)
                .is_ok_and(|s| s.contains(&format!("out {n}")) && s.contains(&format!("err {n}")))
        }));
    }
    d.shutdown();
}

#[test]
fn user_switch_runs_the_child_as_that_user() {
    // Needs root to switch users; the test machines and CI run as root.
    if nix_euid() != 0 {
        panic!("this test needs root (it checks user= on a real child)");
    }
    let mut d = TestDaemon::start(
        "[program:asnobody]\ncommand=/bin/sh -c 'id -u; exec sleep 1000'\nuser=nobody\nstartsecs=0\nstdout_logfile=%(here)s/id.log\n",
    );
    let path = d.path("id.log");
    assert!(support::bin::wait_until(support::daemon::DEADLINE, || {
        fs::read_to_string(&path).is_ok_and(|s| s.trim() == "65534")
    }));
    d.shutdown();
}

fn nix_euid() -> u32 {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).and_then(|u| u.parse().ok()))
        })
        .unwrap_or(u32::MAX)
}
