//! The polling probes of `ready_when` — `tcp:`, `http://`, `exec:`,
//! `log:` — each one task per starting child, off the actor, reporting
//! [`Report::Ready`] once and ending. Every attempt is bounded (connect and
//! read timeouts, an exec time limit, a read limit on log files) and
//! attempts are spaced from 100 ms growing to 1 s, so a probe costs next to
//! nothing while a slow database starts. The actor aborts a probe when its
//! child leaves STARTING; the readiness timeout is the state machine's.

use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use sv_core::process::ExitStatus;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::time::timeout;

use super::{ExecChildren, Report, Reporter};
use crate::supervisor::ProcKey;

/// One connect (or request, or command) must answer within this.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
const FIRST_PAUSE: Duration = Duration::from_millis(100);
const LONGEST_PAUSE: Duration = Duration::from_secs(1);
/// The most read from the log files per look, and the longest line kept.
const LOG_READ_LIMIT: usize = 64 * 1024;
/// The most read of an HTTP answer (only its status line matters).
const HTTP_READ_LIMIT: usize = 1024;

/// What a probe needs, prepared by the actor before the task starts.
pub(crate) enum Probe {
    Tcp {
        host: String,
        port: u16,
    },
    Http {
        host: String,
        port: u16,
        path: String,
    },
    Exec {
        argv: Vec<String>,
        env: Vec<(String, String)>,
        children: ExecChildren,
    },
    Log {
        /// Each log file and the length it had at the spawn: only what the
        /// new child writes counts.
        files: Vec<(PathBuf, u64)>,
        pattern: regex::Regex,
    },
}

/// Try `probe` until it succeeds, then report Ready for `key`'s child `pid`.
pub(crate) async fn run(probe: Probe, key: ProcKey, pid: u32, reporter: Reporter) {
    let mut pause = FIRST_PAUSE;
    let mut probe = probe;
    loop {
        if attempt(&mut probe).await {
            reporter.send(key, pid, Report::Ready);
            return;
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(LONGEST_PAUSE);
    }
}

async fn attempt(probe: &mut Probe) -> bool {
    match probe {
        Probe::Tcp { host, port } => matches!(
            timeout(ATTEMPT_TIMEOUT, TcpStream::connect((host.as_str(), *port))).await,
            Ok(Ok(_))
        ),
        Probe::Http { host, port, path } => {
            matches!(timeout(ATTEMPT_TIMEOUT, http_get(host, *port, path)).await, Ok(Some(code)) if (200..400).contains(&code))
        }
        Probe::Exec {
            argv,
            env,
            children,
        } => exec(argv, env, children).await,
        Probe::Log { files, pattern } => {
            let mut scan = std::mem::take(files);
            let regex = pattern.clone();
            let Ok((found, scanned)) =
                tokio::task::spawn_blocking(move || (scan_logs(&mut scan, &regex), scan)).await
            else {
                return false;
            };
            *files = scanned;
            found
        }
    }
}

/// `GET path` over HTTP/1.0; the status code, if an answer came.
async fn http_get(host: &str, port: u16, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect((host, port)).await.ok()?;
    let authority = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let request = format!(
        "GET {path} HTTP/1.0\r\nHost: {authority}\r\nUser-Agent: supervisor-rs readiness\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut answer = Vec::with_capacity(HTTP_READ_LIMIT);
    let mut chunk = [0u8; 256];
    while answer.len() < HTTP_READ_LIMIT && !answer.contains(&b'\n') {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&chunk[..n]);
    }
    status_code(&answer)
}

/// The code of an `HTTP/1.x NNN reason` status line.
fn status_code(answer: &[u8]) -> Option<u16> {
    let line = answer.split(|&b| b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split_whitespace();
    if !parts.next()?.starts_with("HTTP/") {
        return None;
    }
    parts.next()?.parse().ok()
}

/// Run the command once; whether it exited 0 within the time limit. The
/// child is reaped by the actor's `waitpid(-1)`, which hands its status
/// over through `children`.
async fn exec(argv: &[String], env: &[(String, String)], children: &ExecChildren) -> bool {
    let Some((program, args)) = argv.split_first() else {
        return false;
    };
    let spawned = Command::new(program)
        .args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn();
    let Ok(child) = spawned else {
        return false;
    };
    let pid = child.id();
    // Registered before this task yields, so the actor cannot reap it first
    // (the actor and this task share one thread).
    let (tx, rx) = oneshot::channel();
    children.borrow_mut().insert(pid, tx);
    drop(child);
    match timeout(ATTEMPT_TIMEOUT, rx).await {
        Ok(Ok(status)) => status == ExitStatus::Exited(0),
        Ok(Err(_)) => false,
        Err(_) => {
            // Too slow: end its whole group; the reaper still collects it.
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
            false
        }
    }
}

/// Read what was added to each file since the last look (from 0 again if it
/// shrank: rotated or cleared); whether a line matches.
fn scan_logs(files: &mut [(PathBuf, u64)], pattern: &regex::Regex) -> bool {
    for (path, offset) in files.iter_mut() {
        let Ok(mut file) = std::fs::File::open(&*path) else {
            continue;
        };
        let Ok(len) = file.metadata().map(|m| m.len()) else {
            continue;
        };
        if len < *offset {
            *offset = 0;
        }
        // Only whole lines are matched: a line still being written is read
        // again next time (up to the read limit).
        let start = (*offset).max(len.saturating_sub(LOG_READ_LIMIT as u64 * 4));
        if file.seek(SeekFrom::Start(start)).is_err() {
            continue;
        }
        let mut chunk = Vec::new();
        if file
            .take(LOG_READ_LIMIT as u64)
            .read_to_end(&mut chunk)
            .is_err()
        {
            continue;
        }
        let whole = match chunk.iter().rposition(|&b| b == b'\n') {
            Some(i) => i + 1,
            None if chunk.len() >= LOG_READ_LIMIT => chunk.len(),
            None => 0,
        };
        *offset = start + whole as u64;
        let text = String::from_utf8_lossy(&chunk[..whole]);
        if text.lines().any(|line| pattern.is_match(line)) {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines() {
        assert_eq!(status_code(b"HTTP/1.1 204 No Content\r\n"), Some(204));
        assert_eq!(status_code(b"HTTP/1.0 503 Busy\r\n"), Some(503));
        assert_eq!(status_code(b"SSH-2.0-OpenSSH\r\n"), None);
        assert_eq!(status_code(b""), None);
    }

    #[test]
    fn log_scan_sees_only_new_whole_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.log");
        std::fs::write(&path, "database system is ready\n").unwrap();
        let pattern = regex::Regex::new("is ready").unwrap();
        let mut files = vec![(path.clone(), 25)];
        assert!(!scan_logs(&mut files, &pattern));
        std::fs::write(&path, "database system is ready\nstarting\nit is rea").unwrap();
        assert!(!scan_logs(&mut files, &pattern));
        assert_eq!(files[0].1, 34);
        std::fs::write(&path, "database system is ready\nstarting\nit is ready\n").unwrap();
        assert!(scan_logs(&mut files, &pattern));
        // Rotated: read from the start again.
        std::fs::write(&path, "is ready\n").unwrap();
        let mut files = vec![(path, 1000)];
        assert!(scan_logs(&mut files, &pattern));
    }
}
