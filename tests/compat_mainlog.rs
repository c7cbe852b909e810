//! supervisord's main log, diffed against Supervisor 4.3.0.
//!
//! One configuration runs under both daemons (ours and the reference from
//! the venv `support::reference` installs); both are driven identically —
//! the reference `supervisorctl` and signals — through a series of phases:
//! start, a crash before `startsecs` (BACKOFF, then FATAL: "gave up"), a
//! crash after it ("exited: … not expected"), a stop that needs SIGKILL
//! after `stopwaitsecs`, a plain stop, a group's stop (every kill, then
//! every "waiting for … to stop"), `update` after a config edit (a
//! changed, a removed and an added group), a reload (SIGHUP) and a shutdown
//! (SIGTERM), at `loglevel=info` and at `loglevel=debug`.
//!
//! Each phase ends when both logs show its last line (a condition with a
//! deadline, never a sleep); the log between two phase ends is that phase's
//! segment. Segments are compared line by line after masking timestamps,
//! pids and the temp dir.
//!
//! Deliberate differences, the only ones allowed:
//! * **Concurrent stop within a priority** (README, "Differences from
//!   Supervisor"): Supervisor stops groups of equal priority one after
//!   another, we stop them together. In the phases that stop several groups
//!   at once (reload, shutdown) the lines of the stop batch are compared as
//!   a multiset, and the name list of "waiting for … to die" as a set.
//!   Only the first "waiting for … to die" of a batch is compared: the
//!   repeats come every 3 s, and Supervisor's one-group-at-a-time stop
//!   lasts longer. So is only the first of identical SIGKILL lines:
//!   Supervisor re-sends SIGKILL each `stopwaitsecs` until it reaps the
//!   process, which a loaded machine can delay.
//! * **Supervisor's `fd N closed, stopped monitoring <POutputDispatcher at
//!   …>`** (debug) names Python objects by address; we do not write it.
//! * **`received SIGCHLD indicating a child quit`** (debug): Supervisor logs
//!   it once per main-loop pass that saw SIGCHLD, so how many there are and
//!   where they fall around the "exited:"/"stopped:" lines depends on
//!   timing. Both logs must have it at debug (and neither at info); it is
//!   left out of the line-by-line comparison.
mod support;

use std::fs;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use support::bin;
use support::pair::{Daemon, Options, Pair, Report};

/// How long one phase may take on either daemon.
const PHASE_DEADLINE: Duration = Duration::from_secs(40);
/// The debug line for a reap (see the module docs).
const SIGCHLD_LINE: &str = "received SIGCHLD indicating a child quit";

const PROGRAMS: &str = r#"
[program:good]
command=sh -c "trap 'kill $!; sleep 0.2; exit 0' TERM; sleep 1000 & wait"
startsecs=1
stopwaitsecs=10

[program:quick]
command=sh -c "exit 3"
startsecs=3
startretries=1
autostart=false

[program:late]
command=sh -c "sleep 1.5; exit 4"
startsecs=1
autorestart=false
autostart=false

[program:stubborn]
command=sh -c "trap '' TERM; exec sleep 1000"
startsecs=1
stopwaitsecs=1
autostart=false

[program:duo]
command=sh -c "trap 'kill $!; sleep 0.%(process_num)d5; exit 0' TERM; sleep 1000 & wait"
process_name=duo%(process_num)d
numprocs=2
startsecs=1
stopwaitsecs=10
autostart=false
"#;

/// The configuration after the edit `update` applies: `good` changed,
/// `late` removed, `fresh` added.
const PROGRAMS_EDITED: &str = r#"
[program:good]
command=sh -c "trap 'kill $!; sleep 0.2; exit 0' TERM; sleep 999 & wait"
startsecs=1
stopwaitsecs=10

[program:quick]
command=sh -c "exit 3"
startsecs=3
startretries=1
autostart=false

[program:stubborn]
command=sh -c "trap '' TERM; exec sleep 1000"
startsecs=1
stopwaitsecs=1
autostart=false

[program:fresh]
command=sleep 1000
startsecs=1
stopwaitsecs=10

[program:duo]
command=sh -c "trap 'kill $!; sleep 0.%(process_num)d5; exit 0' TERM; sleep 1000 & wait"
process_name=duo%(process_num)d
numprocs=2
startsecs=1
stopwaitsecs=10
autostart=false
"#;

