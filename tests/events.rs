//! Events and event listeners on real daemons (issue 7, spec §6).
//!
//! Listeners are real Python programs from the reference venv: a recorder
//! built on Supervisor 4.3.0's `childutils` (`tests/events/recorder.py`),
//! superlance 2.0.0's `crashmail` and `memmon`, a listener that never
//! answers and one that dies holding an event. The scenario test runs the
//! same script under our daemon and under Supervisor 4.3.0 and compares
//! every envelope and payload the recorder received.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use support::bin::wait_until;
use support::pair::{Daemon, Impl, Options, Pair};
use support::reference;

const DEADLINE: Duration = Duration::from_secs(20);

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("events")
        .join(name)
}

fn python() -> String {
    reference::python().display().to_string()
}

/// An `[eventlistener:rec]` running the recorder into `{dir}/events.jsonl`.
fn recorder_section(events: &str, buffer_size: usize) -> String {
    format!(
        "[eventlistener:rec]\ncommand={} {} {{dir}}/events.jsonl\nevents={events}\n\
         buffer_size={buffer_size}\nstartsecs=0\nstderr_logfile={{dir}}/rec.err\n\n",
        python(),
        script("recorder.py").display()
    )
}

fn ok(v: Value, what: &str) -> Value {
    match v.get("ok") {
        Some(v) => v.clone(),
        None => panic!("{what}: {v}"),
    }
}

