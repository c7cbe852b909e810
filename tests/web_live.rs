//! The status page's live updates, with raw HTTP (no browser):
//!
//! * `state_changes_stream_live`: `GET /events` on the unix socket and on
//!   inet at once; stopping and starting a program over XML-RPC brings its
//!   STOPPING, STOPPED, STARTING and RUNNING changes with
//!   `getProcessInfo`'s fields; a group stopped at once arrives as one
//!   batched message.
//! * `events_need_credentials_on_inet`: the stream is behind the inet
//!   server's basic auth, like the page.
//! * `script_is_served_and_referenced`: `/scripts/status.js` is JavaScript,
//!   the page loads it (no inline script) and its CSP allows exactly it
//!   and the stream.
//! * `a_client_that_never_reads_does_not_block_the_daemon`: with a stream
//!   open and never read, 200 stop/start cycles over XML-RPC all answer,
//!   and a new stream still gets changes.
//! * `an_idle_stream_sends_heartbeats`: with nothing happening, comment
//!   lines keep coming (every 15 s; 200 ms here through
//!   `SV_WEB_HEARTBEAT_MS`).

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::daemon::TestDaemon;
use support::pair::{Daemon, Endpoint, Impl, Options};

/// How long a change may take to arrive on the stream.
const EVENT_DEADLINE: Duration = Duration::from_secs(10);

const BODY: &str = r#"
[program:sleeper]
command=sleep 1000
startsecs=0

[program:many]
command=sleep 1000
startsecs=0
numprocs=3
process_name=%(program_name)s_%(process_num)s
"#;

/// A connection to `/events`, read as it arrives.
struct Stream {
    conn: Box<dyn ReadWrite>,
    buffer: Vec<u8>,
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

/// One server-sent message: its `event:` name and `data:` text.
#[derive(Debug)]
struct Message {
    event: String,
    data: String,
}

fn connect(daemon: &Daemon, endpoint: Endpoint) -> Box<dyn ReadWrite> {
    match endpoint {
        Endpoint::Unix => {
            let s = UnixStream::connect(&daemon.sock).expect("connect unix socket");
            s.set_read_timeout(Some(Duration::from_millis(50)))
                .expect("read timeout");
            Box::new(s)
        }
        Endpoint::Inet => {
            let port = daemon.port.expect("inet port");
            let s = TcpStream::connect(("127.0.0.1", port)).expect("connect inet");
            s.set_read_timeout(Some(Duration::from_millis(50)))
                .expect("read timeout");
            Box::new(s)
        }
    }
}

impl Stream {
    /// Open `/events` (HTTP/1.0, so the body is the raw stream) with extra
    /// header lines; returns the head of the answer and the stream.
    fn open(daemon: &Daemon, endpoint: Endpoint, extra: &str) -> (String, Stream) {
        Stream::open_at(daemon, endpoint, "/events", extra)
    }

    /// [`Stream::open`] at `target` (`/events?since=N`).
    fn open_at(daemon: &Daemon, endpoint: Endpoint, target: &str, extra: &str) -> (String, Stream) {
        let mut conn = connect(daemon, endpoint);
        let request = format!(
            "GET {target} HTTP/1.0\r\nHost: localhost\r\nAccept: text/event-stream\r\n{extra}\r\n"
        );
        conn.write_all(request.as_bytes()).expect("send request");
        let mut stream = Stream {
            conn,
            buffer: Vec::new(),
        };
        let end = Instant::now() + EVENT_DEADLINE;
        loop {
            if let Some(at) = find(&stream.buffer, b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&stream.buffer[..at]).into_owned();
                stream.buffer.drain(..at + 4);
                return (head, stream);
            }
            assert!(
                Instant::now() < end,
                "no answer head: {:?}",
                String::from_utf8_lossy(&stream.buffer)
            );
            if !stream.fill() {
                let head = String::from_utf8_lossy(&stream.buffer).into_owned();
                return (head, stream);
            }
        }
    }

