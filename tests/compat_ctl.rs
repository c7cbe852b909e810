//! The reference `supervisorctl` (Supervisor 4.3.0, from the venv) driven
//! against both daemons — ours and the reference — with the same config:
//! every command's exit code, stdout and stderr must be identical after
//! normalisation (pids, uptimes, dates, temp dirs, AUTO log names; see
//! `support::pair::Norm`). Commands are sequenced identically on both;
//! outputs whose line order is completion order (`start all`, `stop all`,
//! group restarts) are compared as sorted lines. All mismatches are
//! reported together at the end.
//!
//! `SV_COMPAT_OURS=reference` puts the reference in both slots (harness
//! validation).

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::pair::{self, Daemon, Impl, Options, Pair, Report, STANDARD_BODY, STANDARD_STATES};

const SETTLE: Duration = Duration::from_secs(20);

/// How two supervisorctl runs are compared.
#[derive(Clone, Copy)]
enum Out {
    /// Identical exit code, stdout and stderr.
    Exact,
    /// Identical exit code and stderr; stdout lines as a sorted list.
    SortedLines,
}

struct Ctl<'a> {
    pair: &'a Pair,
    /// The `supervisorctl` run against the "ours" slot (the reference
    /// slot always runs the reference client).
    ours_client: Impl,
    report: Report,
    ours_missed: bool,
}

