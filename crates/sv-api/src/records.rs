//! The structs Supervisor's methods return (spec §4.5), built from plain
//! fields into `Value::Struct`s with exactly upstream's keys, key order and
//! value types (`to_value`), read back by clients (`from_value`, with a
//! [`RecordError`] naming the missing or mistyped field), plus the human
//! `description` of a process.
//!
//! Nothing here reads a clock or a time zone: callers pass `now` and a
//! local-time formatter, so the daemon owns time and tests stay pure.

use sv_xmlrpc::Value;

use crate::faults::{AnyFaultCode, RpcError};
use crate::states::{ProcessState, SupervisorState};

/// Clamp an integer into XML-RPC's signed 32-bit `<int>` range, as upstream
/// does for timestamps (hence its year-2038 limit) — the wire has no wider
/// integer type that Supervisor's clients accept.
pub fn capped_int(value: i64) -> i32 {
    // Lossless after the clamp.
    value.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
}

fn member(key: &str, value: Value) -> (String, Value) {
    (key.to_owned(), value)
}

fn int(value: i64) -> Value {
    Value::Int(capped_int(value))
}

/// One process's status (`getProcessInfo`, elements of `getAllProcessInfo`).
///
/// Fields hold raw values; [`to_value`](Self::to_value) applies the wire
/// rules (32-bit clamping, the `logfile` alias).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProcessInfo {
    /// The process name.
    pub name: String,
    /// The group it belongs to.
    pub group: String,
    /// Epoch seconds of the last start, 0 if never started.
    pub start: i64,
    /// Epoch seconds of the last stop/exit, 0 if never stopped.
    pub stop: i64,
    /// Current epoch seconds.
    pub now: i64,
    /// The state code ([`ProcessState::code`](crate::ProcessState::code)).
    pub state: i32,
    /// The state name (`RUNNING`, ...).
    pub statename: String,
    /// Last spawn error, `""` when none.
    pub spawnerr: String,
    /// Last exit status; -1 when killed by a signal; 0 when none.
    pub exitstatus: i32,
    /// Resolved path, `""` when there is no log.
    pub stdout_logfile: String,
    /// Resolved path, `""` when there is no log.
    pub stderr_logfile: String,
    /// 0 when not running.
    pub pid: u32,
    /// The text `supervisorctl status` shows (see [`describe`]).
    pub description: String,
}

impl ProcessInfo {
    /// Fill `description` from the other fields (see [`describe`]).
    pub fn with_description(mut self, local_time: &dyn Fn(i64) -> String) -> Self {
        self.description = describe(
            self.state,
            self.pid,
            self.now,
            self.start,
            self.stop,
            &self.spawnerr,
            &self.name,
            local_time,
        );
        self
    }

    /// The 14-key struct, in the order upstream's dict literal produces it.
    pub fn to_value(&self) -> Value {
        Value::Struct(vec![
            member("name", self.name.as_str().into()),
            member("group", self.group.as_str().into()),
            member("start", int(self.start)),
            member("stop", int(self.stop)),
            member("now", int(self.now)),
            member("state", Value::Int(self.state)),
            member("statename", self.statename.as_str().into()),
            member("spawnerr", self.spawnerr.as_str().into()),
            member("exitstatus", Value::Int(self.exitstatus)),
            // Kept for clients older than the stdout/stderr split.
            member("logfile", self.stdout_logfile.as_str().into()),
            member("stdout_logfile", self.stdout_logfile.as_str().into()),
            member("stderr_logfile", self.stderr_logfile.as_str().into()),
            member("pid", int(i64::from(self.pid))),
            member("description", self.description.as_str().into()),
        ])
    }
}

/// Format a whole number of seconds as Python's `str(timedelta)` does:
/// `H:MM:SS`, preceded by `N day, ` / `N days, ` when at least a day.
/// Negative inputs follow Python too (`-1 day, 23:59:59`), though
/// [`describe`] never passes one.
pub fn format_timedelta(seconds: i64) -> String {
    // Python normalises to days (floored) plus a non-negative remainder.
    let days = seconds.div_euclid(86_400);
    let rem = seconds.rem_euclid(86_400);
    let clock = format!("{}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60);
    if days == 0 {
        clock
    } else {
        let plural = if days.unsigned_abs() == 1 { "" } else { "s" };
        format!("{days} day{plural}, {clock}")
    }
}

/// The `description` field of a process info struct (spec §4.5).
///
/// * RUNNING: `pid <pid>, uptime <timedelta>` (uptime clamped at zero so a
///   clock set back does not show a negative duration);
/// * BACKOFF, FATAL: the spawn error, or a hint to tail the log;
/// * STOPPED, EXITED: `local_time(stop)` when the process was ever started
///   (the caller formats `%b %d %I:%M %p` in the daemon's time zone), else
///   `Not started`;
/// * anything else: empty.
///
/// Timestamps are clamped with [`capped_int`] first, because upstream
/// describes the already-clamped values it sends.
#[expect(
    clippy::too_many_arguments,
    reason = "mirrors the process info fields the description reads"
)]
pub fn describe(
    state_code: i32,
    pid: u32,
    now: i64,
    start: i64,
    stop: i64,
    spawnerr: &str,
    name: &str,
    local_time: &dyn Fn(i64) -> String,
) -> String {
    let start = i64::from(capped_int(start));
    match ProcessState::from_code(state_code) {
        Some(ProcessState::Running) => {
            let now = i64::from(capped_int(now));
            let uptime = (now - start).max(0);
            format!("pid {pid}, uptime {}", format_timedelta(uptime))
        }
        Some(ProcessState::Backoff | ProcessState::Fatal) => {
            if spawnerr.is_empty() {
                format!("unknown error (try \"tail {name}\")")
            } else {
                spawnerr.to_owned()
            }
        }
        Some(ProcessState::Stopped | ProcessState::Exited) => {
            if start != 0 {
                local_time(i64::from(capped_int(stop)))
            } else {
                "Not started".to_owned()
            }
        }
        _ => String::new(),
    }
}

