//! Issue 15's holes at the HTTP edge, one regression test each, named after
//! the bug: cross-site browser requests to `/RPC2`, answers without
//! `X-Content-Type-Options: nosniff`, and a busy daemon's unix socket taken
//! over by a second daemon. (The unix socket's mode at bind time is a unit
//! test in `crates/sv-daemon/src/http/bind.rs`.)

mod support;

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::MetadataExt;
use std::process::Stdio;
use std::time::Duration;

use support::bin::{SUPERVISORD, wait_until};
use support::daemon::{DEADLINE, TestDaemon, config_text};

const RPC_SERVERS: &str = "[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n";

/// base64("user:pw").
const AUTH: &str = "Authorization: Basic dXNlcjpwdw==\r\n";

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    l.local_addr().expect("bound").port()
}

/// A daemon with an inet server on 127.0.0.1 asking for `user`/`pw`, and
/// one program, `sleeper`, RUNNING.
fn inet_daemon() -> (TestDaemon, u16) {
    let port = free_port();
    let d = TestDaemon::start(&format!(
        "[inet_http_server]\nport=127.0.0.1:{port}\nusername=user\npassword=pw\n{RPC_SERVERS}\
         [program:sleeper]\ncommand=sleep 1000\nstartsecs=0\n"
    ));
    d.wait_log("success: sleeper entered RUNNING state");
    (d, port)
}

fn call(method: &str, name: Option<&str>) -> String {
    let params = name
        .map(|n| format!("<param><value><string>{n}</string></value></param>"))
        .unwrap_or_default();
    format!(
        "<?xml version='1.0'?><methodCall><methodName>{method}</methodName><params>{params}</params></methodCall>"
    )
}

