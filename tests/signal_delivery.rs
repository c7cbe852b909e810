//! Issue 15, hole 2: every signal Supervisor accepts is delivered with a raw
//! `kill` — signal 0 and the real-time ones (`RTMIN` = 34, `RTMAX` = 64)
//! included — and a signal never breaks the process's state: it stays
//! RUNNING, and stop and start keep working. `stopsignal=RTMIN` really
//! stops the child.

mod support;

use std::path::Path;

use support::bin::wait_until;
use support::daemon::{DEADLINE, TestDaemon, alive, wait_dead};
use support::rpc::call;

const RPC: &str = "[unix_http_server]\nfile=%(here)s/s.sock\n[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n";

fn is_true(answer: &str) -> bool {
    answer.contains("<boolean>1</boolean>") && !answer.contains("<fault>")
}

fn state_of(sock: &Path, name: &str) -> String {
    let info = call(sock, "supervisor.getProcessInfo", &[name]);
    let tail = info
        .split("<name>statename</name>")
        .nth(1)
        .unwrap_or_default();
    tail.split("<string>")
        .nth(1)
        .and_then(|s| s.split("</string>").next())
        .unwrap_or_default()
        .to_string()
}

#[test]
fn signal_0_and_realtime_signals_keep_the_process_running() {
    let mut d = TestDaemon::start(&format!(
        "{RPC}[program:rt]\ncommand=/bin/sh -c 'trap \"echo got 34\" 34; trap \"echo got 64\" 64; echo ready; while :; do sleep 0.1; done'\nstartsecs=0\nstdout_logfile=%(here)s/rt.out\n"
    ));
    let sock = d.path("s.sock");
    let out = d.path("rt.out");
    let pid = d.pid_of("rt");
    d.wait_log("success: rt entered RUNNING state");
    let output = || std::fs::read_to_string(&out).unwrap_or_default();
    assert!(wait_until(DEADLINE, || output().contains("ready")));

    // (signal, the trap's line it must produce, how many of them by then):
    // each is awaited before the next is sent, since the shell runs a trap
    // once for deliveries that arrive together.
    for (signal, line, times) in [
        ("0", "", 0),
        ("SIGRTMIN", "got 34", 1),
        ("34", "got 34", 2),
        ("RTMAX", "got 64", 1),
        ("64", "got 64", 2),
    ] {
        let answer = call(&sock, "supervisor.signalProcess", &["rt", signal]);
        assert!(is_true(&answer), "signal {signal}: {answer}");
        assert_eq!(state_of(&sock, "rt"), "RUNNING", "after signal {signal}");
        assert!(
            wait_until(DEADLINE, || output().matches(line).count() >= times),
            "signal {signal} reached the child: {:?}",
            output()
        );
    }
    assert!(alive(pid), "signal 0 delivers nothing and kills nothing");
    assert!(
        !d.log_text().contains("unknown problem"),
        "{}",
        d.log_text()
    );

    // Numbers Supervisor does not know are refused before anything is sent.
    let bad = call(&sock, "supervisor.signalProcess", &["rt", "40"]);
    assert!(bad.contains("BAD_SIGNAL: 40"), "{bad}");
    assert_eq!(state_of(&sock, "rt"), "RUNNING");

    // Stop and start still work, and the child really goes away.
    let stopped = call(&sock, "supervisor.stopProcess", &["rt"]);
    assert!(is_true(&stopped), "{stopped}");
    wait_dead(pid);
    assert_eq!(state_of(&sock, "rt"), "STOPPED");
    let started = call(&sock, "supervisor.startProcess", &["rt"]);
    assert!(is_true(&started), "{started}");
    assert_eq!(state_of(&sock, "rt"), "RUNNING");
    let second = d.pid_of("rt");
    assert_ne!(second, pid);
    d.shutdown();
    wait_dead(second);
}

#[test]
fn stopsignal_rtmin_really_stops_the_child() {
    let mut d = TestDaemon::start(&format!(
        "{RPC}[program:rtstop]\ncommand=/bin/cat\nstartsecs=0\nstopsignal=RTMIN\nstopwaitsecs=30\n"
    ));
    let sock = d.path("s.sock");
    let pid = d.pid_of("rtstop");
    d.wait_log("success: rtstop entered RUNNING state");
    let stopped = call(&sock, "supervisor.stopProcess", &["rtstop"]);
    assert!(is_true(&stopped), "{stopped}");
    // Well before stopwaitsecs' SIGKILL: RTMIN itself ended it.
    wait_dead(pid);
    d.wait_log("stopped: rtstop (terminated by SIGRTMIN)");
    assert_eq!(state_of(&sock, "rtstop"), "STOPPED");
    assert!(
        !d.log_text().contains("unknown problem"),
        "{}",
        d.log_text()
    );
    d.shutdown();
}
