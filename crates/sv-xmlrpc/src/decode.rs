//! Decoder for `<methodCall>` and `<methodResponse>` documents.
//!
//! Two layers: a [`Lexer`] over quick-xml's pull reader that turns the
//! document into start tags, end tags and the character data before each
//! (resolving the predefined entities and character references, refusing
//! everything else and enforcing the limits), and a grammar on top that
//! builds values without recursion, so that the depth limit, not the
//! thread's stack, bounds nesting.

use std::borrow::Cow;
use std::collections::HashMap;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use quick_xml::events::{BytesRef, Event};
use quick_xml::reader::Reader;

use crate::encode::is_xml_char;
use crate::value::{Fault, MethodCall, Response, Value};

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

/// Why a document was refused. Messages name at most a short element or
/// entity name (cut to 32 characters) and byte offsets, never the document
/// itself, so they are safe to log or to put in a fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The document is bigger than [`Limits::max_input_bytes`].
    #[error("document is {size} bytes, over the limit of {limit}")]
    InputTooLarge {
        /// The document's length in bytes.
        size: usize,
        /// The limit it broke.
        limit: usize,
    },
    /// The bytes are not UTF-8 (and no declaration says Latin-1).
    #[error("document is not valid UTF-8 (byte {position})")]
    InvalidUtf8 {
        /// Offset of the first invalid byte.
        position: usize,
    },
    /// The XML declaration names an encoding other than UTF-8, ASCII or
    /// Latin-1.
    #[error("unsupported document encoding {name:?}")]
    UnsupportedEncoding {
        /// The declared encoding, cut to a short length.
        name: String,
    },
    /// quick-xml could not read the markup.
    #[error("malformed XML at byte {position}: {reason}")]
    Syntax {
        /// Where the reader stopped.
        position: u64,
        /// What it found wrong, in a few words.
        reason: &'static str,
    },
    /// A `<!DOCTYPE>`: refused outright so no entity can be declared.
    #[error("DOCTYPE declarations are not allowed")]
    Doctype,
    /// An `<?xml …?>` declaration that is not the document's first event.
    #[error("XML declaration not at the start of the document")]
    MisplacedDeclaration,
    /// An entity other than the five XML predefines.
    #[error(
        "entity &{name}; is not allowed (only the five predefined entities and character references are)"
    )]
    UnknownEntity {
        /// The entity's name, cut to a short length.
        name: String,
    },
    /// A `&#…;` reference that is not a number or not a character.
    #[error("invalid character reference at byte {position}")]
    InvalidCharRef {
        /// Where the reference starts.
        position: u64,
    },
    /// A character XML 1.0 forbids (such as most C0 controls).
    #[error("character U+{code:04X} is not allowed in XML 1.0 (byte {position})")]
    IllegalChar {
        /// The code point.
        code: u32,
        /// Where it appears.
        position: u64,
    },
    /// Arrays and structs nested deeper than [`Limits::max_depth`].
    #[error("arrays/structs nested deeper than {limit}")]
    TooDeep {
        /// The limit it broke.
        limit: usize,
    },
    /// More elements than [`Limits::max_elements`].
    #[error("more than {limit} elements")]
    TooManyElements {
        /// The limit it broke.
        limit: usize,
    },
    /// One text value longer than [`Limits::max_string_bytes`].
    #[error("text longer than {limit} bytes")]
    StringTooLong {
        /// The limit it broke.
        limit: usize,
    },
    /// An element XML-RPC does not have.
    #[error("unknown element <{name}> at byte {position}")]
    UnknownElement {
        /// The element's name, cut to a short length.
        name: String,
        /// Where its start tag is.
        position: u64,
    },
    /// A known element where the grammar wants another.
    #[error("unexpected <{found}> at byte {position}, expected {expected}")]
    UnexpectedElement {
        /// The element found.
        found: &'static str,
        /// What the grammar allows there.
        expected: &'static str,
        /// Where its start tag is.
        position: u64,
    },
    /// An end tag where the grammar wants something else.
    #[error("unexpected end tag at byte {position}, expected {expected}")]
    UnexpectedEnd {
        /// What the grammar allows there.
        expected: &'static str,
        /// Where the end tag is.
        position: u64,
    },
    /// Non-blank text inside an element that holds only elements.
    #[error("unexpected text in <{element}> at byte {position}")]
    UnexpectedText {
        /// The enclosing element.
        element: &'static str,
        /// Where the text is.
        position: u64,
    },
    /// The document stops before its root element is closed.
    #[error("document ends early")]
    UnexpectedEof,
    /// Anything but blanks, comments or processing instructions after the
    /// root element.
    #[error("content after the root element at byte {position}")]
    TrailingContent {
        /// Where the extra content starts.
        position: u64,
    },
    /// A scalar whose text does not parse as its type (`<int>x</int>`).
    #[error("invalid <{tag}> value: {reason}")]
    InvalidScalar {
        /// The scalar's element name.
        tag: &'static str,
        /// Why its text was refused.
        reason: &'static str,
    },
    /// A `<methodCall>` without `<methodName>`.
    #[error("no <methodName> in method call")]
    MissingMethodName,
    /// A `<methodResponse>` whose `<params>` does not hold exactly one value.
    #[error("response has {count} params, expected exactly one")]
    ResponseParams {
        /// How many it holds.
        count: usize,
    },
    /// A `<fault>` that is not a struct of `faultCode` and `faultString`.
    #[error("invalid fault: {reason}")]
    InvalidFault {
        /// What is missing or mistyped.
        reason: &'static str,
    },
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

