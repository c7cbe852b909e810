//! What the config loader needs from the machine, as a trait: reading files,
//! globbing includes, checking directories, looking up users and groups, the
//! host name, the environment, the working and temporary directories.
//!
//! `sv_host::SystemHost` implements it over the real system; tests
//! implement it in memory. Keeping it a trait is what lets the loader stay
//! pure and be tested without a file system.

use std::io;

/// A password-database entry, the part Supervisor uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    /// The login name.
    pub name: String,
    /// The numeric user id.
    pub uid: u32,
    /// The user's primary group id.
    pub gid: u32,
    /// The home directory, for `~user` in paths.
    pub home: String,
}

/// The machine, as seen by the config loader. Paths are strings because
/// Supervisor's paths are text in the config and in every message.
pub trait Host {
    /// The whole file as text. Invalid UTF-8 is an `InvalidData` error.
    fn read_to_string(&self, path: &str) -> io::Result<String>;
    /// `os.path.exists`.
    fn exists(&self, path: &str) -> bool;
    /// `os.path.isdir` (follows symlinks).
    fn is_dir(&self, path: &str) -> bool;
    /// `glob.glob(pattern)` in any order: hidden files need a literal dot,
    /// `*` does not cross `/`. An invalid pattern matches nothing.
    fn glob(&self, pattern: &str) -> Vec<String>;
    /// `pwd.getpwnam(name)`: the entry for a login name.
    fn user_by_name(&self, name: &str) -> Option<UserInfo>;
    /// `pwd.getpwuid(uid)`: the entry for a numeric user id.
    fn user_by_uid(&self, uid: u32) -> Option<UserInfo>;
    /// `grp.getgrnam(name)`: the id of a group name.
    fn group_by_name(&self, name: &str) -> Option<u32>;
    /// Whether `grp.getgrgid(gid)` finds the group.
    fn group_exists(&self, gid: u32) -> bool;
    /// `platform.node()`.
    fn hostname(&self) -> String;
    /// The process environment, in its order.
    fn env(&self) -> Vec<(String, String)>;
    /// The current working directory (absolute).
    fn cwd(&self) -> String;
    /// `tempfile.gettempdir()`.
    fn temp_dir(&self) -> String;
    /// The real uid of this process (Python's `os.getuid()`).
    fn uid(&self) -> u32;

    /// Home directory for `~` (`None`) or `~user`, as `os.path.expanduser`
    /// finds it: `$HOME` first for the current user.
    fn home_dir(&self, user: Option<&str>) -> Option<String> {
        match user {
            None => self
                .env()
                .into_iter()
                .find(|(k, _)| k == "HOME")
                .map(|(_, v)| v)
                .or_else(|| self.user_by_uid(self.uid()).map(|u| u.home)),
            Some(name) => self.user_by_name(name).map(|u| u.home),
        }
    }
}
