//! Browser tests: real headless Chromium driven over WebDriver.
//!
//! * [`Browser`]: one `chromedriver` (started here on a free 127.0.0.1
//!   port, with its log in a temp dir) and one Chromium session (a fresh
//!   profile in that temp dir, no network chatter), with async helpers
//!   that wait for conditions with deadlines — never bare sleeps. The
//!   viewport starts at exactly [`DESKTOP`] CSS pixels
//!   ([`Browser::set_viewport`] makes up for the toolbar room headless
//!   Chromium still reserves); [`Browser::phone`] narrows it to [`PHONE`].
//!   [`Browser::launch`] installs Chromium and chromedriver from Debian on
//!   first use and fails the test when they cannot be installed; only
//!   `SV_SKIP_BROWSER_TESTS=1` makes it return `None` (after a loud
//!   message), so the test returns early. [`Browser::close`] ends the
//!   session; dropping a `Browser` (a failed test) kills what it started —
//!   Chromium by the pid the session reported (only if that process runs
//!   our profile), then chromedriver. Failed waits report the page's URL,
//!   title and text and save a `failed-….png` screenshot.
//! * [`WebDaemon`]: our `supervisord` ([`TestDaemon`]) with a unix socket
//!   (`supervisorctl` through [`WebDaemon::ctl`]) and an
//!   `[inet_http_server]` on a free 127.0.0.1 port, optionally with basic
//!   auth; [`Browser::goto_authenticated`] logs in through the URL.
//! * Screenshots go to `<target>/screenshots/<name>.png` ([`screenshot_dir`]).
//!
//! Tests run the helpers from `#[tokio::test(flavor = "current_thread")]`.
#![allow(dead_code)]

use std::fs;
use std::io::Write as _;
use std::net::TcpStream as StdTcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::bin;
use super::daemon::{self, TestDaemon};
use super::pair::free_port;

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// What installs both on Debian; [`ensure_installed`] runs it when they are
/// missing, as the reference venv installs itself.
pub const INSTALL: &str = "apt-get install -y chromium chromium-driver";

/// The tools that are not installed.
fn missing_tools() -> Vec<&'static str> {
    [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|path| !Path::new(path).exists())
        .collect()
}

/// Install Chromium and chromedriver from Debian's packages when they are
/// missing (as root, or through passwordless `sudo`), once per test binary.
/// `Err` says why they are still missing.
fn ensure_installed() -> Result<(), String> {
    static INSTALLED: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            if missing_tools().is_empty() {
                return Ok(());
            }
            super::command::apt_install("browser tests", &["chromium", "chromium-driver"])?;
            match missing_tools().as_slice() {
                [] => Ok(()),
                still => Err(format!(
                    "{} still missing after the install",
                    still.join(" and ")
                )),
            }
        })
        .clone()
}

/// How long any single browser condition may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(20);
/// How often conditions are polled.
pub const POLL: Duration = Duration::from_millis(50);
/// The viewport (CSS pixels) every session starts with.
pub const DESKTOP: (u32, u32) = (1280, 900);
/// A phone-sized viewport, for narrow-layout screenshots.
pub const PHONE: (u32, u32) = (390, 844);

/// The environment variable that skips the browser tests (`1`); without
/// it, a missing Chromium that cannot be installed fails them.
pub const SKIP_VAR: &str = "SV_SKIP_BROWSER_TESTS";

/// Whether the browser tests were explicitly skipped.
fn skipped() -> bool {
    std::env::var(SKIP_VAR).is_ok_and(|v| v == "1")
}

/// The target directory: `CARGO_TARGET_DIR` if set to an absolute path,
/// otherwise the one this test was built in (the parent of
/// `CARGO_TARGET_TMPDIR`: the workspace's `target/` unless redirected).
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir,
        _ => Path::new(env!("CARGO_TARGET_TMPDIR")).parent().map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("target"),
            Path::to_path_buf,
        ),
    }
}

