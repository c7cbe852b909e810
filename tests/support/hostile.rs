//! The hostile-client tests' daemon and raw client (`tests/hostile_clients.rs`):
//! a daemon with both servers and a program whose log shows a hidden call's
//! side effect, and requests sent as bytes over TCP or the unix socket,
//! read until the server closes or a deadline.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::bin::wait_until;
use super::daemon::{DEADLINE, TestDaemon};

pub const RPC_SERVERS: &str = "[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n";

/// How long a test waits for the daemon to answer or close.
pub const ANSWER_WAIT: Duration = Duration::from_secs(10);

pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    l.local_addr().expect("bound").port()
}

/// Where a hostile request goes.
#[derive(Clone, Copy, Debug)]
pub enum Via {
    Tcp(u16),
    Unix,
}

/// A daemon with both servers (no credentials unless `auth`), a program
/// `writer` whose stdout log has known bytes, and `extra` config.
pub struct Target {
    pub d: TestDaemon,
    pub port: u16,
}

impl Target {
    pub fn start(inet_extra: &str, extra: &str, env: &[(&str, &str)]) -> Target {
        let port = free_port();
        let d = TestDaemon::start_with_env(
            "",
            &format!(
                "[unix_http_server]\nfile=%(here)s/s.sock\n\
                 [inet_http_server]\nport=127.0.0.1:{port}\n{inet_extra}\n{RPC_SERVERS}\
                 [program:writer]\ncommand=sh -c 'echo written; exec sleep 1000'\nstartsecs=0\n\
                 stdout_logfile=%(here)s/writer.log\n{extra}"
            ),
            env,
        );
        d.wait_log("success: writer entered RUNNING state");
        let log = d.path("writer.log");
        assert!(
            wait_until(DEADLINE, || std::fs::metadata(&log)
                .is_ok_and(|m| m.len() > 0)),
            "writer's log has its line"
        );
        Target { d, port }
    }

    pub fn vias(&self) -> [Via; 2] {
        [Via::Tcp(self.port), Via::Unix]
    }

    pub fn sock(&self) -> PathBuf {
        self.d.path("s.sock")
    }

    pub fn writer_log_len(&self) -> u64 {
        std::fs::metadata(self.d.path("writer.log")).map_or(0, |m| m.len())
    }

    /// Send raw bytes; what came back, and whether the server closed.
    pub fn send(&self, via: Via, request: &[u8]) -> Answer {
        match via {
            Via::Tcp(port) => {
                let s = TcpStream::connect(("127.0.0.1", port)).expect("connect tcp");
                exchange(s, request)
            }
            Via::Unix => {
                let s = UnixStream::connect(self.sock()).expect("connect unix");
                exchange(s, request)
            }
        }
    }

    /// A well-behaved `supervisor.getState` still works over `via`.
    pub fn still_serving(&self, via: Via) {
        let answer = self.send(via, &post(&call("supervisor.getState", &[]), ""));
        assert!(answer.text.contains("RUNNING"), "{via:?}: {}", answer.text);
    }
}

pub struct Answer {
    pub text: String,
    pub closed: bool,
}

impl Answer {
    pub fn status(&self) -> u16 {
        self.text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    /// Refused: a 4xx answer, or the connection closed with no answer.
    pub fn refused(&self) -> bool {
        (400..500).contains(&self.status()) || (self.closed && self.text.is_empty())
    }
}

/// Write `request`, then read until the server closes or [`ANSWER_WAIT`].
pub fn exchange<S: Read + Write>(mut s: S, request: &[u8]) -> Answer {
    // A server that closes early may reset the rest of a long write.
    let _ = s.write_all(request);
    read_answer(&mut s, ANSWER_WAIT)
}

pub fn read_answer<S: Read>(s: &mut S, limit: Duration) -> Answer {
    let end = Instant::now() + limit;
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    let closed = loop {
        if Instant::now() >= end {
            break false;
        }
        match s.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                break false;
            }
            Err(_) => break true,
        }
    };
    Answer {
        text: String::from_utf8_lossy(&out).into_owned(),
        closed,
    }
}

pub fn call(method: &str, params: &[&str]) -> String {
    let params: String = params
        .iter()
        .map(|p| format!("<param><value><string>{p}</string></value></param>"))
        .collect();
    format!(
        "<?xml version='1.0'?><methodCall><methodName>{method}</methodName><params>{params}</params></methodCall>"
    )
}

/// `POST /RPC2` of `body` with `Connection: close` and `headers` (each
/// ending in CRLF).
pub fn post(body: &str, headers: &str) -> Vec<u8> {
    format!(
        "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A TCP connection to the daemon from `source` (another loopback address
/// is another peer).
pub fn connect_from(source: &str, port: u16) -> TcpStream {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("a runtime");
    let stream = rt.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
        socket
            .bind(format!("{source}:0").parse().expect("an address"))
            .expect("bind the source address");
        socket
            .connect(([127, 0, 0, 1], port).into())
            .await
            .expect("connect")
    });
    let stream = stream.into_std().expect("a std stream");
    stream.set_nonblocking(false).expect("blocking");
    stream
}