/// The daemon's state as `getState` returns it: `{statecode, statename}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateInfo {
    /// The daemon state's code.
    pub statecode: i32,
    /// The daemon state's name.
    pub statename: String,
}

impl From<SupervisorState> for StateInfo {
    fn from(state: SupervisorState) -> Self {
        StateInfo {
            statecode: state.code(),
            statename: state.name().to_owned(),
        }
    }
}

impl StateInfo {
    /// The wire form.
    pub fn to_value(&self) -> Value {
        Value::Struct(vec![
            member("statecode", Value::Int(self.statecode)),
            member("statename", self.statename.as_str().into()),
        ])
    }
}

/// One process's outcome inside a group/all operation's result array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessResult {
    /// The process name.
    pub name: String,
    /// The group it belongs to.
    pub group: String,
    /// 80 (SUCCESS) or the fault code.
    pub status: i32,
    /// `OK` or the fault string.
    pub description: String,
}

impl ProcessResult {
    /// A success entry: status 80, description `OK`.
    pub fn ok(name: impl Into<String>, group: impl Into<String>) -> Self {
        ProcessResult {
            name: name.into(),
            group: group.into(),
            status: crate::faults::FaultCode::Success.code(),
            description: "OK".to_owned(),
        }
    }

    /// A failure entry carrying the fault's code and full fault string.
    pub fn from_error(name: impl Into<String>, group: impl Into<String>, err: &RpcError) -> Self {
        ProcessResult {
            name: name.into(),
            group: group.into(),
            status: err.code.code(),
            description: err.text(),
        }
    }

    /// `Ok` → success entry, `Err` → failure entry.
    pub fn from_outcome(
        name: impl Into<String>,
        group: impl Into<String>,
        outcome: &Result<(), RpcError>,
    ) -> Self {
        match outcome {
            Ok(()) => Self::ok(name, group),
            Err(err) => Self::from_error(name, group, err),
        }
    }

    /// The wire form.
    pub fn to_value(&self) -> Value {
        Value::Struct(vec![
            member("name", self.name.as_str().into()),
            member("group", self.group.as_str().into()),
            member("status", Value::Int(self.status)),
            member("description", self.description.as_str().into()),
        ])
    }
}

/// A configured child log file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum LogFile {
    /// A concrete path (AUTO already resolved to the temp file).
    Path(String),
    /// `AUTO` not yet resolved (a config re-read but not instantiated).
    #[default]
    Auto,
    /// `NONE`: no log.
    None,
}

impl LogFile {
    /// The wire form.
    pub fn to_value(&self) -> Value {
        match self {
            LogFile::Path(path) => Value::String(path.clone()),
            LogFile::Auto => Value::String("auto".to_owned()),
            LogFile::None => Value::String("none".to_owned()),
        }
    }
}

/// One process's configuration as `getAllConfigInfo` reports it. The daemon
/// fills the fields from its parsed config; [`to_value`](Self::to_value)
/// applies the wire mapping (`"none"` for unset options, 32-bit clamping).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfigInfo {
    /// The process name.
    pub name: String,
    /// The group it belongs to.
    pub group: String,
    /// Whether the group is currently active (added), not just configured.
    pub inuse: bool,
    /// `autostart`.
    pub autostart: bool,
    /// `directory`, if set.
    pub directory: Option<String>,
    /// The uid `user` resolves to, if set.
    pub uid: Option<u32>,
    /// `serverurl`, if set.
    pub serverurl: Option<String>,
    /// `command` as configured.
    pub command: String,
    /// `exitcodes`: the expected exit statuses.
    pub exitcodes: Vec<i64>,
    /// The group's `priority`.
    pub group_prio: i64,
    /// The program's `priority`.
    pub process_prio: i64,
    /// `killasgroup`.
    pub killasgroup: bool,
    /// `redirect_stderr`.
    pub redirect_stderr: bool,
    /// `startretries`.
    pub startretries: i64,
    /// `startsecs`.
    pub startsecs: i64,
    /// `stopwaitsecs`.
    pub stopwaitsecs: i64,
    /// Signal number.
    pub stopsignal: i32,
    /// `stdout_logfile`.
    pub stdout_logfile: LogFile,
    /// `stdout_logfile_backups`.
    pub stdout_logfile_backups: i64,
    /// `stdout_logfile_maxbytes`, in bytes.
    pub stdout_logfile_maxbytes: i64,
    /// `stdout_capture_maxbytes`, in bytes.
    pub stdout_capture_maxbytes: i64,
    /// `stdout_events_enabled`.
    pub stdout_events_enabled: bool,
    /// `stdout_syslog`.
    pub stdout_syslog: bool,
    /// `stderr_logfile`.
    pub stderr_logfile: LogFile,
    /// `stderr_logfile_backups`.
    pub stderr_logfile_backups: i64,
    /// `stderr_logfile_maxbytes`, in bytes.
    pub stderr_logfile_maxbytes: i64,
    /// `stderr_capture_maxbytes`, in bytes.
    pub stderr_capture_maxbytes: i64,
    /// `stderr_events_enabled`.
    pub stderr_events_enabled: bool,
    /// `stderr_syslog`.
    pub stderr_syslog: bool,
}

fn string_or_none(value: Option<&str>) -> Value {
    Value::String(value.unwrap_or("none").to_owned())
}

