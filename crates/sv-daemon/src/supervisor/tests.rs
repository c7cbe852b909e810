//! The actor's life cycle with fake children ([`testing`](super::testing))
//! and tokio's paused clock: no real process, no sleep. Each test drives
//! the actor the way its loop would (an operation, a reap, a deadline) and
//! checks states, replies, signals and log lines.

use std::time::Duration;

use sv_api::{FaultCode, RpcError, SupervisorState};
use sv_core::config::CliOverrides;
use sv_core::process::{ExitStatus, State};
use tokio::sync::{mpsc, oneshot};

use super::testing::FakeChildren;
use super::{Bus, Kept, Op, OpError, Outcome, Reply, Seams, Supervisor};
use crate::capture::ChildOutput;
use crate::mainlog::MainLog;
use crate::spawn::SpawnContext;
use crate::spawn::SpawnError;
use crate::sys::ChildLimits;
use sv_host::SystemHost;

mod childlogs;
mod clock;
mod dependencies;
mod memory;
mod scale;

const SIGKILL: i32 = 9;
const SIGTERM: i32 = 15;
const SIGINT: i32 = 2;

/// A fixed wall clock: records' times do not depend on the machine's.
fn fixed_wall_clock() -> f64 {
    1_700_000_000.0
}

struct Harness {
    sup: Supervisor,
    kids: FakeChildren,
    output: mpsc::UnboundedReceiver<ChildOutput>,
    dir: tempfile::TempDir,
}

fn config_text(dir: &std::path::Path, sections: &str) -> String {
    let dir = dir.display();
    format!(
        "[supervisord]\nlogfile={dir}/supervisord.log\npidfile={dir}/supervisord.pid\n\
         childlogdir={dir}\nloglevel=debug\n\n{sections}"
    )
}

/// A `[program:x]` whose output is not logged, plus `extra` lines.
fn program(name: &str, extra: &str) -> String {
    format!(
        "[program:{name}]\ncommand=fake-{name}\nstdout_logfile=NONE\nstderr_logfile=NONE\n{extra}\n\n"
    )
}

impl Harness {
    /// A booted actor (groups added, autostart done) over `sections`.
    fn new(sections: &str) -> Harness {
        let mut harness = Harness::unbooted(sections);
        harness.sup.boot_all();
        harness.pump();
        harness
    }

    /// The actor before its loop starts.
    fn unbooted(sections: &str) -> Harness {
        Harness::unbooted_with(sections, fixed_wall_clock)
    }

    /// [`Harness::unbooted`] with its own wall clock.
    fn unbooted_with(sections: &str, wall_clock: super::WallClock) -> Harness {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("supervisord.conf");
        std::fs::write(&path, config_text(dir.path(), sections)).expect("write config");
        let file = path.display().to_string();
        let config = sv_core::config::load(&SystemHost, &file, &CliOverrides::default())
            .expect("config loads");
        let log = MainLog::open(&config.supervisord).expect("main log");
        let kids = FakeChildren::default();
        let reload =
            Box::new(move || sv_core::config::load(&SystemHost, &file, &CliOverrides::default()));
        let spawn_ctx = SpawnContext {
            base_env: Vec::new(),
            server_url: None,
            limits: ChildLimits {
                nofile_soft: 1024,
                nofile_hard: 1024,
            },
        };
        let seams = Seams {
            spawner: kids.spawner(),
            os_signals: false,
            wall_clock,
            children_file: None,
            booted: None,
        };
        let kept = Kept {
            log,
            event_serial: None,
        };
        let mut sup = Supervisor::with_seams(config, kept, spawn_ctx, Bus::new(), reload, seams);
        let output = sup.output_rx.take().expect("output channel");
        Harness {
            sup,
            kids,
            output,
            dir,
        }
    }

    /// Rewrite the configuration file (for reread/update).
    fn rewrite(&self, sections: &str) {
        let path = self.dir.path().join("supervisord.conf");
        std::fs::write(&path, config_text(self.dir.path(), sections)).expect("write config");
    }

