//! The commands (spec §5.4): one method per command, each printing what
//! Supervisor 4.3.0's supervisorctl prints and setting the same exit status
//! ("last writer wins", §5.3). Also the one mapping from client errors to
//! messages: the upcheck messages and the generic `error: <class …>` line.

use std::io::Write;

use sv_api::{make_namespec, split_namespec};
use sv_client::{Client, Error};
use sv_xmlrpc::Value;

use crate::help;
use crate::options::Options;
use crate::output::Out;

// Fault codes supervisorctl switches on (spec §4.3).
const UNKNOWN_METHOD: i32 = 1;
const SHUTDOWN_STATE: i32 = 6;
const BAD_NAME: i32 = 10;
const BAD_SIGNAL: i32 = 11;
const NO_FILE: i32 = 20;
const NOT_EXECUTABLE: i32 = 21;
const FAILED: i32 = 30;
const ABNORMAL_TERMINATION: i32 = 40;
const SPAWN_ERROR: i32 = 50;
const ALREADY_STARTED: i32 = 60;
const NOT_RUNNING: i32 = 70;
const SUCCESS: i32 = 80;
const ALREADY_ADDED: i32 = 90;
const STILL_RUNNING: i32 = 91;
const CANT_REREAD: i32 = 92;

// Exit statuses (spec §5.3).
const GENERIC: i32 = 1;
const INVALID_ARGS: i32 = 2;
const UNIMPLEMENTED_FEATURE: i32 = 3;
const INSUFFICIENT_PRIVILEGES: i32 = 4;
const NOT_INSTALLED: i32 = 5;
const EXIT_NOT_RUNNING: i32 = 7;
const STATUS_NOT_RUNNING: i32 = 3;
const STATUS_UNKNOWN: i32 = 4;

const ECONNREFUSED: i32 = 111;
const ENOENT: i32 = 2;

/// A failure that ends a command with the generic error line (exit 1):
/// what Python's supervisorctl shows for an exception it does not handle.
#[derive(Debug)]
pub struct Unhandled {
    /// The Python exception class the reference would name.
    pub class: String,
    /// The exception's text.
    pub text: String,
}

impl From<Error> for Unhandled {
    fn from(e: Error) -> Self {
        unhandled(&e)
    }
}

/// Python's view of a client error: class and message.
pub fn unhandled(e: &Error) -> Unhandled {
    let (class, text) = match e {
        Error::Fault(f) => (
            "xmlrpc.client.Fault".to_string(),
            format!(
                "<Fault {}: {}>",
                f.code,
                sv_api::py_repr(&Value::String(f.string.clone()))
            ),
        ),
        Error::Status { status, reason } => (
            "xmlrpc.client.ProtocolError".to_string(),
            format!("<ProtocolError for 127.0.0.1/RPC2: {status} {reason}>"),
        ),
        Error::Io(io) => {
            let errno = io.raw_os_error();
            let class = match errno {
                Some(111) => "ConnectionRefusedError",
                Some(2) => "FileNotFoundError",
                Some(13) | Some(1) => "PermissionError",
                Some(104) => "ConnectionResetError",
                Some(32) => "BrokenPipeError",
                Some(110) => "TimeoutError",
                _ => "OSError",
            };
            let text = match errno {
                Some(n) => {
                    let s = io.to_string();
                    let msg = s
                        .strip_suffix(&format!(" (os error {n})"))
                        .unwrap_or(&s)
                        .to_string();
                    format!("[Errno {n}] {msg}")
                }
                None => io.to_string(),
            };
            (class.to_string(), text)
        }
        Error::Http(h) if h.is_incomplete_message() => (
            "http.client.RemoteDisconnected".to_string(),
            "Remote end closed connection without response".to_string(),
        ),
        Error::Http(h) => ("http.client.HTTPException".to_string(), h.to_string()),
        Error::Decode(d) => ("xml.parsers.expat.ExpatError".to_string(), d.to_string()),
        Error::BadUrl(url) => (
            "ValueError".to_string(),
            format!("Unknown protocol for serverurl {url}"),
        ),
        Error::Timeout => ("TimeoutError".to_string(), "timed out".to_string()),
    };
    Unhandled { class, text }
}

type Res = Result<(), Unhandled>;