impl ConfigInfo {
    /// The struct in 4.3.0's key order. (Upstream's development branch adds
    /// an `autorestart` key; 4.3.0 clients see none, so neither do we.) Sizes beyond 2 GiB are
    /// clamped: upstream would fail to marshal them (HTTP 500).
    pub fn to_value(&self) -> Value {
        Value::Struct(vec![
            member("autostart", Value::Bool(self.autostart)),
            member("directory", string_or_none(self.directory.as_deref())),
            member(
                "uid",
                self.uid
                    .map_or_else(|| string_or_none(None), |uid| int(i64::from(uid))),
            ),
            member("command", self.command.as_str().into()),
            member(
                "exitcodes",
                Value::Array(self.exitcodes.iter().map(|&c| int(c)).collect()),
            ),
            member("group", self.group.as_str().into()),
            member("group_prio", int(self.group_prio)),
            member("inuse", Value::Bool(self.inuse)),
            member("killasgroup", Value::Bool(self.killasgroup)),
            member("name", self.name.as_str().into()),
            member("process_prio", int(self.process_prio)),
            member("redirect_stderr", Value::Bool(self.redirect_stderr)),
            member("startretries", int(self.startretries)),
            member("startsecs", int(self.startsecs)),
            member("stdout_capture_maxbytes", int(self.stdout_capture_maxbytes)),
            member(
                "stdout_events_enabled",
                Value::Bool(self.stdout_events_enabled),
            ),
            member("stdout_logfile", self.stdout_logfile.to_value()),
            member("stdout_logfile_backups", int(self.stdout_logfile_backups)),
            member("stdout_logfile_maxbytes", int(self.stdout_logfile_maxbytes)),
            member("stdout_syslog", Value::Bool(self.stdout_syslog)),
            member("stopsignal", Value::Int(self.stopsignal)),
            member("stopwaitsecs", int(self.stopwaitsecs)),
            member("stderr_capture_maxbytes", int(self.stderr_capture_maxbytes)),
            member(
                "stderr_events_enabled",
                Value::Bool(self.stderr_events_enabled),
            ),
            member("stderr_logfile", self.stderr_logfile.to_value()),
            member("stderr_logfile_backups", int(self.stderr_logfile_backups)),
            member("stderr_logfile_maxbytes", int(self.stderr_logfile_maxbytes)),
            member("stderr_syslog", Value::Bool(self.stderr_syslog)),
            member("serverurl", string_or_none(self.serverurl.as_deref())),
        ])
    }
}

/// The whole `getAllConfigInfo` result: entries sorted by process name.
/// The sort is stable, so equal names keep the caller's (config) order, as
/// Python's `list.sort` does.
pub fn config_info_array(mut infos: Vec<ConfigInfo>) -> Value {
    infos.sort_by(|a, b| a.name.cmp(&b.name));
    Value::Array(infos.iter().map(ConfigInfo::to_value).collect())
}

/// Why a received value is not the record it should be. Each variant names
/// the record and, where there is one, the field, so a client's message
/// points at what the server got wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// The value is not the struct (or array) the record is sent as.
    #[error("{record}: expected {expected}, got {got}")]
    WrongShape {
        /// The record being read.
        record: &'static str,
        /// What the record needs there.
        expected: &'static str,
        /// The XML-RPC type received.
        got: &'static str,
    },
    /// A field the record always carries is absent.
    #[error("{record}: missing field {field:?}")]
    Missing {
        /// The record being read.
        record: &'static str,
        /// The field at fault.
        field: &'static str,
    },
    /// A field is there but of another XML-RPC type (or out of range).
    #[error("{record}: field {field:?} should be {expected}, got {got}")]
    Mistyped {
        /// The record being read.
        record: &'static str,
        /// The field at fault.
        field: &'static str,
        /// What the record needs there.
        expected: &'static str,
        /// The XML-RPC type received.
        got: &'static str,
    },
}

/// Reads the members of one received record, naming the record in every
/// error. Integers are accepted as `<int>` or `<i8>` and flags as
/// `<boolean>` or an integer, because a Python peer does not tell them apart.
struct Fields<'a> {
    record: &'static str,
    value: &'a Value,
}

impl<'a> Fields<'a> {
    fn of(record: &'static str, value: &'a Value) -> Result<Self, RecordError> {
        match value {
            Value::Struct(_) => Ok(Fields { record, value }),
            other => Err(RecordError::WrongShape {
                record,
                expected: "struct",
                got: other.type_name(),
            }),
        }
    }

    fn get(&self, field: &'static str) -> Result<&'a Value, RecordError> {
        self.value.get(field).ok_or(RecordError::Missing {
            record: self.record,
            field,
        })
    }

    fn mistyped(&self, field: &'static str, expected: &'static str, got: &Value) -> RecordError {
        RecordError::Mistyped {
            record: self.record,
            field,
            expected,
            got: got.type_name(),
        }
    }

    fn string(&self, field: &'static str) -> Result<String, RecordError> {
        let value = self.get(field)?;
        value
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| self.mistyped(field, "string", value))
    }

    fn int(&self, field: &'static str) -> Result<i64, RecordError> {
        let value = self.get(field)?;
        wire_int(value).ok_or_else(|| self.mistyped(field, "int", value))
    }

    fn int32(&self, field: &'static str) -> Result<i32, RecordError> {
        let value = self.get(field)?;
        wire_int(value)
            .and_then(|n| i32::try_from(n).ok())
            .ok_or_else(|| self.mistyped(field, "int", value))
    }

    fn flag(&self, field: &'static str) -> Result<bool, RecordError> {
        let value = self.get(field)?;
        wire_flag(value).ok_or_else(|| self.mistyped(field, "boolean", value))
    }

    /// A string field where `"none"` stands for "not set".
    fn string_or_none(&self, field: &'static str) -> Result<Option<String>, RecordError> {
        Ok(Some(self.string(field)?).filter(|s| s != "none"))
    }
}

fn wire_int(value: &Value) -> Option<i64> {
    match value {
        Value::Int(n) => Some(i64::from(*n)),
        Value::I8(n) => Some(*n),
        _ => None,
    }
}

fn wire_flag(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        other => wire_int(other).map(|n| n != 0),
    }
}

/// The items of an array result, each decoded by `item`.
pub fn array_from_value<T>(
    record: &'static str,
    value: &Value,
    item: impl Fn(&Value) -> Result<T, RecordError>,
) -> Result<Vec<T>, RecordError> {
    match value {
        Value::Array(items) => items.iter().map(item).collect(),
        other => Err(RecordError::WrongShape {
            record,
            expected: "array",
            got: other.type_name(),
        }),
    }
}

