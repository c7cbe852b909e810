//! Hostile clients against a real daemon on 127.0.0.1 and its unix socket
//! (issue 15, "Hostile-client tests"), each bounded in count and time:
//! slowloris, thousands of idle connections, oversized bodies, XML bombs
//! and deep nesting, invalid UTF-8, `Transfer-Encoding` tricks (never
//! request smuggling), path traversal on every path-taking endpoint,
//! repeated 401s from one peer, and connections past `max_connections`.
//! The daemon must answer 4xx or close, never do what was hidden, and keep
//! serving well-behaved clients throughout. The daemon and the raw client
//! are in `support/hostile.rs`.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use support::bin::{SUPERVISORCTL, wait_until};
use support::daemon::{DEADLINE, TestDaemon};
use support::hostile::{
    ANSWER_WAIT, Answer, RPC_SERVERS, Target, Via, call, connect_from, exchange, free_port, post,
    read_answer,
};

// ---------------------------------------------------------------- slowloris

/// Headers trickled one byte at a time, forever: the connection is reaped
/// at the header timeout (here 500 ms through the test-only
/// `SV_HTTP_CLIENT_TIMEOUT_MS`), however steadily bytes keep arriving.
#[test]
fn slowloris_trickled_headers_are_reaped_at_the_header_timeout() {
    let mut t = Target::start("", "", &[("SV_HTTP_CLIENT_TIMEOUT_MS", "500")]);
    let head = b"GET /index.html HTTP/1.1\r\nHost: localhost\r\nX-Slow: ";
    let trickle = |s: &mut dyn Write| -> Duration {
        let started = Instant::now();
        for (i, byte) in head.iter().chain(std::iter::repeat(&b'a')).enumerate() {
            if s.write_all(&[*byte]).is_err() || s.flush().is_err() {
                return started.elapsed();
            }
            std::thread::sleep(Duration::from_millis(50));
            assert!(i < 400, "still reading trickled headers after 20 s");
        }
        unreachable!("the trickle ends only by the server closing");
    };
    let mut tcp = TcpStream::connect(("127.0.0.1", t.port)).expect("connect");
    tcp.set_read_timeout(Some(ANSWER_WAIT)).expect("timeout");
    let took = trickle(&mut tcp);
    assert!(took < DEADLINE, "tcp slowloris reaped after {took:?}");
    let mut unix = UnixStream::connect(t.sock()).expect("connect");
    unix.set_read_timeout(Some(ANSWER_WAIT)).expect("timeout");
    let took = trickle(&mut unix);
    assert!(took < DEADLINE, "unix slowloris reaped after {took:?}");
    for via in t.vias() {
        t.still_serving(via);
    }
    t.d.shutdown();
}

// ---------------------------------------------------------------- floods