/// `<target>/screenshots`, created if needed.
pub fn screenshot_dir() -> PathBuf {
    let dir = target_dir().join("screenshots");
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

/// The processes a [`Browser`] started, killed on drop: Chromium (by the
/// pid its session reported) first, then chromedriver.
struct Processes {
    driver: Child,
    /// Chromium's main process, once the session exists.
    browser_pid: Option<u32>,
    /// Holds `chromedriver.log` and `profile/` (Chromium's user data dir).
    dir: tempfile::TempDir,
}

impl Processes {
    fn profile(&self) -> PathBuf {
        self.dir.path().join("profile")
    }

    fn driver_log(&self) -> String {
        let path = self.dir.path().join("chromedriver.log");
        let text = fs::read_to_string(&path).unwrap_or_default();
        // The end is what matters; the log starts with a long preamble.
        let tail: Vec<&str> = text.lines().rev().take(60).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        format!(
            "chromedriver log ({}), last lines:\n{}",
            path.display(),
            tail.join("\n")
        )
    }

    /// Chromium's pid, if that process is still alive and runs our profile
    /// (so a reused pid is never signalled).
    fn browser_alive(&self) -> Option<u32> {
        let pid = self.browser_pid?;
        if !daemon::alive(pid) {
            return None;
        }
        let cmdline = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let ours = format!("--user-data-dir={}", self.profile().display());
        cmdline
            .split(|&b| b == 0)
            .any(|arg| arg == ours.as_bytes())
            .then_some(pid)
    }

    /// Wait (blocking: for `Drop`) until Chromium has exited; true if it has.
    fn wait_browser_gone(&self, deadline: Duration) -> bool {
        bin::wait_until(deadline, || self.browser_alive().is_none())
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        if let Some(pid) = self.browser_alive() {
            let _ = kill(Pid::from_raw(pid as i32), Signal::SIGTERM);
            if !self.wait_browser_gone(Duration::from_secs(5))
                && let Some(pid) = self.browser_alive()
            {
                let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
                self.wait_browser_gone(Duration::from_secs(5));
            }
        }
        if self.driver.try_wait().ok().flatten().is_none() {
            let pid = Pid::from_raw(self.driver.id() as i32);
            let _ = kill(pid, Signal::SIGTERM);
            if !bin::wait_until(Duration::from_secs(5), || {
                self.driver.try_wait().ok().flatten().is_some()
            }) {
                let _ = self.driver.kill();
                let _ = self.driver.wait();
            }
        }
    }
}

/// One GET to chromedriver; the response body, or why not. Chromedriver
/// keeps connections open, so the body is read up to its `Content-Length`.
async fn http_get(port: u16, path: &str) -> Result<String, String> {
    let exchange = async {
        let mut conn = TcpStream::connect(("127.0.0.1", port))
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
        conn.write_all(request.as_bytes())
            .await
            .map_err(|e| format!("send: {e}"))?;
        let mut reply = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = conn
                .read(&mut chunk)
                .await
                .map_err(|e| format!("read: {e}"))?;
            reply.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&reply);
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length = head.lines().find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                });
                if n == 0 || length.is_some_and(|length| body.len() >= length) {
                    return Ok(body.to_string());
                }
            } else if n == 0 {
                return Err(format!("not HTTP: {text:?}"));
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(2), exchange)
        .await
        .unwrap_or_else(|_| Err("no answer within 2 s".to_string()))
}

/// Headless Chromium under our own chromedriver; see the module docs.
pub struct Browser {
    client: Client,
    procs: Processes,
}

impl Browser {
    /// Start chromedriver and a Chromium session (installing both on first
    /// use). `None` (after a loud message on stderr) only when the tests
    /// are skipped with `SV_SKIP_BROWSER_TESTS=1`; panics when they cannot
    /// be installed or do not start.
    pub async fn launch() -> Option<Browser> {
        Self::launch_with(&[]).await
    }

    /// [`Browser::launch`] with more Chromium switches.
    pub async fn launch_with(extra_args: &[&str]) -> Option<Browser> {
        if skipped() {
            // Straight to the process's stderr: libtest captures `eprintln!`
            // of passing tests, and a skip must not go unnoticed.
            let _ = writeln!(
                std::io::stderr(),
                "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
                 !!! SKIPPED: browser test ({SKIP_VAR}=1).\n\
                 !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
            );
            return None;
        }
        if let Err(why) = ensure_installed() {
            panic!(
                "browser tests need Chromium and chromedriver (`{INSTALL}`), \
                 which could not be installed: {why}.\n\
                 Install them, or skip these tests with {SKIP_VAR}=1."
            );
        }
        Some(Self::start(extra_args).await)
    }

    async fn start(extra_args: &[&str]) -> Browser {
        let dir = bin::tempdir();
        let log = dir.path().join("chromedriver.log");
        let port = free_port();
        let driver = super::command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}"));
        let mut procs = Processes {
            driver,
            browser_pid: None,
            dir,
        };

