//! Decoder for `<methodCall>` and `<methodResponse>` documents.
//!
//! Two layers: a [`Lexer`] over quick-xml's pull reader that turns the
//! document into start tags, end tags and the character data before each
//! (resolving the predefined entities and character references, refusing
//! everything else and enforcing the limits), and a grammar on top that
//! builds values without recursion, so that the depth limit, not the
//! thread's stack, bounds nesting.

mod error;
mod grammar;
mod lexer;
mod scalar;

use std::borrow::Cow;

use quick_xml::events::Event;
use quick_xml::reader::Reader;

pub use error::DecodeError;
use grammar::{fault_from_value, parse_params, parse_value};
use lexer::{Lexer, Tag, Token};

use crate::value::{MethodCall, Response};

/// Bounds the decoder enforces while parsing, so that hostile input costs
/// at most linear time and bounded memory.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most arrays/structs nested inside one another; a top-level array is
    /// depth 1. Default 32, far beyond anything Supervisor's API returns.
    pub max_depth: usize,
    /// Most elements (start tags) in one document. Default 200 000, about
    /// four times a `getAllProcessInfo` answer for 1 000 processes.
    pub max_elements: usize,
    /// Most bytes of decoded character data in one text node (a string, a
    /// name, base64 text, the whitespace between two tags). Default 32 MiB.
    pub max_string_bytes: usize,
    /// Most bytes of input. Default 64 MiB. A client that reads whole log
    /// files in one call (`readLog(0, 0)`) may need to raise this and
    /// `max_string_bytes`.
    pub max_input_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 32,
            max_elements: 200_000,
            max_string_bytes: 32 << 20,
            max_input_bytes: 64 << 20,
        }
    }
}

/// Longest element or entity name an error message repeats.
const NAME_LIMIT: usize = 32;

/// Decodes a `<methodCall>`. A missing `<params>` means no parameters.
pub fn decode_call(xml: &[u8], limits: &Limits) -> Result<MethodCall, DecodeError> {
    let doc = prepare(xml, limits)?;
    let mut lx = Lexer::new(&doc, limits);
    lx.expect_start(Tag::MethodCall, "document", "<methodCall>")?;
    let name = match lx.next()? {
        Token::Start(Tag::MethodName) => {
            lx.require_ws("methodCall")?;
            lx.text_element()?
        }
        Token::Start(Tag::Params) | Token::End => return Err(DecodeError::MissingMethodName),
        other => return Err(lx.unexpected(other, "<methodName>")),
    };
    let params = match lx.next()? {
        Token::Start(Tag::Params) => {
            lx.require_ws("methodCall")?;
            let params = parse_params(&mut lx)?;
            lx.expect_end("methodCall", "</methodCall>")?;
            params
        }
        Token::End => {
            lx.require_ws("methodCall")?;
            Vec::new()
        }
        other => return Err(lx.unexpected(other, "<params> or </methodCall>")),
    };
    lx.expect_eof()?;
    Ok(MethodCall { name, params })
}

/// Decodes a `<methodResponse>`: exactly one param, or a fault.
pub fn decode_response(xml: &[u8], limits: &Limits) -> Result<Response, DecodeError> {
    let doc = prepare(xml, limits)?;
    let mut lx = Lexer::new(&doc, limits);
    lx.expect_start(Tag::MethodResponse, "document", "<methodResponse>")?;
    let response = match lx.next()? {
        Token::Start(Tag::Params) => {
            lx.require_ws("methodResponse")?;
            let mut params = parse_params(&mut lx)?;
            if params.len() != 1 {
                return Err(DecodeError::ResponseParams {
                    count: params.len(),
                });
            }
            Ok(params.remove(0))
        }
        Token::Start(Tag::Fault) => {
            lx.require_ws("methodResponse")?;
            lx.expect_start(Tag::Value, "fault", "<value>")?;
            let value = parse_value(&mut lx)?;
            lx.expect_end("fault", "</fault>")?;
            Err(fault_from_value(value)?)
        }
        other => return Err(lx.unexpected(other, "<params> or <fault>")),
    };
    lx.expect_end("methodResponse", "</methodResponse>")?;
    lx.expect_eof()?;
    Ok(response)
}

/// Checks the size, drops a UTF-8 byte-order mark and turns the bytes into
/// text according to the XML declaration (UTF-8 unless it says Latin-1).
fn prepare<'a>(xml: &'a [u8], limits: &Limits) -> Result<Cow<'a, str>, DecodeError> {
    if xml.len() > limits.max_input_bytes {
        return Err(DecodeError::InputTooLarge {
            size: xml.len(),
            limit: limits.max_input_bytes,
        });
    }
    let xml = xml.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(xml);
    if declares_latin1(xml)? {
        // Every byte is the code point of the same number in ISO-8859-1.
        return Ok(Cow::Owned(xml.iter().map(|&b| char::from(b)).collect()));
    }
    std::str::from_utf8(xml)
        .map(Cow::Borrowed)
        .map_err(|e| DecodeError::InvalidUtf8 {
            position: e.valid_up_to(),
        })
}

/// Reads the encoding named by a leading `<?xml ...?>`. Python's expat
/// honours it, so a Latin-1 document is transcoded rather than refused;
/// encodings other than UTF-8, ASCII and Latin-1 are refused.
fn declares_latin1(xml: &[u8]) -> Result<bool, DecodeError> {
    if !xml.starts_with(b"<?xml") {
        return Ok(false);
    }
    let head = &xml[..xml.len().min(256)];
    let Some(end) = head.windows(2).position(|w| w == b"?>") else {
        return Ok(false);
    };
    let Ok(decl) = std::str::from_utf8(&head[..end + 2]) else {
        return Ok(false);
    };
    let Ok(Event::Decl(decl)) = Reader::from_str(decl).read_event() else {
        // Not a declaration after all (e.g. `<?xml-stylesheet?>`), or a
        // broken one: the main parse reports it.
        return Ok(false);
    };
    let Some(Ok(name)) = decl.encoding() else {
        return Ok(false);
    };
    match name.to_ascii_lowercase().as_str() {
        "utf-8" | "utf8" | "us-ascii" | "ascii" => Ok(false),
        "iso-8859-1" | "iso8859-1" | "latin-1" | "latin1" | "l1" => Ok(true),
        _ => Err(DecodeError::UnsupportedEncoding {
            name: truncate(&name),
        }),
    }
}

fn truncate(name: &str) -> String {
    name.chars().take(NAME_LIMIT).collect()
}

#[cfg(test)]
mod tests;
