//! Reading one option: the raw value with its location (falling back to
//! `[DEFAULT]`), Supervisor's `%(name)s` expansion against a scope, the
//! conversion to a typed value, and recording a located error when any
//! step fails. Every section reader goes through these.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use super::{ConfigError, Loader, Loc};
use crate::pyfmt::{self, Value, py_repr_str};
use crate::pypath;

/// Names visible to one `%(name)s` expansion: the `ENV_*` table, shared by
/// every scope of one load, under the scope's own names (the later of
/// which win, as dict assignment does). The table is shared, not copied:
/// copying it for every program was a fifth of loading 6000 programs.
#[derive(Debug, Clone)]
pub(super) struct Scope {
    env: Rc<BTreeMap<String, Value>>,
    own: Vec<(String, Value)>,
}

impl Scope {
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.own
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
            .or_else(|| self.env.get(key))
    }

    pub fn insert(&mut self, key: String, value: Value) {
        self.own.push((key, value));
    }

    /// A mark to [`Scope::truncate`] back to.
    pub fn mark(&self) -> usize {
        self.own.len()
    }

    /// Forget the names inserted since `mark` (one program's per-process
    /// names, before the next process's).
    pub fn truncate(&mut self, mark: usize) {
        self.own.truncate(mark);
    }

    /// Every visible name, sorted (for error messages).
    fn names(&self) -> Vec<&str> {
        let names: BTreeSet<&str> = self
            .env
            .keys()
            .map(String::as_str)
            .chain(self.own.iter().map(|(k, _)| k.as_str()))
            .collect();
        names.into_iter().collect()
    }
}