impl ProcessInfo {
    /// Read a process info struct back. `logfile` (the old alias) is not
    /// needed: `stdout_logfile` carries the same path.
    pub fn from_value(value: &Value) -> Result<Self, RecordError> {
        let f = Fields::of("ProcessInfo", value)?;
        let pid = f.int("pid")?;
        Ok(ProcessInfo {
            name: f.string("name")?,
            group: f.string("group")?,
            start: f.int("start")?,
            stop: f.int("stop")?,
            now: f.int("now")?,
            state: f.int32("state")?,
            statename: f.string("statename")?,
            spawnerr: f.string("spawnerr")?,
            exitstatus: f.int32("exitstatus")?,
            stdout_logfile: f.string("stdout_logfile")?,
            stderr_logfile: f.string("stderr_logfile")?,
            pid: u32::try_from(pid).map_err(|_| RecordError::Mistyped {
                record: "ProcessInfo",
                field: "pid",
                expected: "a non-negative int",
                got: "a negative int",
            })?,
            description: f.string("description")?,
        })
    }

    /// The state on the wire vocabulary; `None` for a code Supervisor does
    /// not define (the raw number stays in [`state`](Self::state)).
    pub fn process_state(&self) -> Option<ProcessState> {
        ProcessState::from_code(self.state)
    }
}

impl StateInfo {
    /// Read the wire form back, naming the field that does not fit.
    pub fn from_value(value: &Value) -> Result<Self, RecordError> {
        let f = Fields::of("StateInfo", value)?;
        Ok(StateInfo {
            statecode: f.int32("statecode")?,
            statename: f.string("statename")?,
        })
    }

    /// The daemon's state; `None` for a code Supervisor does not define.
    pub fn supervisor_state(&self) -> Option<SupervisorState> {
        SupervisorState::from_code(self.statecode)
    }
}

impl ProcessResult {
    /// Read the wire form back, naming the field that does not fit.
    pub fn from_value(value: &Value) -> Result<Self, RecordError> {
        let f = Fields::of("ProcessResult", value)?;
        Ok(ProcessResult {
            name: f.string("name")?,
            group: f.string("group")?,
            status: f.int32("status")?,
            description: f.string("description")?,
        })
    }

    /// `status` as a fault code (`SUCCESS` included), unknown numbers kept.
    pub fn status_code(&self) -> AnyFaultCode {
        AnyFaultCode::from_number(self.status)
    }
}

impl LogFile {
    /// The inverse of [`to_value`](Self::to_value): `"auto"`, `"none"` or a
    /// path.
    pub fn from_value(value: &Value) -> Result<Self, RecordError> {
        match value.as_str() {
            Some("auto") => Ok(LogFile::Auto),
            Some("none") => Ok(LogFile::None),
            Some(path) => Ok(LogFile::Path(path.to_owned())),
            None => Err(RecordError::WrongShape {
                record: "LogFile",
                expected: "string",
                got: value.type_name(),
            }),
        }
    }
}

impl ConfigInfo {
    /// Read the wire form back, naming the field that does not fit.
    pub fn from_value(value: &Value) -> Result<Self, RecordError> {
        let f = Fields::of("ConfigInfo", value)?;
        let logfile = |field: &'static str| {
            LogFile::from_value(f.get(field)?).map_err(|_| RecordError::Mistyped {
                record: "ConfigInfo",
                field,
                expected: "string",
                got: f.get(field).map_or("nothing", Value::type_name),
            })
        };
        let uid = match f.get("uid")? {
            Value::String(s) if s == "none" => None,
            other => Some(
                wire_int(other)
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| f.mistyped("uid", "int or \"none\"", other))?,
            ),
        };
        let exitcodes_value = f.get("exitcodes")?;
        let exitcodes = match exitcodes_value {
            Value::Array(items) => items
                .iter()
                .map(|v| wire_int(v).ok_or_else(|| f.mistyped("exitcodes", "array of int", v)))
                .collect::<Result<Vec<_>, _>>()?,
            other => return Err(f.mistyped("exitcodes", "array", other)),
        };
        Ok(ConfigInfo {
            name: f.string("name")?,
            group: f.string("group")?,
            inuse: f.flag("inuse")?,
            autostart: f.flag("autostart")?,
            directory: f.string_or_none("directory")?,
            uid,
            serverurl: f.string_or_none("serverurl")?,
            command: f.string("command")?,
            exitcodes,
            group_prio: f.int("group_prio")?,
            process_prio: f.int("process_prio")?,
            killasgroup: f.flag("killasgroup")?,
            redirect_stderr: f.flag("redirect_stderr")?,
            startretries: f.int("startretries")?,
            startsecs: f.int("startsecs")?,
            stopwaitsecs: f.int("stopwaitsecs")?,
            stopsignal: f.int32("stopsignal")?,
            stdout_logfile: logfile("stdout_logfile")?,
            stdout_logfile_backups: f.int("stdout_logfile_backups")?,
            stdout_logfile_maxbytes: f.int("stdout_logfile_maxbytes")?,
            stdout_capture_maxbytes: f.int("stdout_capture_maxbytes")?,
            stdout_events_enabled: f.flag("stdout_events_enabled")?,
            stdout_syslog: f.flag("stdout_syslog")?,
            stderr_logfile: logfile("stderr_logfile")?,
            stderr_logfile_backups: f.int("stderr_logfile_backups")?,
            stderr_logfile_maxbytes: f.int("stderr_logfile_maxbytes")?,
            stderr_capture_maxbytes: f.int("stderr_capture_maxbytes")?,
            stderr_events_enabled: f.flag("stderr_events_enabled")?,
            stderr_syslog: f.flag("stderr_syslog")?,
        })
    }
}

/// What `reloadConfig` found: group names added, changed and removed
/// since the configuration was last read. On the wire it is the odd
/// `[[added, changed, removed]]`, an array holding one array of three.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfigChanges {
    /// Groups configured but not active.
    pub added: Vec<String>,
    /// Active groups whose configuration differs.
    pub changed: Vec<String>,
    /// Active groups no longer configured.
    pub removed: Vec<String>,
}