    /// What the pipe readers queued (exits, output), as the loop handles it.
    fn pump(&mut self) {
        while let Ok(output) = self.output.try_recv() {
            self.sup.child_output(output);
        }
    }

    /// Send an operation; its reply channel.
    fn ask<T>(
        &mut self,
        make: impl FnOnce(Reply<T>) -> Op,
    ) -> oneshot::Receiver<Result<T, OpError>> {
        let (reply, rx) = oneshot::channel();
        self.sup.handle(make(reply));
        self.pump();
        rx
    }

    fn start(&mut self, spec: &str, wait: bool) -> oneshot::Receiver<Result<(), OpError>> {
        let spec = spec.to_string();
        self.ask(|reply| Op::Start { spec, wait, reply })
    }

    fn stop(&mut self, spec: &str, wait: bool) -> oneshot::Receiver<Result<(), OpError>> {
        let spec = spec.to_string();
        self.ask(|reply| Op::Stop { spec, wait, reply })
    }

    /// `name`'s child ends; the actor reaps it as after SIGCHLD.
    fn end(&mut self, name: &str, status: ExitStatus) {
        self.kids.end(name, status);
        self.sup.reap();
        self.pump();
    }

    fn exit(&mut self, name: &str, code: i32) {
        self.end(name, ExitStatus::Exited(code));
    }

    /// Let `secs` pass and fire what is due, as the loop's timer does.
    async fn advance(&mut self, secs: f64) {
        tokio::time::advance(Duration::from_secs_f64(secs)).await;
        self.sup.fire_due();
        self.pump();
    }

    fn state(&self, name: &str) -> State {
        self.sup
            .table
            .values()
            .find(|m| m.process.name() == name)
            .map(|m| m.process.state())
            .expect("known process")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("supervisord.log")).unwrap_or_default()
    }
}

/// The answer, if one was sent.
fn answer<T>(rx: &mut oneshot::Receiver<Result<T, OpError>>) -> Option<Result<T, OpError>> {
    rx.try_recv().ok()
}

