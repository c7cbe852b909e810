//! XML-RPC codec: values, method calls, responses and faults. It knows
//! nothing of Supervisor; `sv-api` gives the values their meaning.
//!
//! This crate owns:
//!
//! * the value model ([`Value`], [`Fault`], [`MethodCall`], [`Response`]);
//! * a decoder ([`decode_call`], [`decode_response`]) built on quick-xml's
//!   pull reader, which accepts what Python's `xmlrpc.client` accepts
//!   (untyped `<value>text</value>`, `<i4>`/`<i8>`, `<nil/>`, missing
//!   `<params>`, whitespace between elements, `ex:`-style prefixes) and
//!   rejects everything that could make it slow or big: any `DOCTYPE`, any
//!   entity other than the five predefined ones, and documents over the
//!   [`Limits`] (input size, element count, text size, nesting depth);
//! * an encoder ([`encode_call`], [`encode_response`], and
//!   [`encode_response_with`], which writes an answer straight into its
//!   buffer through a [`ValueWriter`] with no [`Value`] tree) whose output is
//!   byte-identical to Python 3.11's `xmlrpc.client.dumps(...,
//!   allow_none=True)`, so Python clients and tools that compare bytes see
//!   no difference.
//!
//! # Deliberate differences from Python's output
//!
//! * Characters that XML 1.0 does not allow (C0 controls other than tab,
//!   LF and CR; U+FFFE; U+FFFF) are written as U+FFFD in strings, struct
//!   member names, fault strings, method names and dateTime text. Python
//!   writes them raw, which makes its own parser fail on the response
//!   (Supervisor bug: log text with ANSI escapes breaks `tail`). A character
//!   reference would not help: `&#27;` is just as illegal in XML 1.0.
//! * Method names and dateTime text are escaped like strings (Python writes
//!   them raw, producing malformed XML if they contain `&` or `<`), and an
//!   empty method name still gets its `<methodCall>` wrapper (Python
//!   silently drops the wrapper).
//! * [`Value::I8`] is written as `<value><i8>N</i8></value>\n`, laid out
//!   like `<int>`; Python never writes `<i8>` (it refuses integers outside
//!   the 32-bit range).
//!
//! # Carriage returns
//!
//! Like Python, the encoder escapes only `&`, `<` and `>` in text, so a
//! `\r` in a string is written raw. Every conforming XML parser (expat,
//! quick-xml, this decoder) normalises a raw `\r\n` or lone `\r` to `\n`
//! when reading, so such a string comes back with `\n` in place of `\r`.
//! This matches what a Python server sends, which is why it is kept.

#![warn(missing_docs)]
// A codec reports through its return values; it never prints.
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod decode;
mod encode;
mod value;

pub use decode::{DecodeError, Limits, decode_call, decode_response};
pub use encode::{
    StructWriter, ValueWriter, encode_call, encode_response, encode_response_with,
    python_float_repr,
};
pub use value::{Fault, MethodCall, Response, Value};
