//! The fuzz targets: one function per parser, taking arbitrary bytes.
//!
//! Shared, unchanged, by the two drivers: the bounded in-suite run
//! (`tests/fuzz.rs`, stable, fixed seed) and the long cargo-fuzz runs
//! (`fuzz/fuzz_targets/*.rs`, which include this file by path). Each
//! function calls the parser's public entry point and panics only when a
//! property the parser promises does not hold; a panic inside the parser
//! is a finding either way.

#![allow(dead_code)] // each cargo-fuzz binary uses one target

use sv_core::config::CliOverrides;
use sv_core::config::testkit::MemHost;

/// The names the drivers know the targets by (cargo-fuzz binary names,
/// corpus directories).
pub const NAMES: &[&str] = &[
    "ini", "config", "xmlrpc", "http", "listener", "capture", "ctl_args",
];

/// Run the target called `name` on `data`.
pub fn run(name: &str, data: &[u8]) {
    match name {
        "ini" => ini(data),
        "config" => config(data),
        "xmlrpc" => xmlrpc(data),
        "http" => http(data),
        "listener" => listener(data),
        "capture" => capture(data),
        "ctl_args" => ctl_args(data),
        _ => panic!("no fuzz target {name}"),
    }
}

/// Target 1: the INI reader (`sv_ini::Document::read_str`). Property: reading
/// the same text again into the same document is what CPython's second
/// `read()` of one file does — it merges, so the sections stay the same.
pub fn ini(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut doc = sv_ini::Document::new();
    let first = doc.read_str(&text, "/etc/supervisord.conf");
    let names: Vec<String> = doc.sections().map(|s| s.name.clone()).collect();
    for name in &names {
        // Every lookup of what was read resolves (DEFAULT fallback included).
        for key in doc.options(name) {
            let _ = doc.get(name, key);
        }
        let _ = doc.items(name);
    }
    let again = doc.read_str(&text, "/etc/supervisord.conf");
    assert_eq!(first.is_ok(), again.is_ok(), "same text, different verdict");
    if first.is_ok() {
        let after: Vec<String> = doc.sections().map(|s| s.name.clone()).collect();
        assert_eq!(
            names, after,
            "re-reading the same text changed the sections"
        );
    }
}

/// Target 2: the config loader (`sv_core::config::load` and `load_ctl`) on an
/// in-memory machine. The input is the main file, then include files:
/// the parts are separated by a line `%%`, the second and later parts are
/// `/etc/conf.d/<n>.conf`, which `[include] files = conf.d/*.conf` finds.
pub fn config(data: &[u8]) {
    let _ = config_load(data);
}

/// What `load` made of the input (and `load_ctl` ran too).
pub fn config_load(data: &[u8]) -> Result<sv_core::config::Config, sv_core::config::LoadError> {
    let text = String::from_utf8_lossy(data);
    let mut host = fuzz_host();
    for (i, part) in text.split("\n%%\n").enumerate() {
        let path = if i == 0 {
            "/etc/supervisord.conf".to_string()
        } else {
            format!("/etc/conf.d/{i}.conf")
        };
        host.files.insert(path, part.to_string());
    }
    let _ = sv_core::config::load_ctl(&host, "/etc/supervisord.conf");
    sv_core::config::load(&host, "/etc/supervisord.conf", &CliOverrides::default())
}