        // Ready when /status says so.
        let end = Instant::now() + DEADLINE;
        loop {
            if let Ok(Some(status)) = procs.driver.try_wait() {
                panic!("chromedriver exited ({status})\n{}", procs.driver_log());
            }
            let last = match http_get(port, "/status").await {
                Ok(body) if body.contains("\"ready\":true") => break,
                Ok(body) => body,
                Err(why) => why,
            };
            assert!(
                Instant::now() < end,
                "chromedriver not ready on port {port} after {DEADLINE:?}; last: {last}\n{}",
                procs.driver_log()
            );
            tokio::time::sleep(POLL).await;
        }

        let (width, height) = DESKTOP;
        let mut args = vec![
            "--headless".to_string(),
            "--no-sandbox".to_string(),
            "--disable-gpu".to_string(),
            "--disable-dev-shm-usage".to_string(),
            "--disable-quic".to_string(),
            "--no-first-run".to_string(),
            "--disable-background-networking".to_string(),
            "--disable-component-update".to_string(),
            "--disable-sync".to_string(),
            format!("--user-data-dir={}", procs.profile().display()),
            format!("--window-size={width},{height}"),
        ];
        args.extend(extra_args.iter().map(|a| a.to_string()));
        let mut caps = Capabilities::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({"binary": CHROMIUM, "args": args}),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "cannot open a Chromium session: {e}\n{}",
                    procs.driver_log()
                )
            });
        procs.browser_pid = client
            .capabilities()
            .and_then(|caps| caps.get("goog:processID"))
            .and_then(Value::as_u64)
            .and_then(|pid| u32::try_from(pid).ok());
        let browser = Browser { client, procs };
        browser.desktop().await;
        browser
    }

    /// The WebDriver client, for what the helpers do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Chromium's main process id, as the session reported it.
    pub fn pid(&self) -> Option<u32> {
        self.procs.browser_pid
    }

    /// Navigate to `url` and wait for the page to load.
    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
    }

    /// Open `path` on a daemon with basic auth: first with
    /// `user:password@` in the URL, then again without, so that the
    /// document's URL carries no credentials while Chromium's HTTP auth
    /// cache keeps sending them. (With credentials in the document's URL,
    /// its relative `fetch()` calls throw "Request cannot be constructed
    /// from a URL that includes credentials"; `EventSource`, XHR, scripts,
    /// stylesheets and links still work.)
    pub async fn goto_authenticated(&self, web: &WebDaemon, path: &str) {
        self.goto(&web.url_with_credentials(path)).await;
        self.goto(&web.url(path)).await;
    }

    /// The current URL.
    pub async fn url(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("WebDriver: current URL")
            .to_string()
    }

    /// Run `script` (a function body; `arguments[i]` are `args`) in the page
    /// and return its result.
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\nscript: {script}"))
    }

    /// The first element matching `css`, if there is one now.
    pub async fn find(&self, css: &str) -> Option<Element> {
        self.client.find(Locator::Css(css)).await.ok()
    }

    /// The element matching `css`, waiting for it to exist.
    pub async fn wait_for(&self, css: &str, deadline: Duration) -> Element {
        let end = Instant::now() + deadline;
        loop {
            match self.client.find(Locator::Css(css)).await {
                Ok(element) => return element,
                Err(e) if Instant::now() >= end => {
                    let diagnostics = self.diagnostics(&format!("wait for {css}")).await;
                    panic!("no element {css:?} after {deadline:?} (last: {e})\n{diagnostics}");
                }
                Err(_) => tokio::time::sleep(POLL).await,
            }
        }
    }

    /// Poll `cond` every [`POLL`] until it returns true; panics naming
    /// `what` (with the page's URL, title and text, and a screenshot) after
    /// `deadline`.
    pub async fn wait_until(
        &self,
        mut cond: impl AsyncFnMut(&Client) -> bool,
        deadline: Duration,
        what: &str,
    ) {
        let end = Instant::now() + deadline;
        loop {
            if cond(&self.client).await {
                return;
            }
            if Instant::now() >= end {
                let diagnostics = self.diagnostics(what).await;
                panic!("timed out after {deadline:?} waiting for {what}\n{diagnostics}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The rendered text of the element matching `css` (waiting up to
    /// [`DEADLINE`] for it to exist).
    pub async fn text_of(&self, css: &str) -> String {
        self.wait_for(css, DEADLINE)
            .await
            .text()
            .await
            .unwrap_or_else(|e| panic!("text of {css:?}: {e}"))
    }

    /// Wait until the text of `css` contains `needle` (ignoring case);
    /// returns that text.
    pub async fn wait_text(&self, css: &str, needle: &str, deadline: Duration) -> String {
        let needle_lower = needle.to_lowercase();
        let mut seen = String::new();
        self.wait_until(
            async |c| match text_now(c, css).await {
                Some(text) => {
                    let found = text.to_lowercase().contains(&needle_lower);
                    seen = text;
                    found
                }
                None => false,
            },
            deadline,
            &format!("{css:?} to contain {needle:?}"),
        )
        .await;
        seen
    }

    /// An attribute of the element matching `css` (waiting for it to exist).
    pub async fn attr_of(&self, css: &str, name: &str) -> Option<String> {
        self.wait_for(css, DEADLINE)
            .await
            .attr(name)
            .await
            .unwrap_or_else(|e| panic!("attribute {name} of {css:?}: {e}"))
    }

    /// Click the element matching `css` (waiting for it to exist).
    pub async fn click(&self, css: &str) {
        self.wait_for(css, DEADLINE)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("cannot click {css:?}: {e}"));
    }

    /// Resize the window. Headless Chromium still reserves room for its
    /// (invisible) toolbars: the viewport is shorter than the window; see
    /// [`Browser::set_viewport`].
    pub async fn resize(&self, width: u32, height: u32) {
        self.client
            .set_window_size(width, height)
            .await
            .unwrap_or_else(|e| panic!("cannot resize the window to {width}×{height}: {e}"));
    }

    /// Size the window so that the viewport (`innerWidth`×`innerHeight`)
    /// is exactly `width`×`height` CSS pixels.
    pub async fn set_viewport(&self, width: u32, height: u32) {
        let (mut window_w, mut window_h) = (width, height);
        for _ in 0..3 {
            self.resize(window_w, window_h).await;
            let (w, h) = self.viewport().await;
            if (w, h) == (u64::from(width), u64::from(height)) {
                return;
            }
            let grow = |window: u32, want: u32, got: u64| {
                let got = u32::try_from(got).unwrap_or(u32::MAX);
                (window + want).saturating_sub(got)
            };
            window_w = grow(window_w, width, w);
            window_h = grow(window_h, height, h);
        }
        let (w, h) = self.viewport().await;
        panic!("viewport {w}×{h}, wanted {width}×{height} (window {window_w}×{window_h})");
    }

    /// A phone-sized viewport ([`PHONE`]).
    pub async fn phone(&self) {
        self.set_viewport(PHONE.0, PHONE.1).await;
    }

    /// The default viewport ([`DESKTOP`]), as after [`Browser::launch`].
    pub async fn desktop(&self) {
        self.set_viewport(DESKTOP.0, DESKTOP.1).await;
    }

    /// The viewport's CSS size (`innerWidth`, `innerHeight`).
    pub async fn viewport(&self) -> (u64, u64) {
        let size = self
            .execute("return [window.innerWidth, window.innerHeight];", vec![])
            .await;
        match (size[0].as_u64(), size[1].as_u64()) {
            (Some(w), Some(h)) => (w, h),
            _ => panic!("viewport size: {size}"),
        }
    }

    /// Save a PNG of the viewport as `<target>/screenshots/<name>.png`;
    /// returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self
            .client
            .screenshot()
            .await
            .unwrap_or_else(|e| panic!("screenshot {name}: {e}"));
        let file = if name.ends_with(".png") {
            name.to_string()
        } else {
            format!("{name}.png")
        };
        let path = screenshot_dir().join(file);
        fs::write(&path, png).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        path
    }

    /// End the session (Chromium exits) and stop chromedriver.
    pub async fn close(self) {
        let Browser { client, procs } = self;
        client
            .close()
            .await
            .unwrap_or_else(|e| panic!("closing the session: {e}\n{}", procs.driver_log()));
        let end = Instant::now() + DEADLINE;
        while procs.browser_alive().is_some() {
            assert!(
                Instant::now() < end,
                "Chromium still running {DEADLINE:?} after the session closed"
            );
            tokio::time::sleep(POLL).await;
        }
        drop(procs);
    }

    /// What a failed wait reports: URL, title, the start of the page's
    /// text, and a screenshot `failed-<what>.png` (all best effort).
    async fn diagnostics(&self, what: &str) -> String {
        let url = match self.client.current_url().await {
            Ok(url) => url.to_string(),
            Err(e) => format!("(unknown: {e})"),
        };
        let title = self.client.title().await.unwrap_or_default();
        let text = match self
            .client
            .execute(
                "return document.body ? document.body.innerText : '';",
                vec![],
            )
            .await
        {
            Ok(Value::String(text)) => text.chars().take(2000).collect(),
            Ok(other) => other.to_string(),
            Err(e) => format!("(unavailable: {e})"),
        };
        let name = what
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|word| !word.is_empty())
            .collect::<Vec<_>>()
            .join("-");
        let name: String = name.chars().take(60).collect();
        let shot = match self.client.screenshot().await {
            Ok(png) => {
                let path = screenshot_dir().join(format!("failed-{name}.png"));
                match fs::write(&path, png) {
                    Ok(()) => path.display().to_string(),
                    Err(e) => format!("(not saved: {e})"),
                }
            }
            Err(e) => format!("(not taken: {e})"),
        };
        format!("url: {url}\ntitle: {title}\nscreenshot: {shot}\npage text:\n{text}")
    }
}

