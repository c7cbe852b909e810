//! Running `supervisor-hub` in tests: [`HubProc`] writes a config into a
//! temp dir, starts the binary on a free 127.0.0.1 port (default signal
//! dispositions, output in files in the dir), waits until `/api/version`
//! answers, and stops it by pid when dropped (SIGTERM, SIGKILL after a
//! deadline). [`http`] is a tiny blocking HTTP/1.1 client.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;

use super::pair::free_port;

pub const SUPERVISOR_HUB: &str = env!("CARGO_BIN_EXE_supervisor-hub");
/// How long the hub may take to answer its first request.
pub const READY_DEADLINE: Duration = Duration::from_secs(30);

/// One HTTP answer.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    /// The `session=…` pair of the first `Set-Cookie`, for a `Cookie`
    /// header.
    pub fn session_cookie(&self) -> String {
        let set = self
            .all("set-cookie")
            .into_iter()
            .find(|c| c.starts_with("session=") && !c.starts_with("session=;"))
            .unwrap_or_else(|| panic!("no session cookie in {self:?}"));
        set.split(';').next().unwrap_or_default().to_string()
    }
}

/// A blocking HTTP/1.1 request with `Connection: close`.
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Resp {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to the hub");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for (name, value) in headers {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(body) = body {
        if !headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        {
            req.push_str("Content-Type: application/json\r\n");
        }
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    if let Some(body) = body {
        req.push_str(body);
    }
    stream.write_all(req.as_bytes()).expect("send");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read answer");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line in {text:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    Resp {
        status,
        headers,
        body: body.to_string(),
    }
}

/// A running hub.
pub struct HubProc {
    pub dir: PathBuf,
    pub config: PathBuf,
    pub port: u16,
    child: Child,
}

impl HubProc {
    /// Writes `config` to `dir/cesi.conf.toml` and starts the hub on it.
    pub fn start(dir: &Path, config: &str) -> HubProc {
        let path = dir.join("cesi.conf.toml");
        std::fs::write(&path, config).expect("write config");
        HubProc::start_with(dir, &path)
    }

    /// Starts the hub on an existing config file (a restart).
    pub fn start_with(dir: &Path, config: &Path) -> HubProc {
        let port = free_port();
        let log = |name: &str| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(dir.join(name))
                .expect("log file")
        };
        let child = super::command::new(SUPERVISOR_HUB)
            .arg("--config-file")
            .arg(config)
            .args(["--host", "127.0.0.1", "-p", &port.to_string()])
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(log("hub.out"))
            .stderr(log("hub.err"))
            .spawn()
            .expect("start supervisor-hub");
        let mut hub = HubProc {
            dir: dir.to_path_buf(),
            config: config.to_path_buf(),
            port,
            child,
        };
        let end = Instant::now() + READY_DEADLINE;
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok()
                && hub.get("/api/version", &[]).status == 200
            {
                return hub;
            }
            if let Ok(Some(status)) = hub.child.try_wait() {
                panic!("supervisor-hub exited ({status}):\n{}", hub.output());
            }
            assert!(Instant::now() < end, "hub not ready:\n{}", hub.output());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn pid(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32)
    }

    /// Stdout and stderr so far.
    pub fn output(&self) -> String {
        let read = |n: &str| std::fs::read_to_string(self.dir.join(n)).unwrap_or_default();
        format!(
            "--- stdout\n{}--- stderr\n{}",
            read("hub.out"),
            read("hub.err")
        )
    }

    pub fn get(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        http(self.port, "GET", path, headers, None)
    }

    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Resp {
        http(self.port, method, path, headers, body)
    }

    /// Logs in; returns the `Cookie` header value.
    pub fn login(&self, user: &str, password: &str) -> String {
        let body = serde_json::json!({"username": user, "password": password}).to_string();
        let resp = self.send("POST", "/api/v2/auth/login/", &[], Some(&body));
        assert_eq!(resp.status, 200, "login {user}: {resp:?}");
        resp.session_cookie()
    }

    /// Stops the hub (SIGTERM, then SIGKILL after 10 s) and waits for it.
    pub fn stop(mut self) {
        self.terminate();
    }

    fn terminate(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let _ = kill(self.pid(), Signal::SIGTERM);
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = kill(self.pid(), Signal::SIGKILL);
        let _ = self.child.wait();
    }

    /// Waits until `cond` holds (or panics with the hub's output).
    pub fn wait_for(&self, what: &str, mut cond: impl FnMut() -> bool) {
        let end = Instant::now() + Duration::from_secs(20);
        while !cond() {
            assert!(
                Instant::now() < end,
                "{what} never happened:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for HubProc {
    fn drop(&mut self) {
        self.terminate();
    }
}

/// A Cesi config with `admin`/`s3cret-admin`, sqlite next to the file, no
/// nodes, plus `extra` appended.
pub fn config(extra: &str) -> String {
    format!(
        "[cesi]\ndatabase = \"sqlite:///users.db\"\nactivity_log = \"activity.log\"\nadmin_username = \"admin\"\nadmin_password = \"s3cret-admin\"\n{extra}"
    )
}
