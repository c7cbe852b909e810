//! A process's records: its status (`getProcessInfo`), the human
//! `description` and uptime text, the daemon's state (`getState`) and one
//! process's outcome in a group operation's result array.

use sv_xmlrpc::{Value, ValueWriter};

use super::{Fields, RecordError, capped_int, int, member};
use crate::faults::{AnyFaultCode, RpcError};
use crate::states::{ProcessState, SupervisorState};

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

    /// The same struct written straight into an answer (no [`Value`]
    /// tree): what `getAllProcessInfo` sends, byte for byte what
    /// [`to_value`](Self::to_value) encodes to (a test compares them).
    pub fn write_value(&self, w: &mut ValueWriter) {
        w.structure(|s| {
            s.string("name", &self.name);
            s.string("group", &self.group);
            s.int("start", capped_int(self.start));
            s.int("stop", capped_int(self.stop));
            s.int("now", capped_int(self.now));
            s.int("state", self.state);
            s.string("statename", &self.statename);
            s.string("spawnerr", &self.spawnerr);
            s.int("exitstatus", self.exitstatus);
            s.string("logfile", &self.stdout_logfile);
            s.string("stdout_logfile", &self.stdout_logfile);
            s.string("stderr_logfile", &self.stderr_logfile);
            s.int("pid", capped_int(i64::from(self.pid)));
            s.string("description", &self.description);
        });
    }

    /// The `getAllProcessInfo` answer for `infos`, encoded directly.
    pub fn encode_all(infos: &[ProcessInfo]) -> Vec<u8> {
        // About 1100 bytes of markup per record besides its text: one
        // allocation, no copy on growth.
        let text: usize = infos
            .iter()
            .map(|i| {
                i.name.len()
                    + i.group.len()
                    + i.spawnerr.len()
                    + 2 * i.stdout_logfile.len()
                    + i.stderr_logfile.len()
                    + i.description.len()
            })
            .sum();
        sv_xmlrpc::encode_response_with(text + 1100 * infos.len() + 256, |w| {
            w.array(|w| {
                for info in infos {
                    info.write_value(w);
                }
            })
        })
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
