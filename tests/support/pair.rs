//! Running one configuration under both daemons — ours and the reference
//! Supervisor 4.3.0 — and comparing what clients see.
//!
//! * [`Daemon`]: one `supervisord -n -c <conf>` (ours or the reference) on
//!   its own short temp dir, with a long-lived Python XML-RPC client
//!   (`tests/compat/rpc_client.py`, run by the reference venv's python) on
//!   its unix socket, a raw HTTP client ([`Daemon::http`]) and the
//!   reference `supervisorctl` ([`Daemon::ctl`]). Dropping it stops the
//!   daemon (SIGTERM to its pid, SIGKILL by pid after a deadline).
//! * [`Pair`]: the same config under both implementations; [`Pair::each`]
//!   runs one step on both at the same time.
//! * [`Norm`]: replaces what legitimately differs between two runs (pids,
//!   times, uptimes, dates, AUTO log names, the temp dir) with placeholders.
//! * [`Report`]: collects mismatches and fails once, readably, at the end.
//!
//! `SV_COMPAT_OURS=reference` runs the reference daemon in the "ours" slot
//! too: a reference-vs-reference run validates the harness and the
//! normalisation while our daemon is incomplete.
#![allow(dead_code)]

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ExitStatus, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::{Value, json};

use super::{bin, reference};

/// How long a daemon may take to answer its first `getState`.
pub const READY_DEADLINE: Duration = Duration::from_secs(30);
/// Upper bound for one XML-RPC exchange through the Python helper.
pub const RPC_TIMEOUT: Duration = Duration::from_secs(60);
/// The bound once a daemon has let one exchange time out.
pub const RPC_TIMEOUT_AFTER_HANG: Duration = Duration::from_secs(10);
/// Upper bound for one `supervisorctl` run.
pub const CTL_TIMEOUT: Duration = Duration::from_secs(60);

/// A condition on a streaming client's output so far (see
/// [`Daemon::ctl_with`]).
pub type Condition<'a> = dyn Fn(&str) -> bool + Sync + 'a;

/// Which supervisord runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Impl {
    /// This project's `supervisord`.
    Ours,
    /// Python Supervisor 4.3.0 from the reference venv.
    Reference,
}

impl Impl {
    /// The implementation to run in the "ours" slot of a [`Pair`]: `Ours`,
    /// or `Reference` when `SV_COMPAT_OURS=reference` (harness validation).
    pub fn ours_slot() -> Impl {
        match std::env::var("SV_COMPAT_OURS").as_deref() {
            Ok("reference") | Ok("ref") => Impl::Reference,
            _ => Impl::Ours,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Impl::Ours => "ours",
            Impl::Reference => "reference",
        }
    }

    pub fn supervisord(self) -> PathBuf {
        match self {
            Impl::Ours => PathBuf::from(bin::SUPERVISORD),
            Impl::Reference => reference::venv_bin().join("supervisord"),
        }
    }

    pub fn supervisorctl(self) -> PathBuf {
        match self {
            Impl::Ours => PathBuf::from(bin::SUPERVISORCTL),
            Impl::Reference => reference::venv_bin().join("supervisorctl"),
        }
    }
}

/// The `[inet_http_server]` section, if any.
#[derive(Clone, Debug, Default)]
pub enum Inet {
    #[default]
    None,
    /// `port=127.0.0.1:<free port>`, no authentication.
    Open,
    /// With `username=` and `password=` (the password as written in the
    /// file, e.g. `{SHA}<hex>`).
    Auth { username: String, password: String },
}

/// Start-up options of a [`Daemon`].
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub inet: Inet,
    /// Extra lines for the `[supervisord]` section.
    pub extra_supervisord: String,
    /// `loglevel=` of `[supervisord]` (`debug` when `None`).
    pub loglevel: Option<String>,
}

impl Options {
    pub fn inet_open() -> Self {
        Options {
            inet: Inet::Open,
            ..Options::default()
        }
    }

    pub fn inet_auth(username: &str, password: &str) -> Self {
        Options {
            inet: Inet::Auth {
                username: username.to_string(),
                password: password.to_string(),
            },
            ..Options::default()
        }
    }
}

/// Which listening socket a raw HTTP request goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Unix,
    Inet,
}

/// One raw HTTP answer.
#[derive(Clone, Debug, Default)]
pub struct HttpReply {
    pub status: u16,
    pub reason: String,
    /// Header names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    /// The body (chunked transfer decoded; for endless streams whatever
    /// arrived in the reading window).
    pub body: Vec<u8>,
    /// How long until the status line arrived.
    pub first_byte: Duration,
}

impl HttpReply {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// The long-lived Python XML-RPC client of one daemon.
struct RpcClient {
    child: Child,
    stdin: Option<ChildStdin>,
    answers: Receiver<String>,
}

impl RpcClient {
    fn start(serverurl: &str) -> RpcClient {
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests")
            .join("compat")
            .join("rpc_client.py");
        let mut child = super::command::new(reference::python())
            .arg(&script)
            .arg(serverurl)
            .env("PYTHONUTF8", "1")
            .env("PYTHONIOENCODING", "utf-8")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", script.display()));
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        RpcClient {
            child,
            stdin,
            answers: rx,
        }
    }