    /// Read what is there (waiting up to the socket's 50 ms); false at EOF.
    fn fill(&mut self) -> bool {
        let mut buf = [0u8; 65536];
        match self.conn.read(&mut buf) {
            Ok(0) => false,
            Ok(n) => {
                self.buffer.extend_from_slice(&buf[..n]);
                true
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => true,
            Err(e) => panic!("read: {e}"),
        }
    }

    /// The next message (comments skipped), or `None` at the deadline.
    fn next(&mut self, deadline: Instant) -> Option<Message> {
        loop {
            while let Some(at) = find(&self.buffer, b"\n\n") {
                let block: Vec<u8> = self.buffer.drain(..at + 2).collect();
                let block = String::from_utf8_lossy(&block).into_owned();
                let mut message = Message {
                    event: "message".to_string(),
                    data: String::new(),
                };
                let mut has_data = false;
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event: ") {
                        message.event = v.to_string();
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        message.data.push_str(v);
                        has_data = true;
                    }
                }
                if has_data {
                    return Some(message);
                }
            }
            if Instant::now() >= deadline || !self.fill() {
                return None;
            }
        }
    }

    /// State changes until `want` holds of everything seen so far.
    fn changes_until(&mut self, want: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + EVENT_DEADLINE;
        let mut seen = Vec::new();
        while !want(&seen) {
            let Some(message) = self.next(deadline) else {
                panic!("changes did not arrive in time; saw {seen:#?}");
            };
            if message.event == "state" {
                let data: Value = serde_json::from_str(&message.data).expect("JSON data");
                seen.extend(data["changes"].as_array().cloned().unwrap_or_default());
            }
        }
        seen
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The statenames `namespec` went through, in order.
fn states_of(changes: &[Value], namespec: &str) -> Vec<String> {
    changes
        .iter()
        .filter(|c| c["namespec"] == namespec)
        .map(|c| c["statename"].as_str().unwrap_or("").to_string())
        .collect()
}

fn change<'a>(changes: &'a [Value], namespec: &str, statename: &str) -> &'a Value {
    changes
        .iter()
        .rev()
        .find(|c| c["namespec"] == namespec && c["statename"] == statename)
        .unwrap_or_else(|| panic!("no {statename} for {namespec} in {changes:#?}"))
}

fn ok(answer: Value) -> Value {
    assert!(answer.get("ok").is_some(), "XML-RPC failed: {answer}");
    answer["ok"].clone()
}

#[test]
fn state_changes_stream_live() {
    let daemon = Daemon::start(Impl::Ours, BODY, Options::inet_open());
    daemon
        .wait_states(
            &[
                ("many:many_0", "RUNNING"),
                ("many:many_1", "RUNNING"),
                ("many:many_2", "RUNNING"),
                ("sleeper", "RUNNING"),
            ],
            EVENT_DEADLINE,
        )
        .expect("all running");
    let mut streams = Vec::new();
    for endpoint in [Endpoint::Unix, Endpoint::Inet] {
        let (head, stream) = Stream::open(&daemon, endpoint, "");
        assert!(
            head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
            "{head}"
        );
        assert!(
            head.to_ascii_lowercase()
                .contains("content-type: text/event-stream"),
            "{head}"
        );
        streams.push((endpoint, stream));
    }
    // The streams are open once their first bytes (the greeting) arrived.
    for (endpoint, stream) in &mut streams {
        let end = Instant::now() + EVENT_DEADLINE;
        while !String::from_utf8_lossy(&stream.buffer).contains("retry:") {
            assert!(
                Instant::now() < end && stream.fill(),
                "{endpoint:?}: no greeting"
            );
        }
    }

    ok(daemon.call("supervisor.stopProcess", json!(["sleeper"])));
    let stopped = ok(daemon.call("supervisor.getProcessInfo", json!(["sleeper"])));
    ok(daemon.call("supervisor.startProcess", json!(["sleeper"])));
    let running = ok(daemon.call("supervisor.getProcessInfo", json!(["sleeper"])));

    for (endpoint, stream) in &mut streams {
        let changes = stream.changes_until(|seen| {
            states_of(seen, "sleeper").ends_with(&[
                "STOPPING".into(),
                "STOPPED".into(),
                "STARTING".into(),
                "RUNNING".into(),
            ])
        });
        let label = format!("{endpoint:?}");
        let stopping = change(&changes, "sleeper", "STOPPING");
        assert_eq!(stopping["from"], "RUNNING", "{label}");
        assert_eq!(stopping["state"], 40, "{label}");
        assert!(
            stopping["pid"].as_u64().unwrap_or(0) > 0,
            "{label}: {stopping}"
        );
        let after_stop = change(&changes, "sleeper", "STOPPED");
        assert_eq!(after_stop["state"], 0, "{label}");
        assert_eq!(after_stop["pid"], 0, "{label}");
        assert_eq!(after_stop["group"], "sleeper", "{label}");
        assert_eq!(after_stop["name"], "sleeper", "{label}");
        assert_eq!(
            after_stop["description"], stopped["description"],
            "{label}: STOPPED's description is getProcessInfo's"
        );
        let starting = change(&changes, "sleeper", "STARTING");
        assert_eq!(starting["state"], 10, "{label}");
        let up = change(&changes, "sleeper", "RUNNING");
        assert_eq!(up["state"], 20, "{label}");
        assert_eq!(up["pid"], running["pid"], "{label}");
        assert_eq!(up["start"], running["start"], "{label}");
        assert!(up["now"].as_i64().unwrap_or(0) >= up["start"].as_i64().unwrap_or(i64::MAX));
        let description = up["description"].as_str().unwrap_or("");
        assert!(
            description.starts_with(&format!("pid {}, uptime 0:00:0", running["pid"])),
            "{label}: {description}"
        );
    }

    // A group stopped at once: its three changes come in one message.
    ok(daemon.call("supervisor.stopProcessGroup", json!(["many"])));
    for (endpoint, stream) in &mut streams {
        let deadline = Instant::now() + EVENT_DEADLINE;
        loop {
            let Some(message) = stream.next(deadline) else {
                panic!("{endpoint:?}: no batched STOPPING message");
            };
            if message.event != "state" {
                continue;
            }
            let data: Value = serde_json::from_str(&message.data).expect("JSON");
            let changes = data["changes"].as_array().cloned().unwrap_or_default();
            let stopping = changes
                .iter()
                .filter(|c| c["group"] == "many" && c["statename"] == "STOPPING")
                .count();
            if stopping > 0 {
                assert_eq!(
                    stopping, 3,
                    "{endpoint:?}: one message for the burst: {changes:#?}"
                );
                break;
            }
        }
    }
}

