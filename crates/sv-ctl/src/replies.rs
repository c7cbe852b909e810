//! The one mapping on the client side from what a call returned — a
//! fault, a socket error, a per-process result — to the line supervisorctl
//! prints and the exit status it leaves (spec §5.3, §5.4), for every
//! command. Anything not mapped here is a [`Failure`] and becomes Python's
//! generic `error: <class '…'>, …` line.

use sv_api::{AnyFaultCode, FaultCode, RecordError, make_namespec};
use sv_client::Error;

/// supervisorctl's exit statuses (spec §5.3, LSB init-script style).
pub mod exit {
    pub const GENERIC: i32 = 1;
    pub const INVALID_ARGS: i32 = 2;
    pub const UNIMPLEMENTED_FEATURE: i32 = 3;
    pub const INSUFFICIENT_PRIVILEGES: i32 = 4;
    pub const NOT_INSTALLED: i32 = 5;
    pub const NOT_RUNNING: i32 = 7;
    /// `status`: some process shown is not running.
    pub const STATUS_NOT_RUNNING: i32 = 3;
    /// `status`: a name matched nothing, or the daemon is unreachable.
    pub const STATUS_UNKNOWN: i32 = 4;
}

/// A line to print and the exit status it sets (`None`: left as it is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub line: String,
    pub exit: Option<i32>,
}

impl Reply {
    fn new(line: impl Into<String>, exit: Option<i32>) -> Self {
        Reply {
            line: line.into(),
            exit,
        }
    }

    fn failed(line: impl Into<String>) -> Self {
        Reply::new(line, Some(exit::GENERIC))
    }
}

/// The commands that act on processes one result at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Start,
    Stop,
    Signal,
    Clear,
}

impl Verb {
    /// The result that is not a failure for this verb (starting a started
    /// process, stopping a stopped one).
    fn harmless(self) -> Option<FaultCode> {
        match self {
            Verb::Start => Some(FaultCode::AlreadyStarted),
            Verb::Stop => Some(FaultCode::NotRunning),
            Verb::Signal | Verb::Clear => None,
        }
    }
}

/// Where a fault or client error happened; the same fault reads
/// differently in different commands (SHUTDOWN_STATE alone has four
/// wordings), exactly as Supervisor's supervisorctl words them.
#[derive(Debug, Clone, Copy)]
pub enum Call<'a> {
    /// The connection check before most commands.
    Upcheck {
        url: &'a str,
    },
    /// `start`/`stop`/`signal` on a whole group.
    Group {
        verb: Verb,
        group: &'a str,
    },
    /// `pid <name>`.
    Pid {
        name: &'a str,
    },
    /// `tail <name>`.
    Tail {
        name: &'a str,
    },
    Maintail,
    Avail,
    Reread,
    Update,
    Add {
        name: &'a str,
    },
    Remove {
        name: &'a str,
    },
    Shutdown {
        url: &'a str,
    },
    Reload,
    /// `fg <name>`'s look-up of the process.
    Fg,
}

