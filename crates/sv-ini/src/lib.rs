//! `sv-ini` owns the reading of Supervisor's INI configuration files.
//!
//! It is a pure (no I/O) reimplementation of exactly what CPython 3.11 does with
//! `configparser.RawConfigParser(inline_comment_prefixes=(';', '#'), strict=False)`, which is
//! how Supervisor reads `supervisord.conf` and its `[include]` files. Everything else about
//! configparser is at its defaults: comment prefixes `#`/`;`, delimiters `=`/`:`, blank lines
//! allowed inside values, no valueless options, `[DEFAULT]` as the defaults section, keys
//! lowercased with Python's `str.lower`, and no interpolation.
//!
//! The crate owns: splitting text into lines the way Python's universal-newline file reading
//! does, comment stripping, section headers, `key = value` lines, continuation lines, merging
//! of repeated sections and keys (also across several files read into one [`Document`]), the
//! `[DEFAULT]` fallback, and CPython's error reporting (which lines are rejected, and what of
//! the file is kept when that happens). It also records where each section and key came from,
//! which CPython does not, so that callers can point at the offending line.
//!
//! Interpreting values (`%(here)s`, `%(ENV_x)s`, booleans, sizes, ...) is the caller's job.
//!
//! ```
//! let mut doc = sv_ini::Document::new();
//! doc.read_str("[program:cat]\nCommand = /bin/cat ; a comment\n", "/etc/supervisord.conf")?;
//! let section = doc.section("program:cat").expect("section exists");
//! assert_eq!(section.get("command").map(|e| e.value.as_str()), Some("/bin/cat"));
//! # Ok::<(), sv_ini::ParseError>(())
//! ```

#![warn(missing_docs)]
// A parser reports through its return values; it never prints.
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod error;
mod hash;
mod parse;
mod pystr;

use std::sync::Arc;

use hash::Index;

pub use error::{LineError, LineErrorKind, ParseError};
pub use pystr::{
    is_python_whitespace, py_ascii_str, py_repr_str, python_lower, python_lstrip, python_rstrip,
    python_strip,
};

/// Up to this many keys a section is searched in place (see
/// `Section::by_key`).
const SMALL_SECTION: usize = 16;

/// The name of configparser's defaults section.
pub const DEFAULT_SECTION: &str = "DEFAULT";

/// The accumulated result of one or more reads, like one CPython parser object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    sections: Vec<Section>,
    by_name: Index,
    defaults: Section,
}

impl Default for Document {
    fn default() -> Self {
        Self::new()
    }
}

impl Document {
    /// An empty document: no sections, an empty `[DEFAULT]`.
    pub fn new() -> Self {
        Document {
            sections: Vec::new(),
            by_name: Index::default(),
            defaults: Section::new(DEFAULT_SECTION.to_owned(), Arc::from(""), 0),
        }
    }

    /// Parse `src` as if read from the file `file`, merging into this document like a second
    /// `parser.read(file)` call on the same CPython parser (sections merge, later keys win).
    /// The file that first introduced a section is remembered ([`Section::file`]).
    ///
    /// `src` is the decoded file content; `\r\n` and lone `\r` end lines just like `\n`, as in
    /// Python's universal-newline mode.
    ///
    /// On error the document keeps whatever CPython would have kept: nothing from this file
    /// for a missing section header, everything but the bad lines for other errors (note that
    /// CPython stores a line with an empty key, such as `=x`, under the key `""`).
    pub fn read_str(&mut self, src: &str, file: &str) -> Result<(), ParseError> {
        parse::read(self, src, file)
    }

    /// Sections in order of first appearance; `[DEFAULT]` is not among them.
    pub fn sections(&self) -> impl Iterator<Item = &Section> {
        self.sections.iter()
    }

