//! The two RPC costs issue 14 promised not to make worse, measured on the
//! daemon's own types:
//!
//! * `encode getAllProcessInfo 200` (and 6000): 200 `sv_api::ProcessInfo`
//!   records turned into the XML-RPC answer bytes, the daemon's work per
//!   call after the actor has answered — written straight into the answer
//!   (`ProcessInfo::encode_all`, what the daemon does) and, for
//!   comparison, through a `Value` tree (what it did before issue 19);
//! * `round trip getAllProcessInfo 200`: one whole call over the unix socket
//!   against the release `supervisord` with 200 configured programs (a new
//!   connection per call, as `supervisorctl` and `xmlrpc.client` make).
//!
//! `cargo bench --bench rpc`; figures in docs/performance.md.

use std::hint::black_box;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use sv_api::ProcessInfo;
use sv_xmlrpc::{Value, encode_response};

/// Processes in the answer, as in the codec bench of sv-xmlrpc.
const PROCESSES: usize = 200;

fn records(count: usize) -> Vec<ProcessInfo> {
    (0..count)
        .map(|i| {
            let name = format!("worker_{i:04}");
            ProcessInfo {
                group: format!("pool_{}", i % 10),
                start: 1_764_000_000 + i as i64,
                stop: 0,
                now: 1_764_003_723,
                state: 20,
                statename: "RUNNING".into(),
                spawnerr: String::new(),
                exitstatus: 0,
                stdout_logfile: format!("/var/log/supervisor/{name}-stdout.log"),
                stderr_logfile: format!("/var/log/supervisor/{name}-stderr.log"),
                pid: 10_000 + i as u32,
                description: String::new(),
                name,
            }
            .with_description(&|_| String::new())
        })
        .collect()
}

fn encode(c: &mut Criterion) {
    let infos = records(PROCESSES);
    c.bench_function("encode getAllProcessInfo 200", |b| {
        b.iter(|| black_box(ProcessInfo::encode_all(black_box(&infos))))
    });
    // The path before issue 19: a `Value` tree, then its encoding.
    c.bench_function("encode getAllProcessInfo 200 via Value tree", |b| {
        b.iter(|| black_box(through_tree(black_box(&infos))))
    });
    let many = records(6000);
    c.bench_function("encode getAllProcessInfo 6000", |b| {
        b.iter(|| black_box(ProcessInfo::encode_all(black_box(&many))))
    });
    c.bench_function("encode getAllProcessInfo 6000 via Value tree", |b| {
        b.iter(|| black_box(through_tree(black_box(&many))))
    });
}

fn through_tree(infos: &[ProcessInfo]) -> Vec<u8> {
    let value = Value::Array(infos.iter().map(ProcessInfo::to_value).collect());
    encode_response(&Ok(value))
}

/// A release `supervisord` with 200 stopped programs on a unix socket in a
/// temp dir; killed (by pid) when dropped.
struct Daemon {
    child: Child,
    socket: PathBuf,
    _dir: tempfile::TempDir,
}

impl Daemon {
    fn start() -> Daemon {
        let dir = tempfile::tempdir().expect("temp dir");
        let socket = dir.path().join("s.sock");
        let mut conf = format!(
            "[unix_http_server]\nfile={sock}\n\n[supervisord]\nlogfile={dir}/main.log\n\
             pidfile={dir}/d.pid\nchildlogdir={dir}\n\n[rpcinterface:supervisor]\n\
             supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n",
            sock = socket.display(),
            dir = dir.path().display()
        );
        for group in 0..10 {
            conf.push_str(&format!(
                "[program:pool_{group}]\ncommand=/bin/sleep 1000\nautostart=false\n\
                 numprocs=20\nprocess_name=worker_%(process_num)04d\n\n"
            ));
        }
        let conf_path = dir.path().join("supervisord.conf");
        std::fs::write(&conf_path, conf).expect("write config");
        let child = Command::new(env!("CARGO_BIN_EXE_supervisord"))
            .args(["-n", "-c"])
            .arg(&conf_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start supervisord");
        let daemon = Daemon {
            child,
            socket,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while call(&daemon.socket).is_err() {
            assert!(Instant::now() < deadline, "supervisord did not answer");
            std::thread::sleep(Duration::from_millis(20));
        }
        daemon
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const BODY: &str = "<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.getAllProcessInfo</methodName>\n<params>\n</params>\n</methodCall>\n";

/// One call on a new connection; the answer's length.
fn call(socket: &Path) -> std::io::Result<usize> {
    let mut stream = UnixStream::connect(socket)?;
    write!(
        stream,
        "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{BODY}",
        BODY.len()
    )?;
    let mut answer = Vec::with_capacity(256 * 1024);
    stream.read_to_end(&mut answer)?;
    if !answer.starts_with(b"HTTP/1.1 200") || answer.len() < 10_000 {
        return Err(std::io::Error::other("unexpected answer"));
    }
    Ok(answer.len())
}

fn round_trip(c: &mut Criterion) {
    let daemon = Daemon::start();
    c.bench_function("round trip getAllProcessInfo 200", |b| {
        b.iter(|| black_box(call(&daemon.socket).expect("call")))
    });
}

criterion_group!(benches, encode, round_trip);
criterion_main!(benches);