/// What supervisorctl prints for `err` during `call`, or `None` when it has
/// no words for it (then the command fails with the generic line).
pub fn reply(call: Call<'_>, err: &Error) -> Option<Reply> {
    use FaultCode as F;
    if let Some(errno) = err.errno() {
        return match (call, errno) {
            (Call::Upcheck { url }, libc::ECONNREFUSED) => Some(Reply::new(
                format!("{url} refused connection"),
                Some(exit::INSUFFICIENT_PRIVILEGES),
            )),
            (Call::Upcheck { url }, libc::ENOENT) => Some(Reply::new(
                format!("{url} no such file"),
                Some(exit::NOT_RUNNING),
            )),
            (Call::Shutdown { url }, libc::ECONNREFUSED) => Some(Reply::failed(format!(
                "ERROR: {url} refused connection (already shut down?)"
            ))),
            (Call::Shutdown { url }, libc::ENOENT) => Some(Reply::failed(format!(
                "ERROR: {url} no such file (already shut down?)"
            ))),
            _ => None,
        };
    }
    let fault = err.fault()?;
    let code = fault.code.known()?;
    Some(match (call, code) {
        (Call::Upcheck { .. }, F::UnknownMethod) => Reply::new(
            "Sorry, supervisord responded but did not recognize the supervisor namespace commands that supervisorctl uses to control it.  Please check that the [rpcinterface:supervisor] section is enabled in the configuration file (see sample.conf).",
            Some(exit::UNIMPLEMENTED_FEATURE),
        ),
        (Call::Group { verb, group }, F::BadName) => Reply::new(
            format!("{group}: ERROR (no such group)"),
            // Supervisor's start says "invalid arguments" here; the others
            // fail generically.
            Some(if verb == Verb::Start {
                exit::INVALID_ARGS
            } else {
                exit::GENERIC
            }),
        ),
        (Call::Pid { name }, F::BadName) => Reply::failed(format!("No such process {name}")),
        (Call::Tail { name }, F::NoFile) => Reply::failed(format!("{name}: ERROR (no log file)")),
        (Call::Tail { name }, F::Failed) => {
            Reply::failed(format!("{name}: ERROR (unknown error reading log)"))
        }
        (Call::Tail { name }, F::BadName) => {
            Reply::failed(format!("{name}: ERROR (no such process name)"))
        }
        (Call::Maintail, F::NoFile) => Reply::failed("supervisord: ERROR (no log file)"),
        (Call::Maintail, F::Failed) => {
            Reply::failed("supervisord: ERROR (unknown error reading log)")
        }
        (Call::Avail | Call::Reread, F::ShutdownState) => {
            Reply::failed("ERROR: supervisor shutting down")
        }
        (Call::Reread, F::CantReread) => Reply::failed(format!("ERROR: {}", fault.string)),
        (Call::Update | Call::Reload, F::ShutdownState) => {
            Reply::failed("ERROR: already shutting down")
        }
        // Asked to shut down twice: said, but not a failure.
        (Call::Shutdown { .. }, F::ShutdownState) => {
            Reply::new("ERROR: already shutting down", None)
        }
        (Call::Add { .. }, F::ShutdownState) => Reply::failed("ERROR: shutting down"),
        (Call::Add { .. }, F::AlreadyAdded) => {
            Reply::new("ERROR: process group already active", None)
        }
        (Call::Add { name } | Call::Remove { name }, F::BadName) => {
            Reply::failed(format!("ERROR: no such process/group: {name}"))
        }
        (Call::Remove { name }, F::StillRunning) => {
            Reply::failed(format!("ERROR: process/group still running: {name}"))
        }
        (Call::Fg, F::BadName) => Reply::failed("ERROR: bad process name supplied"),
        _ => return None,
    })
}

/// The line for one process's outcome of `verb` — an entry of a group/all
/// result array, or a single call's fault (then `group`/`process` come
/// from the name asked for, and a `group:*` shows as `group:None` as in
/// Supervisor) — and the exit status it sets.
pub fn result_reply(
    verb: Verb,
    group: &str,
    process: Option<&str>,
    code: AnyFaultCode,
    description: &str,
) -> Result<Reply, Failure> {
    use FaultCode as F;
    let name = make_namespec(group, process.unwrap_or("None"));
    let err = |what: &str| format!("{name}: ERROR ({what})");
    let line = match (verb, code.known()) {
        (_, Some(F::BadName)) => err("no such process"),
        (Verb::Start, Some(F::NoFile)) => err("no such file"),
        (Verb::Start, Some(F::NotExecutable)) => err("file is not executable"),
        (Verb::Start, Some(F::AlreadyStarted)) => err("already started"),
        (Verb::Start, Some(F::SpawnError)) => err("spawn error"),
        (Verb::Start, Some(F::AbnormalTermination)) => err("abnormal termination"),
        (Verb::Start, Some(F::Success)) => format!("{name}: started"),
        (Verb::Stop | Verb::Signal, Some(F::NotRunning)) => err("not running"),
        (Verb::Stop, Some(F::Success)) => format!("{name}: stopped"),
        // Supervisor prints a failed stop's or signal's own words.
        (Verb::Stop | Verb::Signal, Some(F::Failed)) => description.to_owned(),
        (Verb::Signal, Some(F::BadSignal)) => err("bad signal name"),
        (Verb::Signal, Some(F::Success)) => format!("{name}: signalled"),
        (Verb::Clear, Some(F::Failed)) => err("failed"),
        (Verb::Clear, Some(F::Success)) => format!("{name}: cleared"),
        _ => {
            return Err(Failure::UnknownResult {
                code: code.number(),
                name,
            });
        }
    };
    Ok(Reply::new(line, result_exit(verb, code)))
}