impl ConfigChanges {
    /// The wire form.
    pub fn to_value(&self) -> Value {
        let list = |names: &[String]| {
            Value::Array(names.iter().map(|n| Value::from(n.as_str())).collect())
        };
        Value::Array(vec![Value::Array(vec![
            list(&self.added),
            list(&self.changed),
            list(&self.removed),
        ])])
    }

    /// Read the wire form back, naming the field that does not fit.
    pub fn from_value(value: &Value) -> Result<Self, RecordError> {
        const RECORD: &str = "ConfigChanges";
        let shape = |got: &Value| RecordError::WrongShape {
            record: RECORD,
            expected: "[[added, changed, removed]]",
            got: got.type_name(),
        };
        let outer = value.as_array().ok_or_else(|| shape(value))?;
        let inner = match outer {
            [inner] => inner.as_array().ok_or_else(|| shape(inner))?,
            _ => return Err(shape(value)),
        };
        let names = |field: &'static str, list: &Value| {
            array_from_value(RECORD, list, |v| {
                v.as_str().map(str::to_owned).ok_or(RecordError::Mistyped {
                    record: RECORD,
                    field,
                    expected: "array of string",
                    got: v.type_name(),
                })
            })
        };
        match inner {
            [added, changed, removed] => Ok(ConfigChanges {
                added: names("added", added)?,
                changed: names("changed", changed)?,
                removed: names("removed", removed)?,
            }),
            _ => Err(shape(value)),
        }
    }
}

/// One `tailProcessStdoutLog` / `tailProcessStderrLog` answer, sent as the
/// array `[bytes, offset, overflow]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TailChunk {
    /// The log text read.
    pub bytes: String,
    /// Where the next read should start.
    pub offset: i64,
    /// True when more was written since `offset` than was asked for.
    pub overflow: bool,
}

impl TailChunk {
    /// The wire form.
    pub fn to_value(&self) -> Value {
        Value::Array(vec![
            self.bytes.as_str().into(),
            int(self.offset),
            self.overflow.into(),
        ])
    }

    /// Read the wire form back, naming the field that does not fit.
    pub fn from_value(value: &Value) -> Result<Self, RecordError> {
        const RECORD: &str = "TailChunk";
        let mistyped = |field, expected, got: &Value| RecordError::Mistyped {
            record: RECORD,
            field,
            expected,
            got: got.type_name(),
        };
        match value.as_array() {
            Some([bytes, offset, overflow]) => Ok(TailChunk {
                bytes: bytes
                    .as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| mistyped("bytes", "string", bytes))?,
                offset: wire_int(offset).ok_or_else(|| mistyped("offset", "int", offset))?,
                overflow: wire_flag(overflow)
                    .ok_or_else(|| mistyped("overflow", "boolean", overflow))?,
            }),
            _ => Err(RecordError::WrongShape {
                record: RECORD,
                expected: "[bytes, offset, overflow]",
                got: value.type_name(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::FaultCode;
    use crate::test_support::run_python;

    fn keys(value: &Value) -> Vec<&str> {
        match value {
            Value::Struct(members) => members.iter().map(|(k, _)| k.as_str()).collect(),
            other => panic!("not a struct: {other:?}"),
        }
    }

    fn field<'a>(value: &'a Value, key: &str) -> &'a Value {
        match value {
            Value::Struct(members) => members
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v)
                .unwrap_or_else(|| panic!("no key {key}")),
            other => panic!("not a struct: {other:?}"),
        }
    }

    fn s(text: &str) -> Value {
        Value::String(text.to_owned())
    }

    fn no_clock(_: i64) -> String {
        panic!("local time must not be consulted")
    }

    #[test]
    fn capped_int_clamps() {
        assert_eq!(capped_int(0), 0);
        assert_eq!(capped_int(-5), -5);
        assert_eq!(capped_int(i64::from(i32::MAX)), i32::MAX);
        assert_eq!(capped_int(i64::from(i32::MAX) + 1), i32::MAX);
        assert_eq!(capped_int(4_102_444_800), i32::MAX); // year 2100
        assert_eq!(capped_int(i64::from(i32::MIN) - 1), i32::MIN);
        assert_eq!(capped_int(i64::MIN), i32::MIN);
        assert_eq!(capped_int(i64::MAX), i32::MAX);
    }

    #[test]
    fn timedelta_examples() {
        for (n, text) in [
            (0, "0:00:00"),
            (6, "0:00:06"),
            (59, "0:00:59"),
            (60, "0:01:00"),
            (3599, "0:59:59"),
            (3600, "1:00:00"),
            (43_384, "12:03:04"),
            (86_399, "23:59:59"),
            (86_400, "1 day, 0:00:00"),
            (93_784, "1 day, 2:03:04"),
            (172_800, "2 days, 0:00:00"),
            (259_201, "3 days, 0:00:01"),
            (-1, "-1 day, 23:59:59"),
            (-86_400, "-1 day, 0:00:00"),
            (-86_401, "-2 days, 23:59:59"),
        ] {
            assert_eq!(format_timedelta(n), text, "{n}");
        }
    }

    /// Compare against Python itself; the formatting rules (plural, floor
    /// division for negatives, unpadded hours) are easy to get subtly wrong.
    #[test]
    fn timedelta_matches_python() {
        let mut samples: Vec<i64> = vec![0, 1, 9, 10, 59, 60, 61, 599, 600, 3599, 3600, 3601];
        samples.extend([35_999, 36_000, 86_399, 86_400, 86_401, 172_799, 172_800]);
        samples.extend([i64::from(i32::MAX), i64::from(i32::MAX) * 2 + 1]);
        samples.extend([-1, -59, -3600, -86_399, -86_400, -86_401, -172_801]);
        samples.extend([-i64::from(i32::MAX), i64::from(i32::MIN)]);
        // A deterministic spread over several magnitudes.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..300 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let magnitude =
                [100u64, 10_000, 1_000_000, 100_000_000, 10_000_000_000][(x % 5) as usize];
            let n = (x >> 8) % magnitude;
            let n = i64::try_from(n).expect("below 1e10");
            samples.push(if x & 1 == 0 { n } else { -n });
        }

        let script = "import sys, datetime\n\
                      for line in sys.stdin:\n    \
                      print(str(datetime.timedelta(seconds=int(line))))\n";
        let input: String = samples.iter().map(|n| format!("{n}\n")).collect();
        let output = run_python(script, &input);
        let expected: Vec<&str> = output.lines().collect();
        assert_eq!(expected.len(), samples.len());
        for (n, want) in samples.iter().zip(expected) {
            assert_eq!(format_timedelta(*n), want, "seconds={n}");
        }
    }