/// Send `request`, read the answer until the server closes or, for a
/// stream, until `limit` has passed; the text read.
fn exchange(port: u16, request: &str, limit: Duration) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(limit)).expect("timeout");
    s.write_all(request.as_bytes()).expect("write");
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The answer to `request` up to the end of its headers (for streams,
/// which never end), or whatever came before the server closed.
fn head_of(port: u16, request: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    s.write_all(request.as_bytes()).expect("write");
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while !out.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `POST /RPC2` with `Connection: close` and `headers` (each ending in CRLF).
fn post(port: u16, body: &str, headers: &str) -> String {
    exchange(
        port,
        &format!(
            "POST /RPC2 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n{headers}Content-Length: {}\r\n\r\n{body}",
            body.len()
        ),
        Duration::from_secs(10),
    )
}

fn status_of(response: &str) -> u16 {
    response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn sleeper_state(port: u16) -> String {
    let info = post(
        port,
        &call("supervisor.getProcessInfo", Some("sleeper")),
        AUTH,
    );
    let state = info
        .split("<name>statename</name>")
        .nth(1)
        .and_then(|rest| rest.split("<string>").nth(1))
        .and_then(|rest| rest.split('<').next())
        .unwrap_or("?");
    state.to_string()
}

/// Issue 15 item 1: any web page could make a browser POST an XML-RPC call
/// (`mode: 'no-cors'`, `Content-Type: text/plain`) to `/RPC2`, and the
/// daemon did it. A browser says where the request comes from
/// (`Sec-Fetch-Site`, `Origin`); such a request is now refused with 403 and
/// nothing is done, while clients that send neither header (xmlrpc.client,
/// curl, supervisorctl) and the server's own origin keep working.
#[test]
fn rpc2_refuses_cross_site_browser_requests() {
    let (mut d, port) = inet_daemon();
    let stop = call("supervisor.stopProcess", Some("sleeper"));
    let plain = "Content-Type: text/plain\r\n";
    let forged = [
        (
            "the issue's reproduction",
            "Origin: http://evil.example\r\nSec-Fetch-Site: cross-site\r\n",
        ),
        ("same-site", "Sec-Fetch-Site: same-site\r\n"),
        ("foreign Origin alone", "Origin: http://evil.example\r\n"),
        ("another port's Origin", "Origin: http://127.0.0.1:1\r\n"),
        ("opaque Origin", "Origin: null\r\n"),
    ];
    for (what, headers) in forged {
        let answer = post(port, &stop, &format!("{AUTH}{plain}{headers}"));
        assert_eq!(status_of(&answer), 403, "{what}: {answer}");
        assert!(!answer.contains("<methodResponse>"), "{what}: {answer}");
        assert_eq!(sleeper_state(port), "RUNNING", "{what}: nothing is done");
    }
    // The server's own origin (a page of this server) and a request the
    // user typed are not cross-site.
    let own = format!("Origin: http://127.0.0.1:{port}\r\n");
    let answer = post(
        port,
        &call("supervisor.getState", None),
        &format!("{AUTH}{own}"),
    );
    assert_eq!(status_of(&answer), 200, "own origin: {answer}");
    let typed = "Sec-Fetch-Site: none\r\n";
    let answer = post(
        port,
        &call("supervisor.getState", None),
        &format!("{AUTH}{typed}"),
    );
    assert_eq!(status_of(&answer), 200, "Sec-Fetch-Site: none: {answer}");
    // A script sends neither header and is served as before.
    let answer = post(port, &stop, &format!("{AUTH}Content-Type: text/xml\r\n"));
    assert_eq!(status_of(&answer), 200, "{answer}");
    assert!(answer.contains("<boolean>1</boolean>"), "{answer}");
    assert_eq!(sleeper_state(port), "STOPPED");
    d.shutdown();
}

/// Issue 15 item 5: `/download?processname=<html>` answered a 404 repeating
/// the name without `X-Content-Type-Options: nosniff`, and so did other
/// error answers; every answer of every route now carries it.
#[test]
fn every_answer_carries_nosniff() {
    let (mut d, port) = inet_daemon();
    let get = |path: &str, auth: &str| {
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n{auth}\r\n")
    };
    let body = call("supervisor.getState", None);
    let rpc = format!(
        "POST /RPC2 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n{AUTH}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let requests = [
        (
            "download of an unknown process",
            get("/download?processname=%3Cb%3Ex%3C/b%3E", AUTH),
            404,
        ),
        ("unknown path", get("/nothing-here", AUTH), 404),
        ("no credentials", get("/", ""), 401),
        ("GET /RPC2", get("/RPC2", AUTH), 400),
        ("POST /RPC2", rpc, 200),
        ("/ok.html", get("/ok.html", AUTH), 200),
        ("unknown /logtail", get("/logtail/nosuch", AUTH), 404),
        ("/logtail stream", get("/logtail/sleeper", AUTH), 200),
        ("/mainlogtail stream", get("/mainlogtail", AUTH), 200),
        ("the page", get("/", AUTH), 200),
        (
            "the stylesheet",
            get("/stylesheets/supervisor.css", AUTH),
            200,
        ),
    ];
    for (what, request, status) in requests {
        // Streams never end: read until their headers are complete.
        let answer = head_of(port, &request);
        let head = answer.split("\r\n\r\n").next().unwrap_or("");
        assert_eq!(status_of(head), status, "{what}: {head}");
        assert!(
            head.to_ascii_lowercase()
                .contains("\r\nx-content-type-options: nosniff"),
            "{what}: {head}"
        );
    }
    d.shutdown();
}

/// Issue 15 item 4: a second supervisord on the same unix socket path took
/// a busy first daemon's socket for stale when it did not answer within
/// 1 s, unlinked it and started. A socket that accepts a connection is
/// live however long its owner takes to answer; only a refused connection
/// means stale. The "busy daemon" here is a listener that never accepts.
#[test]
fn a_busy_daemons_socket_is_not_taken_for_stale() {
    let dir = support::bin::tempdir();
    let sock = dir.path().join("s.sock");
    let busy = std::os::unix::net::UnixListener::bind(&sock).expect("bind");
    let inode = fs::metadata(&sock).expect("bound").ino();
    let conf = dir.path().join("c.conf");
    fs::write(
        &conf,
        config_text(
            dir.path(),
            "",
            &format!("[unix_http_server]\nfile={}\n{RPC_SERVERS}", sock.display()),
        ),
    )
    .expect("write config");
    let mut child = support::command::new(SUPERVISORD)
        .arg("-c")
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start supervisord");
    let exited = wait_until(DEADLINE, || child.try_wait().ok().flatten().is_some());
    if !exited {
        let _ = child.kill();
    }
    let status = child.wait().expect("wait");
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    assert!(exited, "the second daemon started: {stderr}");
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("Another program is already listening"),
        "{stderr}"
    );
    assert!(!stderr.contains("Unlinking stale socket"), "{stderr}");
    // The first owner's socket is still linked, the same file.
    let now = fs::metadata(&sock).map(|m| m.ino()).ok();
    assert_eq!(now, Some(inode), "the live socket was replaced");
    drop(busy);
}

/// Start `supervisord -c conf` under `ulimit -n <nofile>` (soft and hard)
/// with `env`, and wait for it to be up.
fn daemon_with_fd_limit(body: &str, nofile: u32, env: &[(&str, &str)]) -> TestDaemon {
    let dir = support::bin::tempdir();
    let conf = dir.path().join("supervisord.conf");
    fs::write(&conf, config_text(dir.path(), "minfds=64", body)).expect("write config");
    let child = support::command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -n {nofile} && exec \"$0\" -c \"$1\""))
        .arg(SUPERVISORD)
        .arg(&conf)
        .envs(env.iter().copied())
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start supervisord");
    TestDaemon::adopt(dir, child)
}

