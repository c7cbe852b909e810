//! `fg <process>`: show the process's stdout and stderr and send each
//! line typed to its stdin, until Ctrl-C or end of input (spec §5.4).

use std::os::fd::{AsRawFd, RawFd};

use sv_api::{FaultCode, ProcessState};
use tokio::io::unix::AsyncFd;

use crate::controller::{CommandResult, Controller};
use crate::replies::Call;

/// `fg <process>`
pub async fn fg(ctl: &mut Controller, arg: &str) -> CommandResult {
    if !ctl.upcheck().await? {
        return Ok(());
    }
    let names: Vec<&str> = arg.split_whitespace().collect();
    let name = match names.as_slice() {
        [] => {
            ctl.fail("ERROR: no process name supplied");
            ctl.help("fg");
            return Ok(());
        }
        [name] => name.to_string(),
        _ => {
            ctl.fail("ERROR: too many process names supplied");
            return Ok(());
        }
    };
    let client = ctl.client()?;
    let info = match client.get_process_info(&name).await {
        Ok(info) => info,
        Err(e) => return ctl.answer(Call::Fg, e),
    };
    if info.process_state() != Some(ProcessState::Running) {
        ctl.fail("ERROR: process not running");
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
    // Ends true when the process went away under us.
    let input = async {
        loop {
            let Some(line) = lines.next_line().await else {
                return false;
            };
            let chars = format!("{line}\n");
            if let Err(e) = client.send_process_stdin(&name, chars.as_bytes()).await {
                return e.is_fault(FaultCode::NotRunning);
            }
            match client.get_process_info(&name).await {
                Ok(i) if i.process_state() == Some(ProcessState::Running) => {}
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