    #[test]
    fn describe_running() {
        let d = |now, start| describe(20, 4242, now, start, 0, "", "x", &no_clock);
        assert_eq!(d(1006, 1000), "pid 4242, uptime 0:00:06");
        assert_eq!(d(1000 + 93_784, 1000), "pid 4242, uptime 1 day, 2:03:04");
        assert_eq!(d(1000 + 259_201, 1000), "pid 4242, uptime 3 days, 0:00:01");
        // Never started (start 0): uptime counts from the epoch.
        assert_eq!(
            d(i64::from(i32::MAX), 0),
            "pid 4242, uptime 24855 days, 3:14:07"
        );
        // Clock set back: never negative.
        assert_eq!(d(900, 1000), "pid 4242, uptime 0:00:00");
        // Both ends are clamped before subtracting, like upstream.
        assert_eq!(
            d(i64::from(i32::MAX) + 500, i64::from(i32::MAX) - 6),
            "pid 4242, uptime 0:00:06"
        );
    }

    #[test]
    fn describe_backoff_and_fatal() {
        for state in [30, 200] {
            assert_eq!(
                describe(
                    state,
                    0,
                    5,
                    1,
                    2,
                    "Exited too quickly (process log may have details)",
                    "web",
                    &no_clock
                ),
                "Exited too quickly (process log may have details)"
            );
            assert_eq!(
                describe(state, 0, 5, 1, 2, "", "grp:web", &no_clock),
                "unknown error (try \"tail grp:web\")"
            );
        }
    }

    #[test]
    fn describe_stopped_and_exited() {
        let clock = |t: i64| format!("local({t})");
        for state in [0, 100] {
            assert_eq!(describe(state, 0, 50, 10, 20, "", "x", &clock), "local(20)");
            assert_eq!(
                describe(state, 0, 50, 0, 20, "", "x", &clock),
                "Not started"
            );
            // Started but stopped out of BACKOFF before any exit: epoch.
            assert_eq!(describe(state, 0, 50, 10, 0, "", "x", &clock), "local(0)");
            // The stop time handed to the formatter is clamped too.
            assert_eq!(
                describe(state, 0, 50, 10, i64::MAX, "", "x", &clock),
                format!("local({})", i32::MAX)
            );
        }
    }

    #[test]
    fn describe_other_states() {
        for state in [10, 40, 1000, 7, -3] {
            assert_eq!(describe(state, 1, 50, 10, 20, "err", "x", &no_clock), "");
        }
    }

    #[test]
    fn process_info_struct() {
        let info = ProcessInfo {
            name: "web".into(),
            group: "site".into(),
            start: 1_700_000_000,
            stop: 0,
            now: 1_700_000_006,
            state: ProcessState::Running.code(),
            statename: "RUNNING".into(),
            spawnerr: String::new(),
            exitstatus: 0,
            stdout_logfile: "/tmp/web.out".into(),
            stderr_logfile: String::new(),
            pid: 4242,
            description: String::new(),
        }
        .with_description(&no_clock);
        assert_eq!(info.description, "pid 4242, uptime 0:00:06");
        let value = info.to_value();
        assert_eq!(
            keys(&value),
            [
                "name",
                "group",
                "start",
                "stop",
                "now",
                "state",
                "statename",
                "spawnerr",
                "exitstatus",
                "logfile",
                "stdout_logfile",
                "stderr_logfile",
                "pid",
                "description"
            ]
        );
        assert_eq!(field(&value, "name"), &s("web"));
        assert_eq!(field(&value, "group"), &s("site"));
        assert_eq!(field(&value, "start"), &Value::Int(1_700_000_000));
        assert_eq!(field(&value, "stop"), &Value::Int(0));
        assert_eq!(field(&value, "now"), &Value::Int(1_700_000_006));
        assert_eq!(field(&value, "state"), &Value::Int(20));
        assert_eq!(field(&value, "statename"), &s("RUNNING"));
        assert_eq!(field(&value, "spawnerr"), &s(""));
        assert_eq!(field(&value, "exitstatus"), &Value::Int(0));
        assert_eq!(field(&value, "logfile"), &s("/tmp/web.out"));
        assert_eq!(field(&value, "stdout_logfile"), &s("/tmp/web.out"));
        assert_eq!(field(&value, "stderr_logfile"), &s(""));
        assert_eq!(field(&value, "pid"), &Value::Int(4242));
        assert_eq!(field(&value, "description"), &s("pid 4242, uptime 0:00:06"));
    }

    #[test]
    fn process_info_clamps() {
        let info = ProcessInfo {
            start: i64::from(i32::MAX) + 10,
            stop: i64::MIN,
            now: i64::MAX,
            pid: u32::MAX,
            ..ProcessInfo::default()
        };
        let value = info.to_value();
        assert_eq!(field(&value, "start"), &Value::Int(i32::MAX));
        assert_eq!(field(&value, "stop"), &Value::Int(i32::MIN));
        assert_eq!(field(&value, "now"), &Value::Int(i32::MAX));
        assert_eq!(field(&value, "pid"), &Value::Int(i32::MAX));
    }

    #[test]
    fn state_info_struct() {
        let value = StateInfo::from(SupervisorState::Running).to_value();
        assert_eq!(
            value,
            Value::Struct(vec![
                ("statecode".into(), Value::Int(1)),
                ("statename".into(), s("RUNNING")),
            ])
        );
    }