impl Loader<'_> {
    pub(super) fn parse_error(&mut self, e: &sv_ini::ParseError) {
        for line_error in &e.errors {
            let what = match line_error.kind {
                sv_ini::LineErrorKind::MissingSectionHeader => {
                    "File contains no section headers; this line comes before any [section]"
                }
                sv_ini::LineErrorKind::NoDelimiter => "line is not 'key = value' (no '=' or ':')",
                sv_ini::LineErrorKind::EmptyKey => "option line has an empty key",
            };
            self.errors.push(ConfigError {
                file: Some(e.file.clone()),
                line: Some(line_error.line),
                section: None,
                option: None,
                message: format!("{what}: {}", py_repr_str(&line_error.text)),
            });
        }
    }

    pub(super) fn section_loc(&self, section: &str) -> Loc {
        match self.doc.section(section) {
            Some(s) => Loc {
                file: std::sync::Arc::clone(&s.file),
                line: s.line,
            },
            None => Loc {
                file: std::sync::Arc::from(self.config_file.as_str()),
                line: 0,
            },
        }
    }

    pub(super) fn error(
        &mut self,
        loc: &Loc,
        section: &str,
        option: Option<&str>,
        message: String,
    ) {
        self.errors.push(ConfigError {
            file: Some(loc.file.to_string()),
            line: (loc.line > 0).then_some(loc.line),
            section: Some(section.to_string()),
            option: option.map(str::to_string),
            message,
        });
    }

    pub(super) fn section_error(&mut self, section: &str, message: String) {
        let loc = self.section_loc(section);
        self.error(&loc, section, None, message);
    }

    pub(super) fn scope(&self, extra: &[(&str, Value)]) -> Scope {
        Scope {
            env: Rc::clone(&self.env_expansions),
            own: extra
                .iter()
                .map(|(k, v)| ((*k).to_string(), v.clone()))
                .collect(),
        }
    }

    /// Supervisor's `expand()`: Python `%` against the scope.
    pub(super) fn expand(template: &str, scope: &Scope, name: &str) -> Result<String, String> {
        Self::expand_named(template, scope, || name.to_string())
    }

    /// [`Loader::expand`], naming the option (for errors) only if needed.
    fn expand_named(
        template: &str,
        scope: &Scope,
        name: impl FnOnce() -> String,
    ) -> Result<String, String> {
        Self::expand_cow(template, scope, name).map(Cow::into_owned)
    }

    /// [`Loader::expand_named`], giving back `template` itself when it has
    /// nothing to expand: Python's `%` returns such a string unchanged,
    /// whatever the mapping holds.
    fn expand_cow<'t>(
        template: &'t str,
        scope: &Scope,
        name: impl FnOnce() -> String,
    ) -> Result<Cow<'t, str>, String> {
        if !template.contains('%') {
            return Ok(Cow::Borrowed(template));
        }
        pyfmt::format(template, &|key: &str| scope.get(key).cloned())
            .map(Cow::Owned)
            .map_err(|e| match e {
            pyfmt::FormatError::UnknownName(key) => format!(
                "Format string {} for {} contains names ({}) which cannot be expanded. Available names: {}",
                py_repr_str(template),
                py_repr_str(&name()),
                py_repr_str(&key),
                scope.names().join(", ")
            ),
            pyfmt::FormatError::Bad(why) => format!(
                "Format string {} for {} is badly formatted: {why}",
                py_repr_str(template),
                py_repr_str(&name())
            ),
        })
    }

    /// The raw (unexpanded) value of an option and where it is, falling back
    /// to `[DEFAULT]` as configparser does.
    pub(super) fn raw(&self, section: &str, key: &str) -> Option<(String, Loc)> {
        self.doc.get(section, key).map(|e| {
            (
                e.value.clone(),
                Loc {
                    file: std::sync::Arc::clone(&e.file),
                    line: e.line,
                },
            )
        })
    }

    /// Supervisor's `saneget`: the option (or `default`) expanded in
    /// `scope`. `Ok(None)` when absent without a default; `Err(())` when the
    /// expansion failed (already recorded).
    pub(super) fn get(
        &mut self,
        section: &str,
        key: &str,
        default: Option<&str>,
        scope: &Scope,
    ) -> Result<Option<(String, Loc)>, ()> {
        let Some((expanded, loc)) = self.lookup(section, key, default, scope) else {
            return Ok(None);
        };
        match expanded {
            Ok(expanded) => Ok(Some((expanded.into_owned(), loc))),
            Err(message) => {
                self.error(&loc, section, Some(key), message);
                Err(())
            }
        }
    }

    /// The option (or `default`) expanded in `scope`, borrowed from the
    /// document when there was nothing to expand (most values), and where
    /// it is; `None` when absent without a default. Records nothing.
    fn lookup<'a>(
        &'a self,
        section: &str,
        key: &str,
        default: Option<&'a str>,
        scope: &Scope,
    ) -> Option<(Result<Cow<'a, str>, String>, Loc)> {
        let name = || format!("{section}.{key}");
        // The section is looked up once, for the option and for its
        // location when the default is used (the usual case).
        let own = self.section_cached(section);
        let entry = match own {
            Some(own) => self.doc.get_in(own, key),
            None => self.doc.get(section, key),
        };
        Some(match entry {
            Some(e) => {
                let loc = Loc {
                    file: std::sync::Arc::clone(&e.file),
                    line: e.line,
                };
                (Self::expand_cow(&e.value, scope, name), loc)
            }
            None => {
                let default = default?;
                let loc = match own {
                    Some(own) => Loc {
                        file: std::sync::Arc::clone(&own.file),
                        line: own.line,
                    },
                    None => self.section_loc(section),
                };
                (Self::expand_cow(default, scope, name), loc)
            }
        })
    }

    /// [`sv_ini::Document::section`], answered from `last_section` when the
    /// same section is asked for again.
    fn section_cached(&self, name: &str) -> Option<&sv_ini::Section> {
        let last = self.last_section.get().and_then(|i| self.doc.section_at(i));
        if let Some(section) = last.filter(|s| s.name == name) {
            return Some(section);
        }
        let index = self.doc.section_index(name)?;
        self.last_section.set(Some(index));
        self.doc.section_at(index)
    }

    /// `get` followed by a conversion; `None` when anything failed (recorded).
    pub(super) fn typed<T>(
        &mut self,
        section: &str,
        key: &str,
        default: &str,
        scope: &Scope,
        convert: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        // Converted from the borrowed text: no copy of the value.
        let (expanded, loc) = self.lookup(section, key, Some(default), scope)?;
        match expanded.and_then(|value| convert(&value)) {
            Ok(v) => Some(v),
            Err(message) => {
                self.error(&loc, section, Some(key), message);
                None
            }
        }
    }

    /// Like `typed`, but `None` (without error) when the option is absent.
    pub(super) fn typed_opt<T>(
        &mut self,
        section: &str,
        key: &str,
        scope: &Scope,
        convert: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ()> {
        let Some((value, loc)) = self.get(section, key, None, scope)? else {
            return Ok(None);
        };
        match convert(&value) {
            Ok(v) => Ok(Some(v)),
            Err(message) => {
                self.error(&loc, section, Some(key), message);
                Err(())
            }
        }
    }

    pub(super) fn section_names(&self, prefix: &str) -> Vec<String> {
        self.section_scans.set(self.section_scans.get() + 1);
        self.doc
            .sections()
            .filter(|s| s.name.starts_with(prefix))
            .map(|s| s.name.clone())
            .collect()
    }

    pub(super) fn normalize_path(&self, path: &str) -> String {
        let expanded = pypath::expanduser(path, &|u| self.host.home_dir(u));
        pypath::abspath(&self.cwd, &expanded)
    }
}
