//! `[unix_http_server]` and `[inet_http_server]`: sockets, auth, malformed
//! and hostile requests, `/logtail`, many concurrent clients — the daemon
//! answers each with a fault or an HTTP error and keeps serving everyone.

mod support;

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use support::bin::{SUPERVISORD, wait_until};
use support::daemon::{DEADLINE, TestDaemon, config_text};

const RPC_SERVERS: &str = "[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n";

fn call_body(method: &str) -> String {
    format!(
        "<?xml version='1.0'?>\n<methodCall>\n<methodName>{method}</methodName>\n<params>\n</params>\n</methodCall>\n"
    )
}

/// Send raw bytes, read the whole answer (the request asks to close).
fn raw(sock: &Path, request: &[u8]) -> String {
    let Ok(mut stream) = UnixStream::connect(sock) else {
        return String::new();
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn post(sock: &Path, body: &str, extra_headers: &str) -> String {
    raw(
        sock,
        format!(
            "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: text/xml\r\n{extra_headers}Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )
}

fn status_of(response: &str) -> u16 {
    response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn unix_daemon(extra: &str, programs: &str) -> TestDaemon {
    TestDaemon::start(&format!(
        "[unix_http_server]\nfile=%(here)s/s.sock\nchmod=0760\n{extra}\n{RPC_SERVERS}{programs}"
    ))
}

#[test]
fn rpc_basics_and_http_errors() {
    let mut d = unix_daemon("", "[program:cat]\ncommand=/bin/cat\nstartsecs=0\n");
    let sock = d.path("s.sock");
    let mode = fs::metadata(&sock).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o760, "chmod applies to the socket file");
    let ok = post(&sock, &call_body("supervisor.getAPIVersion"), "");
    assert_eq!(status_of(&ok), 200, "{ok}");
    assert!(ok.contains("<string>3.0</string>"), "{ok}");
    let get = raw(&sock, b"GET /RPC2 HTTP/1.0\r\n\r\n");
    assert_eq!(status_of(&get), 400, "{get}");
    let no_length = raw(&sock, b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    assert_eq!(status_of(&no_length), 411, "{no_length}");
    let unknown = post(&sock, &call_body("supervisor._private"), "");
    assert!(
        unknown.contains("<int>1</int>") && unknown.contains("UNKNOWN_METHOD"),
        "{unknown}"
    );
    let dotted = post(&sock, &call_body("supervisor.getAPIVersion.x"), "");
    assert!(dotted.contains("UNKNOWN_METHOD"), "{dotted}");
    assert_eq!(
        status_of(&raw(&sock, b"GET /ok.html HTTP/1.0\r\n\r\n")),
        200
    );
    assert_eq!(
        status_of(&raw(&sock, b"GET /logtail HTTP/1.0\r\n\r\n")),
        404,
        "404 where Supervisor says 500"
    );
    assert_eq!(
        status_of(&raw(&sock, b"GET /logtail/nosuch HTTP/1.0\r\n\r\n")),
        404
    );
    d.shutdown();
    assert!(!sock.exists(), "the socket file is removed at exit");
}

#[test]
fn hostile_requests_get_errors_and_the_daemon_keeps_serving() {
    let mut d = unix_daemon("", "[program:cat]\ncommand=/bin/cat\nstartsecs=0\n");
    let sock = d.path("s.sock");
    let laughs = "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\"><!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]><methodCall><methodName>&lol3;</methodName></methodCall>";
    let deep = format!(
        "<?xml version='1.0'?><methodCall><methodName>x.y</methodName><params><param><value>{}{}</value></param></params></methodCall>",
        "<array><data><value>".repeat(5000),
        "</value></data></array>".repeat(5000)
    );
    for (what, body) in [
        ("billion laughs", laughs.to_string()),
        ("deep nesting", deep),
        ("not xml", "hello".to_string()),
        ("truncated", call_body("supervisor.getState")[..40].to_string()),
        ("invalid utf-8", "<?xml version='1.0'?><methodCall><methodName>\u{fffd}".to_string()),
        ("wrong param type", "<?xml version='1.0'?><methodCall><methodName>supervisor.getProcessInfo</methodName><params><param><value><array><data/></array></value></param></params></methodCall>".to_string()),
        ("wrong arity", "<?xml version='1.0'?><methodCall><methodName>supervisor.getState</methodName><params><param><value><int>1</int></value></param></params></methodCall>".to_string()),
    ] {
        let response = post(&sock, &body, "");
        let status = status_of(&response);
        assert!(
            status == 400 || (status == 200 && response.contains("<fault>")),
            "{what}: {response}"
        );
    }
    let invalid_bytes = raw(&sock, b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 11\r\n\r\n\xff\xfe\x00garbage!");
    assert_eq!(status_of(&invalid_bytes), 400);
    let huge = format!(
        "POST /RPC2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        64u64 << 20
    );
    let mut stream = UnixStream::connect(&sock).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(huge.as_bytes()).unwrap();
    let _ = stream.write_all(&vec![b'x'; 1 << 20]);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    assert_eq!(
        status_of(&String::from_utf8_lossy(&answer)),
        413,
        "bodies are capped"
    );
    // Still serving.
    let ok = post(&sock, &call_body("supervisor.getState"), "");
    assert!(ok.contains("RUNNING"), "{ok}");
    d.shutdown();
}

#[test]
fn basic_auth_plain_and_sha_on_tcp() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    // echo -n pw | sha1sum
    let mut d = TestDaemon::start(&format!(
        "[inet_http_server]\nport=127.0.0.1:{port}\nusername=user\npassword={{SHA}}1a91d62f7ca67399625a4368a6ab5d4a3baa6073\n{RPC_SERVERS}"
    ));
    let send = |auth: Option<&str>| -> String {
        let body = call_body("supervisor.getState");
        let header = auth
            .map(|a| format!("Authorization: Basic {a}\r\n"))
            .unwrap_or_default();
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            s,
            "POST /RPC2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{header}Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    };
    let unauthorized = send(None);
    assert_eq!(status_of(&unauthorized), 401);
    assert!(
        unauthorized
            .to_lowercase()
            .contains("www-authenticate: basic realm=\"default\"")
    );
    // base64("user:pw") and friends.
    assert_eq!(status_of(&send(Some("dXNlcjpwdw=="))), 200);
    assert_eq!(status_of(&send(Some("dXNlcjp4"))), 401, "wrong password");
    assert_eq!(
        status_of(&send(Some("dXNlcg=="))),
        401,
        "no colon: 401 where Supervisor says 500"
    );
    assert_eq!(status_of(&send(Some("!!notbase64"))), 400);
    d.shutdown();
}

#[test]
fn a_second_daemon_on_the_same_socket_is_refused_and_a_stale_one_replaced() {
    let mut d = unix_daemon("", "");
    let conf = d.dir.path().join("second.conf");
    let text = fs::read_to_string(&d.conf)
        .unwrap()
        .replace("supervisord.log", "second.log")
        .replace("supervisord.pid", "second.pid");
    fs::write(&conf, text).unwrap();
    let out = support::command::new(SUPERVISORD)
        .arg("-c")
        .arg(&conf)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Another program is already listening"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        d.path("s.sock").exists(),
        "the live daemon's socket is untouched"
    );
    d.shutdown();

    // A stale socket file (no one listening) is replaced.
    let dir = support::bin::tempdir();
    let stale = dir.path().join("s.sock");
    drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
    assert!(stale.exists());
    let conf = dir.path().join("c.conf");
    fs::write(
        &conf,
        config_text(
            dir.path(),
            "",
            &format!(
                "[unix_http_server]\nfile={}\n{RPC_SERVERS}",
                stale.display()
            ),
        ),
    )
    .unwrap();
    let mut child = support::command::new(SUPERVISORD)
        .arg("-c")
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(wait_until(DEADLINE, || post(
        &stale,
        &call_body("supervisor.getState"),
        ""
    )
    .contains("RUNNING")));
    assert!(
        support::command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    assert!(wait_until(DEADLINE, || child.try_wait().unwrap().is_some()));
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(stderr.contains("Unlinking stale socket"), "{stderr}");
}

#[test]
fn logtail_streams_the_end_then_new_output() {
    let mut d = unix_daemon(
        "",
        "[program:talk]\ncommand=/bin/sh -c 'head -c 3000 /dev/zero | tr \"\\\\000\" a; echo; i=0; while [ $i -lt 200 ]; do i=$((i+1)); echo tick $i; sleep 0.05; done; exec sleep 1000'\nstartsecs=0\n",
    );
    d.wait_log("success: talk entered RUNNING state");
    // RUNNING comes at the spawn (startsecs=0): wait until the 3000 bytes
    // are in the AUTO stdout log before asking for its end.
    let dir = d.path("");
    let logged = wait_until(DEADLINE, || {
        fs::read_dir(&dir).is_ok_and(|entries| {
            entries.flatten().any(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.starts_with("talk-stdout") && e.metadata().is_ok_and(|m| m.len() >= 3001)
            })
        })
    });
    assert!(logged, "talk's stdout log never reached 3001 bytes");
    let sock = d.path("s.sock");
    let mut stream = UnixStream::connect(&sock).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .write_all(b"GET /logtail/talk HTTP/1.0\r\n\r\n")
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let ok = wait_until(DEADLINE, || {
        if let Ok(n) = stream.read(&mut buf) {
            got.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&got).matches("tick").count() >= 3
    });
    let text = String::from_utf8_lossy(&got).into_owned();
    assert!(ok, "{text}");
    assert!(
        text.starts_with("HTTP/1.0 200") || text.starts_with("HTTP/1.1 200"),
        "{text}"
    );
    assert!(text.to_lowercase().contains("x-accel-buffering: no"));
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
    assert!(
        body.len() >= 1024 && !body.starts_with(&"a".repeat(1025)),
        "starts with the last 1024 bytes"
    );
    drop(stream);
    d.shutdown();
}

#[test]
fn many_concurrent_clients_no_errors_no_fd_leak() {
    let programs: String = (0..20)
        .map(|i| format!("[program:p{i:02}]\ncommand=/bin/cat\nstartsecs=0\n"))
        .collect();
    let mut d = unix_daemon("", &programs);
    d.wait_count("entered RUNNING state", 20);
    let sock = d.path("s.sock");
    let pid = d.child.id();
    let fds = || {
        fs::read_dir(format!("/proc/{pid}/fd"))
            .map(|e| e.count())
            .unwrap_or(0)
    };
    let rss_kib = || {
        fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| {
                let line = s.lines().find(|l| l.starts_with("VmRSS:"))?.to_owned();
                line.split_whitespace().nth(1)?.parse::<u64>().ok()
            })
            .unwrap_or(0)
    };
    let before = fds();
    // Two rounds of 5 s (the 10 s): the first warms the allocator
    // up, the second must not grow the daemon's memory.
    let mut rss_after_round = Vec::new();
    let (mut calls, mut errors) = (0, 0);
    for _round in 0..2 {
        let deadline = Instant::now() + Duration::from_secs(5);
        let threads: Vec<_> = (0..200)
            .map(|_| {
                let sock = sock.clone();
                std::thread::spawn(move || {
                    let mut calls = 0;
                    let mut errors = 0;
                    while Instant::now() < deadline {
                        let r = post(&sock, &call_body("supervisor.getAllProcessInfo"), "");
                        if status_of(&r) != 200 || !r.contains("p19") {
                            errors += 1;
                        }
                        calls += 1;
                    }
                    (calls, errors)
                })
            })
            .collect();
        for t in threads {
            let (c, e) = t.join().unwrap();
            calls += c;
            errors += e;
        }
        rss_after_round.push(rss_kib());
    }
    eprintln!(
        "200 clients × 10 s: {calls} calls, {errors} errors, RSS after each round {rss_after_round:?} KiB, fds {before} before"
    );
    assert_eq!(errors, 0, "{errors} failed calls out of {calls}");
    assert!(calls >= 400);
    assert!(
        rss_after_round[1] <= rss_after_round[0] + 2048,
        "daemon memory grew between rounds: {rss_after_round:?} KiB"
    );
    // Connections are closed by the clients; give the daemon a moment to see it.
    assert!(
        wait_until(DEADLINE, || fds() <= before + 2),
        "fd leak: {before} → {}",
        fds()
    );
    d.shutdown();
}

/// Read until the server closes the connection; returns what arrived and
/// whether it closed (rather than the 10 s read timeout passing).
fn read_until_closed(stream: &mut UnixStream) -> (String, bool) {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut out = Vec::new();
    let closed = stream.read_to_end(&mut out).is_ok();
    (String::from_utf8_lossy(&out).into_owned(), closed)
}

#[test]
fn slow_and_idle_clients_are_dropped_and_others_served() {
    let mut d = TestDaemon::start_with_env(
        "",
        &format!("[unix_http_server]\nfile=%(here)s/s.sock\n{RPC_SERVERS}"),
        &[("SV_HTTP_CLIENT_TIMEOUT_MS", "300")],
    );
    let sock = d.path("s.sock");
    // Headers that never finish (slowloris).
    let mut slow_headers = UnixStream::connect(&sock).unwrap();
    slow_headers
        .write_all(b"POST /RPC2 HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    // A body that never arrives.
    let mut slow_body = UnixStream::connect(&sock).unwrap();
    slow_body
        .write_all(b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n<?xml")
        .unwrap();
    // A connection that never sends anything.
    let mut silent = UnixStream::connect(&sock).unwrap();
    // A keep-alive connection left idle after one answered request.
    let mut idle = UnixStream::connect(&sock).unwrap();
    let body = call_body("supervisor.getState");
    idle.write_all(
        format!(
            "POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )
    .unwrap();

    // Meanwhile others are served.
    let ok = post(&sock, &call_body("supervisor.getState"), "");
    assert!(ok.contains("RUNNING"), "{ok}");

    let (text, closed) = read_until_closed(&mut slow_headers);
    assert!(
        closed,
        "a client that never finishes its headers is dropped"
    );
    assert!(!text.contains("200 OK"), "{text}");
    let (text, closed) = read_until_closed(&mut slow_body);
    assert!(closed, "a client that never sends its body is dropped");
    assert_eq!(status_of(&text), 408, "{text}");
    let (text, closed) = read_until_closed(&mut silent);
    assert!(
        closed && text.is_empty(),
        "a silent connection is closed: {text:?}"
    );
    let (text, closed) = read_until_closed(&mut idle);
    assert!(closed, "an idle keep-alive connection is closed");
    assert!(
        text.starts_with("HTTP/1.1 200 OK") && text.contains("RUNNING"),
        "{text}"
    );
    d.shutdown();
}

/// Regression (issue 15, item 8): with no program to stop, the daemon used
/// to exit as soon as it had queued `supervisor.shutdown`'s answer, and the
/// runtime went away before the connection wrote it — supervisorctl then
/// printed Python's `RemoteDisconnected`. Several rounds, because the race
/// needs a busy machine to show.
#[test]
fn shutdown_with_no_programs_is_answered_before_the_daemon_exits() {
    for round in 0..8 {
        let mut d = unix_daemon("", "");
        let answer = post(&d.path("s.sock"), &call_body("supervisor.shutdown"), "");
        assert_eq!(status_of(&answer), 200, "round {round}: {answer:?}");
        assert!(
            answer.contains("<boolean>1</boolean>"),
            "round {round}: {answer}"
        );
        assert!(d.wait_exit().success(), "round {round}");
    }
}