fn fault<T: std::fmt::Debug>(rx: &mut oneshot::Receiver<Result<T, OpError>>) -> String {
    match answer(rx) {
        Some(Err(e)) => RpcError::from(e).text(),
        other => panic!("expected a fault, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn start_reaches_running_after_startsecs() {
    let mut h = Harness::new(&program("a", "autostart=false\nstartsecs=2"));
    assert_eq!(h.state("a"), State::Stopped);
    let mut reply = h.start("a", false);
    assert_eq!(answer(&mut reply), Some(Ok(())));
    assert_eq!(h.state("a"), State::Starting);
    assert_eq!(h.kids.spawns().len(), 1);
    h.advance(1.9).await;
    assert_eq!(h.state("a"), State::Starting);
    h.advance(0.1).await;
    assert_eq!(h.state("a"), State::Running);
    assert!(h.log().contains(
        "success: a entered RUNNING state, process has stayed up for > than 2 seconds (startsecs)"
    ));
}

#[tokio::test(start_paused = true)]
async fn autostart_starts_groups_at_boot() {
    let h = Harness::new(&(program("a", "startsecs=1") + &program("b", "autostart=false")));
    assert_eq!(h.state("a"), State::Starting);
    assert_eq!(h.state("b"), State::Stopped);
}

#[tokio::test(start_paused = true)]
async fn start_with_wait_is_answered_once_running() {
    let mut h = Harness::new(&program("a", "autostart=false\nstartsecs=3"));
    let mut reply = h.start("a", true);
    assert_eq!(answer(&mut reply), None, "still STARTING");
    h.advance(3.0).await;
    assert_eq!(answer(&mut reply), Some(Ok(())));
}

#[tokio::test(start_paused = true)]
async fn early_exits_back_off_retry_then_fatal() {
    let mut h = Harness::new(&program(
        "a",
        "autostart=false\nstartsecs=5\nstartretries=2",
    ));
    let mut reply = h.start("a", true);
    h.exit("a", 1);
    assert_eq!(h.state("a"), State::Backoff);
    assert_eq!(fault(&mut reply), "SPAWN_ERROR: a", "exited too quickly");
    // Retry after 1 s (backoff 1), then 2 s (backoff 2).
    h.advance(1.0).await;
    assert_eq!(h.state("a"), State::Starting);
    h.exit("a", 1);
    assert_eq!(h.state("a"), State::Backoff);
    h.advance(1.0).await;
    assert_eq!(h.state("a"), State::Backoff, "second retry waits 2 s");
    h.advance(1.0).await;
    assert_eq!(h.state("a"), State::Starting);
    h.exit("a", 1);
    assert_eq!(h.state("a"), State::Fatal);
    assert_eq!(h.kids.spawns().len(), 3);
    assert!(
        h.log()
            .contains("gave up: a entered FATAL state, too many start retries too quickly")
    );
}

#[tokio::test(start_paused = true)]
async fn spawn_error_is_answered_at_once_and_backs_off() {
    let mut h = Harness::new(&program("a", "autostart=false\nstartretries=0"));
    h.kids.fail_next_spawn(
        "a",
        SpawnError::Chdir {
            dir: "/nowhere".into(),
            errno: "ENOENT".into(),
        },
    );
    let mut reply = h.start("a", true);
    assert_eq!(fault(&mut reply), "SPAWN_ERROR: a");
    assert_eq!(h.state("a"), State::Fatal, "no retries allowed");
    assert!(
        h.log()
            .contains("spawnerr: couldn't chdir to /nowhere: ENOENT")
    );
}

#[tokio::test(start_paused = true)]
async fn command_checks_answer_no_file_or_not_executable_before_any_state_change() {
    let mut h = Harness::new(&(program("a", "autostart=false") + &program("b", "autostart=false")));
    h.kids
        .fail_check("a", SpawnError::NotFound("fake-a".into()));
    h.kids
        .fail_check("b", SpawnError::NotExecutable("/x".into()));
    let mut a = h.start("a", false);
    let mut b = h.start("b", false);
    assert_eq!(fault(&mut a), "NO_FILE: can't find command 'fake-a'");
    assert_eq!(
        fault(&mut b),
        "NOT_EXECUTABLE: command at '/x' is not executable"
    );
    assert_eq!(h.state("a"), State::Stopped);
    assert!(h.kids.spawns().is_empty());
}

#[tokio::test(start_paused = true)]
async fn start_refuses_what_is_already_started_and_unknown_names() {
    let mut h = Harness::new(&program("a", "startsecs=0"));
    let mut again = h.start("a", false);
    assert_eq!(fault(&mut again), "ALREADY_STARTED: a");
    let mut unknown = h.start("nosuch", false);
    assert_eq!(fault(&mut unknown), "BAD_NAME: nosuch");
    let mut stop_unknown = h.stop("a:nosuch", false);
    assert_eq!(fault(&mut stop_unknown), "BAD_NAME: a:nosuch");
}

#[tokio::test(start_paused = true)]
async fn start_with_wait_reports_abnormal_termination_when_stopped_meanwhile() {
    let mut h = Harness::new(&program("a", "autostart=false\nstartsecs=10"));
    let mut start = h.start("a", true);
    let mut stop = h.stop("a", false);
    assert_eq!(answer(&mut stop), Some(Ok(())));
    assert_eq!(fault(&mut start), "ABNORMAL_TERMINATION: a");
}

#[tokio::test(start_paused = true)]
async fn expected_exit_stays_exited_unexpected_exit_restarts() {
    let mut h = Harness::new(&program(
        "a",
        "startsecs=1\nautorestart=unexpected\nexitcodes=0",
    ));
    h.advance(1.0).await;
    assert_eq!(h.state("a"), State::Running);
    h.exit("a", 0);
    assert_eq!(h.state("a"), State::Exited);
    assert!(h.log().contains("exited: a (exit status 0; expected)"));
    h.start("a", false);
    h.advance(1.0).await;
    h.exit("a", 3);
    assert_eq!(h.state("a"), State::Starting, "restarted at once");
    assert_eq!(h.kids.spawns().len(), 3);
    assert!(h.log().contains("exited: a (exit status 3; not expected)"));
}

#[tokio::test(start_paused = true)]
async fn autorestart_true_restarts_after_any_exit_and_false_never() {
    let mut h = Harness::new(
        &(program("always", "startsecs=1\nautorestart=true")
            + &program("never", "startsecs=1\nautorestart=false")),
    );
    h.advance(1.0).await;
    h.exit("always", 0);
    h.exit("never", 1);
    assert_eq!(h.state("always"), State::Starting);
    assert_eq!(h.state("never"), State::Exited);
}

#[tokio::test(start_paused = true)]
async fn stop_escalates_to_sigkill_after_stopwaitsecs() {
    let mut h = Harness::new(&program("a", "startsecs=1\nstopwaitsecs=4\nstopsignal=INT"));
    h.advance(1.0).await;
    let pid = h.kids.pid_of("a").expect("running") as i32;
    let mut stop = h.stop("a", true);
    assert_eq!(h.state("a"), State::Stopping);
    assert_eq!(h.kids.signals(), vec![(pid, SIGINT)]);
    h.advance(3.9).await;
    assert_eq!(h.kids.signals().len(), 1);
    assert_eq!(answer(&mut stop), None);
    h.advance(0.1).await;
    assert_eq!(h.kids.signals(), vec![(pid, SIGINT), (pid, SIGKILL)]);
    assert!(
        h.log()
            .contains(&format!("killing 'a' ({pid}) with SIGKILL"))
    );
    h.end(
        "a",
        ExitStatus::Signaled {
            signal: SIGKILL,
            core_dumped: false,
        },
    );
    assert_eq!(h.state("a"), State::Stopped);
    assert_eq!(answer(&mut stop), Some(Ok(())));
    assert!(h.log().contains("stopped: a (terminated by SIGKILL)"));
}

#[tokio::test(start_paused = true)]
async fn stopasgroup_and_killasgroup_signal_the_process_group() {
    let mut h = Harness::new(&program(
        "a",
        "startsecs=0\nstopwaitsecs=1\nstopasgroup=true\nkillasgroup=true",
    ));
    h.advance(0.0).await;
    let pid = h.kids.pid_of("a").expect("running") as i32;
    h.stop("a", false);
    h.advance(1.0).await;
    assert_eq!(h.kids.signals(), vec![(-pid, SIGTERM), (-pid, SIGKILL)]);
}

#[tokio::test(start_paused = true)]
async fn stop_refuses_what_is_not_running() {
    let mut h = Harness::new(&program("a", "autostart=false"));
    let mut stop = h.stop("a", false);
    assert_eq!(fault(&mut stop), "NOT_RUNNING: a");
}

#[tokio::test(start_paused = true)]
async fn shutdown_stops_groups_by_priority_highest_first_in_waves() {
    let mut h = Harness::new(
        &(program("low", "startsecs=0\npriority=10")
            + &program("high", "startsecs=0\npriority=900")
            + &program("high2", "startsecs=0\npriority=900")),
    );
    h.advance(0.0).await;
    let mut reply = h.ask(Op::Shutdown);
    assert_eq!(answer(&mut reply), Some(Ok(())));
    assert_eq!(h.sup.mood, SupervisorState::Shutdown);
    let stopped = |h: &Harness| -> Vec<i32> { h.kids.signals().iter().map(|s| s.0).collect() };
    let pid = |h: &Harness, n: &str| h.kids.pid_of(n).expect("live") as i32;
    let (high, high2, low) = (pid(&h, "high"), pid(&h, "high2"), pid(&h, "low"));
    let mut first_wave = stopped(&h);
    first_wave.sort_unstable();
    let mut expected = vec![high, high2];
    expected.sort_unstable();
    assert_eq!(first_wave, expected, "priority 900 first, together");
    h.exit("high", 0);
    assert_eq!(stopped(&h).len(), 2, "the wave is not over");
    assert!(h.sup.finished().is_none());
    h.exit("high2", 0);
    assert_eq!(stopped(&h).last(), Some(&low), "then priority 10");
    h.exit("low", 0);
    assert!(matches!(h.sup.finished(), Some(Outcome::Shutdown)));
}

#[tokio::test(start_paused = true)]
async fn shutdown_refuses_other_operations_and_fails_waiters() {
    let mut h = Harness::new(&program("a", "startsecs=0"));
    h.advance(0.0).await;
    let mut stop = h.stop("a", true);
    h.ask(Op::Shutdown);
    let mut start = h.start("a", false);
    assert_eq!(fault(&mut start), "SHUTDOWN_STATE");
    h.exit("a", 0);
    assert_eq!(answer(&mut stop), Some(Ok(())));
    assert!(matches!(h.sup.finished(), Some(Outcome::Shutdown)));
}

#[tokio::test(start_paused = true)]
async fn waiters_left_at_the_end_are_answered_shutdown_state() {
    let mut h = Harness::new(&program("a", "autostart=false\nstartsecs=60"));
    let mut start = h.start("a", true);
    h.ask(Op::Shutdown);
    h.end(
        "a",
        ExitStatus::Signaled {
            signal: SIGTERM,
            core_dumped: false,
        },
    );
    // The start waiter saw STOPPING first.
    assert_eq!(fault(&mut start), "ABNORMAL_TERMINATION: a");
    // Whoever still waits when the actor ends is told why.
    let mut h = Harness::new(&program("b", "autostart=false\nstartsecs=60"));
    let mut start = h.start("b", true);
    h.sup.fail_waiters();
    assert_eq!(fault(&mut start), "SHUTDOWN_STATE");
}

#[tokio::test(start_paused = true)]
async fn reload_config_then_add_and_remove_groups() {
    let mut h = Harness::new(
        &(program("keep", "startsecs=0")
            + &program("change", "startsecs=0")
            + &program("gone", "startsecs=0")),
    );
    h.advance(0.0).await;
    h.rewrite(
        &(program("keep", "startsecs=0")
            + &program("change", "startsecs=0\nstopsignal=HUP")
            + &program("new", "startsecs=0")),
    );
    let mut reread = h.ask(Op::ReloadConfig);
    assert_eq!(
        answer(&mut reread),
        Some(Ok([
            vec!["new".to_string()],
            vec!["change".to_string()],
            vec!["gone".to_string()]
        ]))
    );
    let mut busy = h.ask(|r| Op::RemoveGroup("gone".into(), r));
    assert_eq!(fault(&mut busy), "STILL_RUNNING: gone");
    h.stop("gone", false);
    h.exit("gone", 0);
    let mut removed = h.ask(|r| Op::RemoveGroup("gone".into(), r));
    assert_eq!(answer(&mut removed), Some(Ok(())));
    let mut added = h.ask(|r| Op::AddGroup("new".into(), r));
    assert_eq!(answer(&mut added), Some(Ok(())));
    assert_eq!(h.state("new"), State::Starting, "autostart on add");
    let mut twice = h.ask(|r| Op::AddGroup("new".into(), r));
    assert_eq!(fault(&mut twice), "ALREADY_ADDED: new");
    let mut unknown = h.ask(|r| Op::AddGroup("gone".into(), r));
    assert_eq!(fault(&mut unknown), "BAD_NAME: gone");
}

#[tokio::test(start_paused = true)]
async fn reload_config_with_a_broken_file_is_cant_reread() {
    let mut h = Harness::new(&program("a", "autostart=false"));
    h.rewrite("[program:broken]\n");
    let mut reread = h.ask(Op::ReloadConfig);
    match answer(&mut reread) {
        Some(Err(e)) => assert_eq!(RpcError::from(e).code, FaultCode::CantReread),
        other => panic!("expected CANT_REREAD, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn restart_stops_everything_then_returns_the_new_configuration() {
    let mut h = Harness::new(&program("a", "startsecs=0"));
    h.advance(0.0).await;
    h.rewrite(&(program("a", "startsecs=0") + &program("b", "startsecs=0")));
    h.ask(Op::Restart);
    assert_eq!(h.sup.mood, SupervisorState::Restarting);
    h.exit("a", 0);
    match h.sup.finished() {
        Some(Outcome::Restart(config)) => assert_eq!(config.groups.len(), 2),
        other => panic!("expected a restart, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn signal_process_reaches_a_running_child_only() {
    let mut h = Harness::new(&(program("a", "startsecs=0") + &program("b", "autostart=false")));
    h.advance(0.0).await;
    let pid = h.kids.pid_of("a").expect("running") as i32;
    let mut ok = h.ask(|reply| Op::Signal {
        spec: "a".into(),
        signal: 1,
        reply,
    });
    assert_eq!(answer(&mut ok), Some(Ok(())));
    assert_eq!(h.kids.signals(), vec![(pid, 1)]);
    assert_eq!(h.state("a"), State::Running);
    let mut not = h.ask(|reply| Op::Signal {
        spec: "b".into(),
        signal: 1,
        reply,
    });
    assert_eq!(fault(&mut not), "NOT_RUNNING: b");
}

/// Issue 15, hole 2: a `kill` the kernel refuses answers FAILED with
/// Supervisor's text and leaves the process as it was (Supervisor: UNKNOWN,
/// pid forgotten, the child orphaned); stop and start keep working after.
#[tokio::test(start_paused = true)]
async fn a_refused_kill_answers_failed_and_changes_no_state() {
    let mut h = Harness::new(&program("a", "startsecs=0"));
    h.advance(0.0).await;
    let pid = h.kids.pid_of("a").expect("running");
    h.kids.refuse_signals(Some(nix::errno::Errno::EPERM));
    let mut refused = h.ask(|reply| Op::Signal {
        spec: "a".into(),
        signal: 10,
        reply,
    });
    assert_eq!(
        fault(&mut refused),
        format!("FAILED: unknown problem sending sig a ({pid}):Operation not permitted")
    );
    assert_eq!(h.state("a"), State::Running);
    assert_eq!(h.kids.pid_of("a"), Some(pid));
    let mut stop = h.ask(|reply| Op::Stop {
        spec: "a".into(),
        wait: false,
        reply,
    });
    assert_eq!(
        fault(&mut stop),
        format!("FAILED: unknown problem killing a ({pid}):Operation not permitted")
    );
    assert_eq!(h.state("a"), State::Stopping, "SIGKILL still follows");
    h.kids.refuse_signals(None);
    h.advance(10.0).await;
    assert_eq!(h.kids.signals().last(), Some(&(pid as i32, SIGKILL)));
    h.end(
        "a",
        ExitStatus::Signaled {
            signal: SIGKILL,
            core_dumped: false,
        },
    );
    assert_eq!(h.state("a"), State::Stopped);
    let mut start = h.ask(|reply| Op::Start {
        spec: "a".into(),
        wait: false,
        reply,
    });
    assert_eq!(answer(&mut start), Some(Ok(())));
    assert!(h.kids.pid_of("a").is_some_and(|p| p != pid));
}

#[tokio::test(start_paused = true)]
async fn process_info_reports_the_fake_pid_and_fixed_clock() {
    let mut h = Harness::new(&program("a", "startsecs=0"));
    h.advance(0.0).await;
    let mut info = h.ask(|r| Op::ProcessInfo("a".into(), r));
    let info = match answer(&mut info) {
        Some(Ok(info)) => info,
        other => panic!("{other:?}"),
    };
    assert_eq!(info.pid, h.kids.pid_of("a").expect("running"));
    assert_eq!(info.statename, "RUNNING");
    assert_eq!(info.now, 1_700_000_000);
    assert_eq!(info.start, 1_700_000_000);
}

/// The whole loop, as the binary runs it: shutdown is asked over the
/// request channel, children die on SIGTERM, the loop returns.
#[tokio::test(start_paused = true)]
async fn the_loop_runs_to_shutdown_with_fake_children() {
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            let h =
                Harness::unbooted(&(program("a", "startsecs=1") + &program("b", "startsecs=1")));
            h.kids.die_on(SIGTERM);
            let Harness {
                mut sup,
                kids,
                output,
                dir: _dir,
            } = h;
            sup.output_rx = Some(output);
            let (tx, mut rx) = mpsc::channel(8);
            let actor = tokio::task::spawn_local(async move { sup.run(&mut rx).await });
            // Let startsecs pass on the paused clock.
            tokio::time::sleep(Duration::from_secs(2)).await;
            let (reply, answered) = oneshot::channel();
            tx.send(Op::Shutdown(reply)).await.expect("actor alive");
            assert_eq!(answered.await.expect("answer"), Ok(()));
            // Virtual time: a loop that never finishes fails here at once.
            let ended = tokio::time::timeout(Duration::from_secs(3600), actor).await;
            let (outcome, _kept) = ended.expect("actor ends").expect("actor task");
            assert!(matches!(outcome, Outcome::Shutdown));
            assert_eq!(kids.signals().len(), 2);
            assert_eq!(kids.spawns().len(), 2);
        })
        .await;
}

#[tokio::test(start_paused = true)]
async fn output_chunks_go_to_pools_but_stay_off_the_bus() {
    let mut h = Harness::new(&program("a", "startsecs=0"));
    let mut bus = h.sup.bus.subscribe();
    let key = h.sup.table.keys().next().expect("one process");
    h.sup.child_output(ChildOutput::Log {
        key,
        pid: 1,
        channel: sv_core::events::Channel::Stdout,
        data: b"chunk".to_vec(),
    });
    h.sup.emit(super::BusEvent::GroupAdded("g".into()));
    assert!(matches!(bus.try_recv(), Ok(super::BusEvent::GroupAdded(_))));
    assert!(bus.try_recv().is_err(), "nothing else was published");
}

#[tokio::test(start_paused = true)]
async fn shutdown_gives_up_on_a_process_in_backoff() {
    let mut h = Harness::new(&program("a", "startsecs=5\nstartretries=3"));
    h.exit("a", 1);
    assert_eq!(h.state("a"), State::Backoff);
    h.ask(Op::Shutdown);
    assert_eq!(h.state("a"), State::Fatal, "not retried while stopping");
    h.advance(10.0).await;
    assert_eq!(h.kids.spawns().len(), 1);
    assert!(matches!(h.sup.finished(), Some(Outcome::Shutdown)));
}

#[tokio::test(start_paused = true)]
async fn send_stdin_needs_a_running_child_with_a_pipe() {
    let mut h = Harness::new(&(program("a", "startsecs=0") + &program("b", "autostart=false")));
    h.advance(0.0).await;
    let mut stopped = h.ask(|reply| Op::SendStdin {
        spec: "b".into(),
        data: b"x".to_vec(),
        reply,
    });
    assert_eq!(fault(&mut stopped), "NOT_RUNNING: b");
    // A fake child has no stdin pipe.
    let mut no_pipe = h.ask(|reply| Op::SendStdin {
        spec: "a".into(),
        data: b"x".to_vec(),
        reply,
    });
    assert_eq!(fault(&mut no_pipe), "NO_FILE: a");
}