/// How a phase's segment is compared.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Order {
    /// Line by line.
    Exact,
    /// The stop batch (from the first line up to the first line with one
    /// of these, exclusive) as a multiset, the rest line by line.
    StopBatchUntil(&'static [&'static str]),
    /// The whole segment is one stop batch.
    StopBatch,
}

/// One log entry: a timestamped line and its continuation lines, masked.
fn entries(text: &str, dir: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        match strip_timestamp(line) {
            Some(rest) => out.push(mask(rest, dir)),
            None => match out.last_mut() {
                Some(last) => {
                    last.push('\n');
                    last.push_str(&mask(line, dir));
                }
                None => out.push(mask(line, dir)),
            },
        }
    }
    out
}

/// `2026-11-22 01:34:05,123 ` off the front, if the line starts with one.
fn strip_timestamp(line: &str) -> Option<&str> {
    let b = line.as_bytes();
    let shape = b.len() > 24
        && [4, 7].iter().all(|&i| b[i] == b'-')
        && b[10] == b' '
        && [13, 16].iter().all(|&i| b[i] == b':')
        && b[19] == b','
        && b[23] == b' '
        && b[..23]
            .iter()
            .enumerate()
            .all(|(i, c)| [4, 7, 10, 13, 16, 19].contains(&i) || c.is_ascii_digit());
    shape.then(|| &line[24..])
}