/// 2000 idle TCP connections (past the default cap of 512): the excess
/// is closed at once, and meanwhile `supervisorctl status` over the unix
/// socket answers and a crash-looping program keeps being respawned.
#[test]
fn thousands_of_idle_connections_leave_local_control_and_respawns_working() {
    let mut t = Target::start(
        "",
        "[program:crashy]\ncommand=sh -c 'sleep 0.2; exit 1'\nstartsecs=0\nautorestart=true\n\
         [supervisorctl]\nserverurl=unix://%(here)s/s.sock\n",
        &[],
    );
    let mut idle = Vec::with_capacity(2000);
    for _ in 0..2000 {
        match TcpStream::connect(("127.0.0.1", t.port)) {
            Ok(s) => idle.push(s),
            // The backlog may refuse some while the daemon sheds others.
            Err(_) => std::thread::sleep(Duration::from_millis(1)),
        }
    }
    assert!(idle.len() > 1000, "only {} connected", idle.len());
    let before = t.d.count("spawned: 'crashy'");
    let status = support::command::new(SUPERVISORCTL)
        .arg("-c")
        .arg(&t.d.conf)
        .arg("status")
        .output()
        .expect("run supervisorctl");
    let out = String::from_utf8_lossy(&status.stdout);
    assert!(
        out.contains("writer") && out.contains("RUNNING"),
        "supervisorctl status over the unix socket: {out}"
    );
    t.d.wait_count("spawned: 'crashy'", before + 3);
    assert_eq!(t.d.count("too many open files"), 0, "{}", t.d.log_text());
    // Closed by the server: EOF or reset; open: nothing to read yet.
    let open = |s: &mut TcpStream| {
        let mut byte = [0u8; 1];
        matches!(s.read(&mut byte), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
    };
    for s in &idle {
        s.set_nonblocking(true).expect("nonblocking");
    }
    let mut held = usize::MAX;
    let shed = wait_until(DEADLINE, || {
        held = idle.iter_mut().map(open).filter(|o| *o).count();
        held <= 512
    });
    assert!(shed, "{held} idle connections held past the cap of 512");
    drop(idle);
    t.still_serving(Via::Tcp(t.port));
    t.d.shutdown();
}

// ---------------------------------------------------------------- bodies

/// A body over the limit (32 MiB for `/RPC2`, the form limit for the page)
/// is refused with 413 on its declared length before any of it is read —
/// the page used to wait 30 s for the bytes and answer 408; a chunked body
/// (no length) is refused without being read; the daemon's memory does not
/// grow by the body.
#[test]
fn oversized_bodies_are_refused_and_never_buffered() {
    let mut t = Target::start("", "", &[]);
    let rss = || rss_kib(t.d.child.id());
    let before = rss();
    for via in t.vias() {
        let head = format!(
            "POST /RPC2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
            1u64 << 40
        );
        let answer = t.send(via, head.as_bytes());
        assert_eq!(answer.status(), 413, "{via:?}: {}", answer.text);
        // The same for the page's forms.
        let page = head.replace("/RPC2", "/index.html");
        let answer = t.send(via, page.as_bytes());
        assert_eq!(answer.status(), 413, "{via:?} page: {}", answer.text);
        // 40 MiB chunked, streamed until the daemon stops reading.
        let answer = chunked_flood(&t, via, 40 << 20);
        assert!(answer.refused(), "{via:?} chunked: {}", answer.text);
    }
    let after = rss();
    assert!(
        after < before + 16 * 1024,
        "RSS grew from {before} KiB to {after} KiB"
    );
    for via in t.vias() {
        t.still_serving(via);
    }
    t.d.shutdown();
}

fn chunked_flood(t: &Target, via: Via, total: usize) -> Answer {
    let head = b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    let chunk = {
        let mut c = format!("{:x}\r\n", 1 << 16).into_bytes();
        c.extend(std::iter::repeat_n(b'x', 1 << 16));
        c.extend_from_slice(b"\r\n");
        c
    };
    let flood = |s: &mut dyn Write| {
        if s.write_all(head).is_err() {
            return;
        }
        for _ in 0..total / (1 << 16) {
            if s.write_all(&chunk).is_err() {
                return;
            }
        }
    };
    match via {
        Via::Tcp(port) => {
            let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
            let _ = s.set_write_timeout(Some(ANSWER_WAIT));
            flood(&mut s);
            read_answer(&mut s, ANSWER_WAIT)
        }
        Via::Unix => {
            let mut s = UnixStream::connect(t.sock()).expect("connect");
            let _ = s.set_write_timeout(Some(ANSWER_WAIT));
            flood(&mut s);
            read_answer(&mut s, ANSWER_WAIT)
        }
    }
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

// ---------------------------------------------------------------- XML

/// Entity expansion (billion laughs, quadratic blowup), external entities,
/// deep nesting of arrays and structs, and invalid UTF-8 in the XML: 400
/// or a fault, at once, with nothing read from the file system.
#[test]
fn xml_bombs_deep_nesting_and_invalid_utf8_are_refused() {
    let mut t = Target::start("", "", &[]);
    let laughs = "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\"><!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\"><!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">]><methodCall><methodName>system.echo</methodName><params><param><value><string>&lol4;&lol4;&lol4;</string></value></param></params></methodCall>".to_string();
    let quadratic = format!(
        "<?xml version='1.0'?><!DOCTYPE q [<!ENTITY a \"{}\">]><methodCall><methodName>x</methodName><params><param><value><string>{}</string></value></param></params></methodCall>",
        "a".repeat(50_000),
        "&a;".repeat(10_000)
    );
    let external = "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><methodCall><methodName>supervisor.getProcessInfo</methodName><params><param><value><string>&xxe;</string></value></param></params></methodCall>".to_string();
    let deep_arrays = format!(
        "<?xml version='1.0'?><methodCall><methodName>x.y</methodName><params><param><value>{}{}</value></param></params></methodCall>",
        "<array><data><value>".repeat(20_000),
        "</value></data></array>".repeat(20_000)
    );
    let deep_structs = format!(
        "<?xml version='1.0'?><methodCall><methodName>x.y</methodName><params><param><value>{}{}</value></param></params></methodCall>",
        "<struct><member><name>a</name><value>".repeat(20_000),
        "</value></member></struct>".repeat(20_000)
    );
    let started = Instant::now();
    for via in t.vias() {
        for (what, body) in [
            ("billion laughs", laughs.as_bytes().to_vec()),
            ("quadratic blowup", quadratic.as_bytes().to_vec()),
            ("external entity", external.as_bytes().to_vec()),
            ("deep arrays", deep_arrays.as_bytes().to_vec()),
            ("deep structs", deep_structs.as_bytes().to_vec()),
            ("invalid utf-8 in a string", {
                let mut b = call("system.echo", &["x"]).into_bytes();
                let at = b.windows(3).position(|w| w == b">x<").expect("the param") + 1;
                b.splice(at..=at, [0xff, 0xfe, 0xc3]);
                b
            }),
            ("invalid utf-8 in a name", {
                let mut b = call("supervisor.getState", &[]).into_bytes();
                let at = b
                    .windows(8)
                    .position(|w| w == b"getState")
                    .expect("the name");
                b.splice(at..at + 3, [0xc0, 0xaf, 0xff]);
                b
            }),
        ] {
            let mut request = format!(
                "POST /RPC2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
            .into_bytes();
            request.extend_from_slice(&body);
            let answer = t.send(via, &request);
            assert!(
                answer.refused() || (answer.status() == 200 && answer.text.contains("<fault>")),
                "{via:?} {what}: {}",
                answer.text
            );
            assert!(!answer.text.contains("root:"), "{what}: {}", answer.text);
        }
        t.still_serving(via);
    }
    assert!(started.elapsed() < DEADLINE, "bombs refused quickly");
    t.d.shutdown();
}

/// Invalid UTF-8 and control bytes in header names and values: refused,
/// or ignored and the call answered, never a crash; credentials that are
/// not text are simply wrong (401 or 400), never a pass.
#[test]
fn invalid_utf8_in_headers_is_refused_or_ignored() {
    let mut t = Target::start("username=user\npassword=pw\n", "", &[]);
    let body = call("supervisor.getState", &[]);
    let request = |header: &[u8]| {
        let mut r = format!(
            "POST /RPC2 HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        )
        .into_bytes();
        r.extend_from_slice(header);
        r.extend_from_slice(b"\r\n");
        r.extend_from_slice(body.as_bytes());
        r
    };
    // The unix server asks for no credentials.
    for (what, header) in [
        ("value", &b"Host: x\r\nX-Junk: \xff\xfe\xc3\r\n"[..]),
        ("name", b"Host: x\r\nX-\xff\xfe: 1\r\n"),
        ("nul in a value", b"Host: x\r\nX-Junk: a\0b\r\n"),
        (
            "control byte in a value",
            b"Host: x\r\nX-Junk: a\x01\x7fb\r\n",
        ),
        ("host", b"Host: \xff\xfe\r\n"),
        ("content-type", b"Host: x\r\nContent-Type: text/\xffxml\r\n"),
    ] {
        let answer = t.send(Via::Unix, &request(header));
        assert!(
            answer.refused() || answer.text.contains("RUNNING"),
            "{what}: {}",
            answer.text
        );
    }
    for (what, header) in [
        (
            "bytes",
            &b"Host: x\r\nAuthorization: Basic \xff\xfe==\r\n"[..],
        ),
        (
            "bytes in base64",
            b"Host: x\r\nAuthorization: Basic dXNlcjpw\xff\r\n",
        ),
        // base64 of b"user:\xffpw".
        (
            "a password not utf-8",
            b"Host: x\r\nAuthorization: Basic dXNlcjr/cHc=\r\n",
        ),
    ] {
        let answer = t.send(Via::Tcp(t.port), &request(header));
        assert!(
            matches!(answer.status(), 400 | 401),
            "authorization {what}: {}",
            answer.text
        );
    }
    let answer = t.send(
        Via::Tcp(t.port),
        &post(&body, "Authorization: Basic dXNlcjpwdw==\r\n"),
    );
    assert!(answer.text.contains("RUNNING"), "{}", answer.text);
    t.still_serving(Via::Unix);
    t.d.shutdown();
}

// ---------------------------------------------------------------- framing

/// `Transfer-Encoding` tricks — chunked and Content-Length together,
/// `chunked, identity`, obs-fold, duplicate lengths, bad and enormous
/// chunk sizes — are answered 400 or closed, and the second request
/// hidden behind them (`clearProcessLogs`) is never executed: the log it
/// would clear keeps its bytes.
#[test]
fn transfer_encoding_tricks_never_smuggle_a_request() {
    let mut t = Target::start("", "", &[]);
    let hidden = String::from_utf8(post(&call("supervisor.clearProcessLogs", &["writer"]), ""))
        .expect("ascii");
    let state = call("supervisor.getState", &[]);
    let first = |headers: &str, body: &str| {
        format!("POST /RPC2 HTTP/1.1\r\nHost: x\r\n{headers}\r\n{body}").into_bytes()
    };
    let chunked_then_hidden = format!("{:x}\r\n{state}\r\n0\r\n\r\n{hidden}", state.len());
    let tricks = [
        (
            "chunked and Content-Length",
            first(
                &format!(
                    "Content-Length: {}\r\nTransfer-Encoding: chunked\r\n",
                    chunked_then_hidden.len()
                ),
                &chunked_then_hidden,
            ),
        ),
        (
            "Content-Length first, short",
            first(
                "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n",
                &chunked_then_hidden,
            ),
        ),
        (
            "chunked, identity",
            first(
                &format!(
                    "Transfer-Encoding: chunked, identity\r\nContent-Length: {}\r\n",
                    chunked_then_hidden.len()
                ),
                &chunked_then_hidden,
            ),
        ),
        (
            "identity then chunked headers",
            first(
                "Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n",
                &chunked_then_hidden,
            ),
        ),
        (
            "obs-fold",
            first(
                &format!(
                    "Content-Length: {}\r\nTransfer-Encoding:\r\n chunked\r\n",
                    chunked_then_hidden.len()
                ),
                &chunked_then_hidden,
            ),
        ),
        (
            "obs-fold of Content-Length",
            first(
                &format!("Content-Length: {}\r\n 0\r\n", state.len()),
                &format!("{state}{hidden}"),
            ),
        ),
        (
            "two Content-Lengths",
            first(
                &format!(
                    "Content-Length: {}\r\nContent-Length: {}\r\n",
                    state.len(),
                    state.len() + hidden.len()
                ),
                &format!("{state}{hidden}"),
            ),
        ),
        (
            "xchunked",
            first("Transfer-Encoding: xchunked\r\n", &chunked_then_hidden),
        ),
        (
            "bad chunk size",
            first(
                "Transfer-Encoding: chunked\r\n",
                &format!("zz\r\n{state}\r\n0\r\n\r\n{hidden}"),
            ),
        ),
        (
            "enormous chunk size",
            first(
                "Transfer-Encoding: chunked\r\n",
                &format!("fffffffffffffffffffffff\r\n{state}\r\n0\r\n\r\n{hidden}"),
            ),
        ),
        (
            "chunk size with junk",
            first(
                "Transfer-Encoding: chunked\r\n",
                &format!("{:x} junk\r\n{state}\r\n0\r\n\r\n{hidden}", state.len()),
            ),
        ),
    ];
    let bytes = t.writer_log_len();
    for via in t.vias() {
        for (what, request) in &tricks {
            let answer = t.send(via, request);
            assert!(answer.refused(), "{via:?} {what}: {}", answer.text);
            assert!(
                answer.text.matches("HTTP/1.1 ").count() <= 1,
                "{via:?} {what}: one answer at most: {}",
                answer.text
            );
            assert_eq!(
                t.writer_log_len(),
                bytes,
                "{via:?} {what}: the hidden clearProcessLogs was executed"
            );
        }
        t.still_serving(via);
    }
    // The side effect is observable when asked for plainly.
    let answer = t.send(Via::Unix, hidden.as_bytes());
    assert!(
        answer.text.contains("<boolean>1</boolean>"),
        "{}",
        answer.text
    );
    assert!(wait_until(DEADLINE, || t.writer_log_len() == 0));
    t.d.shutdown();
}

// ---------------------------------------------------------------- traversal

/// Every endpoint that takes a path or a process name, with `../` plain,
/// percent-encoded and double-encoded: 404 (the page views: Supervisor's
/// BAD_NAME page; a `channel` that is not stdout/stderr: 400), and nothing
/// of a file outside the logs is served.
#[test]
fn traversal_on_every_path_taking_endpoint_is_404() {
    let mut t = Target::start("", "", &[]);
    let secret = t.d.path("secret.txt");
    std::fs::write(&secret, "TOP-SECRET-BYTES\n").expect("write the secret");
    let up = "../../../../../../../../../..";
    let enc = "..%2f..%2f..%2f..%2f..%2f..%2f..%2f..%2f..%2f..";
    let dbl = "..%252f..%252f..%252f..%252f..%252f..%252f..%252f..%252f";
    let dir = t.d.dir.path().display().to_string();
    let mut targets = Vec::new();
    for file in ["etc/passwd", &format!("{}/secret.txt", &dir[1..])] {
        for prefix in [up, enc, dbl] {
            targets.extend([
                format!("/logtail/{prefix}/{file}"),
                format!("/logtail/writer/{prefix}/{file}"),
                format!("/logtail/writer/stdout/{prefix}/{file}"),
                format!("/tail.html?processname={prefix}/{file}"),
                format!("/log.html?processname={prefix}/{file}"),
                format!("/logevents?processname={prefix}/{file}&offset=0"),
                format!("/download?processname={prefix}/{file}"),
                format!("/download?processname=writer&channel={prefix}/{file}"),
                format!("/stylesheets/{prefix}/{file}"),
                format!("/images/{prefix}/{file}"),
                format!("/scripts/{prefix}/{file}"),
                format!("/{prefix}/{file}"),
            ]);
        }
        targets.push(format!("/download?processname=/{file}"));
        targets.push(format!("/logtail//{file}"));
    }
    targets.push(format!("/download?processname={}", secret.display()));
    let mut odd = Vec::new();
    for via in t.vias() {
        for target in &targets {
            let request =
                format!("GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
            let answer = t.send(via, request.as_bytes());
            assert!(
                !answer.text.contains("root:") && !answer.text.contains("TOP-SECRET"),
                "{via:?} {target}: served a file outside the logs: {}",
                answer.text
            );
            // The page views answer an unknown name as Supervisor's
            // tail.html does: a page naming the fault. A `channel` is not a
            // path at all: anything but stdout/stderr is a bad request.
            let page_fault = (target.starts_with("/tail.html") || target.starts_with("/log.html"))
                && answer.status() == 200
                && (answer.text.contains("BAD_NAME")
                    || answer.text.contains("No such process named"));
            let bad_channel = target.contains("&channel=") && answer.status() == 400;
            if answer.status() != 404 && !page_fault && !bad_channel {
                odd.push(format!(
                    "{via:?} {target}: {}",
                    answer.text.lines().next().unwrap_or("")
                ));
            }
        }
        t.still_serving(via);
    }
    assert!(odd.is_empty(), "{}", odd.join("\n"));
    t.d.shutdown();
}

// ---------------------------------------------------------------- 401s

/// Issue 15: a password could be guessed as fast as the daemon answers.
/// After 10 failed authentications within 60 s one peer is answered 429
/// (with Retry-After, even for the right password, or the answer would
/// tell which guess was right) and one WARN line names it, never the
/// password; requests without credentials (a browser's first request) are
/// only challenged, and other peers are not affected.
#[test]
fn repeated_401s_from_one_peer_are_rate_limited_and_logged() {
    let mut t = Target::start("username=user\npassword=pw\n", "", &[]);
    let tcp = Via::Tcp(t.port);
    let state = call("supervisor.getState", &[]);
    // base64("user:nope") and base64("user:pw").
    let bad = "Authorization: Basic dXNlcjpub3Bl\r\n";
    let good = "Authorization: Basic dXNlcjpwdw==\r\n";
    for _ in 0..15 {
        assert_eq!(
            t.send(tcp, &post(&state, "")).status(),
            401,
            "no credentials"
        );
    }
    for i in 0..10 {
        let answer = t.send(tcp, &post(&state, bad));
        assert_eq!(answer.status(), 401, "failure {i}: {}", answer.text);
    }
    let answer = t.send(tcp, &post(&state, bad));
    assert_eq!(answer.status(), 429, "{}", answer.text);
    assert!(
        answer.text.to_ascii_lowercase().contains("retry-after: "),
        "{}",
        answer.text
    );
    let answer = t.send(tcp, &post(&state, good));
    assert_eq!(answer.status(), 429, "locked out: {}", answer.text);
    t.d.wait_log("10 failed HTTP authentications from 127.0.0.1 within 60 s");
    for _ in 0..5 {
        t.send(tcp, &post(&state, bad));
    }
    let warnings = t.d.lines("failed HTTP authentications");
    assert_eq!(warnings.len(), 1, "one line per window: {warnings:?}");
    assert!(warnings[0].contains(" WARN "), "{warnings:?}");
    let log = t.d.log_text();
    assert!(
        !log.contains("nope") && !log.contains("dXNlcjpub3Bl"),
        "{log}"
    );
    // Another peer signs in as usual.
    let other = connect_from("127.0.0.2", t.port);
    let answer = exchange(other, &post(&state, good));
    assert!(answer.text.contains("RUNNING"), "{}", answer.text);
    let other = connect_from("127.0.0.2", t.port);
    assert_eq!(exchange(other, &post(&state, bad)).status(), 401);
    t.d.shutdown();

    // On the unix socket the peer is the connecting uid.
    let mut u = TestDaemon::start(&format!(
        "[unix_http_server]\nfile=%(here)s/s.sock\nusername=user\npassword=pw\n{RPC_SERVERS}"
    ));
    let send = |headers: &str| {
        let s = UnixStream::connect(u.path("s.sock")).expect("connect");
        exchange(s, &post(&state, headers))
    };
    for i in 0..10 {
        assert_eq!(send(bad).status(), 401, "unix failure {i}");
    }
    assert_eq!(send(good).status(), 429);
    let uid = std::fs::metadata(u.path("s.sock")).map(|m| {
        use std::os::unix::fs::MetadataExt as _;
        m.uid()
    });
    u.wait_log(&format!(
        "failed HTTP authentications from uid {} on the unix socket",
        uid.expect("the socket's owner, the test's uid")
    ));
    u.shutdown();
}

// ---------------------------------------------------------------- the cap

/// Issue 15 item 3's cap as a config key: `max_connections` in
/// `[inet_http_server]` and `[unix_http_server]` caps each server on its
/// own; connections past it are closed at once and one WARN line (at most
/// once a minute) names the server; an invalid value is refused at start
/// with file, line and option.
#[test]
fn max_connections_config_key_caps_each_server_and_warns_once() {
    let mut t = Target::start("max_connections=2\n", "", &[]);
    let held: Vec<TcpStream> = (0..2)
        .map(|_| TcpStream::connect(("127.0.0.1", t.port)).expect("connect"))
        .collect();
    // Let the daemon accept both before the next ones.
    std::thread::sleep(Duration::from_millis(200));
    for i in 0..5 {
        let extra = TcpStream::connect(("127.0.0.1", t.port)).expect("connect");
        let answer = exchange(extra, &post(&call("supervisor.getState", &[]), ""));
        assert!(
            answer.closed && answer.text.is_empty(),
            "connection {} past the cap: {}",
            i + 3,
            answer.text
        );
    }
    t.d.wait_log("Server 'inet_http_server' is at its max_connections of 2");
    assert_eq!(
        t.d.count("is at its max_connections"),
        1,
        "{}",
        t.d.log_text()
    );
    // The unix server has its own (default) cap.
    t.still_serving(Via::Unix);
    drop(held);
    assert!(
        wait_until(DEADLINE, || t
            .send(
                Via::Tcp(t.port),
                &post(&call("supervisor.getState", &[]), "")
            )
            .text
            .contains("RUNNING")),
        "slots are freed"
    );
    t.d.shutdown();

    let mut u = TestDaemon::start(&format!(
        "[unix_http_server]\nfile=%(here)s/s.sock\nmax_connections=1\n{RPC_SERVERS}"
    ));
    let held = UnixStream::connect(u.path("s.sock")).expect("connect");
    std::thread::sleep(Duration::from_millis(200));
    let extra = UnixStream::connect(u.path("s.sock")).expect("connect");
    let answer = exchange(extra, &post(&call("supervisor.getState", &[]), ""));
    assert!(answer.closed && answer.text.is_empty(), "{}", answer.text);
    u.wait_log("Server 'unix_http_server' is at its max_connections of 1");
    drop(held);
    u.shutdown();

    let dir = support::bin::tempdir();
    let conf = dir.path().join("bad.conf");
    std::fs::write(
        &conf,
        support::daemon::config_text(
            dir.path(),
            "",
            &format!(
                "[inet_http_server]\nport=127.0.0.1:{}\nmax_connections=0\n",
                free_port()
            ),
        ),
    )
    .expect("write the config");
    let out = support::command::new(support::bin::SUPERVISORD)
        .arg("-c")
        .arg(&conf)
        .output()
        .expect("run supervisord");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("bad.conf:")
            && stderr.contains("[inet_http_server] max_connections: max_connections must be a positive integer, not 0"),
        "{stderr}"
    );
}