    #[test]
    fn process_result_structs() {
        let ok = ProcessResult::ok("web", "site").to_value();
        assert_eq!(
            ok,
            Value::Struct(vec![
                ("name".into(), s("web")),
                ("group".into(), s("site")),
                ("status".into(), Value::Int(80)),
                ("description".into(), s("OK")),
            ])
        );
        let err = RpcError::with_detail(FaultCode::NotRunning, "site:web");
        let failed = ProcessResult::from_error("web", "site", &err);
        assert_eq!(failed.status, 70);
        assert_eq!(failed.description, "NOT_RUNNING: site:web");
        let bare = ProcessResult::from_outcome("a", "b", &Err(RpcError::new(FaultCode::BadSignal)));
        assert_eq!((bare.status, bare.description.as_str()), (11, "BAD_SIGNAL"));
        assert_eq!(
            ProcessResult::from_outcome("a", "b", &Ok(())),
            ProcessResult::ok("a", "b")
        );
    }

    fn sample_config() -> ConfigInfo {
        ConfigInfo {
            name: "slow".into(),
            group: "slow".into(),
            inuse: true,
            autostart: false,
            directory: None,
            uid: None,
            serverurl: None,
            command: "/bin/sleep 1000".into(),
            exitcodes: vec![0],
            group_prio: 999,
            process_prio: 999,
            killasgroup: false,
            redirect_stderr: false,
            startretries: 3,
            startsecs: 3,
            stopwaitsecs: 10,
            stopsignal: 15,
            stdout_logfile: LogFile::Path("/tmp/slow-stdout.log".into()),
            stdout_logfile_backups: 10,
            stdout_logfile_maxbytes: 52_428_800,
            stdout_capture_maxbytes: 0,
            stdout_events_enabled: false,
            stdout_syslog: false,
            stderr_logfile: LogFile::Auto,
            stderr_logfile_backups: 10,
            stderr_logfile_maxbytes: 52_428_800,
            stderr_capture_maxbytes: 0,
            stderr_events_enabled: false,
            stderr_syslog: false,
        }
    }

    #[test]
    fn config_info_struct() {
        let value = sample_config().to_value();
        // Observed from the 4.3.0 reference.
        assert_eq!(
            keys(&value),
            [
                "autostart",
                "directory",
                "uid",
                "command",
                "exitcodes",
                "group",
                "group_prio",
                "inuse",
                "killasgroup",
                "name",
                "process_prio",
                "redirect_stderr",
                "startretries",
                "startsecs",
                "stdout_capture_maxbytes",
                "stdout_events_enabled",
                "stdout_logfile",
                "stdout_logfile_backups",
                "stdout_logfile_maxbytes",
                "stdout_syslog",
                "stopsignal",
                "stopwaitsecs",
                "stderr_capture_maxbytes",
                "stderr_events_enabled",
                "stderr_logfile",
                "stderr_logfile_backups",
                "stderr_logfile_maxbytes",
                "stderr_syslog",
                "serverurl",
            ]
        );
        assert_eq!(field(&value, "autostart"), &Value::Bool(false));
        assert_eq!(field(&value, "directory"), &s("none"));
        assert_eq!(field(&value, "uid"), &s("none"));
        assert_eq!(field(&value, "serverurl"), &s("none"));
        assert_eq!(field(&value, "command"), &s("/bin/sleep 1000"));
        assert_eq!(
            field(&value, "exitcodes"),
            &Value::Array(vec![Value::Int(0)])
        );
        assert_eq!(field(&value, "group_prio"), &Value::Int(999));
        assert_eq!(field(&value, "inuse"), &Value::Bool(true));
        assert_eq!(field(&value, "stopsignal"), &Value::Int(15));
        assert_eq!(field(&value, "stdout_logfile"), &s("/tmp/slow-stdout.log"));
        assert_eq!(field(&value, "stderr_logfile"), &s("auto"));
        assert_eq!(
            field(&value, "stdout_logfile_maxbytes"),
            &Value::Int(52_428_800)
        );
    }

    #[test]
    fn config_info_optional_values() {
        let mut config = sample_config();
        config.directory = Some("/srv".into());
        config.uid = Some(1000);
        config.serverurl = Some("unix:///tmp/s.sock".into());
        config.stdout_logfile = LogFile::None;
        config.stdout_logfile_maxbytes = 5 * 1024 * 1024 * 1024;
        let value = config.to_value();
        assert_eq!(field(&value, "directory"), &s("/srv"));
        assert_eq!(field(&value, "uid"), &Value::Int(1000));
        assert_eq!(field(&value, "serverurl"), &s("unix:///tmp/s.sock"));
        assert_eq!(field(&value, "stdout_logfile"), &s("none"));
        assert_eq!(
            field(&value, "stdout_logfile_maxbytes"),
            &Value::Int(i32::MAX)
        );
    }

    #[test]
    fn config_info_array_sorts_stably_by_name() {
        let mk = |name: &str, group: &str| ConfigInfo {
            name: name.into(),
            group: group.into(),
            ..sample_config()
        };
        let value = config_info_array(vec![
            mk("b", "g1"),
            mk("a", "g2"),
            mk("b", "g0"),
            mk("B", "g3"),
        ]);
        let Value::Array(items) = value else {
            panic!("not an array")
        };
        let got: Vec<(&Value, &Value)> = items
            .iter()
            .map(|v| (field(v, "name"), field(v, "group")))
            .collect();
        let want = [("B", "g3"), ("a", "g2"), ("b", "g1"), ("b", "g0")];
        assert_eq!(got.len(), want.len());
        for ((name, group), (wn, wg)) in got.into_iter().zip(want) {
            assert_eq!((name, group), (&s(wn), &s(wg)));
        }
    }

