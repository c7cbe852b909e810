//! A process's configuration as `getAllConfigInfo` reports it (with its
//! log files), and what `reloadConfig` found changed.

use sv_xmlrpc::{Value, ValueWriter};

use super::{Fields, RecordError, array_from_value, capped_int, int, member, wire_int};

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

    /// The same struct written straight into an answer, byte for byte what
    /// [`to_value`](Self::to_value) encodes to (a test compares them).
    pub fn write_value(&self, w: &mut ValueWriter) {
        let log = |w: &mut ValueWriter, file: &LogFile| match file {
            LogFile::Path(path) => w.string(path),
            LogFile::Auto => w.string("auto"),
            LogFile::None => w.string("none"),
        };
        w.structure(|s| {
            s.member("autostart", |w| w.bool(self.autostart));
            s.string("directory", self.directory.as_deref().unwrap_or("none"));
            match self.uid {
                Some(uid) => s.int("uid", capped_int(i64::from(uid))),
                None => s.string("uid", "none"),
            }
            s.string("command", &self.command);
            s.member("exitcodes", |w| {
                w.array(|w| {
                    for &code in &self.exitcodes {
                        w.int(capped_int(code));
                    }
                })
            });
            s.string("group", &self.group);
            s.int("group_prio", capped_int(self.group_prio));
            s.member("inuse", |w| w.bool(self.inuse));
            s.member("killasgroup", |w| w.bool(self.killasgroup));
            s.string("name", &self.name);
            s.int("process_prio", capped_int(self.process_prio));
            s.member("redirect_stderr", |w| w.bool(self.redirect_stderr));
            s.int("startretries", capped_int(self.startretries));
            s.int("startsecs", capped_int(self.startsecs));
            s.int(
                "stdout_capture_maxbytes",
                capped_int(self.stdout_capture_maxbytes),
            );
            s.member("stdout_events_enabled", |w| {
                w.bool(self.stdout_events_enabled)
            });
            s.member("stdout_logfile", |w| log(w, &self.stdout_logfile));
            s.int(
                "stdout_logfile_backups",
                capped_int(self.stdout_logfile_backups),
            );
            s.int(
                "stdout_logfile_maxbytes",
                capped_int(self.stdout_logfile_maxbytes),
            );
            s.member("stdout_syslog", |w| w.bool(self.stdout_syslog));
            s.int("stopsignal", self.stopsignal);
            s.int("stopwaitsecs", capped_int(self.stopwaitsecs));
            s.int(
                "stderr_capture_maxbytes",
                capped_int(self.stderr_capture_maxbytes),
            );
            s.member("stderr_events_enabled", |w| {
                w.bool(self.stderr_events_enabled)
            });
            s.member("stderr_logfile", |w| log(w, &self.stderr_logfile));
            s.int(
                "stderr_logfile_backups",
                capped_int(self.stderr_logfile_backups),
            );
            s.int(
                "stderr_logfile_maxbytes",
                capped_int(self.stderr_logfile_maxbytes),
            );
            s.member("stderr_syslog", |w| w.bool(self.stderr_syslog));
            s.string("serverurl", self.serverurl.as_deref().unwrap_or("none"));
        });
    }
}

/// The `getAllConfigInfo` answer, encoded directly: [`config_info_array`]'s
/// order and bytes without the [`Value`] tree.
pub fn encode_config_info_array(mut infos: Vec<ConfigInfo>) -> Vec<u8> {
    infos.sort_by(|a, b| a.name.cmp(&b.name));
    sv_xmlrpc::encode_response_with(1600 * infos.len() + 256, |w| {
        w.array(|w| {
            for info in &infos {
                info.write_value(w);
            }
        })
    })
}

/// The whole `getAllConfigInfo` result: entries sorted by process name.
/// The sort is stable, so equal names keep the caller's (config) order, as
/// Python's `list.sort` does.
pub fn config_info_array(mut infos: Vec<ConfigInfo>) -> Value {
    infos.sort_by(|a, b| a.name.cmp(&b.name));
    Value::Array(infos.iter().map(ConfigInfo::to_value).collect())
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