#[test]
fn events_need_credentials_on_inet() {
    let daemon = Daemon::start(Impl::Ours, BODY, Options::inet_auth("user", "123"));
    // user:123 and user:wrong in base64.
    let good = "Authorization: Basic dXNlcjoxMjM=\r\n";
    let bad = "Authorization: Basic dXNlcjp3cm9uZw==\r\n";
    for (what, extra) in [("no credentials", ""), ("a wrong password", bad)] {
        let (head, _) = Stream::open(&daemon, Endpoint::Inet, extra);
        assert!(head.contains(" 401 "), "{what}: {head}");
        assert!(!head.contains("text/event-stream"), "{what}: {head}");
    }
    let (head, mut stream) = Stream::open(&daemon, Endpoint::Inet, good);
    assert!(head.contains(" 200 "), "{head}");
    // The unix socket has no credentials configured.
    let (head, _) = Stream::open(&daemon, Endpoint::Unix, "");
    assert!(head.contains(" 200 "), "{head}");
    daemon
        .wait_states(&[("sleeper", "RUNNING")], EVENT_DEADLINE)
        .expect("sleeper running");
    ok(daemon.call("supervisor.stopProcess", json!(["sleeper"])));
    let changes =
        stream.changes_until(|seen| states_of(seen, "sleeper").contains(&"STOPPED".into()));
    assert_eq!(change(&changes, "sleeper", "STOPPED")["pid"], 0);
    // Only GET.
    let reply = daemon
        .http(
            Endpoint::Unix,
            b"POST /events HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            Duration::from_secs(10),
        )
        .expect("POST /events");
    assert_eq!(reply.status, 400);
}

#[test]
fn script_is_served_and_referenced() {
    let daemon = Daemon::start(Impl::Ours, BODY, Options::inet_open());
    let get = |target: &str| {
        let request =
            format!("GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        daemon
            .http(Endpoint::Inet, request.as_bytes(), Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("GET {target}: {e}"))
    };
    let script = get("/scripts/status.js");
    assert_eq!(script.status, 200);
    let kind = script.header("content-type").unwrap_or("");
    assert!(kind.starts_with("text/javascript"), "{kind}");
    assert_eq!(script.header("x-content-type-options"), Some("nosniff"));
    let text = script.body_text();
    assert!(
        text.contains("new EventSource(since ? \"events?since=\""),
        "{text}"
    );
    assert!(text.contains("resync"), "{text}");

    daemon
        .wait_states(&[("sleeper", "RUNNING")], EVENT_DEADLINE)
        .expect("sleeper running");
    let page = get("/index.html");
    assert_eq!(page.status, 200);
    let html = page.body_text();
    assert!(
        html.contains(&format!(
            "<script src=\"scripts/status.js?v={}\" defer></script>",
            env!("CARGO_PKG_VERSION")
        )),
        "{html}"
    );
    assert_eq!(
        html.matches("<script").count(),
        1,
        "no inline script: {html}"
    );
    assert!(
        html.contains("<tr data-namespec=\"sleeper\" data-state=\"RUNNING\">"),
        "{html}"
    );
    assert!(
        html.contains("data-uptime=\""),
        "running rows carry their uptime: {html}"
    );
    let csp = page.header("content-security-policy").unwrap_or("");
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "connect-src 'self'",
    ] {
        assert!(csp.contains(directive), "{directive} in {csp}");
    }
    assert!(!csp.contains("unsafe"), "{csp}");
}

