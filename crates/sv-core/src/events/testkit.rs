//! Helpers shared by the events tests: a PROCESS_STATE event, listeners
//! driven to READY or BUSY, and dispatch that records the envelopes sent.

use sv_api::EventListenerState;

use super::*;
use crate::config::LogLevel;
use crate::process::State;

pub(crate) fn state(to: State, from: State, expected: bool, tries: u32, pid: u32) -> Event {
    Event::ProcessState {
        process: "cat".into(),
        group: "grp".into(),
        from,
        to,
        expected,
        tries,
        pid,
    }
}

pub(crate) fn names(n: usize) -> Vec<Listener> {
    (0..n).map(|i| Listener::new(&format!("l{i}"))).collect()
}

pub(crate) fn ready(l: &mut Listener) {
    let mut log = Vec::new();
    let mut actions = Vec::new();
    l.feed(b"READY\n", &mut log, &mut actions);
    assert_eq!(l.state(), EventListenerState::Ready);
}

/// Dispatch with every listener RUNNING; returns (listener index, envelope).
pub(crate) fn dispatch_all(
    pool: &mut Pool,
    ls: &mut [Listener],
    log: &mut LogLines,
) -> Vec<(usize, String)> {
    let mut sent = Vec::new();
    let mut slots: Vec<(bool, &mut Listener)> = ls.iter_mut().map(|l| (true, l)).collect();
    pool.dispatch(
        "sv",
        &mut slots,
        |i, bytes| {
            sent.push((i, String::from_utf8(bytes.to_vec()).unwrap()));
            true
        },
        log,
    );
    sent
}

pub(crate) fn busy_listener() -> (Pool, Listener) {
    let mut hub = Hub::new();
    hub.add_pool(Pool::new("p", 10, &["EVENT".into()]));
    let mut log = Vec::new();
    hub.notify(Event::SupervisorRunning, &mut log);
    let mut pool = hub.remove_pool("p").unwrap();
    let mut ls = names(1);
    ready(&mut ls[0]);
    dispatch_all(&mut pool, &mut ls, &mut log);
    let l = ls.pop().unwrap();
    assert_eq!(l.state(), EventListenerState::Busy);
    (pool, l)
}

pub(crate) fn feed(l: &mut Listener, data: &[u8]) -> (LogLines, Vec<u64>) {
    let mut log = Vec::new();
    let mut actions = Vec::new();
    l.feed(data, &mut log, &mut actions);
    let requeued = actions
        .into_iter()
        .map(|ListenerAction::Requeue(q)| q.serial())
        .collect();
    (log, requeued)
}

pub(crate) fn dbg(s: &str) -> (LogLevel, String) {
    (LogLevel::Debug, s.to_string())
}

pub(crate) fn warn(s: &str) -> (LogLevel, String) {
    (LogLevel::Warn, s.to_string())
}

pub(crate) const UNKNOWN_WARNING: &str = "l0: has entered the UNKNOWN state and will no longer receive events, this usually indicates the process violated the eventlistener protocol";
