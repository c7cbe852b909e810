//! The lexer: quick-xml's pull reader turned into start tags, end tags and
//! the character data before each, with the predefined entities and
//! character references resolved, everything else refused, and the
//! element, text and event limits enforced as it goes.

use quick_xml::events::{BytesRef, Event};
use quick_xml::reader::Reader;

use super::error::xml_error;
use super::{DecodeError, Limits, truncate};
use crate::encode::is_xml_char;

/// The elements XML-RPC knows. Anything else is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tag {
    MethodCall,
    MethodName,
    MethodResponse,
    Params,
    Param,
    Fault,
    Value,
    Int,
    I8,
    Boolean,
    String,
    Double,
    DateTime,
    Base64,
    Array,
    Data,
    Struct,
    Member,
    Name,
    Nil,
}

impl Tag {
    /// Maps a local name (any `prefix:` removed, as Python does) to a tag.
    pub(super) fn from_local_name(name: &str) -> Option<Tag> {
        Some(match name {
            "methodCall" => Tag::MethodCall,
            "methodName" => Tag::MethodName,
            "methodResponse" => Tag::MethodResponse,
            "params" => Tag::Params,
            "param" => Tag::Param,
            "fault" => Tag::Fault,
            "value" => Tag::Value,
            // Python's Unmarshaller reads all of these as int.
            "int" | "i4" | "i1" | "i2" => Tag::Int,
            "i8" | "biginteger" => Tag::I8,
            "boolean" => Tag::Boolean,
            "string" => Tag::String,
            "double" | "float" => Tag::Double,
            "dateTime.iso8601" => Tag::DateTime,
            "base64" => Tag::Base64,
            "array" => Tag::Array,
            "data" => Tag::Data,
            "struct" => Tag::Struct,
            "member" => Tag::Member,
            "name" => Tag::Name,
            "nil" => Tag::Nil,
            _ => return None,
        })
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            Tag::MethodCall => "methodCall",
            Tag::MethodName => "methodName",
            Tag::MethodResponse => "methodResponse",
            Tag::Params => "params",
            Tag::Param => "param",
            Tag::Fault => "fault",
            Tag::Value => "value",
            Tag::Int => "int",
            Tag::I8 => "i8",
            Tag::Boolean => "boolean",
            Tag::String => "string",
            Tag::Double => "double",
            Tag::DateTime => "dateTime.iso8601",
            Tag::Base64 => "base64",
            Tag::Array => "array",
            Tag::Data => "data",
            Tag::Struct => "struct",
            Tag::Member => "member",
            Tag::Name => "name",
            Tag::Nil => "nil",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Token {
    Start(Tag),
    End,
    Eof,
}

/// Markup tokens with the character data that precedes each in `text`.
pub(super) struct Lexer<'a> {
    reader: Reader<&'a [u8]>,
    pub(super) limits: &'a Limits,
    /// Character data (entities resolved, line ends normalised) between
    /// the previous token and the current one.
    text: String,
    elements: usize,
    events: usize,
    /// Byte offset where the current token's event began.
    position: u64,
    /// Byte offset where `text` began.
    text_position: u64,
    /// An empty-element tag `<x/>` was returned as a start; its end is due.
    pending_end: bool,
}

impl<'a> Lexer<'a> {
    pub(super) fn new(doc: &'a str, limits: &'a Limits) -> Self {
        let mut reader = Reader::from_str(doc);
        let config = reader.config_mut();
        // expat rejects `--` in comments; so do we.
        config.check_comments = true;
        config.check_end_names = true;
        Lexer {
            reader,
            limits,
            text: String::new(),
            elements: 0,
            events: 0,
            position: 0,
            text_position: 0,
            pending_end: false,
        }
    }

    pub(super) fn next(&mut self) -> Result<Token, DecodeError> {
        self.text.clear();
        if self.pending_end {
            self.pending_end = false;
            return Ok(Token::End);
        }
        loop {
            self.position = self.reader.buffer_position();
            let event = self
                .reader
                .read_event()
                .map_err(|e| xml_error(&e, self.reader.error_position()))?;
            let first = self.events == 0;
            self.events += 1;
            match event {
                Event::Start(start) => return self.start(start.local_name().as_ref()),
                Event::Empty(start) => {
                    let token = self.start(start.local_name().as_ref())?;
                    self.pending_end = true;
                    return Ok(token);
                }
                Event::End(_) => return Ok(Token::End),
                Event::Text(text) => self.push_text(&text.xml10_content())?,
                Event::CData(cdata) => self.push_text(&cdata.xml10_content())?,
                Event::GeneralRef(reference) => self.push_reference(&reference)?,
                Event::Comment(_) | Event::PI(_) => {}
                Event::Decl(_) if first => {}
                Event::Decl(_) => return Err(DecodeError::MisplacedDeclaration),
                // A DTD is the door to entity expansion attacks; XML-RPC
                // never needs one.
                Event::DocType(_) => return Err(DecodeError::Doctype),
                Event::Eof => return Ok(Token::Eof),
            }
        }
    }