/// Target 3: the XML-RPC decoder (`decode_call`, `decode_response`) under the
/// daemon's limits. Property: what decodes re-encodes to bytes that
/// decode to the same encoding (encode ∘ decode is idempotent — compared
/// as bytes, as NaN is not equal to itself), up to XML's end-of-line
/// normalization: a string holding `\r` (from `&#13;`) is written raw, as
/// Python's `xmlrpc.client` writes it, and comes back as `\n`, as it does
/// in Python (found by the first long run; see docs/reliability.md).
pub fn xmlrpc(data: &[u8]) {
    let limits = sv_xmlrpc::Limits::default();
    if let Ok(call) = sv_xmlrpc::decode_call(data, &limits) {
        let once = sv_xmlrpc::encode_call(&call);
        let back = sv_xmlrpc::decode_call(&once, &limits)
            .unwrap_or_else(|e| panic!("our own call encoding does not decode: {e}"));
        assert_eq!(
            xml_line_ends(&once),
            sv_xmlrpc::encode_call(&back),
            "call round trip"
        );
    }
    if let Ok(response) = sv_xmlrpc::decode_response(data, &limits) {
        let once = sv_xmlrpc::encode_response(&response);
        let back = sv_xmlrpc::decode_response(&once, &limits)
            .unwrap_or_else(|e| panic!("our own response encoding does not decode: {e}"));
        assert_eq!(
            xml_line_ends(&once),
            sv_xmlrpc::encode_response(&back),
            "response round trip"
        );
    }
}

/// What an XML parser makes of raw line ends: `\r\n` and `\r` become `\n`.
fn xml_line_ends(xml: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(xml.len());
    let mut bytes = xml.iter().peekable();
    while let Some(&b) = bytes.next() {
        if b == b'\r' {
            bytes.next_if_eq(&&b'\n');
            out.push(b'\n');
        } else {
            out.push(b);
        }
    }
    out
}

/// Target 4: the HTTP request path: the daemon's real connection handling
/// (`sv_daemon::http::serve_stream`: hyper's head parsing and body
/// framing, auth, routing, the RPC decoder, the page) over an in-memory
/// stream, once without and once with credentials. The actor is gone, as
/// in a daemon shutting down, so nothing is acted on. Property: the
/// connection answers or closes within bounded time (virtual: tokio's
/// paused clock runs the 30 s header timeout instantly); only a stream
/// that has answered (`/events`, `/logtail`) may stay open.
pub fn http(data: &[u8]) {
    for credentials in [None, Some(("user", "pass"))] {
        let _ = http_exchange(data, credentials);
    }
}

/// One connection fed `data`: what the server sent back.
pub fn http_exchange(data: &[u8], credentials: Option<(&str, &str)>) -> Vec<u8> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a tokio runtime");
    let credentials = credentials.map(|(u, p)| (u.to_string(), p.to_string()));
    runtime.block_on(async {
        // No actor behind the channel, as in a daemon shutting down.
        let (tx, _) = tokio::sync::mpsc::channel(1);
        let dispatcher = sv_daemon::rpc::Dispatcher::new(tx, true);
        let bus = sv_daemon::supervisor::Bus::new();
        let (client, server) = tokio::io::duplex(64 * 1024);
        let served = tokio::spawn(sv_daemon::http::serve_stream(
            server,
            dispatcher,
            bus,
            credentials,
        ));
        let (mut from_server, mut to_server) = tokio::io::split(client);
        // The write side stays open, as real clients keep it (hyper drops
        // a connection whose client half-closes): the server ends it by
        // answering `Connection: close`, an error, or its 30 s timeout.
        let send = async {
            // The server may answer and close before reading it all.
            let _ = to_server.write_all(data).await;
        };
        let mut answer = Vec::new();
        let receive = async {
            let mut buf = [0u8; 8192];
            while let Ok(n @ 1..) = from_server.read(&mut buf).await {
                answer.extend_from_slice(&buf[..n]);
            }
        };
        let limit = std::time::Duration::from_secs(120);
        let exchange = async { tokio::join!(send, receive) };
        let closed = tokio::time::timeout(limit, exchange).await.is_ok();
        // Open after 120 virtual seconds: only a stream that answered
        // (`/events`, `/logtail`) may be.
        assert!(
            closed || !answer.is_empty(),
            "the connection neither answered nor closed in 120 s"
        );
        drop((from_server, to_server));
        let _ = tokio::time::timeout(limit, served).await;
        answer
    })
}