    /// Send one request; `None` when the helper died or timed out (the
    /// caller then discards this client).
    fn request(&mut self, request: &Value, timeout: Duration) -> Result<Value, String> {
        let stdin = self.stdin.as_mut().ok_or("helper stdin closed")?;
        writeln!(stdin, "{request}")
            .and_then(|()| stdin.flush())
            .map_err(|e| format!("helper write failed: {e}"))?;
        match self.answers.recv_timeout(timeout) {
            Ok(line) => serde_json::from_str(&line)
                .map_err(|e| format!("helper answered non-JSON {line:?}: {e}")),
            Err(RecvTimeoutError::Timeout) => Err(format!("no answer within {timeout:?}")),
            Err(RecvTimeoutError::Disconnected) => Err("helper exited".to_string()),
        }
    }
}

impl Drop for RpcClient {
    fn drop(&mut self) {
        self.stdin.take();
        if !bin::wait_until(Duration::from_secs(2), || {
            self.child.try_wait().ok().flatten().is_some()
        }) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// One running supervisord (ours or the reference) on its own temp dir.
pub struct Daemon {
    pub which: Impl,
    pub dir: tempfile::TempDir,
    /// The temp dir as text (what `{dir}` expands to).
    pub dir_text: String,
    pub conf: PathBuf,
    pub sock: PathBuf,
    /// Port of the `[inet_http_server]`, if configured.
    pub port: Option<u16>,
    pub options: Options,
    pid: u32,
    child: Mutex<Child>,
    exit: Mutex<Option<ExitStatus>>,
    client: Mutex<Option<RpcClient>>,
    /// Set after a request timed out: later requests wait less, so that a
    /// hanging daemon still yields a complete report in bounded time.
    timed_out: AtomicBool,
}

/// A free TCP port on 127.0.0.1 (bound, then released).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr").port()
}

impl Daemon {
    /// Start `which` with `body` (program sections etc.; `{dir}` is replaced
    /// by the temp dir) and wait until it answers `supervisor.getState`.
    /// Panics (with the daemon's output) if it does not within
    /// [`READY_DEADLINE`].
    pub fn start(which: Impl, body: &str, options: Options) -> Daemon {
        let dir = bin::tempdir();
        let dir_text = dir.path().display().to_string();
        let conf = dir.path().join("supervisord.conf");
        let sock = dir.path().join("s.sock");
        let port = match options.inet {
            Inet::None => None,
            _ => Some(free_port()),
        };
        let stdout = fs::File::create(dir.path().join("daemon.stdout")).unwrap();
        let stderr = fs::File::create(dir.path().join("daemon.stderr")).unwrap();
        let mut daemon_conf = String::new();
        render_config(&mut daemon_conf, &dir_text, port, &options, body);
        fs::write(&conf, daemon_conf).unwrap();
        let child = super::command::new(which.supervisord())
            .arg("-n")
            .arg("-c")
            .arg(&conf)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the {} supervisord: {e}", which.label()));
        let daemon = Daemon {
            which,
            pid: child.id(),
            dir,
            dir_text,
            conf,
            sock,
            port,
            options,
            child: Mutex::new(child),
            exit: Mutex::new(None),
            client: Mutex::new(None),
            timed_out: AtomicBool::new(false),
        };
        if let Err(why) = daemon.wait_ready(READY_DEADLINE) {
            panic!(
                "the {} supervisord did not become ready: {why}\n{}",
                which.label(),
                daemon.diagnostics()
            );
        }
        daemon
    }

    pub fn label(&self) -> &'static str {
        self.which.label()
    }

    /// The daemon's pid.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn serverurl(&self) -> String {
        format!("unix://{}", self.sock.display())
    }

    /// Rewrite the config file with a new `body` (same header and port).
    pub fn write_body(&self, body: &str) {
        let mut text = String::new();
        render_config(&mut text, &self.dir_text, self.port, &self.options, body);
        fs::write(&self.conf, text).unwrap();
    }

    /// Replace the whole config file with `text` (`{dir}` expanded).
    pub fn write_raw_config(&self, text: &str) {
        fs::write(&self.conf, text.replace("{dir}", &self.dir_text)).unwrap();
    }

    /// Daemon stdout/stderr and the tail of the main log, for failure messages.
    pub fn diagnostics(&self) -> String {
        let read = |name: &str| fs::read_to_string(self.path(name)).unwrap_or_default();
        let log = read("supervisord.log");
        let tail: String = {
            let lines: Vec<&str> = log.lines().collect();
            lines[lines.len().saturating_sub(40)..].join("\n")
        };
        format!(
            "--- {} daemon stdout ---\n{}\n--- {} daemon stderr ---\n{}\n--- {} main log (tail) ---\n{}",
            self.label(),
            read("daemon.stdout").trim_end(),
            self.label(),
            read("daemon.stderr").trim_end(),
            self.label(),
            tail
        )
    }

    /// Exit status if the daemon has exited.
    pub fn exited(&self) -> Option<ExitStatus> {
        let mut exit = self.exit.lock().unwrap();
        if exit.is_none() {
            *exit = self.child.lock().unwrap().try_wait().ok().flatten();
        }
        *exit
    }