    fn sample_info() -> ProcessInfo {
        ProcessInfo {
            name: "web".into(),
            group: "site".into(),
            start: 1_700_000_000,
            stop: 1_699_000_000,
            now: 1_700_000_006,
            state: ProcessState::Running.code(),
            statename: "RUNNING".into(),
            spawnerr: "".into(),
            exitstatus: -1,
            stdout_logfile: "/tmp/web.out".into(),
            stderr_logfile: "/tmp/web.err".into(),
            pid: 4242,
            description: "pid 4242, uptime 0:00:06".into(),
        }
    }

    #[test]
    fn process_info_round_trip() {
        let info = sample_info();
        let back = ProcessInfo::from_value(&info.to_value()).unwrap();
        assert_eq!(back, info);
        assert_eq!(back.process_state(), Some(ProcessState::Running));
        // A foreign state code survives as a number.
        let odd = ProcessInfo {
            state: 7,
            ..sample_info()
        };
        let back = ProcessInfo::from_value(&odd.to_value()).unwrap();
        assert_eq!((back.state, back.process_state()), (7, None));
    }

    #[test]
    fn process_info_errors_name_the_field() {
        let Value::Struct(mut members) = sample_info().to_value() else {
            panic!("not a struct")
        };
        members.retain(|(k, _)| k != "statename");
        assert_eq!(
            ProcessInfo::from_value(&Value::Struct(members.clone())),
            Err(RecordError::Missing {
                record: "ProcessInfo",
                field: "statename"
            })
        );
        members.retain(|(k, _)| k != "pid");
        members.insert(0, ("pid".into(), s("12")));
        members.push(("statename".into(), s("RUNNING")));
        let err = ProcessInfo::from_value(&Value::Struct(members)).unwrap_err();
        assert_eq!(
            err,
            RecordError::Mistyped {
                record: "ProcessInfo",
                field: "pid",
                expected: "int",
                got: "string"
            }
        );
        assert_eq!(
            err.to_string(),
            "ProcessInfo: field \"pid\" should be int, got string"
        );
        assert_eq!(
            ProcessInfo::from_value(&Value::Int(1)),
            Err(RecordError::WrongShape {
                record: "ProcessInfo",
                expected: "struct",
                got: "int"
            })
        );
    }

    #[test]
    fn process_info_accepts_i8_integers() {
        let Value::Struct(mut members) = sample_info().to_value() else {
            panic!("not a struct")
        };
        for (key, value) in &mut members {
            if key == "start" {
                *value = Value::I8(1_700_000_000);
            }
        }
        let back = ProcessInfo::from_value(&Value::Struct(members)).unwrap();
        assert_eq!(back.start, 1_700_000_000);
    }

    #[test]
    fn state_info_round_trip() {
        for state in SupervisorState::ALL {
            let info = StateInfo::from(state);
            let back = StateInfo::from_value(&info.to_value()).unwrap();
            assert_eq!(back, info);
            assert_eq!(back.supervisor_state(), Some(state));
        }
    }

    #[test]
    fn process_result_round_trip() {
        let err = RpcError::with_detail(FaultCode::NotRunning, "site:web");
        for result in [
            ProcessResult::ok("web", "site"),
            ProcessResult::from_error("web", "site", &err),
        ] {
            assert_eq!(ProcessResult::from_value(&result.to_value()), Ok(result));
        }
        let failed = ProcessResult::from_error("web", "site", &err);
        assert_eq!(failed.status_code(), FaultCode::NotRunning);
        let list = Value::Array(vec![ProcessResult::ok("a", "b").to_value()]);
        assert_eq!(
            array_from_value("results", &list, ProcessResult::from_value),
            Ok(vec![ProcessResult::ok("a", "b")])
        );
        assert!(array_from_value("results", &s("x"), ProcessResult::from_value).is_err());
    }

    #[test]
    fn config_info_round_trip() {
        let plain = sample_config();
        assert_eq!(ConfigInfo::from_value(&plain.to_value()), Ok(plain));
        let mut full = sample_config();
        full.directory = Some("/srv".into());
        full.uid = Some(1000);
        full.serverurl = Some("unix:///tmp/s.sock".into());
        full.stdout_logfile = LogFile::None;
        full.exitcodes = vec![0, 2];
        full.killasgroup = true;
        assert_eq!(ConfigInfo::from_value(&full.to_value()), Ok(full));
        for logfile in [
            LogFile::Auto,
            LogFile::None,
            LogFile::Path("/var/log/x".into()),
        ] {
            assert_eq!(LogFile::from_value(&logfile.to_value()), Ok(logfile));
        }
    }

    #[test]
    fn config_changes_round_trip() {
        let changes = ConfigChanges {
            added: vec!["new".into()],
            changed: vec!["a".into(), "b".into()],
            removed: vec![],
        };
        let value = changes.to_value();
        assert_eq!(
            value,
            Value::Array(vec![Value::Array(vec![
                Value::Array(vec![s("new")]),
                Value::Array(vec![s("a"), s("b")]),
                Value::Array(vec![]),
            ])])
        );
        assert_eq!(ConfigChanges::from_value(&value), Ok(changes));
        assert!(ConfigChanges::from_value(&Value::Array(vec![])).is_err());
        let bad = Value::Array(vec![Value::Array(vec![
            Value::Array(vec![Value::Int(1)]),
            Value::Array(vec![]),
            Value::Array(vec![]),
        ])]);
        assert_eq!(
            ConfigChanges::from_value(&bad),
            Err(RecordError::Mistyped {
                record: "ConfigChanges",
                field: "added",
                expected: "array of string",
                got: "int"
            })
        );
    }

    #[test]
    fn tail_chunk_round_trip() {
        let chunk = TailChunk {
            bytes: "tick\n".into(),
            offset: 1234,
            overflow: true,
        };
        let value = chunk.to_value();
        assert_eq!(
            value,
            Value::Array(vec![s("tick\n"), Value::Int(1234), Value::Bool(true)])
        );
        assert_eq!(TailChunk::from_value(&value), Ok(chunk));
        assert!(TailChunk::from_value(&Value::Array(vec![s("x")])).is_err());
    }
}