/// The elements XML-RPC knows. Anything else is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
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
    fn from_local_name(name: &str) -> Option<Tag> {
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

    fn name(self) -> &'static str {
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
enum Token {
    Start(Tag),
    End,
    Eof,
}

/// Markup tokens with the character data that precedes each in `text`.
struct Lexer<'a> {
    reader: Reader<&'a [u8]>,
    limits: &'a Limits,
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
    fn new(doc: &'a str, limits: &'a Limits) -> Self {
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

    fn next(&mut self) -> Result<Token, DecodeError> {
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

    fn start(&mut self, local_name: &str) -> Result<Token, DecodeError> {
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

    fn push_text(&mut self, text: &str) -> Result<(), DecodeError> {
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

    fn push_reference(&mut self, reference: &BytesRef<'_>) -> Result<(), DecodeError> {
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

    fn reserve(&mut self, more: usize) -> Result<(), DecodeError> {
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

    fn take_text(&mut self) -> String {
        std::mem::take(&mut self.text)
    }

    /// Only whitespace may separate structural elements (Python ignores
    /// any text there; stray text is more likely a broken client).
    fn require_ws(&self, element: &'static str) -> Result<(), DecodeError> {
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

    fn unexpected(&self, token: Token, expected: &'static str) -> DecodeError {
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
    fn expect_start(
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
    fn expect_end(
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
    fn text_element(&mut self) -> Result<String, DecodeError> {
        match self.next()? {
            Token::End => Ok(self.take_text()),
            other => Err(self.unexpected(other, "text")),
        }
    }

    fn expect_eof(&mut self) -> Result<(), DecodeError> {
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

fn xml_error(error: &quick_xml::Error, position: u64) -> DecodeError {
    use quick_xml::errors::{IllFormedError, SyntaxError};
    // quick-xml's own messages may quote names or text of any length, so
    // only a fixed description is kept.
    let reason = match error {
        quick_xml::Error::Syntax(syntax) => match syntax {
            SyntaxError::InvalidBangMarkup => "unknown markup after `<!`",
            SyntaxError::UnclosedPI => "unclosed processing instruction",
            SyntaxError::UnclosedXmlDecl => "unclosed XML declaration",
            SyntaxError::UnclosedComment => "unclosed comment",
            SyntaxError::UnclosedDoctype => "unclosed DOCTYPE",
            SyntaxError::UnclosedCData => "unclosed CDATA section",
            SyntaxError::UnclosedTag => "unclosed tag",
            SyntaxError::UnclosedSingleQuotedAttributeValue
            | SyntaxError::UnclosedDoubleQuotedAttributeValue => "unclosed attribute value",
        },
        quick_xml::Error::IllFormed(ill) => match ill {
            IllFormedError::MissingDeclVersion(_) => "XML declaration without a version",
            IllFormedError::UnknownVersion => "unknown XML version",
            IllFormedError::MissingDoctypeName => "DOCTYPE without a name",
            IllFormedError::MissingEndTag(_) => "element not closed",
            IllFormedError::UnmatchedEndTag(_) => "end tag without a start tag",
            IllFormedError::MismatchedEndTag { .. } => "end tag does not match its start tag",
            IllFormedError::DoubleHyphenInComment => "`--` inside a comment",
            IllFormedError::UnclosedReference => "`&` without a reference",
        },
        quick_xml::Error::Escape(_) => "invalid reference",
        quick_xml::Error::InvalidAttr(_) => "invalid attribute",
        quick_xml::Error::Encoding(_) => "invalid encoding",
        quick_xml::Error::Io(_) => "read error",
        quick_xml::Error::Namespace(_) => "namespace error",
    };
    DecodeError::Syntax { position, reason }
}

/// Reads `<param><value>…</value></param>`* up to `</params>`.
fn parse_params(lx: &mut Lexer<'_>) -> Result<Vec<Value>, DecodeError> {
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
enum Frame {
    Array(Vec<Value>),
    Struct(StructBuilder),
}

/// Struct members in document order. A repeated name keeps its first
/// position and takes the last value, exactly as building a Python dict
/// would; the index makes that linear for large structs.
#[derive(Default)]
struct StructBuilder {
    members: Vec<(String, Value)>,
    index: HashMap<String, usize>,
    pending_name: String,
}

impl StructBuilder {
    fn insert(&mut self, value: Value) {
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
fn parse_value(lx: &mut Lexer<'_>) -> Result<Value, DecodeError> {
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

/// Converts a scalar element's text the way Python's `xmlrpc.client` does.
fn scalar(tag: Tag, text: String) -> Result<Value, DecodeError> {
    let invalid = |reason| DecodeError::InvalidScalar {
        tag: tag.name(),
        reason,
    };
    Ok(match tag {
        Tag::Int => {
            let n = parse_python_int(&text).map_err(invalid)?;
            Value::Int(i32::try_from(n).map_err(|_| invalid("out of the 32-bit range"))?)
        }
        Tag::I8 => Value::I8(parse_python_int(&text).map_err(invalid)?),
        // Python takes exactly "0" or "1"; surrounding whitespace is
        // forgiven here since it cannot mean anything else.
        Tag::Boolean => match text.trim() {
            "0" => Value::Bool(false),
            "1" => Value::Bool(true),
            _ => return Err(invalid("not 0 or 1")),
        },
        Tag::Double => Value::Double(parse_python_float(&text).map_err(invalid)?),
        // Python's DateTime.decode strips the text.
        Tag::DateTime => Value::DateTime(text.trim().to_owned()),
        Tag::Base64 => Value::Base64(decode_base64(&text).map_err(|_| invalid("not base64"))?),
        _ => Value::String(text),
    })
}

/// Python's `int(text)` for base 10: surrounding whitespace, a sign, and
/// digits with single underscores between them.
fn parse_python_int(text: &str) -> Result<i64, &'static str> {
    let trimmed = text.trim();
    let (negative, digits) = match trimmed.as_bytes().first() {
        Some(b'-') => (true, &trimmed[1..]),
        Some(b'+') => (false, &trimmed[1..]),
        _ => (false, trimmed),
    };
    let digits = python_digits(digits).ok_or("not an integer")?;
    let mut magnitude: i128 = 0;
    for d in digits.bytes() {
        magnitude = magnitude * 10 + i128::from(d - b'0');
        if magnitude > 1 << 63 {
            return Err("out of the 64-bit range");
        }
    }
    let n = if negative { -magnitude } else { magnitude };
    i64::try_from(n).map_err(|_| "out of the 64-bit range")
}

/// Removes the underscores Python allows between digits, refusing empty
/// input, non-digits, and underscores elsewhere.
fn python_digits(text: &str) -> Option<Cow<'_, str>> {
    let bytes = text.as_bytes();
    if bytes.is_empty() || !bytes.iter().all(|b| b.is_ascii_digit() || *b == b'_') {
        return None;
    }
    strip_underscores(text)
}

/// Python's `float(text)`: surrounding whitespace, `inf`/`nan` in any case,
/// and underscores between digits.
fn parse_python_float(text: &str) -> Result<f64, &'static str> {
    let cleaned = strip_underscores(text.trim()).ok_or("not a number")?;
    // Once underscores are gone, Rust's grammar is Python's: a sign, `.5`,
    // `5.`, exponents, `inf`, `infinity` and `nan` in any case.
    cleaned.parse::<f64>().map_err(|_| "not a number")
}

/// Drops each `_` that sits between two ASCII digits; `None` if any other
/// underscore is present.
fn strip_underscores(text: &str) -> Option<Cow<'_, str>> {
    if !text.contains('_') {
        return Some(Cow::Borrowed(text));
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.char_indices() {
        if c == '_' {
            let before = i.checked_sub(1).and_then(|j| bytes.get(j));
            let after = bytes.get(i + 1);
            match (before, after) {
                (Some(b), Some(a)) if b.is_ascii_digit() && a.is_ascii_digit() => continue,
                _ => return None,
            }
        }
        out.push(c);
    }
    Some(Cow::Owned(out))
}

/// Base64 as Python's `base64.decodebytes` reads it from XML-RPC: line
/// breaks and other whitespace ignored, padding required, stray bits in
/// the last character tolerated.
fn decode_base64(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    const ENGINE: GeneralPurpose = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
    );
    let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    ENGINE.decode(compact)
}

/// A fault is a struct with an integer `faultCode` and a string
/// `faultString`; other members are ignored.
fn fault_from_value(value: Value) -> Result<Fault, DecodeError> {
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

#[cfg(test)]
mod tests;