    /// Wait up to `deadline` for the daemon to exit.
    pub fn wait_exit(&self, deadline: Duration) -> Option<ExitStatus> {
        let mut status = None;
        bin::wait_until(deadline, || {
            status = self.exited();
            status.is_some()
        });
        status
    }

    /// Poll `supervisor.getState` until it answers RUNNING.
    pub fn wait_ready(&self, deadline: Duration) -> Result<(), String> {
        let end = Instant::now() + deadline;
        let mut last = Value::Null;
        loop {
            if let Some(status) = self.exited() {
                return Err(format!("the daemon exited ({status}); last answer {last}"));
            }
            last = self.call("supervisor.getState", json!([]));
            if last["ok"]["statename"] == "RUNNING" {
                return Ok(());
            }
            if Instant::now() >= end {
                return Err(format!("not ready after {deadline:?}; last answer {last}"));
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// Send one JSON request to this daemon's Python helper. The answer is
    /// `{"ok": v}`, `{"fault": [code, text]}` or `{"error": …, "detail": …}`;
    /// a dead or stuck helper gives `{"error": "helper: …"}` (and is
    /// replaced on the next call).
    pub fn request(&self, request: &Value) -> Value {
        let mut guard = self.client.lock().unwrap();
        let client = guard.get_or_insert_with(|| RpcClient::start(&self.serverurl()));
        let timeout = if self.timed_out.load(Ordering::Relaxed) {
            RPC_TIMEOUT_AFTER_HANG
        } else {
            RPC_TIMEOUT
        };
        match client.request(request, timeout) {
            Ok(answer) => answer,
            Err(why) => {
                if why.starts_with("no answer") {
                    self.timed_out.store(true, Ordering::Relaxed);
                }
                *guard = None;
                json!({"error": format!("helper: {why}")})
            }
        }
    }

    /// Call `method` with `params` (a JSON array) over the unix socket.
    pub fn call(&self, method: &str, params: Value) -> Value {
        self.request(&json!({"method": method, "params": params}))
    }

    /// Evaluate a Python expression in the helper, where `s` is the
    /// `ServerProxy`, e.g. `s.supervisor.getProcessInfo('cat')`.
    pub fn rpc(&self, py_expr: &str) -> Value {
        self.request(&json!({"eval": py_expr}))
    }

    /// A hand-made HTTP request sent by the Python helper over the unix
    /// socket; see `rpc_client.py` for `spec`'s fields. The answer has
    /// `status`, `headers`, `body` and, for XML answers, the parsed
    /// `ok`/`fault`/`error`.
    pub fn raw_rpc(&self, spec: Value) -> Value {
        self.request(&json!({"raw": spec}))
    }

    /// POST an XML-RPC body as-is to `/RPC2` and parse the answer.
    pub fn post_xml(&self, body: &str) -> Value {
        self.raw_rpc(json!({"verb": "POST", "path": "/RPC2", "body": body,
            "headers": {"Content-Type": "text/xml"}}))
    }

    /// Run the reference `supervisorctl -c <conf> args…` (stdin null);
    /// returns (exit code, stdout, stderr). A run killed by a signal gives
    /// `-signal`.
    pub fn ctl(&self, args: &[&str]) -> (i32, String, String) {
        self.ctl_with(args, CTL_TIMEOUT, None)
    }

    /// Like [`Daemon::ctl`], but once `interrupt_when` (if given) holds for
    /// the output so far (stdout, then stderr) send SIGINT, as Ctrl-C would
    /// (for `tail -f`): a condition, never a fixed wait. After `timeout` the
    /// run is killed.
    pub fn ctl_with(
        &self,
        args: &[&str],
        timeout: Duration,
        interrupt_when: Option<&Condition<'_>>,
    ) -> (i32, String, String) {
        self.ctl_using(Impl::Reference, args, timeout, interrupt_when)
    }

    /// Like [`Daemon::ctl_with`], with `client`'s `supervisorctl`.
    pub fn ctl_using(
        &self,
        client: Impl,
        args: &[&str],
        timeout: Duration,
        interrupt_when: Option<&Condition<'_>>,
    ) -> (i32, String, String) {
        let mut child = super::command::new(client.supervisorctl())
            .arg("-c")
            .arg(&self.conf)
            .args(args)
            .current_dir(self.dir.path())
            .env("PYTHONUTF8", "1")
            .env("PYTHONIOENCODING", "utf-8")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot run the reference supervisorctl");
        let pid = Pid::from_raw(child.id() as i32);
        let (out, out_seen) = shared_reader(child.stdout.take().unwrap());
        let (err, err_seen) = shared_reader(child.stderr.take().unwrap());
        let seen = || {
            let mut text = String::new();
            for buf in [&out_seen, &err_seen] {
                let buf = buf.lock().unwrap_or_else(|p| p.into_inner());
                text.push_str(&String::from_utf8_lossy(&buf));
            }
            text
        };
        let started = Instant::now();
        let mut interrupted = false;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if let Some(condition) = interrupt_when
                && !interrupted
                && condition(&seen())
            {
                let _ = kill(pid, Signal::SIGINT);
                interrupted = true;
            }
            if started.elapsed() >= timeout {
                let _ = child.kill();
                break child.wait().unwrap();
            }
            thread::sleep(Duration::from_millis(10));
        };
        let code = status.code().unwrap_or_else(|| {
            use std::os::unix::process::ExitStatusExt;
            -status.signal().unwrap_or(0)
        });
        let stdout = String::from_utf8_lossy(&out.join().unwrap()).into_owned();
        let stderr = String::from_utf8_lossy(&err.join().unwrap()).into_owned();
        (code, stdout, stderr)
    }

    /// Send `request` (raw bytes) to one of the daemon's sockets and read
    /// the answer until the server closes, the announced length arrived,
    /// or `read_for` passed (streams such as `/logtail` never end).
    pub fn http(
        &self,
        endpoint: Endpoint,
        request: &[u8],
        read_for: Duration,
    ) -> Result<HttpReply, String> {
        let started = Instant::now();
        let reply = self.http_inner(endpoint, request, read_for);
        if std::env::var_os("SV_COMPAT_TRACE").is_some() {
            let first = request.split(|&b| b == b'\r').next().unwrap_or(request);
            eprintln!(
                "[{:>6.2}s] {} {endpoint:?} {}",
                started.elapsed().as_secs_f64(),
                self.label(),
                String::from_utf8_lossy(first)
            );
        }
        reply
    }

    /// Like [`Daemon::http`] for a stream (`/logtail`, `/mainlogtail`):
    /// read until `until` holds for what arrived so far (headers parsed,
    /// chunks decoded), the server closes, or `deadline` passes — a
    /// condition, not a reading window.
    pub fn http_until(
        &self,
        endpoint: Endpoint,
        request: &[u8],
        deadline: Duration,
        until: &(dyn Fn(&HttpReply) -> bool + Sync),
    ) -> Result<HttpReply, String> {
        self.http_inner_until(endpoint, request, deadline, Some(until))
    }

    fn http_inner(
        &self,
        endpoint: Endpoint,
        request: &[u8],
        read_for: Duration,
    ) -> Result<HttpReply, String> {
        self.http_inner_until(endpoint, request, read_for, None)
    }

    fn http_inner_until(
        &self,
        endpoint: Endpoint,
        request: &[u8],
        read_for: Duration,
        until: Option<&(dyn Fn(&HttpReply) -> bool + Sync)>,
    ) -> Result<HttpReply, String> {
        match endpoint {
            Endpoint::Unix => {
                let stream = UnixStream::connect(&self.sock)
                    .map_err(|e| format!("connect {}: {e}", self.sock.display()))?;
                stream
                    .set_read_timeout(Some(Duration::from_millis(50)))
                    .unwrap();
                http_exchange(stream, request, read_for, until)
            }
            Endpoint::Inet => {
                let port = self.port.ok_or("no [inet_http_server] configured")?;
                let stream = TcpStream::connect(("127.0.0.1", port))
                    .map_err(|e| format!("connect 127.0.0.1:{port}: {e}"))?;
                stream
                    .set_read_timeout(Some(Duration::from_millis(50)))
                    .unwrap();
                http_exchange(stream, request, read_for, until)
            }
        }
    }

    /// `getAllProcessInfo` as a map namespec → statename (empty on error).
    pub fn states(&self) -> Vec<(String, String)> {
        let answer = self.call("supervisor.getAllProcessInfo", json!([]));
        answer["ok"]
            .as_array()
            .map(|infos| {
                infos
                    .iter()
                    .map(|info| {
                        (
                            namespec(
                                info["group"].as_str().unwrap_or(""),
                                info["name"].as_str().unwrap_or(""),
                            ),
                            info["statename"].as_str().unwrap_or("").to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Wait until every `(namespec, statename)` in `expected` holds (other
    /// processes are not looked at). Err with the last states otherwise.
    pub fn wait_states(&self, expected: &[(&str, &str)], deadline: Duration) -> Result<(), String> {
        let mut last = Vec::new();
        let ok = bin::wait_until(deadline, || {
            last = self.states();
            expected
                .iter()
                .all(|(name, state)| last.iter().any(|(n, s)| n == name && s == state))
        });
        if ok {
            Ok(())
        } else {
            Err(format!(
                "{}: expected {expected:?}, last seen {last:?}",
                self.label()
            ))
        }
    }

    /// The normaliser for this daemon: its dir, its pid and the pids of
    /// its current processes.
    pub fn norm(&self) -> Norm {
        let mut pids = vec![i64::from(self.pid)];
        if let Some(infos) = self.call("supervisor.getAllProcessInfo", json!([]))["ok"].as_array() {
            pids.extend(
                infos
                    .iter()
                    .filter_map(|i| i["pid"].as_i64())
                    .filter(|&p| p > 0),
            );
        }
        Norm {
            dir: self.dir_text.clone(),
            daemon_pid: i64::from(self.pid),
            pids,
        }
    }

    /// A normaliser that knows only the dir and the daemon pid (no RPC).
    pub fn norm_offline(&self) -> Norm {
        Norm {
            dir: self.dir_text.clone(),
            daemon_pid: i64::from(self.pid),
            pids: vec![i64::from(self.pid)],
        }
    }

    /// Children of the daemon (by /proc ppid), for the last-resort kill.
    fn children(&self) -> Vec<i32> {
        let mut found = Vec::new();
        let Ok(entries) = fs::read_dir("/proc") else {
            return found;
        };
        for entry in entries.flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            // Fields after the parenthesised command: state, ppid, …
            let Some(rest) = stat.rsplit_once(") ").map(|(_, r)| r) else {
                continue;
            };
            let ppid = rest.split(' ').nth(1).and_then(|p| p.parse::<u32>().ok());
            if ppid == Some(self.pid) {
                found.push(pid);
            }
        }
        found
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.client.lock().unwrap().take();
        if self.exited().is_some() {
            return;
        }
        let pid = Pid::from_raw(self.pid as i32);
        let _ = kill(pid, Signal::SIGTERM);
        if self.wait_exit(Duration::from_secs(20)).is_none() {
            // It did not stop: kill its children (processes it started for
            // us), then the daemon itself, all by pid.
            for child in self.children() {
                let _ = kill(Pid::from_raw(child), Signal::SIGKILL);
            }
            let mut child = self.child.lock().unwrap();
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Read `r` to the end on a thread; what arrived so far is readable
/// while it runs.
fn shared_reader<R: Read + Send + 'static>(
    mut r: R,
) -> (thread::JoinHandle<Vec<u8>>, std::sync::Arc<Mutex<Vec<u8>>>) {
    let seen = std::sync::Arc::new(Mutex::new(Vec::new()));
    let filled = seen.clone();
    let handle = thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        loop {
            match r.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => filled
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .extend_from_slice(&chunk[..n]),
            }
        }
        std::mem::take(&mut *filled.lock().unwrap_or_else(|p| p.into_inner()))
    });
    (handle, seen)
}

fn render_config(out: &mut String, dir: &str, port: Option<u16>, options: &Options, body: &str) {
    use std::fmt::Write as _;
    let _ = write!(
        out,
        "[supervisord]\nnodaemon=true\nlogfile={dir}/supervisord.log\npidfile={dir}/supervisord.pid\n\
         childlogdir={dir}\nloglevel={level}\n{extra}\n\n\
         [unix_http_server]\nfile={dir}/s.sock\n\n",
        level = options.loglevel.as_deref().unwrap_or("debug"),
        extra = options.extra_supervisord
    );
    if let Some(port) = port {
        let _ = write!(out, "[inet_http_server]\nport=127.0.0.1:{port}\n");
        if let Inet::Auth { username, password } = &options.inet {
            let _ = write!(out, "username={username}\npassword={password}\n");
        }
        out.push('\n');
    }
    let _ = write!(
        out,
        "[rpcinterface:supervisor]\n\
         supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n\
         [supervisorctl]\nserverurl=unix://{dir}/s.sock\n\n{}\n",
        body.replace("{dir}", dir)
    );
}

fn http_exchange<S: Read + Write>(
    mut stream: S,
    request: &[u8],
    read_for: Duration,
    until: Option<&(dyn Fn(&HttpReply) -> bool + Sync)>,
) -> Result<HttpReply, String> {
    let started = Instant::now();
    stream
        .write_all(request)
        .map_err(|e| format!("write: {e}"))?;
    let mut data = Vec::new();
    let mut buf = [0u8; 65536];
    let mut first_byte = None;
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                first_byte.get_or_insert_with(|| started.elapsed());
                data.extend_from_slice(&buf[..n]);
                if response_complete(&data) {
                    break;
                }
                if let Some(until) = until
                    && let Ok(so_far) = parse_http(&data)
                    && until(&so_far)
                {
                    break;
                }
            }
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => return Err(format!("read: {e}")),
        }
        if started.elapsed() >= read_for {
            break;
        }
    }
    let mut reply = parse_http(&data)?;
    reply.first_byte = first_byte.unwrap_or_default();
    Ok(reply)
}

fn header_end(data: &[u8]) -> Option<usize> {
    data.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4)
}

fn response_complete(data: &[u8]) -> bool {
    let Some(end) = header_end(data) else {
        return false;
    };
    let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
    for line in head.lines() {
        if let Some(v) = line.strip_prefix("content-length:")
            && let Ok(n) = v.trim().parse::<usize>()
        {
            return data.len() >= end + n;
        }
    }
    false
}

fn parse_http(data: &[u8]) -> Result<HttpReply, String> {
    let end = header_end(data).ok_or_else(|| {
        format!(
            "no complete HTTP header in {} bytes: {:?}",
            data.len(),
            String::from_utf8_lossy(&data[..data.len().min(200)])
        )
    })?;
    let head = String::from_utf8_lossy(&data[..end - 4]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let mut parts = status_line.splitn(3, ' ');
    let _version = parts.next();
    let status = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let reason = parts.next().unwrap_or("").to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let raw_body = &data[end..];
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked {
        dechunk(raw_body)
    } else {
        raw_body.to_vec()
    };
    Ok(HttpReply {
        status,
        reason,
        headers,
        body,
        first_byte: Duration::ZERO,
    })
}

/// Decode as many complete (or partial trailing) chunks as arrived.
fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = data.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&data[..eol]);
        let size_text = size_text.split(';').next().unwrap_or("").trim().to_string();
        let Ok(size) = usize::from_str_radix(&size_text, 16) else {
            break;
        };
        if size == 0 {
            break;
        }
        let start = eol + 2;
        let stop = (start + size).min(data.len());
        out.extend_from_slice(&data[start..stop]);
        if start + size + 2 > data.len() {
            break;
        }
        data = &data[start + size + 2..];
    }
    out
}

/// `make_namespec`: the bare name when group == process.
pub fn namespec(group: &str, name: &str) -> String {
    if group == name {
        name.to_string()
    } else {
        format!("{group}:{name}")
    }
}

/// Two daemons, ours and the reference, with the same config.
pub struct Pair {
    pub reference: Daemon,
    pub ours: Daemon,
}

impl Pair {
    /// Start both (in parallel) with the same `body` and options.
    pub fn start(body: &str, options: Options) -> Pair {
        Pair::start_with(Impl::ours_slot(), body, options)
    }

