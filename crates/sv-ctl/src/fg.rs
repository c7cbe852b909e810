//! `fg <process>`: show the process's stdout and stderr and send each
//! line typed to its stdin, until Ctrl-C or end of input (spec §5.4).

use std::os::fd::{AsRawFd, RawFd};

use tokio::io::unix::AsyncFd;

use crate::controller::{Controller, Unhandled};
use sv_xmlrpc::Value;

const RUNNING: i64 = 20;

fn state(info: &Value) -> i64 {
    match info.get("state") {
        Some(Value::Int(n)) => i64::from(*n),
        _ => -1,
    }
}

pub async fn do_fg(ctl: &mut Controller, arg: &str) -> Result<(), Unhandled> {
    if !ctl.upcheck().await? {
        return Ok(());
    }
    let names: Vec<&str> = arg.split_whitespace().collect();
    if names.is_empty() {
        ctl.out.line("ERROR: no process name supplied");
        ctl.exitstatus = 1;
        for l in crate::help::text("fg").unwrap_or(&[]) {
            ctl.out.line(l);
        }
        return Ok(());
    }
    if names.len() > 1 {
        ctl.out.line("ERROR: too many process names supplied");
        ctl.exitstatus = 1;
        return Ok(());
    }
    let name = names[0].to_string();
    let client = sv_client::Client::new(
        &ctl.options.serverurl,
        ctl.options.username.as_deref(),
        ctl.options.password.as_deref(),
    )?;
    let info = match client
        .call(
            "supervisor.getProcessInfo",
            vec![Value::from(name.as_str())],
        )
        .await
    {
        Ok(i) => i,
        Err(e) if e.fault().map(|f| f.code) == Some(10) => {
            ctl.out.line("ERROR: bad process name supplied");
            ctl.exitstatus = 1;
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    if state(&info) != RUNNING {
        ctl.out.line("ERROR: process not running");
        ctl.exitstatus = 1;
        return Ok(());
    }
    ctl.out.line("==> Press Ctrl-C to exit <==");
    ctl.flush();
    let follow = |channel: &'static str| {
        let client = client.clone();
        let path = format!("/logtail/{name}/{channel}");
        async move {
            if let Ok((200, _, mut body)) = client.get_stream(&path).await {
                use std::io::Write;
                while let Ok(Some(data)) = sv_client::next_chunk(&mut body).await {
                    let mut out = std::io::stdout();
                    let _ = out.write_all(&data);
                    let _ = out.flush();
                }
            }
            std::future::pending::<()>().await;
        }
    };
    let out_task = tokio::task::spawn_local(follow("stdout"));
    let err_task = tokio::task::spawn_local(follow("stderr"));
    let mut lines = StdinLines::new();
    let input = async {
        loop {
            let Some(line) = lines.next_line().await else {
                return false;
            };
            let sent = client
                .call(
                    "supervisor.sendProcessStdin",
                    vec![Value::from(name.as_str()), Value::from(line + "\n")],
                )
                .await;
            if let Err(e) = sent {
                return e.fault().map(|f| f.code) == Some(70);
            }
            match client
                .call(
                    "supervisor.getProcessInfo",
                    vec![Value::from(name.as_str())],
                )
                .await
            {
                Ok(i) if state(&i) == RUNNING => {}
                _ => return true,
            }
        }
    };
    let killed = tokio::select! {
        k = input => k,
        _ = tokio::signal::ctrl_c() => false,
    };
    out_task.abort();
    err_task.abort();
    if killed {
        ctl.out.line("Process got killed");
    }
    ctl.out.line("Exiting foreground");
    Ok(())
}

/// Lines typed on stdin, read only when epoll says stdin is readable.
///
/// `tokio::io::stdin` would park a blocking thread in `read(0)` that
/// outlives `fg` and swallows the shell's next line; setting O_NONBLOCK
/// would change the terminal's file description for the line editor too.
/// Waiting for readiness and then reading what is there blocks neither.
struct StdinLines {
    fd: Option<AsyncFd<Stdin0>>,
    pending: Vec<u8>,
}

struct Stdin0;

impl AsRawFd for Stdin0 {
    fn as_raw_fd(&self) -> RawFd {
        libc::STDIN_FILENO
    }
}

impl StdinLines {
    fn new() -> StdinLines {
        // SAFETY: fd 0 stays open for the whole life of the process (we
        // never close stdin), so it outlives this registration.
        let fd = unsafe { AsyncFd::register_with_interest(Stdin0, tokio::io::Interest::READABLE) };
        // A regular file or /dev/null cannot be polled: no input then.
        StdinLines {
            fd: fd.ok(),
            pending: Vec::new(),
        }
    }

    /// The next line without its newline; `None` at end of input.
    async fn next_line(&mut self) -> Option<String> {
        let fd = self.fd.as_ref()?;
        loop {
            if let Some(at) = self.pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=at).collect();
                return Some(String::from_utf8_lossy(&line[..at]).into_owned());
            }
            let mut guard = fd.readable().await.ok()?;
            // Read exactly what is there (FIONREAD), so the read never
            // blocks; readable with nothing there is end of input.
            let mut available: libc::c_int = 0;
            // SAFETY: FIONREAD writes one c_int.
            if unsafe { libc::ioctl(libc::STDIN_FILENO, libc::FIONREAD, &mut available) } < 0 {
                available = 0;
            }
            let want = usize::try_from(available).unwrap_or(0).clamp(1, 64 * 1024);
            let mut buf = vec![0u8; want];
            // SAFETY: read(2) into a buffer of the length given.
            let n = unsafe { libc::read(libc::STDIN_FILENO, buf.as_mut_ptr().cast(), buf.len()) };
            if n < 0 || n as usize >= usize::try_from(available).unwrap_or(0) {
                guard.clear_ready();
            }
            match n {
                0 => return None,
                n if n < 0 => {
                    let err = std::io::Error::last_os_error();
                    if err.kind() != std::io::ErrorKind::Interrupted
                        && err.kind() != std::io::ErrorKind::WouldBlock
                    {
                        return None;
                    }
                }
                n => self.pending.extend_from_slice(&buf[..n as usize]),
            }
        }
    }
}
