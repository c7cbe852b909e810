//! Raw XML-RPC over a daemon's unix socket, for tests that must see the
//! bytes of the HTTP answer (status line, headers, faults) rather than
//! what a client library makes of them.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// How long a test waits for one answer before it reads what it has.
const ANSWER_WAIT: Duration = Duration::from_secs(30);

/// POST `body` to `/RPC2` on a new connection that asks to be closed, and
/// read the whole raw answer.
pub fn post(sock: &Path, body: &str) -> String {
    let mut stream = UnixStream::connect(sock).expect("connect to the daemon's socket");
    stream
        .set_read_timeout(Some(ANSWER_WAIT))
        .expect("set a read timeout");
    write!(
        stream,
        "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("send the request");
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// The body of a call of `method` with string parameters.
pub fn call_body(method: &str, params: &[&str]) -> String {
    let params: String = params
        .iter()
        .map(|p| format!("<param><value><string>{p}</string></value></param>"))
        .collect();
    format!(
        "<?xml version='1.0'?><methodCall><methodName>{method}</methodName><params>{params}</params></methodCall>"
    )
}

/// Call `method` with string parameters; the raw answer.
pub fn call(sock: &Path, method: &str, params: &[&str]) -> String {
    post(sock, &call_body(method, params))
}
