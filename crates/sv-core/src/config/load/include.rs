//! `[include] files=`: the glob patterns, relative to the main file's
//! directory, read in sorted order into the same document, with literal
//! `%(here)s` rewritten to each file's own directory.

use super::Loader;
use crate::config::datatypes as dt;
use crate::pyfmt::Value;
use crate::pypath;

impl Loader<'_> {
    /// Supervisor's `expand_here`: literal `%(here)s` text becomes `dir` in
    /// every section (including values a section inherits from `[DEFAULT]`).
    pub(super) fn expand_here(&mut self, dir: &str) {
        const HERE: &str = "%(here)s";
        self.section_scans.set(self.section_scans.get() + 1);
        let names: Vec<String> = self.doc.sections().map(|s| s.name.clone()).collect();
        for section in names {
            let changed: Vec<sv_ini::Entry> = self
                .doc
                .items(&section)
                .into_iter()
                .filter(|e| e.value.contains(HERE))
                .map(|e| sv_ini::Entry {
                    value: e.value.replace(HERE, dir),
                    ..e.clone()
                })
                .collect();
            for entry in changed {
                // Like configparser's set(): a value inherited from
                // [DEFAULT] becomes the section's own.
                self.doc.insert(&section, entry);
            }
        }
    }

    pub(super) fn read_includes(&mut self) {
        if !self.doc.has_section("include") {
            return;
        }
        let here = self.here.clone();
        self.expand_here(&here);
        let Some((files, loc)) = self.raw("include", "files") else {
            self.section_error(
                "include",
                ".ini file has [include] section, but no files setting".to_string(),
            );
            return;
        };
        let scope = self.scope(&[
            ("here", Value::Str(self.here.clone())),
            ("host_node_name", Value::Str(self.host_node_name.clone())),
        ]);
        let files = match Self::expand(&files, &scope, "include.files") {
            Ok(files) => files,
            Err(message) => {
                self.error(&loc, "include", Some("files"), message);
                return;
            }
        };
        let base = pypath::dirname(&pypath::abspath(&self.cwd, &self.config_file)).to_string();
        for pattern in files.split(dt::is_py_space).filter(|p| !p.is_empty()) {
            let pattern = pypath::join(&base, pattern);
            let mut matches = self.host.glob(&pattern);
            if matches.is_empty() {
                self.warnings
                    .push(format!("No file matches via include \"{pattern}\""));
                continue;
            }
            // Python sorts whole path strings; code point order is byte order in UTF-8.
            matches.sort();
            for filename in matches {
                self.infos
                    .push(format!("Included extra file \"{filename}\" during parsing"));
                let text = match self.host.read_to_string(&filename) {
                    Ok(text) => text,
                    Err(e) => {
                        self.error(
                            &loc,
                            "include",
                            Some("files"),
                            format!("could not read included file {filename}: {e}"),
                        );
                        continue;
                    }
                };
                self.included_files.push(filename.clone());
                match self.doc.read_str(&text, &filename) {
                    Ok(()) => {
                        let dir = pypath::abspath(&self.cwd, pypath::dirname(&filename));
                        self.expand_here(&dir);
                    }
                    Err(e) => self.parse_error(&e),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::load::testkit::*;

    #[test]
    fn includes_are_read_sorted_with_their_own_here() {
        let host = MemHost::new()
            .file(
                "/etc/sv.conf",
                "[supervisord]\n[include]\nfiles=conf.d/*.ini missing/*.ini\n",
            )
            .file("/etc/conf.d/b.ini", "[program:b]\ncommand=%(here)s/b\n")
            .file("/etc/conf.d/a.ini", "[program:a]\ncommand=a\n")
            .file("/etc/conf.d/.hidden.ini", "[program:h]\ncommand=h\n");
        let config = load(&host, "/etc/sv.conf", &CliOverrides::default()).unwrap();
        assert_eq!(
            config.included_files,
            ["/etc/conf.d/a.ini", "/etc/conf.d/b.ini"]
        );
        assert_eq!(config.groups[1].processes[0].command, "/etc/conf.d/b");
        assert_eq!(
            config.warnings,
            ["No file matches via include \"/etc/missing/*.ini\""]
        );
        assert_eq!(
            config.infos,
            [
                "Included extra file \"/etc/conf.d/a.ini\" during parsing",
                "Included extra file \"/etc/conf.d/b.ini\" during parsing"
            ]
        );
    }

    #[test]
    fn include_without_files_and_bad_included_file() {
        let errs = errors("[supervisord]\n[include]\n");
        assert!(errs[0].contains(".ini file has [include] section, but no files setting"));
        let host = MemHost::new()
            .file("/etc/sv.conf", "[supervisord]\n[include]\nfiles=x.ini\n")
            .file("/etc/x.ini", "[program:a]\njunk line\n");
        let err = load(&host, "/etc/sv.conf", &CliOverrides::default()).unwrap_err();
        assert!(err.to_string().starts_with("/etc/x.ini:2: "), "{err}");
    }
}