/// (exit code, stdout, stderr) of one run.
type Run = (i32, String, String);
/// One named step of the comparison.
type Phase = (&'static str, fn(&mut Ctl));

impl<'a> Ctl<'a> {
    /// The client that runs against `d`: the reference on the reference
    /// slot, [`Ctl::ours_client`] on the other.
    fn client_for(&self, d: &Daemon) -> Impl {
        if std::ptr::eq(d, &self.pair.ours) {
            self.ours_client
        } else {
            Impl::Reference
        }
    }

    fn run_on(
        d: &Daemon,
        client: Impl,
        args: &[&str],
        interrupt: Option<&str>,
    ) -> (Run, pair::Norm) {
        let out = match interrupt {
            Some(needle) => {
                let shown = |out: &str| out.contains(needle);
                d.ctl_using(client, args, Duration::from_secs(20), Some(&shown))
            }
            None => d.ctl_using(client, args, pair::CTL_TIMEOUT, None),
        };
        // Pids of the processes as they are now (for `pid <name>`).
        let norm = if d.exited().is_some() {
            d.norm_offline()
        } else {
            d.norm()
        };
        (out, norm)
    }

    fn normalised(run: &Run, norm: &pair::Norm, mode: Out) -> String {
        let stdout = norm.text(&run.1);
        let stdout = match mode {
            Out::Exact => stdout,
            Out::SortedLines => {
                let mut lines: Vec<&str> = stdout.lines().collect();
                lines.sort_unstable();
                lines.join("\n") + "\n(lines sorted)"
            }
        };
        format!(
            "exit {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            run.0,
            stdout,
            norm.text(&run.2)
        )
    }

    /// Run `supervisorctl args…` on both and compare.
    fn cmd(&mut self, args: &[&str], mode: Out) -> (Run, Run) {
        self.cmd_with(args, mode, None)
    }

    fn cmd_with(&mut self, args: &[&str], mode: Out, interrupt: Option<&str>) -> (Run, Run) {
        let started = Instant::now();
        let ((r, rn), (o, on)) = self
            .pair
            .each(|d| Self::run_on(d, self.client_for(d), args, interrupt));
        let (rt, ot) = (
            Self::normalised(&r, &rn, mode),
            Self::normalised(&o, &on, mode),
        );
        if std::env::var_os("SV_COMPAT_TRACE").is_some() {
            eprintln!(
                "[{:>6.2}s] supervisorctl {}\n{rt}",
                started.elapsed().as_secs_f64(),
                args.join(" ")
            );
        }
        let what = format!("supervisorctl {}", args.join(" "));
        if rt != ot && matches!(mode, Out::SortedLines) && r.0 != o.0 {
            // Completion order decides which error line comes last, and the
            // last one sets the exit code: the codes may differ, but each
            // must follow from its own output order.
            let without_exit = |t: &str| t.split_once('\n').map(|(_, rest)| rest.to_string());
            if without_exit(&rt) == without_exit(&ot)
                && r.0 == implied_exit(&r.1)
                && o.0 == implied_exit(&o.1)
            {
                self.report.allowed(
                    &what,
                    &format!(
                        "same lines in another completion order; exit codes {} and {} follow from each order",
                        r.0, o.0
                    ),
                );
                return (r, o);
            }
        }
        self.report.same_text(&what, &rt, &ot);
        (r, o)
    }

    fn exact(&mut self, args: &[&str]) -> (Run, Run) {
        self.cmd(args, Out::Exact)
    }

    /// Wait until both daemons show `expected`.
    fn settle(&mut self, context: &str, expected: &[(&str, &str)]) {
        let ours_deadline = if self.ours_missed {
            Duration::from_secs(5)
        } else {
            SETTLE
        };
        let (r, o) = self.pair.each(|d| {
            let deadline = if std::ptr::eq(d, &self.pair.ours) {
                ours_deadline
            } else {
                SETTLE
            };
            d.wait_states(expected, deadline)
        });
        if let Err(e) = r {
            self.report
                .fail(&format!("steady state {context}: reference"), &e);
        }
        if let Err(e) = o {
            self.ours_missed = true;
            self.report
                .fail(&format!("steady state {context}: ours"), &e);
        }
    }

    /// Wait until `name`'s stdout log has `size` bytes on both.
    fn wait_log_size(&mut self, name: &str, channel: &str, size: usize) {
        let method = format!("supervisor.tailProcess{channel}Log");
        let (r, o) = self.pair.each(|d| {
            let mut last = Value::Null;
            let ok = support::bin::wait_until(Duration::from_secs(10), || {
                last = d.call(&method, json!([name, 0, 0]));
                last["ok"][1].as_u64() == Some(size as u64)
            });
            if ok {
                Ok(())
            } else {
                Err(format!("last answer {last}"))
            }
        });
        for (side, res) in [("reference", r), ("ours", o)] {
            if let Err(e) = res {
                self.report.fail(
                    &format!("{name} {channel} log did not reach {size} bytes ({side})"),
                    &e,
                );
            }
        }
    }

    /// Wait until `name` runs with a new pid on both (after a fatal signal).
    fn wait_respawn(&mut self, name: &str, old: (Value, Value)) {
        let (r, o) = self.pair.each(|d| {
            let old = if std::ptr::eq(d, &self.pair.ours) {
                &old.1
            } else {
                &old.0
            };
            let mut last = Value::Null;
            let ok = support::bin::wait_until(SETTLE, || {
                last = d.call("supervisor.getProcessInfo", json!([name]));
                last["ok"]["statename"] == "RUNNING" && &last["ok"]["pid"] != old
            });
            if ok {
                Ok(())
            } else {
                Err(format!("last answer {last}"))
            }
        });
        for (side, res) in [("reference", r), ("ours", o)] {
            if let Err(e) = res {
                self.report
                    .fail(&format!("{name} was not respawned ({side})"), &e);
            }
        }
    }
}

/// The exit code supervisorctl derives from result lines of a start/stop
/// over several processes: the last error line that sets one wins
/// (spec §5.3: SPAWN_ERROR and ABNORMAL_TERMINATION → 7, ALREADY_STARTED
/// for start and NOT_RUNNING for stop are ignored, other errors → 1).
fn implied_exit(stdout: &str) -> i32 {
    let mut code = 0;
    for line in stdout.lines() {
        if line.ends_with("ERROR (spawn error)") || line.ends_with("ERROR (abnormal termination)") {
            code = 7;
        } else if line.ends_with("ERROR (already started)") || line.ends_with("ERROR (not running)")
        {
        } else if line.contains("ERROR") {
            code = 1;
        }
    }
    code
}

fn trace(what: &str, started: Instant) {
    if std::env::var_os("SV_COMPAT_TRACE").is_some() {
        eprintln!("[{:>6.2}s] phase: {what}", started.elapsed().as_secs_f64());
    }
}

/// `quick` removed, `manual` changed, `x` added.
fn edited_body() -> String {
    let quick =
        "\n[program:quick]\ncommand=sh -c 'sleep 0.2; exit 0'\nstartsecs=0\nautorestart=false\n";
    let manual_old = "[program:manual]\ncommand=sleep 1000\n";
    assert!(
        STANDARD_BODY.contains(quick) && STANDARD_BODY.contains(manual_old),
        "STANDARD_BODY changed; update edited_body()"
    );
    STANDARD_BODY
        .replace(quick, "\n")
        .replace(manual_old, "[program:manual]\ncommand=sleep 999\n")
        + "\n[program:x]\ncommand=sleep 1000\nstartsecs=0\n"
}

fn states_with(changes: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut states: Vec<(&str, &str)> = STANDARD_STATES.to_vec();
    for (name, state) in changes {
        match states.iter_mut().find(|(n, _)| n == name) {
            Some(entry) => entry.1 = state,
            None => states.push((name, state)),
        }
    }
    states
}

/// The reference `supervisorctl` on our daemon: the daemon is a drop-in.
#[test]
fn reference_client_against_our_daemon() {
    compare(
        Impl::ours_slot(),
        Impl::Reference,
        "reference supervisorctl: reference vs our daemon",
    );
}

/// Our `supervisorctl` on the reference daemon: the client is a drop-in.
#[test]
fn our_client_against_reference_daemon() {
    compare(
        Impl::Reference,
        Impl::Ours,
        "reference daemon: reference vs our supervisorctl",
    );
}

/// Ours on ours against the reference on the reference: the swap of both.
#[test]
fn our_client_against_our_daemon() {
    compare(Impl::ours_slot(), Impl::Ours, "reference pair vs our pair");
}

/// Run every phase with the reference client on the reference daemon in
/// one slot and `client` on `daemon` in the other.
fn compare(daemon: Impl, client: Impl, title: &str) {
    let pair = Pair::start_with(daemon, STANDARD_BODY, Options::default());
    let mut c = Ctl {
        pair: &pair,
        ours_client: client,
        report: Report::new(title),
        ours_missed: false,
    };
    c.settle("after start-up", STANDARD_STATES);
    c.wait_log_size("writer", "Stdout", pair::WRITER_STDOUT.len());
    c.wait_log_size("writer", "Stderr", pair::WRITER_STDERR.len());
    c.wait_log_size("big", "Stdout", pair::big_stdout().len());

    let phases: [Phase; 7] = [
        ("status", status),
        ("start/stop/restart", start_stop),
        ("signal and pid", signal_and_pid),
        ("logs", logs),
        ("config commands", config_commands),
        ("local commands", local_commands),
        ("reload and shutdown", reload_and_shutdown),
    ];
    for (name, phase) in phases {
        let started = Instant::now();
        phase(&mut c);
        trace(name, started);
    }
    c.report.finish();
}

fn status(c: &mut Ctl) {
    c.exact(&["status"]);
    c.exact(&["status", "cat"]);
    c.exact(&["status", "nosuch"]);
    c.exact(&["status", "grp:*"]);
    c.exact(&["status", "grp:"]);
    c.exact(&["status", "nogroup:*"]);
    c.exact(&["status", "cat", "nosuch", "manual"]);
    c.exact(&["status", "w:w_1", "grp:a"]);
    c.exact(&["status", "all"]);
}

fn start_stop(c: &mut Ctl) {
    c.exact(&["start", "cat"]); // already started: exit 0
    c.exact(&["start", "nosuch"]);
    c.exact(&["start"]);
    c.exact(&["start", "nogroup:*"]);
    c.exact(&["start", "noexist"]);
    c.exact(&["start", "notexec"]);
    c.exact(&["start", "crasher"]);
    c.settle("after start crasher", STANDARD_STATES);
    c.exact(&["stop", "cat"]);
    c.exact(&["stop", "cat"]); // not running: exit 0
    c.exact(&["stop"]);
    c.exact(&["stop", "nogroup:*"]);
    c.exact(&["stop", "nosuch"]);
    c.exact(&["start", "cat"]);
    c.cmd(&["stop", "all"], Out::SortedLines);
    let stopped = states_with(&[
        ("big", "STOPPED"),
        ("cat", "STOPPED"),
        ("grp:a", "STOPPED"),
        ("grp:b", "STOPPED"),
        ("nolog", "STOPPED"),
        ("sleeper", "STOPPED"),
        ("w:w_0", "STOPPED"),
        ("w:w_1", "STOPPED"),
        ("writer", "STOPPED"),
    ]);
    c.settle("after stop all", &stopped);
    c.exact(&["status"]);
    c.exact(&["stop", "grp:*"]); // nothing running: no output
    c.cmd(&["start", "all"], Out::SortedLines);
    let running = states_with(&[("manual", "RUNNING")]);
    c.settle("after start all", &running);
    // crasher, noexist and notexec are tried again (completion order).
    c.cmd(&["start", "all"], Out::SortedLines);
    c.settle("after start all (again)", &running);
    c.exact(&["restart", "sleeper"]);
    c.cmd(&["restart", "grp:*"], Out::SortedLines);
    c.exact(&["restart", "nosuch"]);
    c.exact(&["restart"]);
    c.exact(&["stop", "manual"]);
    c.exact(&["restart", "manual"]); // stopped: not running, then started
    c.exact(&["stop", "manual"]);
    c.settle("after the restarts", STANDARD_STATES);
    c.exact(&["status"]);
}

fn signal_and_pid(c: &mut Ctl) {
    let (r, o) = c
        .pair
        .each(|d| d.call("supervisor.getProcessInfo", json!(["sleeper"]))["ok"]["pid"].clone());
    c.exact(&["signal", "HUP", "sleeper"]);
    c.wait_respawn("sleeper", (r, o));
    c.exact(&["signal", "BOGUS", "sleeper"]);
    c.exact(&["signal", "CONT", "grp:*"]);
    c.exact(&["signal", "HUP", "noexist"]);
    c.exact(&["signal", "HUP", "nosuch"]);
    c.exact(&["signal", "HUP", "nogroup:*"]);
    c.exact(&["signal", "HUP"]);
    c.exact(&["signal"]);
    c.exact(&["pid"]);
    c.exact(&["pid", "sleeper"]);
    c.exact(&["pid", "nosuch"]);
    c.exact(&["pid", "noexist"]);
    c.exact(&["pid", "all"]);
}

fn logs(c: &mut Ctl) {
    c.exact(&["tail", "sleeper"]);
    c.exact(&["tail", "writer"]);
    c.exact(&["tail", "-100", "writer"]);
    c.exact(&["tail", "-3", "writer"]);
    c.exact(&["tail", "writer", "stderr"]);
    c.exact(&["tail", "-2000", "big"]);
    c.exact(&["tail", "nosuch"]);
    c.exact(&["tail", "grp:*"]);
    c.exact(&["tail", "nolog"]);
    c.exact(&["tail", "writer", "bogus"]);
    c.exact(&["tail", "-x", "writer"]);
    c.exact(&["tail"]);
    c.exact(&["tail", "-f", "writer", "stdout", "extra"]);
    // tail -f streams until Ctrl-C: interrupt once the log's end has been
    // shown (the writer wrote once), compare what came.
    let last_line = |text: &'static str| text.trim_end().rsplit('\n').next().unwrap_or(text);
    c.cmd_with(
        &["tail", "-f", "writer"],
        Out::Exact,
        Some(last_line(pair::WRITER_STDOUT)),
    );
    c.cmd_with(
        &["tail", "-f", "writer", "stderr"],
        Out::Exact,
        Some(last_line(pair::WRITER_STDERR)),
    );
    // A missing name: the client reports the 404 and ends by itself (a
    // Ctrl-C after the message would race its exit).
    c.exact(&["tail", "-f", "nosuch"]);

    // maintail: the main logs differ in content; it must work and exit 0.
    let ((r, _), (o, _)) = c
        .pair
        .each(|d| Ctl::run_on(d, c.client_for(d), &["maintail", "-100"], None));
    for (side, run) in [("reference", &r), ("ours", &o)] {
        c.report.expect(
            &format!(
                "supervisorctl maintail -100 ({side}) prints ≤100 bytes and a newline, exit 0"
            ),
            run.0 == 0
                && !run.1.is_empty()
                && run.1.len() <= 101
                && run.1.ends_with('\n')
                && run.2.is_empty(),
            &format!("{run:?}"),
        );
    }
    c.exact(&["maintail", "-x"]);
    c.exact(&["maintail", "100"]);
    c.exact(&["maintail", "-1", "-2"]);

    c.exact(&["clear", "writer"]);
    c.exact(&["tail", "writer"]);
    c.exact(&["clear", "nosuch"]);
    c.exact(&["clear"]);
    // `clear all` is covered by compat_rpc (clearAllProcessLogs): it takes
    // one main-loop pass per process, about a second each on the reference.
}

fn config_commands(c: &mut Ctl) {
    c.exact(&["avail"]);
    c.exact(&["avail", "x"]);
    c.exact(&["reread"]);
    c.exact(&["reread", "x"]);
    c.exact(&["update"]); // nothing changed: no output
    let edited = edited_body();
    c.pair.each(|d| d.write_body(&edited));
    c.exact(&["reread"]);
    c.exact(&["avail"]);
    c.exact(&["add", "x"]);
    c.settle("after add x", &states_with(&[("x", "RUNNING")]));
    c.exact(&["add", "x"]); // already active: exit 0
    c.exact(&["add", "nosuch"]);
    c.exact(&["add"]);
    c.exact(&["remove", "x"]); // still running
    c.exact(&["stop", "x"]);
    c.exact(&["remove", "x"]);
    c.exact(&["remove", "x"]); // gone
    c.exact(&["remove"]);
    c.exact(&["update", "bogus"]);
    c.exact(&["update"]);
    let mut after: Vec<(&str, &str)> = states_with(&[("x", "RUNNING")]);
    after.retain(|(n, _)| *n != "quick");
    c.settle("after update", &after);
    c.exact(&["status"]);
    c.exact(&["avail"]);
    c.exact(&["update", "all"]);
    c.exact(&["reread"]);
    c.exact(&["version"]);
    c.exact(&["version", "x"]);
}

fn local_commands(c: &mut Ctl) {
    c.exact(&["help"]);
    c.exact(&["help", "start"]);
    c.exact(&["help", "EOF"]);
    c.exact(&["help", "nosuch"]);
    c.exact(&["bogus"]);
}

fn reload_and_shutdown(c: &mut Ctl) {
    c.exact(&["reload", "x"]);
    c.exact(&["shutdown", "x"]);
    c.exact(&["reload"]);
    let (r, o) = c.pair.each(|d| d.wait_ready(Duration::from_secs(30)));
    if let Err(e) = r {
        c.report
            .fail("reference did not come back after reload", &e);
    }
    if let Err(e) = o {
        c.report.fail("ours did not come back after reload", &e);
    }
    let mut after: Vec<(&str, &str)> = states_with(&[("x", "RUNNING")]);
    after.retain(|(n, _)| *n != "quick");
    c.settle("after reload", &after);
    c.exact(&["status"]);
    c.exact(&["pid"]);
    c.exact(&["shutdown"]);
    let (r, o) = c
        .pair
        .each(|d| d.wait_exit(Duration::from_secs(30)).map(|s| s.code()));
    c.report.same(
        "daemon exit status after shutdown",
        &json!(format!("{r:?}")),
        &json!(format!("{o:?}")),
    );
    c.exact(&["status"]);
    c.exact(&["shutdown"]);
    c.exact(&["pid"]);
    c.exact(&["tail", "writer"]);
}
