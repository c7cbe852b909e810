//! The actor at a few thousand programs: every per-event step of a
//! shutdown is O(1) (work counted, not timed), and requests are answered
//! while the boot wave is still starting programs.

use std::time::Duration;

use sv_core::process::State;
use tokio::sync::{mpsc, oneshot};

use super::{Harness, Op, Outcome, SIGTERM, answer, program};

/// `n` programs `p0000…`, spread over `priorities` group priorities.
fn programs(n: usize, priorities: usize, extra: &str) -> String {
    (0..n)
        .map(|i| {
            let priority = 100 * (1 + i % priorities);
            program(
                &format!("p{i:04}"),
                &format!("priority={priority}\n{extra}"),
            )
        })
        .collect()
}

const N: usize = 3000;

/// Issue 19: after every child exit the whole stop wave was walked again
/// and each group found by a linear search — shutdown grew as N³ (174 s at
/// 6000 programs). Now the waves are computed once and walked with a
/// cursor: the stop machinery visits each process a bounded number of
/// times however many exits it handles.
#[tokio::test(start_paused = true)]
async fn regression_shutdown_rewalks_stop_wave_per_event() {
    let mut h = Harness::new(&programs(N, 3, "startsecs=0"));
    h.advance(0.0).await;
    assert!(
        h.sup
            .table
            .values()
            .all(|m| m.process.state() == State::Running)
    );
    h.kids.die_on(SIGTERM);
    let mut reply = h.ask(Op::Shutdown);
    assert_eq!(answer(&mut reply), Some(Ok(())));
    // Each exit is its own event, as when SIGCHLDs arrive one by one.
    let mut events = 0;
    while h.sup.finished().is_none() {
        let ended = h.sup.spawner.reap();
        assert!(!ended.is_empty(), "shutdown stalled after {events} exits");
        for (pid, status) in ended {
            let key = h.sup.table.take_pid(pid).expect("a known pid");
            h.sup
                .child_output(crate::capture::ChildOutput::Reaped { key, status });
            events += 1;
            if let Some(plan) = h.sup.stopping.as_ref() {
                assert!(
                    plan.visits <= 2 * N as u64,
                    "{} visits after {events} exits",
                    plan.visits
                );
            }
        }
    }
    assert_eq!(events, N);
    // Highest priority first, each wave in reverse name order within its
    // groups' order.
    let names_by_pid: std::collections::HashMap<i32, String> = h
        .kids
        .spawns()
        .into_iter()
        .map(|(_, name, pid)| (pid as i32, name))
        .collect();
    let names: Vec<&String> = h
        .kids
        .signals()
        .iter()
        .map(|(pid, _)| names_by_pid.get(pid).expect("a spawned pid"))
        .collect();
    let priority = |name: &str| name[1..].parse::<usize>().map(|i| i % 3).expect("pNNNN");
    assert!(
        names.windows(2).all(|w| priority(w[0]) >= priority(w[1])),
        "waves by priority, highest first"
    );
    assert!(
        names
            .windows(2)
            .filter(|w| priority(w[0]) == priority(w[1]))
            .all(|w| w[0] < w[1]),
        "a wave's groups in the order they were added (priority, name)"
    );
}

/// Issue 19: the boot wave held the actor until the last autostart spawn
/// (13 s at 6000 programs, no RPC answered meanwhile). Now it starts a
/// batch per turn of the loop, and a request sent once the wave is under
/// way is answered before it ends.
#[tokio::test(start_paused = true)]
async fn regression_boot_wave_holds_the_actor() {
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            let h = Harness::unbooted(&programs(N, 3, "startsecs=1"));
            h.kids.die_on(SIGTERM);
            let Harness {
                mut sup,
                kids,
                output,
                dir,
            } = h;
            sup.output_rx = Some(output);
            let (tx, mut rx) = mpsc::channel(8);
            let actor = tokio::task::spawn_local(async move { sup.run(&mut rx).await });
            // Until the wave has begun (bounded: a few turns suffice).
            for _ in 0..10_000 {
                if !kids.spawns().is_empty() {
                    break;
                }
                tokio::task::yield_now().await;
            }
            assert!(!kids.spawns().is_empty(), "the wave began");
            let (reply, answered) = oneshot::channel();
            tx.send(Op::AllProcessInfo(reply))
                .await
                .expect("actor alive");
            let infos = answered.await.expect("answer").expect("records");
            let spawned = kids.spawns().len();
            assert!(
                spawned < N,
                "answered before the wave ended ({spawned} spawned)"
            );
            let starting = infos.iter().filter(|i| i.statename == "STARTING").count();
            let stopped = infos.iter().filter(|i| i.statename == "STOPPED").count();
            assert_eq!((starting, stopped), (spawned, N - spawned));

            // The wave goes on to the end, in start order.
            let (reply, answered) = oneshot::channel();
            tokio::time::sleep(Duration::from_secs(5)).await;
            tx.send(Op::Shutdown(reply)).await.expect("actor alive");
            assert_eq!(answered.await.expect("answer"), Ok(()));
            let ended = tokio::time::timeout(Duration::from_secs(3600), actor).await;
            let (outcome, _kept) = ended.expect("actor ends").expect("actor task");
            assert!(matches!(outcome, Outcome::Shutdown));
            let spawns: Vec<String> = kids.spawns().into_iter().map(|s| s.1).collect();
            let priority = |name: &str| name[1..].parse::<usize>().map(|i| i % 3).expect("pNNNN");
            let mut expected = spawns.clone();
            expected.sort_by_key(|name| (priority(name), name.clone()));
            assert_eq!(spawns.len(), N);
            assert_eq!(spawns, expected, "groups by priority, then name");
            // Supervisor's log order: every spawn before the first success.
            let log =
                std::fs::read_to_string(dir.path().join("supervisord.log")).unwrap_or_default();
            let last_spawn = log.rfind("spawned: ").expect("spawn lines");
            let first_success = log.find("success: ").expect("success lines");
            assert!(last_spawn < first_success);
        })
        .await;
}

/// `stopAllProcesses` with `wait` leaves one waiter per process: each is
/// answered when its own process stops, and each reports once at the
/// batch's end (the waiters are kept by process and their reports in a
/// time-ordered queue, not walked at every event).
#[tokio::test(start_paused = true)]
async fn many_stop_waiters_are_each_answered_and_reported_once() {
    let mut h = Harness::new(&programs(N, 1, "startsecs=0"));
    h.advance(0.0).await;
    let mut replies = Vec::new();
    for i in 0..N {
        let (reply, rx) = oneshot::channel();
        h.sup.handle(Op::Stop {
            spec: format!("p{i:04}"),
            wait: true,
            reply,
        });
        replies.push(rx);
    }
    h.sup.report_stopping_waiters(h.sup.now().mono);
    assert_eq!(h.log().matches(" to stop").count(), N);
    assert!(
        replies.iter_mut().all(|r| r.try_recv().is_err()),
        "none stopped yet"
    );
    h.exit("p0007", 0);
    assert_eq!(answer(&mut replies[7]), Some(Ok(())));
    assert!(answer(&mut replies[8]).is_none());
    for i in 0..N {
        h.kids
            .end(&format!("p{i:04}"), sv_core::process::ExitStatus::Exited(0));
    }
    h.sup.reap();
    h.pump();
    let answered = replies
        .iter_mut()
        .enumerate()
        .filter(|(i, _)| *i != 7)
        .all(|(_, r)| matches!(r.try_recv(), Ok(Ok(()))));
    assert!(answered, "every waiter answered");
    assert!(h.sup.waiters.next_report().is_none());
}
