//! `depends_on` in the actor with fake children (docs/readiness.md): a
//! start waits for its dependencies, a FATAL dependency fails it, and a
//! config without `depends_on` builds no graph at all.

use sv_core::process::State;

use super::{Harness, answer, fault, program};

fn chain() -> String {
    program("db", "autostart=false\nstartsecs=2\nstartretries=0")
        + &program("api", "autostart=false\nstartsecs=1\ndepends_on=db")
        + &program("worker", "autostart=false\nstartsecs=1\ndepends_on=api")
}

fn spawned(h: &Harness) -> Vec<String> {
    h.kids
        .spawns()
        .into_iter()
        .map(|(_, name, _)| name)
        .collect()
}

#[tokio::test(start_paused = true)]
async fn starting_a_dependent_starts_the_chain_in_order() {
    let mut h = Harness::new(&chain());
    let mut reply = h.start("worker", true);
    assert_eq!(spawned(&h), ["db"], "only the bottom of the chain runs");
    assert_eq!(
        (h.state("api"), h.state("worker")),
        (State::Starting, State::Starting)
    );
    assert_eq!(answer(&mut reply), None);
    h.advance(2.0).await;
    assert_eq!(h.state("db"), State::Running);
    assert_eq!(spawned(&h), ["db", "api"]);
    h.advance(1.0).await;
    assert_eq!(spawned(&h), ["db", "api", "worker"]);
    assert_eq!(answer(&mut reply), None, "worker is STARTING");
    h.advance(1.0).await;
    assert_eq!(h.state("worker"), State::Running);
    assert_eq!(answer(&mut reply), Some(Ok(())));
}

#[tokio::test(start_paused = true)]
async fn a_fatal_dependency_fails_the_waiting_start() {
    let mut h = Harness::new(&chain());
    let mut reply = h.start("api", true);
    h.exit("db", 1);
    assert_eq!(h.state("db"), State::Fatal);
    assert_eq!(h.state("api"), State::Fatal);
    assert_eq!(fault(&mut reply), "SPAWN_ERROR: api");
    assert_eq!(spawned(&h), ["db"]);
    assert!(
        h.log()
            .contains("gave up: api entered FATAL state, dependency db entered FATAL")
    );
}

#[tokio::test(start_paused = true)]
async fn stopping_a_held_process_needs_no_child() {
    let mut h = Harness::new(&chain());
    h.start("api", false);
    let mut reply = h.stop("api", true);
    assert_eq!(answer(&mut reply), Some(Ok(())));
    assert_eq!(h.state("api"), State::Stopped);
    // db goes on starting; when it is ready nothing is released.
    h.advance(2.0).await;
    assert_eq!(spawned(&h), ["db"]);
}

/// Issue 18 must cost nothing without `depends_on`: no graph is built and
/// no state change looks at one.
#[tokio::test(start_paused = true)]
async fn regression_no_graph_without_depends_on() {
    let mut h = Harness::new(&(program("a", "startsecs=1") + &program("b", "startsecs=1")));
    h.advance(1.0).await;
    assert_eq!(h.state("a"), State::Running);
    assert!(!h.sup.deps.edges);
    assert!(h.sup.deps.graph.is_empty());
}