/// One supervisorctl session: options, connection and exit status.
/// How start, stop and clear map names onto XML-RPC methods.
#[derive(Clone, Copy)]
struct PerNameVerb {
    kind: &'static str,
    all_method: &'static str,
    /// The group method and the exit status for an unknown group.
    group_method: Option<(&'static str, i32)>,
    single_method: &'static str,
    /// The fault code that is not an error (already started, not running).
    ignored: Option<i32>,
    done: &'static str,
}

pub struct Controller {
    pub options: Options,
    pub exitstatus: i32,
    pub out: Out,
}

fn field_str<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn field_int(v: &Value, key: &str) -> i64 {
    match v.get(key) {
        Some(Value::Int(n)) => i64::from(*n),
        Some(Value::I8(n)) => *n,
        Some(Value::Bool(b)) => i64::from(*b),
        _ => 0,
    }
}

fn items(v: &Value) -> &[Value] {
    v.as_array().unwrap_or(&[])
}

fn fault_code(e: &Error) -> Option<i32> {
    e.fault().map(|f| f.code)
}

/// Python's `int()` on a command argument.
fn py_int(s: &str) -> Option<i64> {
    sv_core::config::datatypes::py_int(s)
}

impl Controller {
    pub fn new(options: Options, out: Out) -> Controller {
        Controller {
            options,
            exitstatus: 0,
            out,
        }
    }

    fn client(&self) -> Result<Client, Error> {
        Client::new(
            &self.options.serverurl,
            self.options.username.as_deref(),
            self.options.password.as_deref(),
        )
    }

    async fn call(&self, method: &str, params: Vec<Value>) -> Result<Value, Error> {
        self.client()?.call(method, params).await
    }

    fn output(&mut self, line: &str) {
        self.out.line(line);
    }

    /// An error line; the command then exits with Supervisor's generic
    /// failure status.
    fn fail(&mut self, line: &str) {
        self.output(line);
        self.exitstatus = GENERIC;
    }