    /// Like [`Pair::start`], with `ours` in the "ours" slot (the reference
    /// there compares two clients on the same daemon implementation).
    pub fn start_with(ours: Impl, body: &str, options: Options) -> Pair {
        let (reference, ours) = thread::scope(|s| {
            let r = s.spawn(|| Daemon::start(Impl::Reference, body, options.clone()));
            let o = s.spawn(|| Daemon::start(ours, body, options.clone()));
            (join(r), join(o))
        });
        for d in [&reference, &ours] {
            let exe = fs::read_link(format!("/proc/{}/exe", d.pid()))
                .map(|p| p.display().to_string())
                .unwrap_or_else(|e| format!("? ({e})"));
            eprintln!(
                "compat pair: {} slot runs {} (pid {}, exe {exe}) in {}",
                if std::ptr::eq(d, &ours) {
                    "ours"
                } else {
                    "reference"
                },
                d.which.supervisord().display(),
                d.pid(),
                d.dir_text
            );
        }
        Pair { reference, ours }
    }

    /// Run `f` on both daemons at the same time; (reference, ours).
    pub fn each<T: Send>(&self, f: impl Fn(&Daemon) -> T + Sync) -> (T, T) {
        thread::scope(|s| {
            let r = s.spawn(|| f(&self.reference));
            let o = s.spawn(|| f(&self.ours));
            (join(r), join(o))
        })
    }
}

fn join<T>(handle: thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

// ---------------------------------------------------------------------------
// Normalisation

/// Replaces run-specific details with placeholders:
///
/// | what | becomes |
/// | --- | --- |
/// | the daemon's temp dir | `{dir}` |
/// | AUTO log names `…---supervisor-XXXXXXXX.log` | `…---supervisor-<RND>.log` |
/// | `pid 1234` in text | `pid <PID>` |
/// | the daemon's or a current process's pid as a number token in text | `<PID>` |
/// | `uptime 0:00:03` (to the end of the line) | `uptime <UPTIME>` |
/// | `%b %d %I:%M %p` dates (`Nov 22 01:58 AM`) | `<DATE>` |
/// | struct key `now` | `"<NOW>"` |
/// | struct keys `start`, `stop` when non-zero | `"<TIME>"` |
/// | struct key `pid` when non-zero | `"<PID>"` |
/// | any other integer equal to the daemon's pid (getPID) | `"<PID>"` |
/// | `detail` of a helper `error` answer (free text) | removed |
#[derive(Clone, Debug)]
pub struct Norm {
    pub dir: String,
    pub daemon_pid: i64,
    pub pids: Vec<i64>,
}

impl Norm {
    pub fn text(&self, s: &str) -> String {
        let mut t = if self.dir.is_empty() {
            s.to_string()
        } else {
            s.replace(&self.dir, "{dir}")
        };
        t = replace_auto_names(&t);
        t = replace_uptimes(&t);
        t = replace_dates(&t);
        t = replace_pid_phrases(&t);
        t = replace_pid_tokens(&t, &self.pids);
        t
    }

    pub fn value(&self, v: &Value) -> Value {
        self.value_in(v, None)
    }

    fn value_in(&self, v: &Value, key: Option<&str>) -> Value {
        match v {
            Value::String(s) => Value::String(self.text(s)),
            Value::Number(n) => {
                let n = n.as_i64();
                match (key, n) {
                    (Some("now"), Some(_)) => json!("<NOW>"),
                    (Some("start" | "stop"), Some(x)) if x != 0 => json!("<TIME>"),
                    (Some("pid"), Some(x)) if x != 0 => json!("<PID>"),
                    (_, Some(x)) if x == self.daemon_pid => json!("<PID>"),
                    _ => v.clone(),
                }
            }
            Value::Array(items) => {
                Value::Array(items.iter().map(|i| self.value_in(i, None)).collect())
            }
            Value::Object(map) => {
                let mut out = serde_json::Map::new();
                let is_error = map.contains_key("error");
                for (k, val) in map {
                    if is_error && k == "detail" {
                        continue;
                    }
                    out.insert(k.clone(), self.value_in(val, Some(k)));
                }
                Value::Object(out)
            }
            _ => v.clone(),
        }
    }
}

fn replace_auto_names(s: &str) -> String {
    const MARK: &str = "---supervisor-";
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(MARK) {
        let after = &rest[i + MARK.len()..];
        let rnd_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        if rnd_len > 0 && after[rnd_len..].starts_with(".log") {
            out.push_str(&rest[..i + MARK.len()]);
            out.push_str("<RND>");
            rest = &after[rnd_len..];
        } else {
            out.push_str(&rest[..i + MARK.len()]);
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

fn replace_uptimes(s: &str) -> String {
    const MARK: &str = "uptime ";
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(MARK) {
        let after = &rest[i + MARK.len()..];
        let starts_with_digit = after.chars().next().is_some_and(|c| c.is_ascii_digit());
        out.push_str(&rest[..i + MARK.len()]);
        if starts_with_digit {
            out.push_str("<UPTIME>");
            rest = &after[after.find('\n').unwrap_or(after.len())..];
        } else {
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// `Aaa 99 99:99 PM` (`%b %d %I:%M %p`).
fn replace_dates(s: &str) -> String {
    const TEMPLATE: &[u8] = b"Aaa 99 99:99 PM";
    let bytes = s.as_bytes();
    let matches_at = |i: usize| -> bool {
        if i + TEMPLATE.len() > bytes.len() {
            return false;
        }
        TEMPLATE.iter().enumerate().all(|(k, &t)| {
            let b = bytes[i + k];
            match (k, t) {
                (_, b'A') => b.is_ascii_uppercase(),
                (_, b'a') => b.is_ascii_lowercase(),
                (_, b'9') => b.is_ascii_digit(),
                (13, b'P') => b == b'A' || b == b'P',
                (_, t) => b == t,
            }
        })
    };
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        if matches_at(i) {
            out.push_str(&s[copied..i]);
            out.push_str("<DATE>");
            i += TEMPLATE.len();
            copied = i;
        } else {
            i += 1;
        }
    }
    out.push_str(&s[copied..]);
    out
}

fn replace_pid_phrases(s: &str) -> String {
    const MARK: &str = "pid ";
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(MARK) {
        let after = &rest[i + MARK.len()..];
        let digits = after
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(after.len());
        out.push_str(&rest[..i + MARK.len()]);
        if digits > 0 {
            out.push_str("<PID>");
        }
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

fn replace_pid_tokens(s: &str, pids: &[i64]) -> String {
    let mut out = String::with_capacity(s.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if !run.is_empty() {
            match run.parse::<i64>() {
                // An HTTP status is never a pid, though with small pids
                // (a fresh machine, or pids wrapped around) one can equal
                // it: `… Cannot read, status code 404` must stay as it is.
                Ok(n) if pids.contains(&n) && !out.ends_with("status code ") => {
                    out.push_str("<PID>")
                }
                _ => out.push_str(run),
            }
            run.clear();
        }
    };
    for c in s.chars() {
        if c.is_ascii_digit() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

// ---------------------------------------------------------------------------
// Reporting

/// Collects comparison results; [`Report::finish`] panics once with every
/// mismatch.
pub struct Report {
    title: String,
    checks: usize,
    mismatches: Vec<String>,
    allowed: Vec<String>,
}

impl Report {
    pub fn new(title: &str) -> Report {
        Report {
            title: title.to_string(),
            checks: 0,
            mismatches: Vec::new(),
            allowed: Vec::new(),
        }
    }

    /// Compare two already-normalised values; record a mismatch.
    pub fn same(&mut self, what: &str, reference: &Value, ours: &Value) -> bool {
        self.checks += 1;
        if reference == ours {
            true
        } else {
            let mut paths = Vec::new();
            diff_paths("", reference, ours, &mut paths);
            let shown: Vec<String> = paths.iter().take(12).cloned().collect();
            let more = paths.len().saturating_sub(shown.len());
            self.mismatches.push(format!(
                "{what}\n  reference: {}\n  ours:      {}\n  differences:\n    {}{}",
                compact(reference),
                compact(ours),
                shown.join("\n    "),
                if more > 0 {
                    format!("\n    … and {more} more")
                } else {
                    String::new()
                }
            ));
            false
        }
    }

    /// Compare two texts (e.g. supervisorctl output).
    pub fn same_text(&mut self, what: &str, reference: &str, ours: &str) -> bool {
        self.checks += 1;
        if reference == ours {
            true
        } else {
            self.mismatches.push(format!(
                "{what}\n  --- reference ---\n{}\n  --- ours ---\n{}",
                indent(reference),
                indent(ours)
            ));
            false
        }
    }

    /// A check that must hold (not a comparison).
    pub fn expect(&mut self, what: &str, ok: bool, details: &str) -> bool {
        self.checks += 1;
        if !ok {
            self.mismatches.push(format!("{what}\n  {details}"));
        }
        ok
    }

    /// Record a free-form mismatch.
    pub fn fail(&mut self, what: &str, details: &str) {
        self.checks += 1;
        self.mismatches.push(format!("{what}\n  {details}"));
    }

    /// Record that a documented, deliberate difference was seen.
    pub fn allowed(&mut self, what: &str, reason: &str) {
        self.checks += 1;
        self.allowed.push(format!("{what}: {reason}"));
    }

    pub fn mismatch_count(&self) -> usize {
        self.mismatches.len()
    }

    /// Print the summary; panic if anything mismatched.
    pub fn finish(self) {
        eprintln!(
            "{}: {} checks, {} mismatches, {} documented differences seen",
            self.title,
            self.checks,
            self.mismatches.len(),
            self.allowed.len()
        );
        for a in &self.allowed {
            eprintln!("  allowed: {a}");
        }
        if !self.mismatches.is_empty() {
            panic!(
                "\n==== {}: {} of {} checks differ between the reference and ours ====\n\n{}\n",
                self.title,
                self.mismatches.len(),
                self.checks,
                self.mismatches.join("\n\n")
            );
        }
    }
}

/// Where two JSON values differ, as `path: reference ≠ ours` lines.
pub fn diff_paths(path: &str, r: &Value, o: &Value, out: &mut Vec<String>) {
    let shown = |v: Option<&Value>| match v {
        Some(v) => {
            let s = v.to_string();
            if s.len() > 200 {
                format!("{}…", &s[..s.floor_char_boundary(200)])
            } else {
                s
            }
        }
        None => "<missing>".to_string(),
    };
    match (r, o) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, x) in a {
                let p = format!("{path}.{k}");
                match b.get(k) {
                    Some(y) => diff_paths(&p, x, y, out),
                    None => out.push(format!("{p}: {} ≠ <missing>", shown(Some(x)))),
                }
            }
            for (k, y) in b {
                if !a.contains_key(k) {
                    out.push(format!("{path}.{k}: <missing> ≠ {}", shown(Some(y))));
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                diff_paths(&format!("{path}[{i}]"), x, y, out);
            }
        }
        _ if r != o => {
            let p = if path.is_empty() { "(value)" } else { path };
            out.push(format!("{p}: {} ≠ {}", shown(Some(r)), shown(Some(o))));
        }
        _ => {}
    }
}

fn compact(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 1500 {
        format!("{}… ({} chars)", &s[..s.floor_char_boundary(1500)], s.len())
    } else {
        s
    }
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("    |{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

// ---------------------------------------------------------------------------
// The programs most compatibility tests run.

/// Program sections shared by the RPC and supervisorctl comparisons.
/// `{dir}` is the daemon's temp dir.
///
/// `crasher` and `quick` sleep briefly before exiting: a program that exits
/// at once races with the reference's immediate reap after a spawn (the
/// same start then answers SPAWN_ERROR or OK, ABNORMAL_TERMINATION or OK,
/// depending on scheduling), which would make the comparison flaky.
pub const STANDARD_BODY: &str = r#"
[program:cat]
command=cat
startsecs=1

[program:sleeper]
command=sleep 1000
startsecs=0

[program:crasher]
command=sh -c 'sleep 0.3; exit 3'
startretries=0
startsecs=5

[program:w]
command=sleep 1000
process_name=w_%(process_num)d
numprocs=2
startsecs=0

[program:a]
command=sleep 1000
startsecs=0

[program:b]
command=sleep 1000
startsecs=0

[group:grp]
programs=a,b

[program:manual]
command=sleep 1000
autostart=false

[program:writer]
command=sh -c 'printf "hello out\n"; printf "err \303\251\n" >&2; exec sleep 1000'
startsecs=0

[program:big]
command=sh -c 'i=0; while [ $i -lt 100 ]; do echo "big line $i: the quick brown fox jumps"; i=$((i+1)); done; exec sleep 1000'
startsecs=0

[program:nolog]
command=sleep 1000
startsecs=0
stdout_logfile=NONE
stderr_logfile=NONE

[program:quick]
command=sh -c 'sleep 0.2; exit 0'
startsecs=0
autorestart=false

[program:noexist]
command=/nonexistent/prog
autostart=false

[program:notexec]
command={dir}
autostart=false
"#;

/// The steady state [`STANDARD_BODY`] reaches after start-up.
pub const STANDARD_STATES: &[(&str, &str)] = &[
    ("big", "RUNNING"),
    ("cat", "RUNNING"),
    ("crasher", "FATAL"),
    ("grp:a", "RUNNING"),
    ("grp:b", "RUNNING"),
    ("manual", "STOPPED"),
    ("noexist", "STOPPED"),
    ("nolog", "RUNNING"),
    ("notexec", "STOPPED"),
    ("quick", "EXITED"),
    ("sleeper", "RUNNING"),
    ("w:w_0", "RUNNING"),
    ("w:w_1", "RUNNING"),
    ("writer", "RUNNING"),
];

/// The bytes `writer` and `big` write to their logs.
pub const WRITER_STDOUT: &str = "hello out\n";
pub const WRITER_STDERR: &str = "err \u{e9}\n";

pub fn big_stdout() -> String {
    (0..100)
        .map(|i| format!("big line {i}: the quick brown fox jumps\n"))
        .collect()
}
