//! The interactive shell: rustyline on a terminal (history file, completion
//! of command, group and process names), plain line reading otherwise —
//! with the prompt still printed, as Supervisor's `cmd` loop does.

use std::io::{BufRead, IsTerminal, Write};

use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::{Context, Editor, Helper, Highlighter, Hinter, Validator};

use crate::controller::Controller;

pub fn stdin_is_tty() -> bool {
    std::io::stdin().is_terminal()
}

/// Ask a question on the terminal; `None` at end of input.
pub fn ask(question: &str) -> Option<String> {
    crate::controller::prompt_write(question);
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line.trim_end_matches(['\n', '\r']).to_string()),
    }
}

/// `Username:` then `Password:` (not echoed), after a 401.
pub fn ask_credentials() -> Option<(String, String)> {
    let user = ask("Username:")?;
    crate::controller::prompt_write("Password:");
    let fd = libc::STDIN_FILENO;
    // SAFETY: termios calls on stdin with a zeroed struct they fill in.
    let mut term: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: tcgetattr only writes into `term`, a termios we own.
    let have = unsafe { libc::tcgetattr(fd, &mut term) } == 0;
    if have {
        let mut quiet = term;
        quiet.c_lflag &= !libc::ECHO;
        // SAFETY: as above.
        unsafe { libc::tcsetattr(fd, libc::TCSANOW, &quiet) };
    }
    let mut pass = String::new();
    let ok = std::io::stdin().lock().read_line(&mut pass).is_ok();
    if have {
        // SAFETY: restores the settings read above.
        unsafe { libc::tcsetattr(fd, libc::TCSANOW, &term) };
    }
    crate::controller::prompt_write("\n");
    ok.then(|| (user, pass.trim_end_matches(['\n', '\r']).to_string()))
}

#[derive(Helper, Highlighter, Hinter, Validator)]
struct Names {
    /// (group, process) pairs fetched when the shell starts.
    procs: Vec<(String, String)>,
}

impl Completer for Names {
    type Candidate = Pair;
    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let head = &line[..pos];
        // `:`, `*` and `-` are part of names, not delimiters.
        let start = head.rfind(' ').map(|i| i + 1).unwrap_or(0);
        let word = &head[start..];
        let mut out: Vec<String> = Vec::new();
        if start == 0 {
            out.extend(
                crate::help::COMMANDS
                    .iter()
                    .filter(|c| c.starts_with(word))
                    .map(|c| format!("{c} ")),
            );
        } else {
            let cmd = head.split_whitespace().next().unwrap_or("");
            if matches!(cmd, "add" | "remove" | "update") {
                for (g, _) in &self.procs {
                    let c = format!("{g} ");
                    if g.starts_with(word) && !out.contains(&c) {
                        out.push(c);
                    }
                }
            } else if cmd == "help" {
                out.extend(
                    crate::help::COMMANDS
                        .iter()
                        .filter(|c| c.starts_with(word))
                        .map(|c| format!("{c} ")),
                );
            } else {
                for (g, p) in &self.procs {
                    let mut cands = Vec::new();
                    if word.contains(':') || g != p {
                        cands.push(format!("{g}:{p} "));
                        cands.push(format!("{g}:* "));
                    } else {
                        cands.push(format!("{p} "));
                    }
                    for c in cands {
                        if c.starts_with(word) && !out.contains(&c) {
                            out.push(c);
                        }
                    }
                }
            }
        }
        Ok((
            start,
            out.into_iter()
                .map(|c| Pair {
                    display: c.trim_end().to_string(),
                    replacement: c,
                })
                .collect(),
        ))
    }
}

/// The shell loop; `first` is the command run before the first prompt
/// (`status`, or the command given with `-i`).
pub async fn run(ctl: &mut Controller, first: &str) {
    if ctl.onecmd(first).await {
        return;
    }
    ctl.flush();
    let prompt = format!("{}> ", ctl.options.prompt);
    if !stdin_is_tty() {
        let stdin = std::io::stdin();
        loop {
            crate::controller::prompt_write(&prompt);
            let mut line = String::new();
            match stdin.lock().read_line(&mut line) {
                Ok(0) | Err(_) => {
                    ctl.onecmd("EOF").await;
                    ctl.flush();
                    return;
                }
                Ok(_) => {}
            }
            let done = ctl.onecmd(line.trim_end_matches(['\n', '\r'])).await;
            ctl.flush();
            if done {
                return;
            }
        }
    }
    // From here on SIGINT (Ctrl-C while a command runs) abandons that
    // command and returns to the prompt instead of killing the shell; the
    // handler is installed now so no moment is left uncovered.
    let mut sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
    let procs = ctl.names().await;
    // List the candidates like bash and cmd.Cmd's readline do, instead of
    // cycling through them.
    let config = rustyline::Config::builder()
        .completion_type(rustyline::CompletionType::List)
        .build();
    let Ok(mut editor) = Editor::<Names, rustyline::history::DefaultHistory>::with_config(config)
    else {
        return;
    };
    editor.set_helper(Some(Names { procs }));
    let history = ctl.options.history_file.clone();
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    loop {
        let _ = std::io::stdout().flush();
        match editor.readline(&prompt) {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = editor.add_history_entry(line.as_str());
                }
                let done = match sigint.as_mut() {
                    Some(sigint) => {
                        // A Ctrl-C already handled (by `tail -f`, say) is
                        // still pending here: it must not cancel this one.
                        while let Ok(Some(())) =
                            tokio::time::timeout(std::time::Duration::ZERO, sigint.recv()).await
                        {
                        }
                        tokio::select! {
                        done = ctl.onecmd(&line) => done,
                        _ = sigint.recv() => {
                            ctl.out.line("");
                            false
                        }
                        }
                    }
                    None => ctl.onecmd(&line).await,
                };
                ctl.flush();
                if done {
                    break;
                }
            }
            Err(ReadlineError::Eof) => {
                ctl.onecmd("EOF").await;
                break;
            }
            Err(_) => {
                ctl.out.line("");
                break;
            }
        }
    }
    ctl.flush();
    if let Some(h) = &history {
        let _ = editor.save_history(h);
    }
}