/// The exit status a process's result sets.
fn result_exit(verb: Verb, code: AnyFaultCode) -> Option<i32> {
    use FaultCode as F;
    match code.known() {
        Some(F::Success) => None,
        Some(c) if verb.harmless() == Some(c) => None,
        Some(F::SpawnError | F::AbnormalTermination | F::NotRunning) => Some(exit::NOT_RUNNING),
        _ => Some(exit::GENERIC),
    }
}

/// What ends a command with the generic error line: an error supervisorctl
/// has no words for (Python: an exception nothing catches).
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("{0}")]
    Client(#[from] Error),
    /// A per-process result code the command does not know.
    #[error("Unknown result code {code} for {name}")]
    UnknownResult { code: i32, name: String },
}

impl Failure {
    /// A 401: supervisorctl asks for credentials (or says it needs them)
    /// instead of printing the error.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, Failure::Client(Error::Status { status: 401, .. }))
    }

    /// The Python exception class the reference would name, and its text.
    pub fn python_exception(&self) -> (String, String) {
        let (class, text) = match self {
            Failure::UnknownResult { .. } => ("ValueError", self.to_string()),
            Failure::Client(err) => client_exception(err),
        };
        (class.to_owned(), text)
    }
}

/// Python's view of a client error: class and message.
fn client_exception(err: &Error) -> (&'static str, String) {
    match err {
        Error::Fault(f) => (
            "xmlrpc.client.Fault",
            format!(
                "<Fault {}: {}>",
                f.code.number(),
                sv_core::pyfmt::py_repr_str(&f.string)
            ),
        ),
        Error::Status { status, reason } => (
            "xmlrpc.client.ProtocolError",
            format!("<ProtocolError for 127.0.0.1/RPC2: {status} {reason}>"),
        ),
        Error::Io(io) => {
            let errno = io.raw_os_error();
            let class = match errno {
                Some(libc::ECONNREFUSED) => "ConnectionRefusedError",
                Some(libc::ENOENT) => "FileNotFoundError",
                Some(libc::EACCES | libc::EPERM) => "PermissionError",
                Some(libc::ECONNRESET) => "ConnectionResetError",
                Some(libc::EPIPE) => "BrokenPipeError",
                Some(libc::ETIMEDOUT) => "TimeoutError",
                _ => "OSError",
            };
            let text = match errno {
                Some(n) => {
                    // Python's text is strerror alone; std appends the number.
                    let full = io.to_string();
                    let message = full
                        .strip_suffix(&format!(" (os error {n})"))
                        .unwrap_or(&full);
                    format!("[Errno {n}] {message}")
                }
                None => io.to_string(),
            };
            (class, text)
        }
        Error::Http(h) if h.is_incomplete_message() => (
            "http.client.RemoteDisconnected",
            "Remote end closed connection without response".to_owned(),
        ),
        Error::Http(h) => ("http.client.HTTPException", h.to_string()),
        Error::Decode(d) => ("xml.parsers.expat.ExpatError", d.to_string()),
        // What Python raises reading a record that lacks a key or has the
        // wrong type.
        Error::Record(RecordError::Missing { field, .. }) => ("KeyError", format!("'{field}'")),
        Error::Record(other) => ("TypeError", other.to_string()),
        Error::BadUrl(url) => (
            "ValueError",
            format!("Unknown protocol for serverurl {url}"),
        ),
        Error::Timeout => ("TimeoutError", "timed out".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sv_client::Fault;

    fn fault(code: FaultCode, string: &str) -> Error {
        Error::Fault(Fault {
            code: code.into(),
            string: string.into(),
        })
    }

    fn io(errno: i32) -> Error {
        Error::Io(std::io::Error::from_raw_os_error(errno))
    }

    #[test]
    fn one_fault_many_wordings() {
        let shutting = fault(FaultCode::ShutdownState, "SHUTDOWN_STATE");
        let words = |call| reply(call, &shutting);
        assert_eq!(
            words(Call::Avail),
            Some(Reply::failed("ERROR: supervisor shutting down"))
        );
        assert_eq!(
            words(Call::Update),
            Some(Reply::failed("ERROR: already shutting down"))
        );
        assert_eq!(
            words(Call::Shutdown { url: "u" }),
            Some(Reply::new("ERROR: already shutting down", None))
        );
        assert_eq!(
            words(Call::Add { name: "g" }),
            Some(Reply::failed("ERROR: shutting down"))
        );
        assert_eq!(words(Call::Pid { name: "x" }), None);
        assert_eq!(words(Call::Upcheck { url: "u" }), None);
    }

    #[test]
    fn socket_errors_only_where_supervisorctl_words_them() {
        let url = "unix:///tmp/x.sock";
        assert_eq!(
            reply(Call::Upcheck { url }, &io(libc::ECONNREFUSED)),
            Some(Reply::new(
                format!("{url} refused connection"),
                Some(exit::INSUFFICIENT_PRIVILEGES)
            ))
        );
        assert_eq!(
            reply(Call::Upcheck { url }, &io(libc::ENOENT)),
            Some(Reply::new(
                format!("{url} no such file"),
                Some(exit::NOT_RUNNING)
            ))
        );
        assert_eq!(
            reply(Call::Shutdown { url }, &io(libc::ENOENT)),
            Some(Reply::failed(format!(
                "ERROR: {url} no such file (already shut down?)"
            )))
        );
        assert_eq!(reply(Call::Upcheck { url }, &io(libc::EACCES)), None);
        assert_eq!(reply(Call::Avail, &io(libc::ECONNREFUSED)), None);
    }

    #[test]
    fn group_bad_name_exit_depends_on_the_verb() {
        let bad = fault(FaultCode::BadName, "BAD_NAME: g");
        let start = reply(
            Call::Group {
                verb: Verb::Start,
                group: "g",
            },
            &bad,
        );
        assert_eq!(
            start,
            Some(Reply::new(
                "g: ERROR (no such group)",
                Some(exit::INVALID_ARGS)
            ))
        );
        let stop = reply(
            Call::Group {
                verb: Verb::Stop,
                group: "g",
            },
            &bad,
        );
        assert_eq!(stop, Some(Reply::failed("g: ERROR (no such group)")));
    }

    #[test]
    fn result_lines_and_exit_statuses() {
        let r = |verb, code: FaultCode| {
            result_reply(verb, "g", Some("p"), code.into(), "desc").map_err(|e| e.to_string())
        };
        assert_eq!(
            r(Verb::Start, FaultCode::Success),
            Ok(Reply::new("g:p: started", None))
        );
        assert_eq!(
            r(Verb::Start, FaultCode::AlreadyStarted),
            Ok(Reply::new("g:p: ERROR (already started)", None))
        );
        assert_eq!(
            r(Verb::Start, FaultCode::SpawnError),
            Ok(Reply::new(
                "g:p: ERROR (spawn error)",
                Some(exit::NOT_RUNNING)
            ))
        );
        assert_eq!(
            r(Verb::Stop, FaultCode::NotRunning),
            Ok(Reply::new("g:p: ERROR (not running)", None))
        );
        assert_eq!(
            r(Verb::Signal, FaultCode::NotRunning),
            Ok(Reply::new(
                "g:p: ERROR (not running)",
                Some(exit::NOT_RUNNING)
            ))
        );
        assert_eq!(
            r(Verb::Stop, FaultCode::Failed),
            Ok(Reply::new("desc", Some(exit::GENERIC)))
        );
        assert_eq!(
            r(Verb::Clear, FaultCode::NoFile),
            Err("Unknown result code 20 for g:p".to_owned())
        );
        let whole_group = result_reply(
            Verb::Clear,
            "g",
            None,
            FaultCode::BadName.into(),
            "BAD_NAME: g:*",
        );
        assert_eq!(
            whole_group.map_err(|e| e.to_string()),
            Ok(Reply::failed("g:None: ERROR (no such process)"))
        );
    }

    #[test]
    fn python_exceptions() {
        let f = Failure::from(fault(FaultCode::BadName, "BAD_NAME: x"));
        assert_eq!(
            f.python_exception(),
            (
                "xmlrpc.client.Fault".to_owned(),
                "<Fault 10: 'BAD_NAME: x'>".to_owned()
            )
        );
        let (class, text) = Failure::from(io(libc::ECONNREFUSED)).python_exception();
        assert_eq!(class, "ConnectionRefusedError");
        assert_eq!(text, "[Errno 111] Connection refused");
        let unauthorized = Failure::from(Error::Status {
            status: 401,
            reason: "Unauthorized".into(),
        });
        assert!(unauthorized.is_unauthorized());
        assert_eq!(
            unauthorized.python_exception().1,
            "<ProtocolError for 127.0.0.1/RPC2: 401 Unauthorized>"
        );
        let missing = Failure::from(Error::Record(RecordError::Missing {
            record: "ProcessInfo",
            field: "pid",
        }));
        assert_eq!(
            missing.python_exception(),
            ("KeyError".to_owned(), "'pid'".to_owned())
        );
    }
}