#[test]
fn a_client_that_never_reads_does_not_block_the_daemon() {
    let daemon = Daemon::start(Impl::Ours, BODY, Options::inet_open());
    daemon
        .wait_states(&[("sleeper", "RUNNING")], EVENT_DEADLINE)
        .expect("sleeper running");
    // Opened, then never read again.
    let (head, stalled) = Stream::open(&daemon, Endpoint::Unix, "");
    assert!(head.contains(" 200 "), "{head}");
    let started = Instant::now();
    for cycle in 0..200 {
        let stop = daemon.call("supervisor.stopProcess", json!(["sleeper"]));
        assert_eq!(stop["ok"], true, "cycle {cycle}: {stop}");
        let start = daemon.call("supervisor.startProcess", json!(["sleeper"]));
        assert_eq!(start["ok"], true, "cycle {cycle}: {start}");
    }
    // How long the cycles take is measured by bench/sv_bench.py
    // (`respawn`), not asserted here.
    eprintln!("200 stop/start cycles took {:?}", started.elapsed());
    // The daemon still streams to a new client.
    let (head, mut fresh) = Stream::open(&daemon, Endpoint::Inet, "");
    assert!(head.contains(" 200 "), "{head}");
    let end = Instant::now() + EVENT_DEADLINE;
    while !String::from_utf8_lossy(&fresh.buffer).contains("retry:") {
        assert!(Instant::now() < end && fresh.fill(), "no greeting");
    }
    ok(daemon.call("supervisor.stopProcess", json!(["sleeper"])));
    fresh.changes_until(|seen| states_of(seen, "sleeper").contains(&"STOPPED".into()));
    drop(stalled);
    assert_eq!(
        ok(daemon.call("supervisor.getState", json!([])))["statename"],
        "RUNNING"
    );
}

#[test]
fn an_idle_stream_sends_heartbeats() {
    let daemon = TestDaemon::start_with_env(
        "",
        "[unix_http_server]\nfile=%(here)s/s.sock\n",
        &[("SV_WEB_HEARTBEAT_MS", "200")],
    );
    let mut conn = UnixStream::connect(daemon.path("s.sock")).expect("connect");
    conn.set_read_timeout(Some(Duration::from_millis(50)))
        .expect("read timeout");
    conn.write_all(b"GET /events HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .expect("send");
    let mut stream = Stream {
        conn: Box::new(conn),
        buffer: Vec::new(),
    };
    let end = Instant::now() + EVENT_DEADLINE;
    while String::from_utf8_lossy(&stream.buffer)
        .matches(": heartbeat\n\n")
        .count()
        < 2
    {
        assert!(
            Instant::now() < end && stream.fill(),
            "no heartbeats: {:?}",
            String::from_utf8_lossy(&stream.buffer)
        );
    }
    let text = String::from_utf8_lossy(&stream.buffer).into_owned();
    assert!(text.contains("text/event-stream"), "{text}");
    assert!(!text.contains("event: "), "nothing happened: {text}");
}

/// The page is a snapshot; its stream opens a moment later. A change made
/// in between (at boot, now that requests are answered during the spawn
/// wave, the page could show every program STARTING and never learn they
/// ran) was lost. The page hands back the change count it was rendered at
/// (`data-changes`); the stream answers `resync` when it moved.
#[test]
fn regression_page_misses_changes_made_before_its_stream_opens() {
    let daemon = Daemon::start(Impl::Ours, BODY, Options::inet_open());
    daemon
        .wait_states(&[("sleeper", "RUNNING")], EVENT_DEADLINE)
        .expect("sleeper running");
    let get = |target: &str| {
        let request =
            format!("GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        daemon
            .http(Endpoint::Inet, request.as_bytes(), Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("GET {target}: {e}"))
    };
    let changes_of = |html: &str| -> u64 {
        let at = html
            .find("data-changes=\"")
            .expect("data-changes on the page")
            + 14;
        let end = html[at..].find('"').expect("attribute end") + at;
        html[at..end].parse().expect("a count")
    };
    let first = changes_of(&get("/index.html").body_text());
    // Nothing changed: the stream starts quietly.
    let (_, mut quiet) = Stream::open_at(
        &daemon,
        Endpoint::Inet,
        &format!("/events?since={first}"),
        "",
    );
    assert!(
        quiet
            .next(Instant::now() + Duration::from_millis(300))
            .is_none(),
        "no resync for an up-to-date page"
    );
    // A change the page did not see: the stream says resync at once.
    ok(daemon.call("supervisor.stopProcess", json!(["sleeper"])));
    let (_, mut stale) = Stream::open_at(
        &daemon,
        Endpoint::Inet,
        &format!("/events?since={first}"),
        "",
    );
    let told = stale
        .next(Instant::now() + EVENT_DEADLINE)
        .expect("a message");
    assert_eq!(told.event, "resync", "{told:?}");
    // The page rendered now carries the new count.
    assert!(changes_of(&get("/index.html").body_text()) > first);
}
