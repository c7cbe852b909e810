//! What the tail methods answer: a piece of a log with where to go on.

use sv_xmlrpc::Value;

use super::{RecordError, int, wire_flag, wire_int};

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
