//! A real PostgreSQL server for the hub's tests: Debian's `postgresql`
//! package (installed on first use, as the browser tests install
//! Chromium), `initdb` into a temp dir as a non-root user (`nobody` when
//! the tests run as root: initdb refuses root), listening only on a unix
//! socket in that dir, trust authentication. Dropping [`Postgres`] stops
//! the server by its pid (SIGINT, fast shutdown; SIGKILL after a
//! deadline) and removes the dir.
//!
//! [`Postgres::start`] panics when the server cannot be had — a test that
//! passes without testing is a defect — and returns `None` (after a loud
//! banner) only when `SV_SKIP_POSTGRES_TESTS=1` opts out.
#![allow(dead_code)]

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::{Pid, User, chown};

/// The opt-out, named in the README.
pub const SKIP_ENV: &str = "SV_SKIP_POSTGRES_TESTS";
/// The database superuser the tests connect as.
pub const SUPERUSER: &str = "hubtest";
/// The port number in the socket's name (no TCP listener is opened).
pub const PORT: u16 = 5432;
/// How long the server may take to accept connections.
pub const READY_DEADLINE: Duration = Duration::from_secs(60);

/// The directory of the newest installed server's binaries.
fn bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, p)| p)
}

/// Installs Debian's `postgresql` when missing (once per test binary).
fn ensure_installed() -> Result<PathBuf, String> {
    static INSTALLED: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            if let Some(dir) = bin_dir() {
                return Ok(dir);
            }
            super::command::apt_install("hub tests", &["postgresql"])?;
            bin_dir().ok_or_else(|| "postgresql still missing after the install".to_string())
        })
        .clone()
}

/// A running server.
pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    server: Option<Child>,
    run_as: Option<(u32, u32)>,
}

impl Postgres {
    /// Starts a fresh server; `None` (tests return early) only when
    /// skipped on purpose. Panics when the server cannot be had.
    pub fn start() -> Option<Postgres> {
        if std::env::var(SKIP_ENV).is_ok_and(|v| v == "1") {
            eprintln!(
                "hub tests: !!! SKIPPED: {SKIP_ENV}=1, the PostgreSQL half of the store tests did not run"
            );
            return None;
        }
        match Postgres::try_start() {
            Ok(pg) => Some(pg),
            Err(e) => panic!(
                "PostgreSQL is required by the hub's store tests and could not be started: {e} \
                 (set {SKIP_ENV}=1 to skip them explicitly)"
            ),
        }
    }

    fn try_start() -> Result<Postgres, String> {
        let bin = ensure_installed()?;
        let dir = tempfile::Builder::new()
            .prefix("hubpg")
            .tempdir_in("/tmp")
            .map_err(|e| format!("temp dir: {e}"))?;
        // initdb and postgres refuse to run as root.
        let run_as = if nix::unistd::Uid::current().is_root() {
            let nobody = User::from_name("nobody")
                .ok()
                .flatten()
                .ok_or("no user 'nobody' to run PostgreSQL as")?;
            chown(dir.path(), Some(nobody.uid), Some(nobody.gid))
                .map_err(|e| format!("chown: {e}"))?;
            Some((nobody.uid.as_raw(), nobody.gid.as_raw()))
        } else {
            None
        };
        let data = dir.path().join("data");
        let mut pg = Postgres {
            dir,
            bin,
            server: None,
            run_as,
        };
        let out = pg
            .command("initdb")
            .args(["-D"])
            .arg(&data)
            .args([
                "-U",
                SUPERUSER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            ])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("initdb: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let log = std::fs::File::create(pg.dir.path().join("server.log"))
            .map_err(|e| format!("log: {e}"))?;
        if let Some((uid, gid)) = pg.run_as {
            let _ = chown(
                pg.dir.path().join("server.log").as_path(),
                Some(uid.into()),
                Some(gid.into()),
            );
        }
        let socket_dir = pg.dir.path().to_path_buf();
        let server = pg
            .command("postgres")
            .arg("-D")
            .arg(&data)
            .arg("-k")
            .arg(&socket_dir)
            .args(["-p", &PORT.to_string(), "-c", "listen_addresses=", "-F"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("postgres: {e}"))?;
        pg.server = Some(server);
        let pidfile = data.join("postmaster.pid");
        let end = Instant::now() + READY_DEADLINE;
        loop {
            // The pid file's 8th line turns "ready" once connections are
            // accepted.
            let ready = std::fs::read_to_string(&pidfile)
                .map(|t| t.lines().nth(7).is_some_and(|l| l.trim() == "ready"))
                .unwrap_or(false);
            if ready {
                break;
            }
            if let Some(Ok(Some(status))) = pg.server.as_mut().map(|c| c.try_wait()) {
                let log =
                    std::fs::read_to_string(pg.dir.path().join("server.log")).unwrap_or_default();
                return Err(format!("postgres exited ({status}): {log}"));
            }
            if Instant::now() >= end {
                return Err("postgres not ready in time".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(pg)
    }

    fn command(&self, tool: &str) -> Command {
        let mut c = super::command::new(self.bin.join(tool));
        if let Some((uid, gid)) = self.run_as {
            c.uid(uid).gid(gid);
        }
        c.env("LC_ALL", "C");
        c
    }

    /// The socket directory.
    pub fn socket_dir(&self) -> &Path {
        self.dir.path()
    }

    /// Creates database `name`; returns its URL for the hub's `database`.
    pub fn create_db(&self, name: &str) -> String {
        let out = self
            .command("createdb")
            .args(["-h"])
            .arg(self.socket_dir())
            .args(["-p", &PORT.to_string(), "-U", SUPERUSER, name])
            .stdin(Stdio::null())
            .output()
            .expect("run createdb");
        assert!(
            out.status.success(),
            "createdb {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.url(name)
    }

    /// The URL of database `name`.
    pub fn url(&self, name: &str) -> String {
        format!(
            "postgresql://{SUPERUSER}@localhost/{name}?host={}&port={PORT}",
            self.socket_dir().display()
        )
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let Some(mut child) = self.server.take() else {
            return;
        };
        let pid = Pid::from_raw(child.id() as i32);
        let _ = kill(pid, Signal::SIGINT);
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = kill(pid, Signal::SIGKILL);
        let _ = child.wait();
    }
}