/// The rendered text of the element matching `css` now, if it exists; for
/// use inside [`Browser::wait_until`] conditions.
pub async fn text_now(client: &Client, css: &str) -> Option<String> {
    client.find(Locator::Css(css)).await.ok()?.text().await.ok()
}

/// Whether an element matches `css` now; for [`Browser::wait_until`].
pub async fn exists(client: &Client, css: &str) -> bool {
    client.find(Locator::Css(css)).await.is_ok()
}

/// Our `supervisord` serving its web pages on 127.0.0.1 (plus a unix
/// socket `s.sock` in its temp dir).
pub struct WebDaemon {
    pub daemon: TestDaemon,
    pub port: u16,
    /// Basic-auth user and password, if the inet server requires them.
    pub auth: Option<(String, String)>,
}

impl WebDaemon {
    /// Start with `body` (program sections etc.) and an open inet server.
    pub fn start(body: &str) -> WebDaemon {
        Self::start_with(body, None)
    }

    /// Start with `username=`/`password=` (plain text) on the inet server.
    pub fn start_with_auth(body: &str, username: &str, password: &str) -> WebDaemon {
        Self::start_with(body, Some((username.to_string(), password.to_string())))
    }

    fn start_with(body: &str, auth: Option<(String, String)>) -> WebDaemon {
        let port = free_port();
        let credentials = match &auth {
            Some((user, password)) => format!("username={user}\npassword={password}\n"),
            None => String::new(),
        };
        let daemon = TestDaemon::start(&format!(
            "[unix_http_server]\nfile=%(here)s/s.sock\n\n\
             [inet_http_server]\nport=127.0.0.1:{port}\n{credentials}\n\
             [rpcinterface:supervisor]\n\
             supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n\
             [supervisorctl]\nserverurl=unix://%(here)s/s.sock\n\n{body}"
        ));
        let listening = bin::wait_until(daemon::DEADLINE, || {
            StdTcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        assert!(
            listening,
            "supervisord not listening on 127.0.0.1:{port}:\n{}",
            daemon.log_text()
        );
        WebDaemon { daemon, port, auth }
    }

    /// Run our `supervisorctl` on the unix socket (no credentials needed
    /// there); panics unless it exits 0. Returns its stdout.
    pub fn ctl(&self, args: &[&str]) -> String {
        let conf = self.daemon.conf.display().to_string();
        let mut all = vec!["-c", conf.as_str()];
        all.extend_from_slice(args);
        let out = bin::run(bin::SUPERVISORCTL, &all, self.daemon.dir.path());
        let (stdout, stderr) = bin::texts(&out);
        assert!(
            out.status.success(),
            "supervisorctl {args:?}: {}\n{stdout}{stderr}",
            out.status
        );
        stdout
    }

    /// `http://127.0.0.1:<port>/<path>` (`path` without the leading slash).
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/{path}", self.port)
    }

    /// Like [`WebDaemon::url`] with `user:password@` in front of the host,
    /// which Chromium accepts for navigation.
    pub fn url_with_credentials(&self, path: &str) -> String {
        let (user, password) = self
            .auth
            .as_ref()
            .expect("url_with_credentials: the daemon has no basic auth");
        format!("http://{user}:{password}@127.0.0.1:{}/{path}", self.port)
    }
}
