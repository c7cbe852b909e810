//! [`Host`] over the real machine: `std::fs` for files, the `glob` crate for
//! `[include]` patterns (with Python's rules for dotfiles), `nix` for the
//! password and group databases and the host name, Python's `gettempdir()`
//! order for the temp dir. The one implementation `supervisord` and
//! `supervisorctl` both load their config through.

use std::io;
use std::path::Path;

use nix::unistd::{Gid, Group, Uid, User};
use sv_core::config::{Host, UserInfo};

/// The machine this process runs on.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemHost;

fn user_info(user: User) -> UserInfo {
    UserInfo {
        name: user.name,
        uid: user.uid.as_raw(),
        gid: user.gid.as_raw(),
        home: user.dir.to_string_lossy().into_owned(),
    }
}

fn is_writable_dir(dir: &str) -> bool {
    if !Path::new(dir).is_dir() {
        return false;
    }
    // Python's gettempdir() proves a directory usable by creating a file in it.
    let probe = Path::new(dir).join(format!(".sv-tmp-probe-{}", std::process::id()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            true
        }
        Err(_) => false,
    }
}

impl Host for SystemHost {
    fn read_to_string(&self, path: &str) -> io::Result<String> {
        std::fs::read_to_string(path)
    }

    fn exists(&self, path: &str) -> bool {
        Path::new(path).exists()
    }

    fn is_dir(&self, path: &str) -> bool {
        Path::new(path).is_dir()
    }

    fn glob(&self, pattern: &str) -> Vec<String> {
        let options = glob::MatchOptions {
            case_sensitive: true,
            require_literal_separator: true,
            require_literal_leading_dot: true,
        };
        match glob::glob_with(pattern, options) {
            Ok(paths) => paths
                .filter_map(Result::ok)
                .map(|p| p.to_string_lossy().into_owned())
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    fn user_by_name(&self, name: &str) -> Option<UserInfo> {
        User::from_name(name).ok().flatten().map(user_info)
    }

    fn user_by_uid(&self, uid: u32) -> Option<UserInfo> {
        User::from_uid(Uid::from_raw(uid))
            .ok()
            .flatten()
            .map(user_info)
    }

    fn group_by_name(&self, name: &str) -> Option<u32> {
        Group::from_name(name)
            .ok()
            .flatten()
            .map(|g| g.gid.as_raw())
    }

    fn group_exists(&self, gid: u32) -> bool {
        matches!(Group::from_gid(Gid::from_raw(gid)), Ok(Some(_)))
    }

    fn hostname(&self) -> String {
        nix::unistd::gethostname()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    fn env(&self) -> Vec<(String, String)> {
        std::env::vars_os()
            .map(|(k, v)| {
                (
                    k.to_string_lossy().into_owned(),
                    v.to_string_lossy().into_owned(),
                )
            })
            .collect()
    }

    fn cwd(&self) -> String {
        std::env::current_dir()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_else(|_| "/".to_string())
    }

    fn temp_dir(&self) -> String {
        let cwd = self.cwd();
        let from_env = ["TMPDIR", "TEMP", "TMP"]
            .into_iter()
            .filter_map(|k| std::env::var(k).ok());
        let fixed = ["/tmp", "/var/tmp", "/usr/tmp"]
            .into_iter()
            .map(String::from);
        from_env
            .chain(fixed)
            .chain(std::iter::once(cwd.clone()))
            .map(|d| sv_core::pypath::abspath(&cwd, &d))
            .find(|d| is_writable_dir(d))
            .unwrap_or_else(|| "/tmp".to_string())
    }

    fn uid(&self) -> u32 {
        Uid::current().as_raw()
    }
}
