//! Reading one option: the raw value with its location (falling back to
//! `[DEFAULT]`), Supervisor's `%(name)s` expansion against a scope, the
//! conversion to a typed value, and recording a located error when any
//! step fails. Every section reader goes through these.

use super::{ConfigError, Loader, Loc, Scope};
use crate::pyfmt::{self, Value, py_repr_str};
use crate::pypath;

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
                file: s.file.clone(),
                line: s.line,
            },
            None => Loc {
                file: self.config_file.clone(),
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
            file: Some(loc.file.clone()),
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
        let mut scope = self.env_expansions.clone();
        for (k, v) in extra {
            scope.insert((*k).to_string(), v.clone());
        }
        scope
    }

    /// Supervisor's `expand()`: Python `%` against the scope.
    pub(super) fn expand(template: &str, scope: &Scope, name: &str) -> Result<String, String> {
        pyfmt::format(template, &|key: &str| scope.get(key).cloned()).map_err(|e| match e {
            pyfmt::FormatError::UnknownName(key) => {
                let available: Vec<&str> = scope.keys().map(String::as_str).collect();
                format!(
                    "Format string {} for {} contains names ({}) which cannot be expanded. Available names: {}",
                    py_repr_str(template),
                    py_repr_str(name),
                    py_repr_str(&key),
                    available.join(", ")
                )
            }
            pyfmt::FormatError::Bad(why) => format!(
                "Format string {} for {} is badly formatted: {why}",
                py_repr_str(template),
                py_repr_str(name)
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
                    file: e.file.clone(),
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
        let (value, loc) = match self.raw(section, key) {
            Some(found) => found,
            None => match default {
                Some(d) => (d.to_string(), self.section_loc(section)),
                None => return Ok(None),
            },
        };
        match Self::expand(&value, scope, &format!("{section}.{key}")) {
            Ok(expanded) => Ok(Some((expanded, loc))),
            Err(message) => {
                self.error(&loc, section, Some(key), message);
                Err(())
            }
        }
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
        let (value, loc) = self.get(section, key, Some(default), scope).ok()??;
        match convert(&value) {
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
