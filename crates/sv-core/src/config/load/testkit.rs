//! The loader's test machine: an in-memory [`Host`] with a few files,
//! directories and users, and shorthands to load a config text and to list
//! its errors. The section tests beside each `load/` file use it; it
//! re-exports the config model so they need one import. Other crates'
//! tests and the fuzz targets reach [`MemHost`] through the `testkit`
//! feature.

use std::collections::BTreeMap;
use std::io;

pub(crate) use crate::config::*;

/// A machine made of a few files, directories and users (`root`, `www`;
/// group `wheel`), host name `box`, working directory `/srv`.
#[derive(Default)]
pub struct MemHost {
    /// Files by absolute path.
    pub files: BTreeMap<String, String>,
    /// Directories that exist.
    pub dirs: Vec<String>,
    /// The environment.
    pub env: Vec<(String, String)>,
}

impl MemHost {
    /// `/`, `/etc`, `/tmp`, `/var/log`, `/srv`, and `HOME` plus `SV_X` set.
    pub fn new() -> Self {
        MemHost {
            files: BTreeMap::new(),
            dirs: vec![
                "/".into(),
                "/etc".into(),
                "/tmp".into(),
                "/var/log".into(),
                "/srv".into(),
            ],
            env: vec![
                ("HOME".into(), "/root".into()),
                ("SV_X".into(), "ex".into()),
            ],
        }
    }

    /// This machine with `path` holding `text`.
    pub fn file(mut self, path: &str, text: &str) -> Self {
        self.files.insert(path.to_string(), text.to_string());
        self
    }
}

impl Host for MemHost {
    fn read_to_string(&self, path: &str) -> io::Result<String> {
        self.files
            .get(path)
            .cloned()
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
    }
    fn exists(&self, path: &str) -> bool {
        self.files.contains_key(path) || self.is_dir(path)
    }
    fn is_dir(&self, path: &str) -> bool {
        self.dirs.iter().any(|d| d == path)
    }
    fn glob(&self, pattern: &str) -> Vec<String> {
        // Enough for tests: a single `*` in the last component.
        let (dir, file_pat) = pattern.rsplit_once('/').unwrap_or(("", pattern));
        let (prefix, suffix) = file_pat.split_once('*').unwrap_or((file_pat, ""));
        let star = file_pat.contains('*');
        self.files
            .keys()
            .filter(|path| {
                let Some((d, name)) = path.rsplit_once('/') else {
                    return false;
                };
                d == dir
                    && if star {
                        name.starts_with(prefix)
                            && name.ends_with(suffix)
                            && name.len() >= prefix.len() + suffix.len()
                            && !name.starts_with('.')
                    } else {
                        name == file_pat
                    }
            })
            .cloned()
            .collect()
    }
    fn user_by_name(&self, name: &str) -> Option<UserInfo> {
        match name {
            "root" => self.user_by_uid(0),
            "www" => self.user_by_uid(33),
            _ => None,
        }
    }
    fn user_by_uid(&self, uid: u32) -> Option<UserInfo> {
        match uid {
            0 => Some(UserInfo {
                name: "root".into(),
                uid: 0,
                gid: 0,
                home: "/root".into(),
            }),
            33 => Some(UserInfo {
                name: "www".into(),
                uid: 33,
                gid: 34,
                home: "/var/www".into(),
            }),
            _ => None,
        }
    }
    fn group_by_name(&self, name: &str) -> Option<u32> {
        (name == "wheel").then_some(10)
    }
    fn group_exists(&self, gid: u32) -> bool {
        gid == 10 || gid == 0
    }
    fn hostname(&self) -> String {
        "box".into()
    }
    fn env(&self) -> Vec<(String, String)> {
        self.env.clone()
    }
    fn cwd(&self) -> String {
        "/srv".into()
    }
    fn temp_dir(&self) -> String {
        "/tmp".into()
    }
    fn uid(&self) -> u32 {
        0
    }
}

#[cfg(test)]
pub(crate) fn load_text(text: &str) -> Result<Config, LoadError> {
    let host = MemHost::new().file("/etc/sv.conf", text);
    load(&host, "/etc/sv.conf", &CliOverrides::default())
}

#[cfg(test)]
pub(crate) fn errors(text: &str) -> Vec<String> {
    match load_text(text) {
        Ok(_) => panic!("config was accepted:\n{text}"),
        Err(e) => e.errors.iter().map(ToString::to_string).collect(),
    }
}

/// [`load_text`], and how many times the loader walked every section.
#[cfg(test)]
pub(crate) fn load_counting_scans(text: &str) -> (Result<Config, LoadError>, usize) {
    let host = MemHost::new().file("/etc/sv.conf", text);
    super::load_counting_scans(&host, "/etc/sv.conf", &CliOverrides::default())
}
