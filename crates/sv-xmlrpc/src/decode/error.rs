//! Why a document was refused, and quick-xml's errors mapped onto that
//! without repeating any of the document.

/// Why a document was refused. Messages name at most a short element or
/// entity name (cut to 32 characters) and byte offsets, never the document
/// itself, so they are safe to log or to put in a fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The document is bigger than
    /// [`Limits::max_input_bytes`](super::Limits::max_input_bytes).
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
    /// Arrays and structs nested deeper than
    /// [`Limits::max_depth`](super::Limits::max_depth).
    #[error("arrays/structs nested deeper than {limit}")]
    TooDeep {
        /// The limit it broke.
        limit: usize,
    },
    /// More elements than
    /// [`Limits::max_elements`](super::Limits::max_elements).
    #[error("more than {limit} elements")]
    TooManyElements {
        /// The limit it broke.
        limit: usize,
    },
    /// One text value longer than
    /// [`Limits::max_string_bytes`](super::Limits::max_string_bytes).
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

pub(super) fn xml_error(error: &quick_xml::Error, position: u64) -> DecodeError {
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