/// Whether the server closed `stream` (EOF or reset) within `limit`,
/// rather than leaving it open.
fn closed_by_server(stream: &mut TcpStream, limit: Duration) -> bool {
    let _ = stream.set_read_timeout(Some(limit));
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => !matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
    }
}

/// `supervisor.getState` over the unix socket, within `limit`.
fn unix_state(sock: &std::path::Path, limit: Duration) -> String {
    let Ok(mut s) = std::os::unix::net::UnixStream::connect(sock) else {
        return String::new();
    };
    let _ = s.set_read_timeout(Some(limit));
    let body = call("supervisor.getState", None);
    let request = format!(
        "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    if s.write_all(request.as_bytes()).is_err() {
        return String::new();
    }
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

/// Issue 15 item 3: with no cap on open connections, 150 idle TCP
/// connections under a 128-descriptor limit took every descriptor: the
/// unix socket stopped answering (`supervisorctl status` hung) and
/// respawns failed ("too many open files to spawn") until the 30 s header
/// timeout. Each server now holds at most a quarter of the descriptor limit
/// (and at most `SV_HTTP_MAX_CONNECTIONS`); excess connections are closed
/// at once, and local control and spawning keep working.
#[test]
fn idle_connections_cannot_exhaust_descriptors() {
    let port = free_port();
    let mut d = daemon_with_fd_limit(
        &format!(
            "[unix_http_server]\nfile=%(here)s/s.sock\n[inet_http_server]\nport=127.0.0.1:{port}\n{RPC_SERVERS}\
             [program:crashy]\ncommand=sh -c 'sleep 0.2; exit 1'\nstartsecs=0\nautorestart=true\n"
        ),
        128,
        &[],
    );
    d.wait_log("spawned: 'crashy'");
    let mut idle: Vec<TcpStream> = (0..150)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).expect("connect"))
        .collect();
    let answer = unix_state(&d.path("s.sock"), Duration::from_secs(5));
    assert!(
        answer.contains("RUNNING"),
        "local control works: {answer:?}"
    );
    let spawned = d.count("spawned: 'crashy'");
    d.wait_count("spawned: 'crashy'", spawned + 2);
    assert_eq!(d.count("too many open files"), 0, "{}", d.log_text());
    let last = idle.last_mut().expect("150 connections");
    assert!(
        closed_by_server(last, Duration::from_secs(5)),
        "a connection past the cap is closed at once"
    );
    drop(idle);
    d.shutdown();
}

/// The cap is configurable (`SV_HTTP_MAX_CONNECTIONS`), bounds streams
/// (`/logtail` holds its connection), and frees a slot when a connection
/// ends.
#[test]
fn connections_past_the_configured_cap_are_closed_at_once() {
    let port = free_port();
    let mut d = TestDaemon::start_with_env(
        "",
        &format!(
            "[inet_http_server]\nport=127.0.0.1:{port}\n{RPC_SERVERS}\
             [program:sleeper]\ncommand=sleep 1000\nstartsecs=0\n"
        ),
        &[("SV_HTTP_MAX_CONNECTIONS", "3")],
    );
    d.wait_log("success: sleeper entered RUNNING state");
    let stream = |path: &str| {
        let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").expect("write");
        let mut head = [0u8; 12];
        s.read_exact(&mut head).expect("a status line");
        assert_eq!(&head, b"HTTP/1.1 200", "{path}");
        s
    };
    let held = [
        stream("/logtail/sleeper"),
        stream("/mainlogtail"),
        stream("/events"),
    ];
    let mut extra = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    assert!(
        closed_by_server(&mut extra, Duration::from_secs(5)),
        "the fourth connection is closed at once"
    );
    drop(held);
    assert!(
        wait_until(DEADLINE, || post(
            port,
            &call("supervisor.getState", None),
            ""
        )
        .contains("RUNNING")),
        "slots are freed when connections end"
    );
    d.shutdown();
}
