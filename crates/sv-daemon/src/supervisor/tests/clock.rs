//! A wall-clock jump (NTP step, a manual `date -s`, a VM resumed) moves no
//! deadline: startsecs, backoff and stopwaitsecs run on the monotonic clock
//! (`tokio::time::Instant`, paused here), and the wall clock only feeds
//! what the wire reports (start/stop times, `now`) and TICK events, which
//! Supervisor also aligns to the wall clock.

use std::sync::atomic::{AtomicI64, Ordering};

use sv_core::process::State;

use super::{Harness, SIGKILL, SIGTERM, answer, program};

/// Seconds added to a fixed epoch: the test moves the wall clock with it.
static WALL_OFFSET: AtomicI64 = AtomicI64::new(0);

fn jumping_wall_clock() -> f64 {
    1_700_000_000.0 + WALL_OFFSET.load(Ordering::SeqCst) as f64
}

/// Jump the wall clock by `secs` (negative: backwards).
fn jump(secs: i64) {
    WALL_OFFSET.fetch_add(secs, Ordering::SeqCst);
}

fn booted(sections: &str) -> Harness {
    let mut h = Harness::unbooted_with(sections, jumping_wall_clock);
    h.sup.boot_all();
    h.pump();
    h
}

// One test moves the clock through all three deadlines: tests of this
// binary run in parallel, and the offset is shared by whoever uses it.
#[tokio::test(start_paused = true)]
async fn wall_clock_jumps_move_no_deadline() {
    let mut h = booted(&program(
        "a",
        "autostart=false\nstartsecs=5\nstartretries=3\nstopwaitsecs=10",
    ));

    // startsecs: an hour back, then a day forward, while STARTING.
    let mut reply = h.start("a", false);
    assert_eq!(answer(&mut reply), Some(Ok(())));
    jump(-3600);
    h.advance(4.9).await;
    assert_eq!(h.state("a"), State::Starting, "a jump back delays nothing");
    jump(86_400);
    h.advance(0.0).await;
    assert_eq!(
        h.state("a"),
        State::Starting,
        "a jump forward hastens nothing"
    );
    h.advance(0.1).await;
    assert_eq!(h.state("a"), State::Running);

    // stopwaitsecs: SIGKILL exactly 10 monotonic seconds after SIGTERM.
    let mut reply = h.stop("a", false);
    assert_eq!(answer(&mut reply), Some(Ok(())));
    let pid = h
        .kids
        .signals()
        .last()
        .map(|(pid, _)| *pid)
        .expect("SIGTERM");
    assert_eq!(h.kids.signals().last(), Some(&(pid, SIGTERM)));
    jump(86_400 * 365);
    h.advance(9.9).await;
    assert!(!h.kids.signals().contains(&(pid, SIGKILL)));
    jump(-86_400 * 400);
    h.advance(0.1).await;
    assert!(h.kids.signals().contains(&(pid, SIGKILL)));
    h.end(
        "a",
        sv_core::process::ExitStatus::Signaled {
            signal: SIGKILL,
            core_dumped: false,
        },
    );
    assert_eq!(h.state("a"), State::Stopped);

    // "Exited too quickly" is judged on the monotonic clock: a day's jump
    // forward does not make a 0-second run look long enough; the retry
    // comes 1 monotonic second after the early exit.
    let mut reply = h.start("a", false);
    assert_eq!(answer(&mut reply), Some(Ok(())));
    jump(86_400);
    h.exit("a", 1);
    assert_eq!(h.state("a"), State::Backoff);
    jump(-7200);
    h.advance(0.9).await;
    assert_eq!(h.state("a"), State::Backoff);
    jump(7200 * 2);
    h.advance(0.1).await;
    assert_eq!(h.state("a"), State::Starting);
}

/// Deadlines are armed from the monotonic clock only: no file of the
/// actor or of the state machine reads the wall clock except the one seam.
#[test]
fn no_deadline_reads_the_wall_clock() {
    let sources = [
        ("supervisor/actor.rs", include_str!("../actor.rs")),
        ("supervisor/ops.rs", include_str!("../ops.rs")),
        ("supervisor/stopping.rs", include_str!("../stopping.rs")),
        ("supervisor/waiters.rs", include_str!("../waiters.rs")),
        ("supervisor/groups.rs", include_str!("../groups.rs")),
        ("supervisor/event_glue.rs", include_str!("../event_glue.rs")),
        (
            "sv-core process.rs",
            include_str!("../../../../sv-core/src/process.rs"),
        ),
    ];
    for (file, text) in sources {
        for forbidden in ["SystemTime", "std::time::Instant", "UNIX_EPOCH"] {
            assert!(!text.contains(forbidden), "{file} uses {forbidden}");
        }
    }
    // The monotonic clock the actor reads is tokio's (paused in tests).
    let module = include_str!("../mod.rs");
    assert!(module.contains("use tokio::time::Instant;"));
    assert_eq!(
        module.matches("SystemTime::now()").count(),
        1,
        "one wall-clock seam"
    );
}