    fn help(&mut self, command: &str) {
        if let Some(lines) = help::text(command) {
            for l in lines {
                self.out.line(l);
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
        let result = match cmd.as_str() {
            "EOF" | "quit" | "exit" => {
                self.output("");
                return true;
            }
            "help" => {
                self.do_help(&arg);
                Ok(())
            }
            "status" => self.do_status(&arg).await,
            "start" => self.do_start(&arg).await,
            "stop" => self.do_stop(&arg).await,
            "restart" => self.do_restart(&arg).await,
            "signal" => self.do_signal(&arg).await,
            "pid" => self.do_pid(&arg).await,
            "tail" => self.do_tail(&arg).await,
            "maintail" => self.do_maintail(&arg).await,
            "clear" => self.do_clear(&arg).await,
            "avail" => self.do_avail(&arg).await,
            "reread" => self.do_reread(&arg).await,
            "update" => self.do_update(&arg).await,
            "add" => self.do_add(&arg).await,
            "remove" => self.do_remove(&arg).await,
            "shutdown" => self.do_shutdown(&arg).await,
            "reload" => self.do_reload(&arg).await,
            "version" => self.do_version(&arg).await,
            "open" => self.do_open(&arg).await,
            "fg" => crate::fg::do_fg(self, &arg).await,
            _ => {
                self.fail(&format!("*** Unknown syntax: {line}"));
                return false;
            }
        };
        if let Err(u) = result {
            if u.class == "xmlrpc.client.ProtocolError" && u.text.contains(": 401 ") {
                // Supervisor then calls the command again and prints the
                // second 401 as a generic error line (spec §9 item 9);
                // one clear line is enough.
                if self.options.interactive && crate::shell::stdin_is_tty() {
                    self.output("Server requires authentication");
                    if let Some((user, pass)) = crate::shell::ask_credentials() {
                        self.output("");
                        self.options.username = Some(user);
                        self.options.password = Some(pass);
                        return Box::pin(self.onecmd(line)).await;
                    }
                } else {
                    self.output("Server requires authentication");
                }
                self.exitstatus = GENERIC;
                return false;
            }
            self.fail(&format!(
                "error: <class '{}'>, {}: file: {} line: {}",
                u.class,
                u.text,
                file!(),
                line!()
            ));
        }
        false
    }

    fn do_help(&mut self, arg: &str) {
        let arg = arg.trim();
        if arg.is_empty() {
            self.out.raw(help::TOPICS.as_bytes());
            return;
        }
        let topic = arg.split_whitespace().next().unwrap_or(arg);
        match help::text(topic) {
            Some(_) => self.help(topic),
            None => self.output(&format!("*** No help on {arg}")),
        }
    }

    /// The connection check (spec §5.2). `Ok(false)`: a message was
    /// printed and the exit status set.
    pub async fn upcheck(&mut self) -> Result<bool, Unhandled> {
        match self.call("supervisor.getVersion", vec![]).await {
            Ok(v) => {
                let api = match &v {
                    Value::String(s) => s.clone(),
                    other => sv_api::py_str(other),
                };
                if api != "3.0" {
                    self.output(&format!("Sorry, this version of supervisorctl expects to talk to a server with API version 3.0, but the remote version is {api}."));
                    self.exitstatus = NOT_INSTALLED;
                    return Ok(false);
                }
                Ok(true)
            }
            Err(e) if fault_code(&e) == Some(UNKNOWN_METHOD) => {
                self.output("Sorry, supervisord responded but did not recognize the supervisor namespace commands that supervisorctl uses to control it.  Please check that the [rpcinterface:supervisor] section is enabled in the configuration file (see sample.conf).");
                self.exitstatus = UNIMPLEMENTED_FEATURE;
                Ok(false)
            }
            Err(e) if e.errno() == Some(ECONNREFUSED) => {
                let url = self.options.serverurl.clone();
                self.output(&format!("{url} refused connection"));
                self.exitstatus = INSUFFICIENT_PRIVILEGES;
                Ok(false)
            }
            Err(e) if e.errno() == Some(ENOENT) => {
                let url = self.options.serverurl.clone();
                self.output(&format!("{url} no such file"));
                self.exitstatus = EXIT_NOT_RUNNING;
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }

    fn set_exit_from_fault(&mut self, code: i32, ignored: Option<i32>) {
        if Some(code) == ignored || code == SUCCESS {
        } else if matches!(code, SPAWN_ERROR | ABNORMAL_TERMINATION | NOT_RUNNING) {
            self.exitstatus = EXIT_NOT_RUNNING;
        } else {
            self.exitstatus = GENERIC;
        }
    }

    async fn do_status(&mut self, arg: &str) -> Res {
        if !self.upcheck().await? {
            self.exitstatus = STATUS_UNKNOWN;
            return Ok(());
        }
        let all = self.call("supervisor.getAllProcessInfo", vec![]).await?;
        let all = items(&all);
        let names: Vec<&str> = arg.split_whitespace().collect();
        let mut matching: Vec<&Value> = Vec::new();
        if names.is_empty() || names.contains(&"all") {
            matching.extend(all.iter());
        } else {
            for name in names {
                let (group, process) = split_namespec(name);
                let mut bad = true;
                for info in all {
                    let mut matched = field_str(info, "group") == group;
                    if let Some(p) = &process {
                        matched = matched && field_str(info, "name") == p;
                    }
                    if matched {
                        bad = false;
                        matching.push(info);
                    }
                }
                if bad {
                    let msg = match process {
                        None => format!("{group}: ERROR (no such group)"),
                        Some(_) => format!("{name}: ERROR (no such process)"),
                    };
                    self.output(&msg);
                    self.exitstatus = STATUS_UNKNOWN;
                }
            }
        }
        self.show_statuses(&matching);
        for info in matching {
            // STOPPED, EXITED, FATAL, UNKNOWN.
            if matches!(field_int(info, "state"), 0 | 100 | 200 | 1000) {
                self.exitstatus = STATUS_NOT_RUNNING;
            }
        }
        Ok(())
    }

    fn show_statuses(&mut self, infos: &[&Value]) {
        let namespecs: Vec<String> = infos
            .iter()
            .map(|i| make_namespec(field_str(i, "group"), field_str(i, "name")))
            .collect();
        let width = namespecs
            .iter()
            .map(|n| n.chars().count())
            .max()
            .unwrap_or(0)
            .max(30)
            + 3;
        let colour = self.out.colour();
        let mut buf = String::with_capacity(infos.len() * 80);
        for (info, ns) in infos.iter().zip(&namespecs) {
            let state = field_str(info, "statename");
            let desc = field_str(info, "description");
            buf.push_str(ns);
            for _ in ns.chars().count()..width {
                buf.push(' ');
            }
            let padded = format!("{state:<10}");
            if colour {
                let code = match state {
                    "RUNNING" => "32",
                    "STARTING" | "STOPPING" | "BACKOFF" => "33",
                    "FATAL" | "UNKNOWN" => "31",
                    _ => "",
                };
                if code.is_empty() {
                    buf.push_str(&padded);
                } else {
                    buf.push_str(&format!("\x1b[{code}m{state}\x1b[0m"));
                    for _ in state.chars().count()..10 {
                        buf.push(' ');
                    }
                }
            } else {
                buf.push_str(&padded);
            }
            buf.push_str(desc);
            buf.push('\n');
        }
        self.out.raw(buf.as_bytes());
    }

    fn result_line(&self, kind: &str, result: &Value) -> Result<String, Unhandled> {
        let name = make_namespec(field_str(result, "group"), field_str(result, "name"));
        let code = field_int(result, "status") as i32;
        let err = |what: &str| Ok(format!("{name}: ERROR ({what})"));
        match (kind, code) {
            (_, BAD_NAME) => err("no such process"),
            ("start", NO_FILE) => err("no such file"),
            ("start", NOT_EXECUTABLE) => err("file is not executable"),
            ("start", ALREADY_STARTED) => err("already started"),
            ("start", SPAWN_ERROR) => err("spawn error"),
            ("start", ABNORMAL_TERMINATION) => err("abnormal termination"),
            ("start", SUCCESS) => Ok(format!("{name}: started")),
            ("stop" | "signal", NOT_RUNNING) => err("not running"),
            ("stop", SUCCESS) => Ok(format!("{name}: stopped")),
            ("stop" | "signal", FAILED) => Ok(field_str(result, "description").to_string()),
            ("signal", BAD_SIGNAL) => err("bad signal name"),
            ("signal", SUCCESS) => Ok(format!("{name}: signalled")),
            ("clear", FAILED) => err("failed"),
            ("clear", SUCCESS) => Ok(format!("{name}: cleared")),
            _ => Err(Unhandled {
                class: "ValueError".into(),
                text: format!("Unknown result code {code} for {name}"),
            }),
        }
    }

    fn print_results(&mut self, kind: &str, results: &Value, ignored: Option<i32>) -> Res {
        for r in items(results) {
            let line = self.result_line(kind, r)?;
            self.output(&line);
            self.set_exit_from_fault(field_int(r, "status") as i32, ignored);
        }
        Ok(())
    }

    fn fault_result(e: &Error, group: &str, process: Option<&str>) -> Value {
        let f = e.fault();
        Value::Struct(vec![
            ("status".into(), Value::Int(f.map(|f| f.code).unwrap_or(0))),
            ("name".into(), Value::from(process.unwrap_or("None"))),
            ("group".into(), Value::from(group)),
            (
                "description".into(),
                Value::from(f.map(|f| f.string.clone()).unwrap_or_default()),
            ),
        ])
    }

    /// start/stop/clear over names: `all`, `group:*`, single names.
    async fn per_name(&mut self, arg: &str, verb: &PerNameVerb) -> Res {
        let PerNameVerb {
            kind,
            all_method,
            group_method,
            single_method,
            ignored,
            done,
        } = *verb;
        let names: Vec<String> = arg.split_whitespace().map(str::to_string).collect();
        if names.iter().any(|n| n == "all") {
            let results = self.call(all_method, vec![]).await?;
            return self.print_results(kind, &results, ignored);
        }
        for name in names {
            let (group, process) = split_namespec(&name);
            match (&process, group_method) {
                (None, Some((method, bad_group_exit))) => {
                    match self.call(method, vec![Value::from(group.as_str())]).await {
                        Ok(results) => self.print_results(kind, &results, ignored)?,
                        Err(e) if fault_code(&e) == Some(BAD_NAME) => {
                            self.output(&format!("{group}: ERROR (no such group)"));
                            self.exitstatus = bad_group_exit;
                        }
                        Err(e) => {
                            self.exitstatus = GENERIC;
                            return Err(e.into());
                        }
                    }
                }
                _ => match self
                    .call(single_method, vec![Value::from(name.as_str())])
                    .await
                {
                    Ok(_) => {
                        let ns = make_namespec(&group, process.as_deref().unwrap_or("None"));
                        self.output(&format!("{ns}: {done}"));
                    }
                    Err(e) if e.fault().is_some() => {
                        let r = Self::fault_result(&e, &group, process.as_deref());
                        let line = self.result_line(kind, &r)?;
                        self.output(&line);
                        self.set_exit_from_fault(field_int(&r, "status") as i32, ignored);
                    }
                    Err(e) => return Err(e.into()),
                },
            }
        }
        Ok(())
    }

    async fn do_start(&mut self, arg: &str) -> Res {
        if !self.upcheck().await? {
            return Ok(());
        }
        if arg.split_whitespace().next().is_none() {
            self.output("Error: start requires a process name");
            self.exitstatus = INVALID_ARGS;
            self.help("start");
            return Ok(());
        }
        self.per_name(
            arg,
            &PerNameVerb {
                kind: "start",
                all_method: "supervisor.startAllProcesses",
                group_method: Some(("supervisor.startProcessGroup", INVALID_ARGS)),
                single_method: "supervisor.startProcess",
                ignored: Some(ALREADY_STARTED),
                done: "started",
            },
        )
        .await
    }

    async fn do_stop(&mut self, arg: &str) -> Res {
        if !self.upcheck().await? {
            return Ok(());
        }
        if arg.split_whitespace().next().is_none() {
            self.fail("Error: stop requires a process name");
            self.help("stop");
            return Ok(());
        }
        self.per_name(
            arg,
            &PerNameVerb {
                kind: "stop",
                all_method: "supervisor.stopAllProcesses",
                group_method: Some(("supervisor.stopProcessGroup", GENERIC)),
                single_method: "supervisor.stopProcess",
                ignored: Some(NOT_RUNNING),
                done: "stopped",
            },
        )
        .await
    }

    async fn do_restart(&mut self, arg: &str) -> Res {
        if arg.split_whitespace().next().is_none() {
            self.fail("Error: restart requires a process name");
            self.help("restart");
            return Ok(());
        }
        self.do_stop(arg).await?;
        self.do_start(arg).await
    }

    async fn do_clear(&mut self, arg: &str) -> Res {
        if !self.upcheck().await? {
            return Ok(());
        }
        if arg.split_whitespace().next().is_none() {
            self.fail("Error: clear requires a process name");
            self.help("clear");
            return Ok(());
        }
        self.per_name(
            arg,
            &PerNameVerb {
                kind: "clear",
                all_method: "supervisor.clearAllProcessLogs",
                group_method: None,
                single_method: "supervisor.clearProcessLogs",
                ignored: None,
                done: "cleared",
            },
        )
        .await
    }

    async fn do_signal(&mut self, arg: &str) -> Res {
        if !self.upcheck().await? {
            return Ok(());
        }
        let args: Vec<&str> = arg.split_whitespace().collect();
        if args.len() < 2 {
            self.output("Error: signal requires a signal name and a process name");
            self.help("signal");
            self.exitstatus = GENERIC;
            return Ok(());
        }
        let sig = args[0];
        let names = &args[1..];
        if names.contains(&"all") {
            let results = self
                .call("supervisor.signalAllProcesses", vec![Value::from(sig)])
                .await?;
            return self.print_results("signal", &results, None);
        }
        for &name in names {
            let (group, process) = split_namespec(name);
            if process.is_none() {
                match self
                    .call(
                        "supervisor.signalProcessGroup",
                        vec![Value::from(group.as_str()), Value::from(sig)],
                    )
                    .await
                {
                    Ok(results) => self.print_results("signal", &results, None)?,
                    Err(e) if fault_code(&e) == Some(BAD_NAME) => {
                        self.fail(&format!("{group}: ERROR (no such group)"));
                    }
                    Err(e) => return Err(e.into()),
                }
            } else {
                match self
                    .call(
                        "supervisor.signalProcess",
                        vec![Value::from(name), Value::from(sig)],
                    )
                    .await
                {
                    Ok(_) => self.output(&format!("{name}: signalled")),
                    Err(e) if e.fault().is_some() => {
                        let r = Self::fault_result(&e, &group, process.as_deref());
                        let line = self.result_line("signal", &r)?;
                        self.output(&line);
                        self.set_exit_from_fault(field_int(&r, "status") as i32, None);
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(())
    }

    async fn do_pid(&mut self, arg: &str) -> Res {
        if !self.upcheck().await? {
            return Ok(());
        }
        let names: Vec<&str> = arg.split_whitespace().collect();
        if names.is_empty() {
            let pid = self.call("supervisor.getPID", vec![]).await?;
            self.output(&sv_api::py_str(&pid));
        } else if names.contains(&"all") {
            let all = self.call("supervisor.getAllProcessInfo", vec![]).await?;
            for info in items(&all) {
                self.output(&field_int(info, "pid").to_string());
            }
        } else {
            for name in names {
                match self
                    .call("supervisor.getProcessInfo", vec![Value::from(name)])
                    .await
                {
                    Ok(info) => {
                        let pid = field_int(&info, "pid");
                        self.output(&pid.to_string());
                        if pid == 0 {
                            self.exitstatus = EXIT_NOT_RUNNING;
                        }
                    }
                    Err(e) if fault_code(&e) == Some(BAD_NAME) => {
                        self.fail(&format!("No such process {name}"));
                    }
                    Err(e) => {
                        self.exitstatus = GENERIC;
                        return Err(e.into());
                    }
                }
            }
        }
        Ok(())
    }

    async fn do_tail(&mut self, arg: &str) -> Res {
        if !self.upcheck().await? {
            return Ok(());
        }
        let mut args: Vec<&str> = arg.split_whitespace().collect();
        if args.is_empty() {
            self.fail("Error: too few arguments");
            self.help("tail");
            return Ok(());
        }
        if args.len() > 3 {
            self.fail("Error: too many arguments");
            self.help("tail");
            return Ok(());
        }
        let modifier = if args[0].starts_with('-') {
            Some(args.remove(0))
        } else {
            None
        };
        let (name, channel) = match args.as_slice() {
            [name] => (name.to_string(), "stdout".to_string()),
            [name, .., last] => {
                let channel = last.to_lowercase();
                if channel != "stderr" && channel != "stdout" {
                    self.fail(&format!(
                        "Error: bad channel {}",
                        sv_api::py_repr(&Value::String(channel))
                    ));
                    return Ok(());
                }
                (name.to_string(), channel)
            }
            [] => {
                self.fail("Error: tail requires process name");
                return Ok(());
            }
        };
        let mut bytes = Some(1600i64);
        if let Some(m) = modifier {
            let what = &m[1..];
            if what == "f" {
                bytes = None;
            } else {
                match py_int(what) {
                    Some(n) => bytes = Some(n),
                    None => {
                        self.fail(&format!("Error: bad argument {m}"));
                        return Ok(());
                    }
                }
            }
        }
        let Some(bytes) = bytes else {
            return crate::tailf::tailf(self, &format!("/logtail/{name}/{channel}")).await;
        };
        let method = if channel == "stdout" {
            "supervisor.readProcessStdoutLog"
        } else {
            "supervisor.readProcessStderrLog"
        };
        let offset = i32::try_from(-bytes).unwrap_or(i32::MIN);
        match self
            .call(
                method,
                vec![
                    Value::from(name.as_str()),
                    Value::Int(offset),
                    Value::Int(0),
                ],
            )
            .await
        {
            Ok(text) => self.output(&sv_api::py_str(&text)),
            Err(e) => {
                let what = match fault_code(&e) {
                    Some(NO_FILE) => "no log file",
                    Some(FAILED) => "unknown error reading log",
                    Some(BAD_NAME) => "no such process name",
                    _ => return Err(e.into()),
                };
                self.fail(&format!("{name}: ERROR ({what})"));
            }
        }
        Ok(())
    }

    async fn do_maintail(&mut self, arg: &str) -> Res {
        if !self.upcheck().await? {
            return Ok(());
        }
        let args: Vec<&str> = arg.split_whitespace().collect();
        let bytes = match args.as_slice() {
            [] => 1600,
            [a] => {
                let Some(what) = a.strip_prefix('-') else {
                    self.fail(&format!("Error: bad argument {a}"));
                    return Ok(());
                };
                if what == "f" {
                    return crate::tailf::tailf(self, "/mainlogtail").await;
                }
                match py_int(what) {
                    Some(n) => n,
                    None => {
                        self.fail(&format!("Error: bad argument {a}"));
                        return Ok(());
                    }
                }
            }
            _ => {
                self.fail("Error: too many arguments");
                self.help("maintail");
                return Ok(());
            }
        };
        let offset = i32::try_from(-bytes).unwrap_or(i32::MIN);
        match self
            .call(
                "supervisor.readLog",
                vec![Value::Int(offset), Value::Int(0)],
            )
            .await
        {
            Ok(text) => self.output(&sv_api::py_str(&text)),
            Err(e) => {
                let what = match fault_code(&e) {
                    Some(NO_FILE) => "no log file",
                    Some(FAILED) => "unknown error reading log",
                    _ => return Err(e.into()),
                };
                self.fail(&format!("supervisord: ERROR ({what})"));
            }
        }
        Ok(())
    }

    fn no_args(&mut self, command: &str, arg: &str) -> bool {
        if arg.trim().is_empty() {
            return true;
        }
        self.fail(&format!("Error: {command} accepts no arguments"));
        self.help(command);
        false
    }

    async fn do_avail(&mut self, arg: &str) -> Res {
        if !self.no_args("avail", arg) {
            return Ok(());
        }
        let infos = match self.call("supervisor.getAllConfigInfo", vec![]).await {
            Ok(v) => v,
            Err(e) if fault_code(&e) == Some(SHUTDOWN_STATE) => {
                self.fail("ERROR: supervisor shutting down");
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        for c in items(&infos) {
            let name = make_namespec(field_str(c, "group"), field_str(c, "name"));
            let inuse = if field_int(c, "inuse") != 0 {
                "in use"
            } else {
                "avail"
            };
            let auto = if field_int(c, "autostart") != 0 {
                "auto"
            } else {
                "manual"
            };
            let prio = format!(
                "{}:{}",
                field_int(c, "group_prio"),
                field_int(c, "process_prio")
            );
            self.output(&format!("{name:<32} {inuse:<9} {auto:<9} {prio}"));
        }
        Ok(())
    }

    fn changes(v: &Value) -> (Vec<String>, Vec<String>, Vec<String>) {
        let first = items(v).first().cloned().unwrap_or(Value::Nil);
        let list = |i: usize| -> Vec<String> {
            items(&first)
                .get(i)
                .map(|l| items(l).iter().map(sv_api::py_str).collect())
                .unwrap_or_default()
        };
        (list(0), list(1), list(2))
    }

    async fn do_reread(&mut self, arg: &str) -> Res {
        if !self.no_args("reread", arg) {
            return Ok(());
        }
        match self.call("supervisor.reloadConfig", vec![]).await {
            Ok(v) => {
                let (added, changed, dropped) = Self::changes(&v);
                let mut all: std::collections::BTreeMap<String, &str> = Default::default();
                for (names, what) in [
                    (added, "available"),
                    (changed, "changed"),
                    (dropped, "disappeared"),
                ] {
                    for n in names {
                        all.insert(n, what);
                    }
                }
                if all.is_empty() {
                    self.output("No config updates to processes");
                }
                for (n, what) in all {
                    self.output(&format!("{n}: {what}"));
                }
            }
            Err(e) if fault_code(&e) == Some(SHUTDOWN_STATE) => {
                self.fail("ERROR: supervisor shutting down");
            }
            Err(e) if fault_code(&e) == Some(CANT_REREAD) => {
                let s = e.fault().map(|f| f.string.clone()).unwrap_or_default();
                self.fail(&format!("ERROR: {s}"));
            }
            Err(e) => {
                self.exitstatus = GENERIC;
                return Err(e.into());
            }
        }
        Ok(())
    }

    async fn do_update(&mut self, arg: &str) -> Res {
        let v = match self.call("supervisor.reloadConfig", vec![]).await {
            Ok(v) => v,
            Err(e) if fault_code(&e) == Some(SHUTDOWN_STATE) => {
                self.fail("ERROR: already shutting down");
                return Ok(());
            }
            Err(e) => {
                self.exitstatus = GENERIC;
                return Err(e.into());
            }
        };
        let (mut added, mut changed, mut removed) = Self::changes(&v);
        let mut wanted: Vec<&str> = Vec::new();
        for n in arg.split_whitespace() {
            if !wanted.contains(&n) {
                wanted.push(n);
            }
        }
        if wanted.contains(&"all") {
            wanted.clear();
        }
        if !wanted.is_empty() {
            let all = self.call("supervisor.getAllProcessInfo", vec![]).await?;
            let mut groups: Vec<String> = items(&all)
                .iter()
                .map(|i| field_str(i, "group").to_string())
                .collect();
            groups.extend(added.iter().cloned());
            for g in &wanted {
                if !groups.iter().any(|x| x == g) {
                    self.fail(&format!("ERROR: no such group: {g}"));
                }
            }
            added.retain(|g| wanted.contains(&g.as_str()));
            changed.retain(|g| wanted.contains(&g.as_str()));
            removed.retain(|g| wanted.contains(&g.as_str()));
        }
        for g in removed {
            let results = self
                .call("supervisor.stopProcessGroup", vec![Value::from(g.as_str())])
                .await?;
            self.output(&format!("{g}: stopped"));
            if items(&results)
                .iter()
                .any(|r| field_int(r, "status") == i64::from(FAILED))
            {
                self.output(&format!("{g}: has problems; not removing"));
                self.exitstatus = GENERIC;
                continue;
            }
            self.call(
                "supervisor.removeProcessGroup",
                vec![Value::from(g.as_str())],
            )
            .await?;
            self.output(&format!("{g}: removed process group"));
        }
        for g in changed {
            self.call("supervisor.stopProcessGroup", vec![Value::from(g.as_str())])
                .await?;
            self.output(&format!("{g}: stopped"));
            self.call(
                "supervisor.removeProcessGroup",
                vec![Value::from(g.as_str())],
            )
            .await?;
            self.call("supervisor.addProcessGroup", vec![Value::from(g.as_str())])
                .await?;
            self.output(&format!("{g}: updated process group"));
        }
        for g in added {
            self.call("supervisor.addProcessGroup", vec![Value::from(g.as_str())])
                .await?;
            self.output(&format!("{g}: added process group"));
        }
        Ok(())
    }

    async fn do_add(&mut self, arg: &str) -> Res {
        for name in arg.split_whitespace() {
            match self
                .call("supervisor.addProcessGroup", vec![Value::from(name)])
                .await
            {
                Ok(_) => self.output(&format!("{name}: added process group")),
                Err(e) => match fault_code(&e) {
                    Some(SHUTDOWN_STATE) => {
                        self.output("ERROR: shutting down");
                        self.exitstatus = GENERIC;
                    }
                    Some(ALREADY_ADDED) => self.output("ERROR: process group already active"),
                    Some(BAD_NAME) => {
                        self.output(&format!("ERROR: no such process/group: {name}"));
                        self.exitstatus = GENERIC;
                    }
                    _ => {
                        self.exitstatus = GENERIC;
                        return Err(e.into());
                    }
                },
            }
        }
        Ok(())
    }

    async fn do_remove(&mut self, arg: &str) -> Res {
        for name in arg.split_whitespace() {
            match self
                .call("supervisor.removeProcessGroup", vec![Value::from(name)])
                .await
            {
                Ok(_) => self.output(&format!("{name}: removed process group")),
                Err(e) => match fault_code(&e) {
                    Some(STILL_RUNNING) => {
                        self.output(&format!("ERROR: process/group still running: {name}"));
                        self.exitstatus = GENERIC;
                    }
                    Some(BAD_NAME) => {
                        self.fail(&format!("ERROR: no such process/group: {name}"));
                    }
                    _ => {
                        self.exitstatus = GENERIC;
                        return Err(e.into());
                    }
                },
            }
        }
        Ok(())
    }

    fn really(&mut self, question: &str) -> bool {
        if !self.options.interactive {
            return true;
        }
        self.out.flush();
        let answer = crate::shell::ask(question);
        answer
            .map(|a| a.to_lowercase().starts_with('y'))
            .unwrap_or(false)
    }

    async fn do_shutdown(&mut self, arg: &str) -> Res {
        if !self.no_args("shutdown", arg) {
            return Ok(());
        }
        if !self.really("Really shut the remote supervisord process down y/N? ") {
            return Ok(());
        }
        match self.call("supervisor.shutdown", vec![]).await {
            Ok(_) => self.output("Shut down"),
            Err(e) if fault_code(&e) == Some(SHUTDOWN_STATE) => {
                self.output("ERROR: already shutting down");
            }
            Err(e) if e.errno() == Some(ECONNREFUSED) => {
                let url = self.options.serverurl.clone();
                self.fail(&format!(
                    "ERROR: {url} refused connection (already shut down?)"
                ));
            }
            Err(e) if e.errno() == Some(ENOENT) => {
                let url = self.options.serverurl.clone();
                self.fail(&format!("ERROR: {url} no such file (already shut down?)"));
            }
            Err(e) => {
                self.exitstatus = GENERIC;
                return Err(e.into());
            }
        }
        Ok(())
    }

    async fn do_reload(&mut self, arg: &str) -> Res {
        if !self.no_args("reload", arg) {
            return Ok(());
        }
        if !self.really("Really restart the remote supervisord process y/N? ") {
            return Ok(());
        }
        match self.call("supervisor.restart", vec![]).await {
            Ok(_) => self.output("Restarted supervisord"),
            Err(e) if fault_code(&e) == Some(SHUTDOWN_STATE) => {
                self.output("ERROR: already shutting down");
                self.exitstatus = GENERIC;
            }
            Err(e) => {
                self.exitstatus = GENERIC;
                return Err(e.into());
            }
        }
        Ok(())
    }

    async fn do_version(&mut self, arg: &str) -> Res {
        if !self.no_args("version", arg) {
            return Ok(());
        }
        if !self.upcheck().await? {
            return Ok(());
        }
        let v = self.call("supervisor.getSupervisorVersion", vec![]).await?;
        self.output(&sv_api::py_str(&v));
        Ok(())
    }

    async fn do_open(&mut self, arg: &str) -> Res {
        let url = arg.trim().to_string();
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
        if scheme != "unix" && scheme != "http" {
            self.fail("ERROR: url must be http:// or unix://");
            return Ok(());
        }
        self.options.serverurl = url;
        let old = self.exitstatus;
        let r = self.do_status("").await;
        self.exitstatus = old;
        r
    }

    /// Process and group names for shell completion.
    pub async fn names(&self) -> Vec<(String, String)> {
        match self.call("supervisor.getAllProcessInfo", vec![]).await {
            Ok(v) => items(&v)
                .iter()
                .map(|i| {
                    (
                        field_str(i, "group").to_string(),
                        field_str(i, "name").to_string(),
                    )
                })
                .collect(),
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