    /// The section named exactly `name` (case-sensitive). `DEFAULT` is not a section here,
    /// as in configparser; use [`Document::defaults`].
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.by_name.get(name).map(|&i| &self.sections[i])
    }

    /// Where section `name` is among [`Document::sections`]' order, for
    /// [`Document::section_at`]: a reader that asks for one section many
    /// times in a row can keep the position instead of hashing the name
    /// each time. `None` for `DEFAULT` and unknown names.
    pub fn section_index(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// The section at `index` (from [`Document::section_index`]).
    pub fn section_at(&self, index: usize) -> Option<&Section> {
        self.sections.get(index)
    }

    /// configparser `has_section`: false for `DEFAULT`.
    pub fn has_section(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// The `[DEFAULT]` section (named `DEFAULT`). It always exists; until a `[DEFAULT]` header
    /// has been read its `file` is empty and its `line` is 0.
    pub fn defaults(&self) -> &Section {
        &self.defaults
    }

    /// configparser `get(section, key)`: the section's own entry, else the DEFAULT entry.
    /// `key` is lowercased here. `section` may be `DEFAULT`; an unknown section gives `None`
    /// (CPython raises `NoSectionError`).
    pub fn get(&self, section: &str, key: &str) -> Option<&Entry> {
        let key = lowered(key);
        if section == DEFAULT_SECTION {
            return self.defaults.get_exact(&key);
        }
        let own = self.section(section)?;
        own.get_exact(&key).or_else(|| self.default_entry(&key))
    }

    /// [`Document::get`] in a section already found: its own entry, else
    /// the DEFAULT one (one lookup of the section for many options).
    pub fn get_in<'a>(&'a self, own: &'a Section, key: &str) -> Option<&'a Entry> {
        let key = lowered(key);
        own.get_exact(&key).or_else(|| self.default_entry(&key))
    }

    /// The `[DEFAULT]` entry for `key` (lowercased); most documents have
    /// none, and most options asked for are absent: no lookup then.
    fn default_entry(&self, key: &str) -> Option<&Entry> {
        if self.defaults.entries.is_empty() {
            return None;
        }
        self.defaults.get_exact(key)
    }

    /// configparser `has_option(section, key)`, except that an empty `section` is not taken
    /// to mean `DEFAULT`.
    pub fn has_option(&self, section: &str, key: &str) -> bool {
        self.get(section, key).is_some()
    }

    /// configparser `options(section)`: section keys (in order) followed by DEFAULT keys not
    /// already present. Empty for an unknown section and for `DEFAULT` (CPython raises
    /// `NoSectionError` for both).
    pub fn options(&self, section: &str) -> Vec<&str> {
        let Some(own) = self.section(section) else {
            return Vec::new();
        };
        let mut keys: Vec<&str> = own.entries.iter().map(|e| e.key.as_str()).collect();
        keys.extend(
            self.defaults
                .entries
                .iter()
                .filter(|e| own.position(&e.key).is_none())
                .map(|e| e.key.as_str()),
        );
        keys
    }

    /// configparser `items(section, raw=True)`. Note the order differs from
    /// [`Document::options`]: DEFAULT keys come first (each with the section's value if the
    /// section overrides it), then the section's own remaining keys. For `DEFAULT` this is
    /// the defaults; for an unknown section it is empty (CPython raises `NoSectionError`).
    pub fn items(&self, section: &str) -> Vec<&Entry> {
        if section == DEFAULT_SECTION {
            return self.defaults.entries.iter().collect();
        }
        let Some(own) = self.section(section) else {
            return Vec::new();
        };
        let mut items: Vec<&Entry> = self
            .defaults
            .entries
            .iter()
            .map(|d| own.get_exact(&d.key).unwrap_or(d))
            .collect();
        items.extend(
            own.entries
                .iter()
                .filter(|e| self.defaults.position(&e.key).is_none()),
        );
        items
    }

    /// Replace the value of an existing key in a section (used for Supervisor's `%(here)s`
    /// substitution); `section` may be `DEFAULT`. No-op if the section or the section's own
    /// key is absent (a value inherited from DEFAULT is not copied; see [`Document::insert`]).
    pub fn set(&mut self, section: &str, key: &str, value: String) {
        let key = python_lower(key);
        if let Some(target) = self.section_mut(section)
            && let Some(entry) = target.get_exact_mut(&key)
        {
            entry.value = value;
        }
    }

    /// configparser `set(section, entry.key, entry.value)`: overwrite the section's own entry
    /// (keeping its position) or append a new one. The key is lowercased. Returns false, and
    /// does nothing, if the section does not exist (`DEFAULT` always does).
    pub fn insert(&mut self, section: &str, mut entry: Entry) -> bool {
        entry.key = python_lower(&entry.key);
        match self.section_mut(section) {
            Some(target) => {
                target.upsert(entry);
                true
            }
            None => false,
        }
    }

    fn section_mut(&mut self, name: &str) -> Option<&mut Section> {
        if name == DEFAULT_SECTION {
            return Some(&mut self.defaults);
        }
        let &i = self.by_name.get(name)?;
        self.sections.get_mut(i)
    }
}

/// One section: its entries in order of first appearance of each key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The header text between `[` and the last `]`, case and spaces preserved.
    pub name: String,
    /// The file whose header first introduced this section (shared by
    /// every section and entry read from it).
    pub file: Arc<str>,
    /// 1-based line of that header.
    pub line: usize,
    entries: Vec<Entry>,
    /// Positions by key, kept once the section has more than
    /// [`SMALL_SECTION`] keys; a small one (a program's, typically) is
    /// searched in place, which costs less than hashing the key.
    by_key: Index,
}

