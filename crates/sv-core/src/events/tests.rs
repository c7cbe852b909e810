//! Events against Supervisor 4.3.0's `events.py`, `dispatchers.py` and the
//! `EventListenerPool` of `process.py` (expected strings taken from running
//! the reference).

use super::*;

fn state(to: State, from: State, expected: bool, tries: u32, pid: u32) -> Event {
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

#[test]
fn names_parse_case_insensitively_and_match_the_config_list() {
    for t in EventType::ALL {
        assert_eq!(EventType::parse(&t.name().to_lowercase()), Some(t));
        assert!(crate::config::EVENT_TYPES.contains(&t.name()));
    }
    assert_eq!(crate::config::EVENT_TYPES.len(), EventType::ALL.len());
    assert_eq!(
        EventType::parse("Process_State"),
        Some(EventType::ProcessState)
    );
    assert_eq!(EventType::parse("NOPE"), None);
}

#[test]
fn subtypes_match_their_ancestors_only() {
    use EventType::*;
    assert!(ProcessStateExited.is_a(ProcessState));
    assert!(ProcessStateExited.is_a(Event));
    assert!(!ProcessStateExited.is_a(ProcessLog));
    assert!(Tick60.is_a(Tick));
    assert!(!Tick.is_a(Tick60));
    assert!(RemoteCommunication.is_a(Event));
    assert!(!RemoteCommunication.is_abstract());
    for t in EventType::ALL {
        assert!(t.is_a(Event));
        assert!(t.is_a(t));
    }
    let abstract_count = EventType::ALL.iter().filter(|t| t.is_abstract()).count();
    assert_eq!(abstract_count, 7);
}

#[test]
fn process_state_payloads() {
    use State::*;
    let cases = [
        (
            state(Starting, Backoff, true, 3, 0),
            "processname:cat groupname:grp from_state:BACKOFF tries:3",
        ),
        (
            state(Backoff, Starting, true, 1, 0),
            "processname:cat groupname:grp from_state:STARTING tries:1",
        ),
        (
            state(Exited, Running, false, 0, 42),
            "processname:cat groupname:grp from_state:RUNNING expected:0 pid:42",
        ),
        (
            state(Exited, Running, true, 0, 42),
            "processname:cat groupname:grp from_state:RUNNING expected:1 pid:42",
        ),
        (
            state(Fatal, Backoff, true, 0, 0),
            "processname:cat groupname:grp from_state:BACKOFF",
        ),
        (
            state(Unknown, Running, true, 0, 9),
            "processname:cat groupname:grp from_state:RUNNING",
        ),
        (
            state(Stopped, Stopping, true, 0, 42),
            "processname:cat groupname:grp from_state:STOPPING pid:42",
        ),
        (
            state(Stopped, Backoff, true, 0, 0),
            "processname:cat groupname:grp from_state:BACKOFF pid:0",
        ),
        (
            state(Running, Starting, true, 0, 42),
            "processname:cat groupname:grp from_state:STARTING pid:42",
        ),
        (
            state(Stopping, Running, true, 0, 42),
            "processname:cat groupname:grp from_state:RUNNING pid:42",
        ),
    ];
    for (event, want) in cases {
        assert_eq!(event.payload(), want, "{event:?}");
    }
    assert_eq!(
        state(Stopping, Running, true, 0, 1).event_type().name(),
        "PROCESS_STATE_STOPPING"
    );
}

#[test]
fn other_payloads() {
    let log = Event::ProcessLog {
        channel: Channel::Stderr,
        process: "cat".into(),
        group: "grp".into(),
        pid: 42,
        data: b"bad \x88 bytes\n".to_vec(),
    };
    assert_eq!(
        log.payload(),
        "processname:cat groupname:grp pid:42 channel:stderr\nUndecodable: b'bad \\x88 bytes\\n'"
    );
    assert_eq!(log.event_type(), EventType::ProcessLogStderr);
    let comm = Event::ProcessCommunication {
        channel: Channel::Stdout,
        process: "cat".into(),
        group: "grp".into(),
        pid: 42,
        data: "héllo".as_bytes().to_vec(),
    };
    assert_eq!(
        comm.payload(),
        "processname:cat groupname:grp pid:42\nhéllo"
    );
    assert_eq!(comm.event_type(), EventType::ProcessCommunicationStdout);
    let remote = Event::RemoteCommunication {
        kind: "tp".into(),
        data: "dätä".into(),
    };
    assert_eq!(remote.payload(), "type:tp\ndätä");
    assert_eq!(Event::GroupAdded("g".into()).payload(), "groupname:g\n");
    assert_eq!(Event::GroupRemoved("g".into()).payload(), "groupname:g\n");
    assert_eq!(Event::SupervisorRunning.payload(), "");
    assert_eq!(
        Event::Tick {
            period: 5,
            when: 1795305420
        }
        .payload(),
        "when:1795305420"
    );
    assert_eq!(
        Event::Tick {
            period: 3600,
            when: 0
        }
        .event_type(),
        EventType::Tick3600
    );
}

#[test]
fn envelope_len_counts_code_points() {
    let e = envelope(
        "supervisor",
        7,
        "listener",
        3,
        EventType::RemoteCommunication,
        "type:tp\ndätä",
    );
    assert_eq!(
        e,
        "ver:3.0 server:supervisor serial:7 pool:listener poolserial:3 eventname:REMOTE_COMMUNICATION len:12\ntype:tp\ndätä"
    );
    assert!(
        envelope("s", 0, "p", 0, EventType::SupervisorStateChangeRunning, "").ends_with("len:0\n")
    );
}

fn names(n: usize) -> Vec<Listener> {
    (0..n).map(|i| Listener::new(&format!("l{i}"))).collect()
}

fn ready(l: &mut Listener) {
    let mut log = Vec::new();
    let mut actions = Vec::new();
    l.feed(b"READY\n", &mut log, &mut actions);
    assert_eq!(l.state(), ListenerState::Ready);
}

/// Dispatch with every listener RUNNING; returns (listener index, envelope).
fn dispatch_all(pool: &mut Pool, ls: &mut [Listener], log: &mut LogLines) -> Vec<(usize, String)> {
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

#[test]
fn serials_are_global_and_per_pool_and_taken_only_when_accepted() {
    let mut hub = Hub::new();
    hub.add_pool(Pool::new("a", 10, &["PROCESS_STATE".into()]));
    hub.add_pool(Pool::new("b", 10, &["event".into()]));
    let mut log = Vec::new();
    assert_eq!(hub.notify(Event::SupervisorRunning, &mut log), ["b"]);
    assert_eq!(
        hub.notify(state(State::Starting, State::Stopped, true, 0, 0), &mut log),
        ["a", "b"]
    );
    // Nobody takes a TICK... except b; and an event nobody wants takes no serial.
    let mut hub2 = Hub::new();
    hub2.add_pool(Pool::new("a", 10, &["TICK_5".into()]));
    assert!(hub2.notify(Event::SupervisorRunning, &mut log).is_empty());
    hub2.notify(Event::Tick { period: 5, when: 5 }, &mut log);
    assert_eq!(hub2.pool("a").unwrap().buffered_serials(), [0]);

    assert_eq!(hub.pool("a").unwrap().buffered_serials(), [1]);
    assert_eq!(hub.pool("b").unwrap().buffered_serials(), [0, 1]);
    let mut ls = names(1);
    ready(&mut ls[0]);
    let sent = dispatch_all(hub.pool_mut("a").unwrap(), &mut ls, &mut log);
    assert_eq!(
        sent[0].1,
        "ver:3.0 server:sv serial:1 pool:a poolserial:0 eventname:PROCESS_STATE_STARTING len:56\nprocessname:cat groupname:grp from_state:STOPPED tries:0"
    );
    assert!(log.is_empty() || log.iter().all(|(l, _)| *l == LogLevel::Debug));
}

#[test]
fn overflow_discards_the_oldest_with_supervisors_line() {
    let mut hub = Hub::new();
    hub.add_pool(Pool::new("p", 2, &["EVENT".into()]));
    let mut log = Vec::new();
    for i in 0..3 {
        hub.notify(Event::GroupAdded(format!("g{i}")), &mut log);
    }
    assert_eq!(hub.pool("p").unwrap().buffered_serials(), [1, 2]);
    assert_eq!(
        log,
        [(
            LogLevel::Error,
            "pool p event buffer overflowed, discarding event 0".to_string()
        )]
    );
}

#[test]
fn dispatch_goes_to_the_first_free_listener_and_requeues_when_none_is() {
    let mut pool = Pool::new("p", 10, &["EVENT".into()]);
    let mut hub = Hub::new();
    hub.add_pool(pool);
    let mut log = Vec::new();
    for i in 0..3 {
        hub.notify(Event::GroupAdded(format!("g{i}")), &mut log);
    }
    pool = hub.remove_pool("p").unwrap();
    let mut ls = names(3);
    ready(&mut ls[1]);
    ready(&mut ls[2]);
    let mut log = Vec::new();
    let sent = dispatch_all(&mut pool, &mut ls, &mut log);
    assert_eq!(sent.iter().map(|s| s.0).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(ls[1].state(), ListenerState::Busy);
    assert_eq!(ls[1].event().unwrap().serial(), 0);
    assert_eq!(pool.buffered_serials(), [2]);
    assert_eq!(
        log,
        [
            (LogLevel::Debug, "event 0 sent to listener l1".to_string()),
            (LogLevel::Debug, "event 1 sent to listener l2".to_string()),
            (
                LogLevel::Debug,
                "rebuffering event 2 for pool p (buf size=0, max=10)".to_string()
            ),
        ]
    );
    // Nobody READY: dispatch does nothing at all (no rebuffering line).
    let mut log = Vec::new();
    assert!(dispatch_all(&mut pool, &mut ls, &mut log).is_empty());
    assert!(log.is_empty());
}

#[test]
fn a_listener_not_running_or_with_a_closed_stdin_is_skipped() {
    let mut hub = Hub::new();
    hub.add_pool(Pool::new("p", 10, &["EVENT".into()]));
    let mut log = Vec::new();
    hub.notify(Event::SupervisorRunning, &mut log);
    let mut pool = hub.remove_pool("p").unwrap();
    let mut ls = names(3);
    for l in &mut ls {
        ready(l);
    }
    let (a, rest) = ls.split_at_mut(1);
    let (b, c) = rest.split_at_mut(1);
    let mut slots = vec![(false, &mut a[0]), (true, &mut b[0]), (true, &mut c[0])];
    let mut log = Vec::new();
    let mut tried = Vec::new();
    pool.dispatch(
        "sv",
        &mut slots,
        |i, _| {
            tried.push(i);
            i != 1
        },
        &mut log,
    );
    assert_eq!(tried, [1, 2]);
    assert_eq!(
        log,
        [
            (
                LogLevel::Debug,
                "epipe occurred while sending event 0 to listener l1, listener state unchanged"
                    .to_string()
            ),
            (LogLevel::Debug, "event 0 sent to listener l2".to_string()),
        ]
    );
    assert_eq!(ls[1].state(), ListenerState::Ready);
    assert_eq!(ls[2].state(), ListenerState::Busy);
}

/// A pool with one listener that was sent event 0.
fn busy_listener() -> (Pool, Listener) {
    let mut hub = Hub::new();
    hub.add_pool(Pool::new("p", 10, &["EVENT".into()]));
    let mut log = Vec::new();
    hub.notify(Event::SupervisorRunning, &mut log);
    let mut pool = hub.remove_pool("p").unwrap();
    let mut ls = names(1);
    ready(&mut ls[0]);
    dispatch_all(&mut pool, &mut ls, &mut log);
    let l = ls.pop().unwrap();
    assert_eq!(l.state(), ListenerState::Busy);
    (pool, l)
}

fn feed(l: &mut Listener, data: &[u8]) -> (LogLines, Vec<u64>) {
    let mut log = Vec::new();
    let mut actions = Vec::new();
    l.feed(data, &mut log, &mut actions);
    let requeued = actions
        .into_iter()
        .map(|ListenerAction::Requeue(q)| q.serial())
        .collect();
    (log, requeued)
}

fn dbg(s: &str) -> (LogLevel, String) {
    (LogLevel::Debug, s.to_string())
}

fn warn(s: &str) -> (LogLevel, String) {
    (LogLevel::Warn, s.to_string())
}

const UNKNOWN_WARNING: &str = "l0: has entered the UNKNOWN state and will no longer receive events, this usually indicates the process violated the eventlistener protocol";

#[test]
fn acknowledged_waits_for_six_bytes_then_wants_ready() {
    let mut l = Listener::new("l0");
    assert_eq!(feed(&mut l, b"READY").0, []);
    assert_eq!(l.state(), ListenerState::Acknowledged);
    assert_eq!(feed(&mut l, b"\n").0, [dbg("l0: ACKNOWLEDGED -> READY")]);
    assert_eq!(l.state(), ListenerState::Ready);

    let mut l = Listener::new("l0");
    let (log, _) = feed(&mut l, b"HELLO!");
    assert_eq!(
        log,
        [dbg("l0: ACKNOWLEDGED -> UNKNOWN"), warn(UNKNOWN_WARNING)]
    );
    // UNKNOWN is final until the process restarts.
    assert_eq!(feed(&mut l, b"READY\n").0, []);
    assert_eq!(l.state(), ListenerState::Unknown);
    l.reset();
    assert_eq!(l.state(), ListenerState::Acknowledged);
    feed(&mut l, b"READY\n");
    assert_eq!(l.state(), ListenerState::Ready);
}

#[test]
fn output_while_ready_is_a_protocol_violation() {
    let mut l = Listener::new("l0");
    feed(&mut l, b"READY\n");
    let (log, _) = feed(&mut l, b"x");
    assert_eq!(log, [dbg("l0: READY -> UNKNOWN"), warn(UNKNOWN_WARNING)]);
    // READY\n and more in one write: the extra byte is spurious at once.
    let mut l = Listener::new("l0");
    feed(&mut l, b"READY\nx");
    assert_eq!(l.state(), ListenerState::Unknown);
}

#[test]
fn ok_acknowledges_and_the_next_ready_may_follow_in_the_same_write() {
    let (_pool, mut l) = busy_listener();
    let (log, requeued) = feed(&mut l, b"RESULT 2\nOKREADY\n");
    assert_eq!(
        log,
        [
            dbg("l0: event was processed"),
            dbg("l0: BUSY -> ACKNOWLEDGED"),
            dbg("l0: ACKNOWLEDGED -> READY"),
        ]
    );
    assert!(requeued.is_empty());
    assert!(l.event().is_none());
}

#[test]
fn results_arrive_in_pieces() {
    let (_pool, mut l) = busy_listener();
    for piece in [&b"RESU"[..], b"LT 4", b"\nFA", b"I"] {
        let (log, requeued) = feed(&mut l, piece);
        assert!(log.is_empty() && requeued.is_empty());
        assert_eq!(l.state(), ListenerState::Busy);
    }
    let (log, requeued) = feed(&mut l, b"L");
    assert_eq!(
        log,
        [
            warn("l0: event was rejected"),
            dbg("l0: BUSY -> ACKNOWLEDGED")
        ]
    );
    assert_eq!(requeued, [0]);
}

#[test]
fn a_bad_result_line_is_fatal_and_requeues() {
    let (_pool, mut l) = busy_listener();
    let (log, requeued) = feed(&mut l, b"RESULT two\nOK");
    assert_eq!(
        log,
        [
            warn("l0: bad result line: 'RESULT two'"),
            dbg("l0: BUSY -> UNKNOWN"),
            warn(UNKNOWN_WARNING)
        ]
    );
    assert_eq!(requeued, [0]);
    let (_pool, mut l) = busy_listener();
    let (log, _) = feed(&mut l, b"\xff\n");
    assert_eq!(log[0], warn("l0: bad result line: 'Undecodable: b'\\xff''"));
}

#[test]
fn the_result_length_is_read_as_python_reads_an_int() {
    assert_eq!(py_int(b"2"), Some(2));
    assert_eq!(py_int(b" 12\r"), Some(12));
    assert_eq!(py_int(b"+1_0"), Some(10));
    assert_eq!(py_int(b"-3"), Some(-3));
    assert_eq!(py_int(b""), None);
    assert_eq!(py_int(b"1__0"), None);
    assert_eq!(py_int(b"_1"), None);
    assert_eq!(py_int(b"0x1"), None);
    assert_eq!(py_int(b"1 2"), None);
    // The prefix itself is not checked: "XXXXXX 2" works as well.
    let (_pool, mut l) = busy_listener();
    feed(&mut l, b"ABCDEF 2\nOK");
    assert_eq!(l.state(), ListenerState::Acknowledged);
    // RESULT 0 completes on the next byte (Supervisor looks only at a
    // non-empty buffer) and is a rejection.
    let (_pool, mut l) = busy_listener();
    let (log, requeued) = feed(&mut l, b"RESULT 0\n");
    assert!(log.is_empty() && requeued.is_empty());
    let (_, requeued) = feed(&mut l, b"READY\n");
    assert_eq!(requeued, [0]);
    assert_eq!(l.state(), ListenerState::Ready);
}

#[test]
fn a_dead_listeners_event_is_taken_back_and_keeps_its_serials() {
    let (mut pool, mut l) = busy_listener();
    let q = l.take_event().unwrap();
    let mut log = Vec::new();
    pool.requeue(q, &mut log);
    assert_eq!(
        log,
        [dbg("rebuffering event 0 for pool p (buf size=0, max=10)")]
    );
    l.reset();
    feed(&mut l, b"READY\n");
    let mut ls = vec![l];
    let sent = dispatch_all(&mut pool, &mut ls, &mut log);
    assert!(sent[0].1.contains("serial:0 pool:p poolserial:0 "));
}

#[test]
fn requeue_into_a_full_buffer_discards_the_oldest_first() {
    let mut hub = Hub::new();
    hub.add_pool(Pool::new("p", 1, &["EVENT".into()]));
    let mut log = Vec::new();
    hub.notify(Event::SupervisorRunning, &mut log);
    let mut ls = names(1);
    ready(&mut ls[0]);
    dispatch_all(hub.pool_mut("p").unwrap(), &mut ls, &mut log);
    hub.notify(Event::SupervisorStopping, &mut log);
    let pool = hub.pool_mut("p").unwrap();
    let q = ls[0].take_event().unwrap();
    let mut log = Vec::new();
    pool.requeue(q, &mut log);
    assert_eq!(pool.buffered_serials(), [0]);
    assert_eq!(
        log,
        [
            dbg("rebuffering event 0 for pool p (buf size=1, max=1)"),
            (
                LogLevel::Error,
                "pool p event buffer overflowed, discarding event 1".to_string()
            )
        ]
    );
}

fn split(c: &mut CaptureSplitter, chunks: &[&[u8]]) -> Vec<Segment> {
    let mut out = Vec::new();
    for chunk in chunks {
        c.feed(chunk, &mut out);
    }
    out
}

fn output(data: &[u8], captured: bool) -> Segment {
    Segment::Output {
        data: data.to_vec(),
        captured,
    }
}

#[test]
fn capture_mode_splits_on_the_tokens() {
    let mut c = CaptureSplitter::new(100, false);
    let got = split(
        &mut c,
        &[b"before <!--XSUPERVISOR:BEGIN-->captured data<!--XSUPERVISOR:END--> after\n"],
    );
    assert_eq!(
        got,
        [
            output(b"before ", false),
            output(b"captured data", true),
            Segment::Communication(b"captured data".to_vec()),
        ]
    );
    // What is left is no longer than the begin token: it waits for more
    // (Supervisor logs nothing until the buffer outgrows the token).
    let got = split(&mut c, &[b"and more than a token's length\n"]);
    assert_eq!(
        got,
        [output(b" after\nand more than a token's length\n", false)]
    );
}

#[test]
fn capture_mode_holds_back_a_partial_token_and_short_buffers() {
    let mut c = CaptureSplitter::new(100, false);
    // Shorter than the token: nothing yet.
    assert_eq!(split(&mut c, &[b"hi"]), []);
    let got = split(&mut c, &[b" there, here comes <!--XSUPER"]);
    assert_eq!(got, [output(b"hi there, here comes ", false)]);
    let got = split(&mut c, &[b"VISOR:BEGIN-->x", b"y<!--XSUPERVISOR:END-->"]);
    // "x" alone is shorter than the end token, so it waits for "y...".
    assert_eq!(
        got,
        [output(b"xy", true), Segment::Communication(b"xy".to_vec())]
    );
}

#[test]
fn without_capture_everything_passes_through() {
    let mut c = CaptureSplitter::new(0, false);
    let got = split(&mut c, &[b"<!--XSUPERVISOR:BEGIN-->a", b"b"]);
    assert_eq!(
        got,
        [
            output(b"<!--XSUPERVISOR:BEGIN-->a", false),
            output(b"b", false)
        ]
    );
}

#[test]
fn the_capture_buffer_is_bounded_like_boundio() {
    let mut c = CaptureSplitter::new(10, false);
    let mut out = Vec::new();
    c.feed(
        b"<!--XSUPERVISOR:BEGIN-->0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        &mut out,
    );
    c.feed(b"abcdef<!--XSUPERVISOR:END-->", &mut out);
    // BoundIO drops len(write) leading bytes when the total would exceed
    // the limit: the whole first write survives it (buffer was empty).
    let comm = out.iter().find_map(|s| match s {
        Segment::Communication(d) => Some(d.clone()),
        _ => None,
    });
    let first: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut want = first.to_vec();
    want.drain(..6);
    want.extend_from_slice(b"abcdef");
    assert_eq!(comm.unwrap(), want);
}

#[test]
fn capture_strips_ansi_when_asked() {
    let mut c = CaptureSplitter::new(100, true);
    let got = split(
        &mut c,
        &[b"<!--XSUPERVISOR:BEGIN-->\x1b[31mred\x1b[0m<!--XSUPERVISOR:END-->"],
    );
    assert_eq!(
        got,
        [
            output(b"red", true),
            Segment::Communication(b"red".to_vec())
        ]
    );
    c.reset();
    assert_eq!(split(&mut c, &[b"ab"]), []);
}

#[test]
fn ticks_record_first_then_fire_once_per_changed_slice() {
    let mut t = Ticks::new();
    assert!(t.evaluate(1_000_003.5).is_empty());
    assert!(t.evaluate(1_000_004.9).is_empty());
    assert_eq!(
        t.evaluate(1_000_005.0),
        [Event::Tick {
            period: 5,
            when: 1_000_005
        }]
    );
    // Late by many slices: one tick each, no catch-up.
    let got = t.evaluate(1_003_600.2);
    assert_eq!(
        got,
        [
            Event::Tick {
                period: 5,
                when: 1_003_600
            },
            Event::Tick {
                period: 60,
                when: 1_003_560
            },
            Event::Tick {
                period: 3600,
                when: 1_000_800
            },
        ]
    );
    assert_eq!(Ticks::next_due(1_000_003.5), 1_000_005.0);
    assert_eq!(Ticks::next_due(1_000_005.0), 1_000_010.0);
    assert_eq!(timeslice(60, 1795305425.7), 1795305420);
}
