//! One supervisorctl session: the options, the client (reused across
//! commands, so its kept-alive connection is too), the output buffer and
//! the exit status ("last writer wins", spec §5.3); `onecmd` parses a
//! command line and hands it to [`crate::commands`].

use std::io::Write;

use sv_client::{Client, Error};

use crate::help;
use crate::options::Options;
use crate::output::Out;
use crate::replies::{Call, Failure, Reply, exit, reply};

/// A command's outcome: `Err` ends it with the generic error line.
pub type CommandResult = Result<(), Failure>;

pub struct Controller {
    pub options: Options,
    pub exitstatus: i32,
    pub out: Out,
    /// The client for the current server URL and credentials; rebuilt when
    /// `open` or a 401 prompt changes them.
    client: Option<(ClientKey, Client)>,
}

/// What a client was built from.
#[derive(PartialEq, Eq)]
struct ClientKey {
    url: String,
    username: Option<String>,
    password: Option<String>,
}

impl Controller {
    pub fn new(options: Options, out: Out) -> Controller {
        Controller {
            options,
            exitstatus: 0,
            out,
            client: None,
        }
    }

    /// The client for the current options. A bad URL is reported by the
    /// call that needs the client, as Supervisor reports it.
    pub fn client(&mut self) -> Result<Client, Error> {
        let key = ClientKey {
            url: self.options.serverurl.clone(),
            username: self.options.username.clone(),
            password: self.options.password.clone(),
        };
        if let Some((built_for, client)) = &self.client
            && *built_for == key
        {
            return Ok(client.clone());
        }
        let client = Client::new(&key.url, key.username.as_deref(), key.password.as_deref())?;
        self.client = Some((key, client.clone()));
        Ok(client)
    }

    pub fn output(&mut self, line: &str) {
        self.out.line(line);
    }

    /// An error line; the command then exits with Supervisor's generic
    /// failure status.
    pub fn fail(&mut self, line: &str) {
        self.output(line);
        self.exitstatus = exit::GENERIC;
    }

    /// Print a mapped reply and apply its exit status.
    pub fn show(&mut self, reply: Reply) {
        self.output(&reply.line);
        if let Some(status) = reply.exit {
            self.exitstatus = status;
        }
    }

    /// Print what supervisorctl says for `err` during `call`; an error it
    /// has no words for comes back to end the command.
    pub fn answer(&mut self, call: Call<'_>, err: Error) -> CommandResult {
        match reply(call, &err) {
            Some(words) => {
                self.show(words);
                Ok(())
            }
            None => Err(err.into()),
        }
    }

    /// Print `command`'s help lines.
    pub fn help(&mut self, command: &str) {
        if let Some(lines) = help::text(command) {
            for l in lines {
                self.out.line(l);
            }
        }
    }

    /// True when `arg` is empty; else the "accepts no arguments" error.
    pub fn no_args(&mut self, command: &str, arg: &str) -> bool {
        if arg.trim().is_empty() {
            return true;
        }
        self.fail(&format!("Error: {command} accepts no arguments"));
        self.help(command);
        false
    }

    /// Ask `question` in the shell; outside it the answer is yes.
    pub fn really(&mut self, question: &str) -> bool {
        if !self.options.interactive {
            return true;
        }
        self.out.flush();
        crate::shell::ask(question).is_some_and(|a| a.to_lowercase().starts_with('y'))
    }

    /// The connection check (spec §5.2). `Ok(false)`: a message was
    /// printed and the exit status set.
    pub async fn upcheck(&mut self) -> Result<bool, Failure> {
        let client = self.client()?;
        match client.get_version().await {
            Ok(api) if api == "3.0" => Ok(true),
            Ok(api) => {
                self.output(&format!("Sorry, this version of supervisorctl expects to talk to a server with API version 3.0, but the remote version is {api}."));
                self.exitstatus = exit::NOT_INSTALLED;
                Ok(false)
            }
            Err(e) => {
                let url = self.options.serverurl.clone();
                self.answer(Call::Upcheck { url: &url }, e)?;
                Ok(false)
            }
        }
    }

    /// Run one command line; the exit status is in `self.exitstatus`.
    /// Returns true when the shell should stop (`quit`, `exit`, `EOF`).
    pub async fn onecmd(&mut self, line: &str) -> bool {
        let line = line.trim();
        if line.is_empty() {
            return false;
        }
        let (cmd, arg) = parse_line(line);
        let result = match crate::commands::run(self, &cmd, &arg).await {
            Some(result) => result,
            None if matches!(cmd.as_str(), "EOF" | "quit" | "exit") => {
                self.output("");
                return true;
            }
            None => {
                self.fail(&format!("*** Unknown syntax: {line}"));
                return false;
            }
        };
        let Err(failure) = result else {
            return false;
        };
        if failure.is_unauthorized() {
            // Supervisor then calls the command again and prints the
            // second 401 as a generic error line (spec §9 item 9); one
            // clear line is enough.
            self.output("Server requires authentication");
            if self.options.interactive
                && crate::shell::stdin_is_tty()
                && let Some((user, pass)) = crate::shell::ask_credentials()
            {
                self.output("");
                self.options.username = Some(user);
                self.options.password = Some(pass);
                return Box::pin(self.onecmd(line)).await;
            }
            self.exitstatus = exit::GENERIC;
            return false;
        }
        let (class, text) = failure.python_exception();
        self.fail(&format!(
            "error: <class '{class}'>, {text}: file: {} line: {}",
            file!(),
            line!()
        ));
        false
    }

    /// Process and group names for shell completion.
    pub async fn names(&mut self) -> Vec<(String, String)> {
        let Ok(client) = self.client() else {
            return Vec::new();
        };
        match client.get_all_process_info().await {
            Ok(infos) => infos.into_iter().map(|i| (i.group, i.name)).collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Flush buffered output (before prompting or exiting).
    pub fn flush(&mut self) {
        self.out.flush();
    }
}

/// Python `cmd.Cmd.parseline`: the command is the leading run of
/// identifier characters; `?` means help.
pub fn parse_line(line: &str) -> (String, String) {
    let line = line.trim();
    if let Some(rest) = line.strip_prefix('?') {
        return ("help".to_string(), rest.trim().to_string());
    }
    let end = line
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
        .map(|(i, _)| i)
        .unwrap_or(line.len());
    (line[..end].to_string(), line[end..].trim().to_string())
}

/// Writes a line and flushes (for interactive prompts).
pub fn prompt_write(text: &str) {
    let mut out = std::io::stdout();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_line_like_cmd() {
        assert_eq!(parse_line("status cat"), ("status".into(), "cat".into()));
        assert_eq!(parse_line("  tail -f x "), ("tail".into(), "-f x".into()));
        assert_eq!(parse_line("?start"), ("help".into(), "start".into()));
        assert_eq!(parse_line("status;pid"), ("status".into(), ";pid".into()));
        assert_eq!(parse_line("-x"), ("".into(), "-x".into()));
    }
}