    pub(super) fn start(&mut self, local_name: &str) -> Result<Token, DecodeError> {
        self.elements += 1;
        if self.elements > self.limits.max_elements {
            return Err(DecodeError::TooManyElements {
                limit: self.limits.max_elements,
            });
        }
        match Tag::from_local_name(local_name) {
            Some(tag) => Ok(Token::Start(tag)),
            None => Err(DecodeError::UnknownElement {
                name: truncate(local_name),
                position: self.position,
            }),
        }
    }

    pub(super) fn push_text(&mut self, text: &str) -> Result<(), DecodeError> {
        if let Some(bad) = text.chars().find(|c| !is_xml_char(*c)) {
            return Err(DecodeError::IllegalChar {
                code: u32::from(bad),
                position: self.position,
            });
        }
        self.reserve(text.len())?;
        self.text.push_str(text);
        Ok(())
    }

    pub(super) fn push_reference(&mut self, reference: &BytesRef<'_>) -> Result<(), DecodeError> {
        let c = match reference.resolve_char_ref() {
            Ok(Some(c)) if is_xml_char(c) => c,
            Ok(Some(_)) | Err(_) => {
                return Err(DecodeError::InvalidCharRef {
                    position: self.position,
                });
            }
            Ok(None) => match &**reference {
                "lt" => '<',
                "gt" => '>',
                "amp" => '&',
                "apos" => '\'',
                "quot" => '"',
                other => {
                    return Err(DecodeError::UnknownEntity {
                        name: truncate(other),
                    });
                }
            },
        };
        self.reserve(c.len_utf8())?;
        self.text.push(c);
        Ok(())
    }

    pub(super) fn reserve(&mut self, more: usize) -> Result<(), DecodeError> {
        if self.text.is_empty() {
            self.text_position = self.position;
        }
        if self.text.len().saturating_add(more) > self.limits.max_string_bytes {
            return Err(DecodeError::StringTooLong {
                limit: self.limits.max_string_bytes,
            });
        }
        Ok(())
    }

    pub(super) fn take_text(&mut self) -> String {
        std::mem::take(&mut self.text)
    }

    /// Only whitespace may separate structural elements (Python ignores
    /// any text there; stray text is more likely a broken client).
    pub(super) fn require_ws(&self, element: &'static str) -> Result<(), DecodeError> {
        if self
            .text
            .chars()
            .all(|c| matches!(c, ' ' | '\t' | '\n' | '\r'))
        {
            Ok(())
        } else {
            Err(DecodeError::UnexpectedText {
                element,
                position: self.text_position,
            })
        }
    }

    pub(super) fn unexpected(&self, token: Token, expected: &'static str) -> DecodeError {
        match token {
            Token::Start(tag) => DecodeError::UnexpectedElement {
                found: tag.name(),
                expected,
                position: self.position,
            },
            Token::End => DecodeError::UnexpectedEnd {
                expected,
                position: self.position,
            },
            Token::Eof => DecodeError::UnexpectedEof,
        }
    }

    /// Reads `<tag>` after optional whitespace inside `parent`.
    pub(super) fn expect_start(
        &mut self,
        tag: Tag,
        parent: &'static str,
        expected: &'static str,
    ) -> Result<(), DecodeError> {
        let token = self.next()?;
        self.require_ws(parent)?;
        if token == Token::Start(tag) {
            Ok(())
        } else {
            Err(self.unexpected(token, expected))
        }
    }

    /// Reads the end tag of `element` after optional whitespace.
    pub(super) fn expect_end(
        &mut self,
        element: &'static str,
        expected: &'static str,
    ) -> Result<(), DecodeError> {
        let token = self.next()?;
        self.require_ws(element)?;
        if token == Token::End {
            Ok(())
        } else {
            Err(self.unexpected(token, expected))
        }
    }

    /// Reads the text of a text-only element whose start tag was just read,
    /// and its end tag.
    pub(super) fn text_element(&mut self) -> Result<String, DecodeError> {
        match self.next()? {
            Token::End => Ok(self.take_text()),
            other => Err(self.unexpected(other, "text")),
        }
    }

    pub(super) fn expect_eof(&mut self) -> Result<(), DecodeError> {
        let token = self.next()?;
        self.require_ws("document")?;
        match token {
            Token::Eof => Ok(()),
            _ => Err(DecodeError::TrailingContent {
                position: self.position,
            }),
        }
    }
}