impl Section {
    fn new(name: String, file: Arc<str>, line: usize) -> Self {
        Section {
            name,
            file,
            line,
            entries: Vec::new(),
            by_key: Index::default(),
        }
    }

    /// The section's own entries (no DEFAULT fallback), in configparser's order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The section's own entry for `key` (lowercased here), without DEFAULT fallback.
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.get_exact(&lowered(key))
    }

    /// Where `key` (lowercased) is among the entries.
    fn position(&self, key: &str) -> Option<usize> {
        if self.entries.len() <= SMALL_SECTION {
            self.entries.iter().position(|e| e.key == key)
        } else {
            self.by_key.get(key).copied()
        }
    }

    fn get_exact(&self, key: &str) -> Option<&Entry> {
        self.position(key).map(|i| &self.entries[i])
    }

    fn get_exact_mut(&mut self, key: &str) -> Option<&mut Entry> {
        let i = self.position(key)?;
        self.entries.get_mut(i)
    }

    /// Python dict assignment: an existing key keeps its position. Returns the entry's index.
    fn upsert(&mut self, entry: Entry) -> usize {
        match self.position(&entry.key) {
            Some(i) => {
                self.entries[i] = entry;
                i
            }
            None => {
                let i = self.entries.len();
                if !self.by_key.is_empty() {
                    self.by_key.insert(entry.key.clone(), i);
                }
                self.entries.push(entry);
                if self.entries.len() == SMALL_SECTION + 1 {
                    self.by_key = self
                        .entries
                        .iter()
                        .enumerate()
                        .map(|(i, e)| (e.key.clone(), i))
                        .collect();
                }
                i
            }
        }
    }
}

/// `key` lowercased as configparser does; keys asked for are nearly always
/// lower-case ASCII already, and then are not copied.
fn lowered(key: &str) -> std::borrow::Cow<'_, str> {
    if key.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) {
        std::borrow::Cow::Borrowed(key)
    } else {
        std::borrow::Cow::Owned(python_lower(key))
    }
}

/// One `key = value` option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Lowercased key.
    pub key: String,
    /// The value as CPython holds it after reading: stripped, continuation lines joined with
    /// `\n`, inline comments removed, trailing blank lines dropped.
    pub value: String,
    /// The file of the line that last assigned this key (shared).
    pub file: Arc<str>,
    /// 1-based line of the key in that file.
    pub line: usize,
}

#[cfg(test)]
mod tests;