/// The temp dir and every `pid N` masked; the names of "waiting for a, b to
/// die" sorted (the order of a stop batch is ours to choose).
fn mask(line: &str, dir: &str) -> String {
    let mut text = line.replace(dir, "{dir}");
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(i) = rest.find("pid ") {
        out.push_str(&rest[..i + 4]);
        let after = &rest[i + 4..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 {
            out.push_str("<PID>");
        }
        rest = &after[digits..];
    }
    out.push_str(rest);
    text = mask_parenthesised_pids(&out);
    if let Some(names) = text
        .strip_prefix("INFO waiting for ")
        .and_then(|t| t.strip_suffix(" to die"))
    {
        let mut names: Vec<&str> = names.split(", ").collect();
        names.sort_unstable();
        text = format!("INFO waiting for {} to die", names.join(", "));
    }
    text
}

/// `killing 'x' (1234) with SIGKILL`: a number alone in parentheses is a
/// pid.
fn mask_parenthesised_pids(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(i) = rest.find('(') {
        out.push_str(&rest[..=i]);
        let after = &rest[i + 1..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && after[digits..].starts_with(')') {
            out.push_str("<PID>");
            rest = &after[digits..];
        } else {
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// Both logs, as the pair of daemons wrote them so far.
fn log_of(d: &Daemon) -> String {
    fs::read_to_string(d.path("supervisord.log")).unwrap_or_default()
}

struct Run {
    pair: Pair,
    report: Report,
    /// Byte offsets where the current phase began: (reference, ours).
    start: (usize, usize),
    level: &'static str,
}

impl Run {
    fn new(level: &'static str) -> Run {
        let options = Options {
            loglevel: Some(level.to_string()),
            ..Options::default()
        };
        let pair = Pair::start(PROGRAMS, options);
        Run {
            pair,
            report: Report::new(&format!("main log at loglevel={level}")),
            start: (0, 0),
            level,
        }
    }

    /// Drive both daemons with `drive`, wait until each log has every one
    /// of `last` since the phase began, then compare the phase's segments.
    fn phase(&mut self, name: &str, order: Order, drive: impl Fn(&Daemon) + Sync, last: &[&str]) {
        self.pair.each(|d| drive(d));
        let (r_start, o_start) = self.start;
        let (r_ok, o_ok) = self.pair.each(|d| {
            let from = if std::ptr::eq(d, &self.pair.reference) {
                r_start
            } else {
                o_start
            };
            bin::wait_until(PHASE_DEADLINE, || {
                let log = log_of(d);
                let since = log.get(from..).unwrap_or("");
                last.iter().all(|needle| since.contains(needle))
            })
        });
        let (r_log, o_log) = (log_of(&self.pair.reference), log_of(&self.pair.ours));
        for (ok, d) in [(r_ok, &self.pair.reference), (o_ok, &self.pair.ours)] {
            self.report.expect(
                &format!("{name}: the {} log ends the phase", d.label()),
                ok,
                &format!("no {last:?} within {PHASE_DEADLINE:?}\n{}", d.diagnostics()),
            );
        }
        let r = segment(&r_log, r_start, &self.pair.reference);
        let o = segment(&o_log, o_start, &self.pair.ours);
        self.start = (r_log.len(), o_log.len());
        self.compare(name, order, r, o);
    }

    fn compare(&mut self, name: &str, order: Order, r: Vec<String>, o: Vec<String>) {
        let what = format!("{name} (loglevel={})", self.level);
        let split = |lines: Vec<String>| -> (Vec<String>, Vec<String>) {
            match order {
                Order::Exact => (Vec::new(), lines),
                Order::StopBatch => (lines, Vec::new()),
                Order::StopBatchUntil(until) => {
                    let at = lines
                        .iter()
                        .position(|l| until.iter().any(|u| l.contains(u)))
                        .unwrap_or(lines.len());
                    let mut batch = lines;
                    let rest = batch.split_off(at);
                    (batch, rest)
                }
            }
        };
        let (mut r_batch, r_rest) = split(r);
        let (mut o_batch, o_rest) = split(o);
        if !r_batch.is_empty() || !o_batch.is_empty() {
            // The first line (the request to stop) opens the batch on both.
            let firsts = (r_batch.first().cloned(), o_batch.first().cloned());
            self.report.same_text(
                &format!("{what}: the line that starts the stop"),
                firsts.0.as_deref().unwrap_or(""),
                firsts.1.as_deref().unwrap_or(""),
            );
            for batch in [&mut r_batch, &mut o_batch] {
                first_wait_report_only(batch);
                batch.sort();
            }
            if r_batch != o_batch {
                self.report.same_text(
                    &format!("{what}: the stop batch (sorted; concurrent stop is ours)"),
                    &r_batch.join("\n"),
                    &o_batch.join("\n"),
                );
            } else {
                self.report.allowed(
                    &format!("{what}: stop batch compared as a multiset"),
                    "groups of equal priority stop concurrently (README)",
                );
            }
        }
        self.report
            .same_text(&what, &r_rest.join("\n"), &o_rest.join("\n"));
    }

    fn signal(&self, signal: Signal) {
        self.pair.each(|d| {
            kill(Pid::from_raw(d.pid() as i32), signal)
                .unwrap_or_else(|e| panic!("kill -{signal} {}: {e}", d.pid()));
        });
    }

    fn ctl(d: &Daemon, args: &[&str]) {
        let (code, out, err) = d.ctl(args);
        // What supervisorctl prints is compared elsewhere (compat_ctl);
        // here it only has to have run.
        assert!(
            code >= 0,
            "{} supervisorctl {args:?}: {code}\n{out}{err}",
            d.label()
        );
    }

    fn finish(mut self) {
        let (r, o) = self.pair.each(|d| {
            let d_exit = d.wait_exit(PHASE_DEADLINE);
            (d_exit, log_of(d))
        });
        self.report.expect(
            "both daemons exit after SIGTERM",
            r.0.is_some() && o.0.is_some(),
            &format!("reference {:?}, ours {:?}", r.0, o.0),
        );
        let r_tail = segment(&r.1, self.start.0, &self.pair.reference);
        let o_tail = segment(&o.1, self.start.1, &self.pair.ours);
        self.compare("after the shutdown", Order::Exact, r_tail, o_tail);
        let sigchld = |log: &str| log.matches(SIGCHLD_LINE).count();
        let (r_n, o_n) = (sigchld(&r.1), sigchld(&o.1));
        let expected = self.level == "debug";
        self.report.expect(
            &format!("{SIGCHLD_LINE:?} at loglevel={}", self.level),
            (r_n > 0) == expected && (o_n > 0) == expected,
            &format!("reference has {r_n}, ours {o_n}"),
        );
        self.report.finish();
    }
}

/// The masked entries of `log` from byte `from`, without the SIGCHLD lines
/// and Supervisor's dispatcher lines.
fn segment(log: &str, from: usize, d: &Daemon) -> Vec<String> {
    entries(log.get(from..).unwrap_or(""), &d.dir_text)
        .into_iter()
        .filter(|l| !l.contains(SIGCHLD_LINE) && !is_dispatcher_line(l))
        .collect()
}

/// Supervisor's debug line when a pipe closes, naming its Python objects
/// (`DEBG fd 7 closed, stopped monitoring <POutputDispatcher at 1407…
/// for <Subprocess at 1407… with name x in state STOPPING> (stdout)>`):
/// object addresses and an internal class, nothing for a reader; we do not
/// write it.
fn is_dispatcher_line(line: &str) -> bool {
    line.starts_with("DEBG fd ") && line.contains("closed, stopped monitoring <")
}

/// Keep the first "waiting for … to die" of a stop batch. Supervisor
/// repeats it every 3 s while anything runs, and its batch lasts longer
/// than ours (it stops equal priorities one group at a time and notices an
/// exit up to a poll timeout late), so the repeats are timing.
///
/// Likewise a repeated SIGKILL of the same process: Supervisor sends it
/// again each `stopwaitsecs` until the process is reaped, so on a loaded
/// machine (a reap noticed late) it logs the kill twice. Only the first of
/// identical kill lines is compared.
fn first_wait_report_only(batch: &mut Vec<String>) {
    let mut seen = false;
    let mut kills = std::collections::HashSet::new();
    batch.retain(|l| {
        let report = l.starts_with("INFO waiting for ") && l.ends_with(" to die");
        let keep = !(report && seen);
        seen |= report;
        let kill = l.contains("killing ") && l.contains("SIGKILL");
        keep && (!kill || kills.insert(l.clone()))
    });
}

fn scenarios(level: &'static str) {
    let mut run = Run::new(level);
    run.phase(
        "start",
        Order::Exact,
        |_| {},
        &["success: good entered RUNNING state"],
    );
    run.phase(
        "crash before startsecs: BACKOFF, then FATAL",
        Order::Exact,
        |d| Run::ctl(d, &["start", "quick"]),
        &["gave up: quick entered FATAL state"],
    );
    run.phase(
        "crash after startsecs",
        Order::Exact,
        |d| Run::ctl(d, &["start", "late"]),
        &["exited: late (exit status 4; not expected)"],
    );
    run.phase(
        "stop after stopwaitsecs with SIGKILL",
        Order::Exact,
        |d| {
            Run::ctl(d, &["start", "stubborn"]);
            Run::ctl(d, &["stop", "stubborn"]);
        },
        &["stopped: stubborn (terminated by SIGKILL)"],
    );
    run.phase(
        "stop",
        Order::Exact,
        |d| Run::ctl(d, &["stop", "good"]),
        &["stopped: good (exit status 0)"],
    );
    run.phase(
        "a group's stop: every kill, then every report",
        Order::Exact,
        |d| {
            Run::ctl(d, &["start", "duo:*"]);
            Run::ctl(d, &["stop", "duo:*"]);
        },
        &[
            "stopped: duo0 (exit status 0)",
            "stopped: duo1 (exit status 0)",
        ],
    );
    run.phase(
        "start again",
        Order::Exact,
        |d| Run::ctl(d, &["start", "good", "stubborn"]),
        &[
            "success: good entered RUNNING state",
            "success: stubborn entered RUNNING state",
        ],
    );
    run.phase(
        "update after a config edit",
        Order::Exact,
        |d| {
            d.write_body(PROGRAMS_EDITED);
            Run::ctl(d, &["update"]);
        },
        &[
            "success: good entered RUNNING state",
            "success: fresh entered RUNNING state",
        ],
    );
    run.signal(Signal::SIGHUP);
    run.phase(
        "reload (SIGHUP)",
        Order::StopBatchUntil(&[
            "Supervisor is running as root",
            "RPC interface 'supervisor' initialized",
            "supervisord started with pid",
        ]),
        |_| {},
        &[
            "supervisord started with pid",
            "success: good entered RUNNING state",
            "success: fresh entered RUNNING state",
        ],
    );
    run.phase(
        "start stubborn for the shutdown",
        Order::Exact,
        |d| Run::ctl(d, &["start", "stubborn"]),
        &["success: stubborn entered RUNNING state"],
    );
    run.signal(Signal::SIGTERM);
    run.phase(
        "shutdown (SIGTERM)",
        Order::StopBatch,
        |_| {},
        &[
            "stopped: stubborn (terminated by SIGKILL)",
            "stopped: good (exit status 0)",
            "stopped: fresh (terminated by SIGTERM)",
        ],
    );
    run.finish();
}

#[test]
fn main_log_matches_reference_at_info() {
    scenarios("info");
}

#[test]
fn main_log_matches_reference_at_debug() {
    scenarios("debug");
}