/// Target 5: an event listener's output (`sv_core::events::Listener::feed`):
/// READY, then `RESULT <len>\n<result>` frames, first on a fresh
/// listener (ACKNOWLEDGED), then on one that was sent an event (BUSY).
/// The first byte sets the read size, so frames arrive split.
pub fn listener(data: &[u8]) {
    use sv_core::events::{Event, Hub, Listener, Pool};
    let (chunk, rest) = split_chunk(data);
    let mut log = Vec::new();
    let mut actions = Vec::new();
    let mut fresh = Listener::new("l0");
    for piece in rest.chunks(chunk) {
        fresh.feed(piece, &mut log, &mut actions);
    }

    let mut hub = Hub::new();
    hub.add_pool(Pool::new("p", 10, &["EVENT".into()]));
    hub.notify(Event::SupervisorRunning, &mut log);
    let Some(mut pool) = hub.remove_pool("p") else {
        panic!("the pool just added is gone");
    };
    let mut busy = Listener::new("l1");
    busy.feed(b"READY\n", &mut log, &mut actions);
    let mut slots = vec![(true, &mut busy)];
    pool.dispatch("sv", &mut slots, |_, _| true, &mut log);
    for piece in rest.chunks(chunk) {
        busy.feed(piece, &mut log, &mut actions);
        // A rejected or violated event goes back to the pool, never lost.
        for sv_core::events::ListenerAction::Requeue(q) in actions.drain(..) {
            pool.requeue(q, &mut log);
        }
    }
    let _ = busy.take_event();
}

/// Target 6: capture mode's token scanner (`sv_core::events::CaptureSplitter`).
/// The first byte sets the read size, the second `capture_maxbytes`
/// (0 = off) and whether ANSI is stripped. Property: without stripping,
/// no more bytes come out as log output than went in.
pub fn capture(data: &[u8]) {
    use sv_core::events::{CaptureSplitter, Segment};
    let (chunk, rest) = split_chunk(data);
    let (mode, rest) = rest.split_first().map_or((0, rest), |(m, r)| (*m, r));
    let strip = mode & 0x80 != 0;
    let maxbytes = i64::from(mode & 0x7f) * 4 - 8;
    let mut splitter = CaptureSplitter::new(maxbytes, strip);
    let mut out = Vec::new();
    for piece in rest.chunks(chunk) {
        splitter.feed(piece, &mut out);
    }
    let logged: usize = out
        .iter()
        .map(|s| match s {
            Segment::Output { data, .. } => data.len(),
            Segment::Communication(_) => 0,
        })
        .sum();
    if !strip {
        assert!(
            logged <= rest.len(),
            "{logged} bytes logged from {}",
            rest.len()
        );
    }
    splitter.reset();
}

/// Target 7: supervisorctl's command line (`sv_ctl::options::parse`, getopt
/// rules, and the `[supervisorctl]` section it reads) and the shell's
/// line splitting (`controller::parse_line`). The input is the arguments
/// separated by NUL bytes, then, after a 0xFF byte, the text of
/// `/etc/supervisord.conf` (which `-c` or the default search finds).
pub fn ctl_args(data: &[u8]) {
    let (argv, conf) = match data.iter().position(|&b| b == 0xff) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let args: Vec<String> = argv
        .split(|&b| b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let mut host = fuzz_host();
    host.files.insert(
        "/etc/supervisord.conf".into(),
        String::from_utf8_lossy(conf).into_owned(),
    );
    if let Ok(options) = sv_ctl::options::parse("supervisorctl", &args, &host) {
        let (command, rest) = sv_ctl::controller::parse_line(&options.args.join(" "));
        assert!(
            !command.contains(' '),
            "command word {command:?} has a space"
        );
        let _ = rest;
    }
    for arg in &args {
        let _ = sv_ctl::controller::parse_line(arg);
    }
}

/// The read size from the first byte (1 to 64 bytes), and the rest.
fn split_chunk(data: &[u8]) -> (usize, &[u8]) {
    match data.split_first() {
        Some((first, rest)) => (usize::from(first % 64) + 1, rest),
        None => (1, data),
    }
}

/// sv-core's in-memory test machine, with `/etc/conf.d` for includes.
fn fuzz_host() -> MemHost {
    let mut host = MemHost::new();
    host.dirs.push("/etc/conf.d".into());
    host
}
