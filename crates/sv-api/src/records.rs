//! The structs Supervisor's methods return (spec §4.5), built from plain
//! fields into `Value::Struct`s with exactly upstream's keys, key order and
//! value types (`to_value`), read back by clients (`from_value`, with a
//! [`RecordError`] naming the missing or mistyped field), plus the human
//! `description` of a process.
//!
//! Nothing here reads a clock or a time zone: callers pass `now` and a
//! local-time formatter, so the daemon owns time and tests stay pure.

use sv_xmlrpc::Value;

mod config;
mod logs;
mod process;

pub use config::{ConfigChanges, ConfigInfo, LogFile, config_info_array, encode_config_info_array};
pub use logs::TailChunk;
pub use process::{ProcessInfo, ProcessResult, StateInfo, describe, format_timedelta};

/// Clamp an integer into XML-RPC's signed 32-bit `<int>` range, as upstream
/// does for timestamps (hence its year-2038 limit) — the wire has no wider
/// integer type that Supervisor's clients accept.
pub fn capped_int(value: i64) -> i32 {
    // Lossless after the clamp.
    value.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
}

pub(crate) fn member(key: &str, value: Value) -> (String, Value) {
    (key.to_owned(), value)
}

pub(crate) fn int(value: i64) -> Value {
    Value::Int(capped_int(value))
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
pub(crate) struct Fields<'a> {
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

pub(crate) fn wire_int(value: &Value) -> Option<i64> {
    match value {
        Value::Int(n) => Some(i64::from(*n)),
        Value::I8(n) => Some(*n),
        _ => None,
    }
}

pub(crate) fn wire_flag(value: &Value) -> Option<bool> {
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

#[cfg(test)]
mod tests;