fn statename(d: &Daemon, name: &str) -> String {
    let v = d.rpc(&format!(
        "s.supervisor.getProcessInfo('{name}')['statename']"
    ));
    v.get("ok")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn wait_state(d: &Daemon, name: &str, state: &str) {
    assert!(
        wait_until(DEADLINE, || statename(d, name) == state),
        "{}: {name} never reached {state} (now {})\n{}",
        d.label(),
        statename(d, name),
        d.diagnostics()
    );
}

/// Every JSON line of a record file.
fn records(path: &Path) -> Vec<Value> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The envelopes the recorder got (header line + payload).
fn envelopes(d: &Daemon) -> Vec<String> {
    records(&d.path("events.jsonl"))
        .into_iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

/// Wait until the recorder has an envelope containing every one of
/// `needles`.
fn wait_envelope(d: &Daemon, needles: &[&str]) {
    let has = |e: &String| needles.iter().all(|n| e.contains(n));
    assert!(
        wait_until(DEADLINE, || envelopes(d).iter().any(has)),
        "{}: the recorder never got {needles:?}; it got:\n{}\n{}",
        d.label(),
        envelopes(d).join("\n"),
        d.diagnostics()
    );
}

/// Replace the digits after `key` (e.g. `pid:`) with a placeholder.
fn mask_numbers(text: &str, key: &str, placeholder: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(key) {
        let after = &rest[at + key.len()..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        out.push_str(&rest[..at + key.len()]);
        if digits > 0 {
            out.push_str(placeholder);
        }
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

/// Check an envelope's `len` (code points of the payload), then mask what
/// legitimately differs between runs: pids, serials, the length (it
/// follows the pids' digits).
fn normalise(envelope: &str) -> String {
    let (header, payload) = envelope.split_once('\n').expect("a header line");
    let len: usize = header
        .split(' ')
        .find_map(|t| t.strip_prefix("len:"))
        .and_then(|n| n.parse().ok())
        .expect("a len token");
    assert_eq!(len, payload.chars().count(), "len of {envelope:?}");
    let mut s = envelope.to_string();
    for (key, mask) in [
        ("pid:", "<PID>"),
        ("serial:", "<SERIAL>"),
        ("len:", "<LEN>"),
    ] {
        s = mask_numbers(&s, key, mask);
    }
    s
}

const SCENARIO_BODY: &str = r#"
[program:crash]
command=sh -c 'read line; echo bye; exit 3'
autostart=false
autorestart=false
startsecs=0
priority=10

[program:bad]
; The pause keeps Supervisor's reap() right after the spawn from seeing the
; exit, which would turn startProcess into a SPAWN_ERROR fault (a race).
command=sh -c 'sleep 0.3; exit 1'
autostart=false
; Supervisor may notice an exit up to a second late: a long startsecs
; keeps its "exited too quickly" verdict (and so the events) certain.
startsecs=10
startretries=1
priority=20

[program:long]
command=sleep 1000
autostart=false
startsecs=0
priority=30

[program:cap]
command=sh -c 'read line; printf "before <!--XSUPERVISOR:BEGIN-->captured d\303\244ta<!--XSUPERVISOR:END--> after, and more than a token of text\n"; exec sleep 1000'
autostart=false
startsecs=0
stdout_capture_maxbytes=1KB
stdout_events_enabled=true
priority=40
"#;

const EXTRA_GROUP: &str = r#"
[program:extra]
command=sleep 1000
autostart=false
priority=50
"#;

/// The scripted scenario: every step waits for the recorder to have the
/// step's last event, so the order of events is the same on both daemons.
fn run_scenario(d: &Daemon) -> Vec<String> {
    wait_state(d, "rec", "RUNNING");
    wait_envelope(d, &["PROCESS_STATE_RUNNING", "processname:rec "]);

    // start, then a crash (exit 3, unexpected) on demand.
    ok(d.rpc("s.supervisor.startProcess('crash')"), "start crash");
    ok(
        d.rpc("s.supervisor.sendProcessStdin('crash', 'go\\n')"),
        "poke crash",
    );
    wait_envelope(d, &["PROCESS_STATE_EXITED", "processname:crash "]);

    // backoff until fatal.
    ok(
        d.rpc("s.supervisor.startProcess('bad', False)"),
        "start bad",
    );
    wait_envelope(d, &["PROCESS_STATE_FATAL", "processname:bad "]);

    // start and stop.
    ok(d.rpc("s.supervisor.startProcess('long')"), "start long");
    ok(d.rpc("s.supervisor.stopProcess('long')"), "stop long");
    wait_envelope(d, &["PROCESS_STATE_STOPPED", "processname:long "]);

    // a remote communication event, with non-ASCII data (len counts code
    // points).
    ok(
        d.rpc("s.supervisor.sendRemoteCommEvent('tp', 'd\\u00e4t\\u00e4')"),
        "remote comm",
    );
    wait_envelope(d, &["REMOTE_COMMUNICATION"]);

    // group add and remove.
    d.write_body(&format!(
        "{}{SCENARIO_BODY}{EXTRA_GROUP}",
        recorder_section("EVENT", 100)
    ));
    ok(d.rpc("s.supervisor.reloadConfig()"), "reloadConfig");
    ok(d.rpc("s.supervisor.addProcessGroup('extra')"), "add extra");
    wait_envelope(d, &["PROCESS_GROUP_ADDED", "groupname:extra"]);
    ok(
        d.rpc("s.supervisor.removeProcessGroup('extra')"),
        "remove extra",
    );
    wait_envelope(d, &["PROCESS_GROUP_REMOVED"]);

    // capture mode, with PROCESS_LOG events for the same output.
    ok(d.rpc("s.supervisor.startProcess('cap')"), "start cap");
    ok(
        d.rpc("s.supervisor.sendProcessStdin('cap', 'go\\n')"),
        "poke cap",
    );
    wait_envelope(d, &["PROCESS_COMMUNICATION_STDOUT"]);
    wait_envelope(d, &["PROCESS_LOG_STDOUT", "token of text"]);

    envelopes(d)
        .iter()
        .filter(|e| !e.contains("eventname:TICK_"))
        .map(|e| normalise(e))
        .collect()
}

#[test]
fn recorded_envelopes_match_supervisor_byte_for_byte() {
    let body = format!("{}{SCENARIO_BODY}", recorder_section("EVENT", 100));
    let pair = Pair::start(&body, Options::default());
    let (reference, ours) = pair.each(run_scenario);
    if reference != ours {
        let mut report = String::new();
        for i in 0..reference.len().max(ours.len()) {
            let r = reference.get(i).map_or("<none>", String::as_str);
            let o = ours.get(i).map_or("<none>", String::as_str);
            let mark = if r == o { "  " } else { "!!" };
            report.push_str(&format!(
                "{mark} {i}\n   reference: {r:?}\n   ours:      {o:?}\n"
            ));
        }
        panic!("the recorded events differ:\n{report}");
    }
    // The scenario covered what it claims to.
    for name in [
        "PROCESS_GROUP_ADDED",
        "SUPERVISOR_STATE_CHANGE_RUNNING",
        "PROCESS_STATE_STARTING",
        "PROCESS_STATE_RUNNING",
        "PROCESS_STATE_EXITED",
        "PROCESS_STATE_BACKOFF",
        "PROCESS_STATE_FATAL",
        "PROCESS_STATE_STOPPING",
        "PROCESS_STATE_STOPPED",
        "REMOTE_COMMUNICATION",
        "PROCESS_GROUP_REMOVED",
        "PROCESS_LOG_STDOUT",
        "PROCESS_COMMUNICATION_STDOUT",
    ] {
        assert!(
            ours.iter()
                .any(|e| e.contains(&format!("eventname:{name} "))),
            "the scenario produced no {name}"
        );
    }
}

#[test]
fn a_hung_listener_blocks_neither_the_daemon_nor_other_pools() {
    let body = format!(
        "{}[eventlistener:hung]\ncommand={} {}\nevents=PROCESS_STATE,REMOTE_COMMUNICATION\n\
         buffer_size=3\nstartsecs=0\n\n[program:cat]\ncommand=cat\nautostart=false\nstartsecs=0\n",
        recorder_section("REMOTE_COMMUNICATION", 100),
        python(),
        script("hung.py").display()
    );
    let d = Daemon::start(Impl::Ours, &body, Options::default());
    wait_state(&d, "hung", "RUNNING");
    wait_state(&d, "rec", "RUNNING");
    for i in 0..10 {
        ok(d.rpc("s.supervisor.startProcess('cat')"), "start");
        ok(d.rpc("s.supervisor.stopProcess('cat')"), "stop");
        ok(
            d.rpc(&format!("s.supervisor.sendRemoteCommEvent('n', '{i}')")),
            "remote comm",
        );
    }
    // The other pool got every event, in order.
    assert!(
        wait_until(DEADLINE, || envelopes(&d).len() >= 10),
        "rec got {:?}",
        envelopes(&d)
    );
    let data: Vec<String> = envelopes(&d)
        .iter()
        .map(|e| e.rsplit('\n').next().unwrap_or_default().to_string())
        .collect();
    let want: Vec<String> = (0..10).map(|i| i.to_string()).collect();
    assert_eq!(data, want);
    // The hung pool's buffer overflowed (it holds 3) and the daemon says so.
    let log = fs::read_to_string(d.path("supervisord.log")).unwrap_or_default();
    assert!(
        log.contains("ERRO pool hung event buffer overflowed, discarding event"),
        "{log}"
    );
    assert_eq!(statename(&d, "hung"), "RUNNING");
    // And the daemon still answers at once.
    ok(d.rpc("s.supervisor.getState()"), "getState");
}

#[test]
fn a_dying_listener_is_restarted_and_gets_its_event_again() {
    let body = format!(
        "[eventlistener:dying]\ncommand={} {} {{dir}}/dying.jsonl {{dir}}/marker\n\
         events=REMOTE_COMMUNICATION\nstartsecs=0\nautorestart=true\n",
        python(),
        script("dying.py").display()
    );
    let d = Daemon::start(Impl::Ours, &body, Options::default());
    wait_state(&d, "dying", "RUNNING");
    ok(
        d.rpc("s.supervisor.sendRemoteCommEvent('once', 'payload')"),
        "remote comm",
    );
    let path = d.path("dying.jsonl");
    assert!(
        wait_until(DEADLINE, || records(&path).len() >= 2),
        "got {:?}\n{}",
        records(&path),
        d.diagnostics()
    );
    let got = records(&path);
    let first = got[0]["died_on"].as_str().expect("died_on").to_string();
    let again = got[1]["got"].as_str().expect("got").to_string();
    assert_eq!(first, again, "the same envelope, serials included");
    assert!(first.contains("eventname:REMOTE_COMMUNICATION"));
    let log = fs::read_to_string(d.path("supervisord.log")).unwrap_or_default();
    assert!(log.contains("rebuffering event 0 for pool dying"), "{log}");
}

/// superlance's crashmail with a fake sendmail: the same mail under both
/// daemons (once pids are masked).
#[test]
fn superlance_crashmail_mails_a_crash_as_under_supervisor() {
    let body = format!(
        "[eventlistener:crashmail]\ncommand={bin}/crashmail -a -m ops@example.com -s \"sh -c 'cat > {{dir}}/mail.txt'\"\n\
         events=PROCESS_STATE_EXITED\nstartsecs=0\nstderr_logfile={{dir}}/crashmail.err\n\n\
         [program:crash]\ncommand=sh -c 'read line; exit 7'\nautostart=false\nautorestart=false\nstartsecs=0\n",
        bin = reference::venv_bin().display()
    );
    let pair = Pair::start(&body, Options::default());
    let (reference, ours) = pair.each(|d| {
        wait_state(d, "crashmail", "RUNNING");
        ok(d.rpc("s.supervisor.startProcess('crash')"), "start crash");
        ok(
            d.rpc("s.supervisor.sendProcessStdin('crash', 'go\\n')"),
            "poke crash",
        );
        let mail = d.path("mail.txt");
        assert!(
            wait_until(DEADLINE, || fs::read_to_string(&mail)
                .is_ok_and(|m| m.contains("exited unexpectedly"))),
            "{}: no mail\n{}",
            d.label(),
            d.diagnostics()
        );
        let text = fs::read_to_string(&mail).unwrap_or_default();
        // Mask the pid and the time of the crash.
        mask_numbers(&text, "(pid ", "<PID>")
            .lines()
            .map(|l| match l.find(" crashed at ") {
                Some(at) => format!("{} crashed at <TIME>", &l[..at]),
                None => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    assert!(ours.contains("crash crashed at <TIME>"), "{ours}");
    assert!(
        ours.contains(
            "Process crash in group crash exited unexpectedly (pid <PID>) from state RUNNING"
        ),
        "{ours}"
    );
    assert!(ours.contains("To: ops@example.com"), "{ours}");
    assert_eq!(reference, ours);
}

/// superlance's memmon restarts a program over its RSS limit (on TICK_5).
#[test]
fn superlance_memmon_restarts_a_program_over_its_rss_limit() {
    let body = format!(
        "[eventlistener:memmon]\ncommand={bin}/memmon -p hog=100KB\nevents=TICK_5\nstartsecs=0\n\
         stderr_logfile={{dir}}/memmon.err\n\n\
         [program:hog]\ncommand=sleep 1000\nstartsecs=0\n",
        bin = reference::venv_bin().display()
    );
    let d = Daemon::start(Impl::Ours, &body, Options::default());
    wait_state(&d, "memmon", "RUNNING");
    wait_state(&d, "hog", "RUNNING");
    let first = ok(d.rpc("s.supervisor.getProcessInfo('hog')['pid']"), "pid");
    // One TICK_5 comes within 5 s; memmon stops and starts hog.
    assert!(
        wait_until(Duration::from_secs(15), || {
            let pid = d.rpc("s.supervisor.getProcessInfo('hog')['pid']");
            pid.get("ok")
                .is_some_and(|p| *p != first && p.as_i64() != Some(0))
        }),
        "memmon did not restart hog\n{}\n{}",
        fs::read_to_string(d.path("memmon.err")).unwrap_or_default(),
        d.diagnostics()
    );
    // memmon writes the line before it restarts hog, but the daemon's reader
    // of memmon's stderr may file it a moment after hog's new pid shows.
    let said = || {
        let err = fs::read_to_string(d.path("memmon.err")).unwrap_or_default();
        err.contains("Restarting ") && err.contains("hog")
    };
    assert!(
        wait_until(Duration::from_secs(5), said),
        "{}",
        fs::read_to_string(d.path("memmon.err")).unwrap_or_default()
    );
}

/// Supervisor reads a child's pipes dry before it handles the exit, so the
/// last words of a process come (as PROCESS_LOG) before its EXITED event.
#[test]
fn output_written_before_an_exit_is_delivered_before_the_exit() {
    let body = format!(
        "{}[program:lastwords]\ncommand=sh -c 'read line; echo last words; exit 3'\n\
         autostart=false\nautorestart=false\nstartsecs=0\nstdout_events_enabled=true\n",
        recorder_section("PROCESS_LOG,PROCESS_STATE_EXITED", 100)
    );
    let pair = Pair::start(&body, Options::default());
    let (reference, ours) = pair.each(|d| {
        wait_state(d, "rec", "RUNNING");
        let mut orders = Vec::new();
        // A few rounds: the race, if there were one, would show.
        for round in 0..5 {
            ok(d.rpc("s.supervisor.startProcess('lastwords')"), "start");
            ok(
                d.rpc("s.supervisor.sendProcessStdin('lastwords', 'go\\n')"),
                "poke",
            );
            wait_until(DEADLINE, || {
                envelopes(d)
                    .iter()
                    .filter(|e| e.contains("PROCESS_STATE_EXITED"))
                    .count()
                    > round
            });
        }
        for e in envelopes(d) {
            if e.contains("processname:lastwords ") {
                orders.push(if e.contains("eventname:PROCESS_LOG_STDOUT ") {
                    "log"
                } else {
                    "exited"
                });
            }
        }
        orders
    });
    let want: Vec<&str> = ["log", "exited"].repeat(5);
    assert_eq!(reference, want, "reference");
    assert_eq!(ours, want, "ours");
}

/// Supervisor's global serial is a module-level counter: a SIGHUP restart
/// makes new pools (pool serials start over) but the serial goes on.
#[test]
fn the_global_serial_goes_on_across_a_restart() {
    let body = format!(
        "{}[program:a]\ncommand=sleep 1000\nstartsecs=0\n",
        recorder_section("PROCESS_STATE,SUPERVISOR_STATE_CHANGE", 100)
    );
    let pair = Pair::start(&body, Options::default());
    let (reference, ours) = pair.each(|d| {
        wait_state(d, "rec", "RUNNING");
        wait_state(d, "a", "RUNNING");
        wait_envelope(d, &["eventname:PROCESS_STATE_RUNNING", "processname:a "]);
        wait_envelope(d, &["eventname:PROCESS_STATE_RUNNING", "processname:rec "]);
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(d.pid() as i32),
            nix::sys::signal::Signal::SIGHUP,
        )
        .expect("SIGHUP");
        let restarted = |e: &String| e.contains("eventname:SUPERVISOR_STATE_CHANGE_RUNNING ");
        assert!(
            wait_until(DEADLINE, || envelopes(d)
                .iter()
                .filter(|e| restarted(e))
                .count()
                == 2),
            "{}: no second SUPERVISOR_STATE_CHANGE_RUNNING:\n{}",
            d.label(),
            envelopes(d).join("\n")
        );
        let second = envelopes(d)
            .into_iter()
            .filter(|e| restarted(e))
            .nth(1)
            .unwrap_or_default();
        // "ver:3.0 server:supervisor serial:N pool:rec poolserial:M …"
        second
            .split_whitespace()
            .filter(|f| f.starts_with("serial:") || f.starts_with("poolserial:"))
            .collect::<Vec<_>>()
            .join(" ")
    });
    assert_eq!(ours, reference);
    assert_ne!(ours, "serial:0 poolserial:0", "the serial started over");
}
