//! The grammar over the lexer's tokens: params, and values built without
//! recursion (containers on an explicit stack), so that the depth limit,
//! not the thread's stack, bounds nesting; and the fault struct.

use std::collections::HashMap;

use super::DecodeError;
use super::lexer::{Lexer, Tag, Token};
use super::scalar::scalar;
use crate::value::{Fault, Value};

/// Reads `<param><value>…</value></param>`* up to `</params>`.
pub(super) fn parse_params(lx: &mut Lexer<'_>) -> Result<Vec<Value>, DecodeError> {
    let mut params = Vec::new();
    loop {
        let token = lx.next()?;
        lx.require_ws("params")?;
        match token {
            Token::Start(Tag::Param) => {
                lx.expect_start(Tag::Value, "param", "<value>")?;
                params.push(parse_value(lx)?);
                lx.expect_end("param", "</param>")?;
            }
            Token::End => return Ok(params),
            other => return Err(lx.unexpected(other, "<param> or </params>")),
        }
    }
}

/// An array or struct whose members are still being read.
pub(super) enum Frame {
    Array(Vec<Value>),
    Struct(StructBuilder),
}

/// Struct members in document order. A repeated name keeps its first
/// position and takes the last value, exactly as building a Python dict
/// would; the index makes that linear for large structs.
#[derive(Default)]
pub(super) struct StructBuilder {
    members: Vec<(String, Value)>,
    index: HashMap<String, usize>,
    pending_name: String,
}

impl StructBuilder {
    pub(super) fn insert(&mut self, value: Value) {
        let name = std::mem::take(&mut self.pending_name);
        match self.index.get(&name) {
            Some(&i) => {
                if let Some(slot) = self.members.get_mut(i) {
                    slot.1 = value;
                }
            }
            None => {
                self.index.insert(name.clone(), self.members.len());
                self.members.push((name, value));
            }
        }
    }
}

/// Reads a value whose `<value>` start tag was just read, through its end
/// tag. Containers live on an explicit stack rather than the call stack.
pub(super) fn parse_value(lx: &mut Lexer<'_>) -> Result<Value, DecodeError> {
    let max_depth = lx.limits.max_depth;
    let mut stack: Vec<Frame> = Vec::new();
    let open = |stack: &mut Vec<Frame>, frame: Frame| {
        if stack.len() >= max_depth {
            return Err(DecodeError::TooDeep { limit: max_depth });
        }
        stack.push(frame);
        Ok(())
    };
    'value: loop {
        // Inside a `<value>`: untyped text, a scalar, or a container.
        let mut done = match lx.next()? {
            // No type element: Python reads the text as a string.
            Token::End => Some(Value::String(lx.take_text())),
            Token::Start(tag) => {
                lx.require_ws("value")?;
                match tag {
                    Tag::Array => match lx.next()? {
                        Token::Start(Tag::Data) => {
                            lx.require_ws("array")?;
                            open(&mut stack, Frame::Array(Vec::new()))?;
                            None
                        }
                        // `<array/>` and `<array></array>`: Python reads
                        // an empty list.
                        Token::End => {
                            lx.require_ws("array")?;
                            lx.expect_end("value", "</value>")?;
                            Some(Value::Array(Vec::new()))
                        }
                        other => return Err(lx.unexpected(other, "<data>")),
                    },
                    Tag::Struct => {
                        open(&mut stack, Frame::Struct(StructBuilder::default()))?;
                        None
                    }
                    Tag::Nil => {
                        lx.expect_end("nil", "</nil>")?;
                        lx.expect_end("value", "</value>")?;
                        Some(Value::Nil)
                    }
                    Tag::Int
                    | Tag::I8
                    | Tag::Boolean
                    | Tag::String
                    | Tag::Double
                    | Tag::DateTime
                    | Tag::Base64 => {
                        let text = lx.text_element()?;
                        let value = scalar(tag, text)?;
                        lx.expect_end("value", "</value>")?;
                        Some(value)
                    }
                    other => return Err(lx.unexpected(Token::Start(other), "a value type")),
                }
            }
            Token::Eof => return Err(DecodeError::UnexpectedEof),
        };
        loop {
            if let Some(value) = done.take() {
                match stack.last_mut() {
                    None => return Ok(value),
                    Some(Frame::Array(items)) => items.push(value),
                    Some(Frame::Struct(builder)) => {
                        builder.insert(value);
                        lx.expect_end("member", "</member>")?;
                    }
                }
            }
            // The innermost container is open: its next member or its end.
            let in_array = matches!(stack.last(), Some(Frame::Array(_)));
            let token = lx.next()?;
            lx.require_ws(if in_array { "data" } else { "struct" })?;
            match token {
                Token::Start(Tag::Value) if in_array => continue 'value,
                Token::Start(Tag::Member) if !in_array => {
                    lx.expect_start(Tag::Name, "member", "<name>")?;
                    let name = lx.text_element()?;
                    if let Some(Frame::Struct(builder)) = stack.last_mut() {
                        builder.pending_name = name;
                    }
                    lx.expect_start(Tag::Value, "member", "<value>")?;
                    continue 'value;
                }
                Token::End => {
                    if in_array {
                        lx.expect_end("array", "</array>")?;
                    }
                    lx.expect_end("value", "</value>")?;
                    done = stack.pop().map(|frame| match frame {
                        Frame::Array(items) => Value::Array(items),
                        Frame::Struct(builder) => Value::Struct(builder.members),
                    });
                }
                other => {
                    let expected = if in_array {
                        "<value> or </data>"
                    } else {
                        "<member> or </struct>"
                    };
                    return Err(lx.unexpected(other, expected));
                }
            }
        }
    }
}

/// A fault is a struct with an integer `faultCode` and a string
/// `faultString`; other members are ignored.
pub(super) fn fault_from_value(value: Value) -> Result<Fault, DecodeError> {
    let invalid = |reason| DecodeError::InvalidFault { reason };
    if !matches!(value, Value::Struct(_)) {
        return Err(invalid("not a struct"));
    }
    let code = match value.get("faultCode") {
        Some(code) => code
            .as_i32()
            .ok_or(invalid("faultCode is not a 32-bit int"))?,
        None => return Err(invalid("no faultCode")),
    };
    let string = match value.get("faultString") {
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(invalid("faultString is not a string")),
        None => return Err(invalid("no faultString")),
    };
    Ok(Fault { code, string })
}
