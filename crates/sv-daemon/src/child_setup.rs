//! What a child does to itself between `fork` and `exec`: restore its
//! RLIMIT_NOFILE, drop privileges, set its umask, change directory — in
//! Supervisor's order (privileges before the chdir, so a directory only root
//! may enter fails the spawn as it does there).
//!
//! After a fork in a threaded process only async-signal-safe functions may
//! be called: another thread may have held the allocator's lock at the fork.
//! So [`ChildSetup::new`] prepares every value in the parent (group list as a
//! `gid_t` array, the directory as a C string, the rlimit struct) and
//! [`ChildSetup::apply`] only hands them to raw system calls. A test reads
//! the body of `apply` and fails on anything that could allocate.

use std::ffi::CString;

use crate::sys::{ChildLimits, Identity};

/// Who the child becomes, as the system calls want it.
#[derive(Debug)]
struct Credentials {
    uid: libc::uid_t,
    gid: libc::gid_t,
    groups: Vec<libc::gid_t>,
}

/// Everything the child needs after the fork, owned and ready.
#[derive(Debug)]
pub struct ChildSetup {
    nofile: libc::rlimit,
    credentials: Option<Credentials>,
    umask: Option<libc::mode_t>,
    directory: Option<CString>,
}

impl ChildSetup {
    /// Prepare, in the parent, what [`apply`](Self::apply) will do.
    pub fn new(
        limits: &ChildLimits,
        identity: Option<&Identity>,
        umask: Option<u32>,
        directory: Option<CString>,
    ) -> Self {
        ChildSetup {
            nofile: libc::rlimit {
                rlim_cur: limits.nofile_soft as libc::rlim_t,
                rlim_max: limits.nofile_hard as libc::rlim_t,
            },
            credentials: identity.map(|id| Credentials {
                uid: id.uid as libc::uid_t,
                gid: id.gid as libc::gid_t,
                groups: id.groups.iter().map(|&g| g as libc::gid_t).collect(),
            }),
            umask: umask.map(|mask| mask as libc::mode_t),
            directory,
        }
    }

    /// Runs in the forked child, before exec.
    // apply:begin (the test below checks everything up to apply:end)
    pub fn apply(&self) -> std::io::Result<()> {
        // SAFETY: each call gets pointers into data owned by `self`, which
        // lives until exec; none of them allocates or takes a lock.
        unsafe {
            if libc::setrlimit(libc::RLIMIT_NOFILE, &self.nofile) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if let Some(c) = &self.credentials {
                if libc::setgroups(c.groups.len() as libc::size_t, c.groups.as_ptr()) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::setgid(c.gid) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::setuid(c.uid) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            if let Some(mask) = self.umask {
                libc::umask(mask);
            }
            if let Some(dir) = &self.directory
                && libc::chdir(dir.as_ptr()) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
        }
        Ok(())
    }
    // apply:end
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The functions POSIX lists as async-signal-safe that `apply` may call.
    const SAFE_CALLS: &[&str] = &[
        "setrlimit",
        "setgroups",
        "setgid",
        "setuid",
        "umask",
        "chdir",
    ];

    fn apply_source() -> &'static str {
        let source = include_str!("child_setup.rs");
        let begin = source.find("// apply:begin").unwrap_or(0);
        let end = source.find("// apply:end").unwrap_or(source.len());
        &source[begin..end]
    }

    #[test]
    fn child_setup_is_async_signal_safe() {
        let body = apply_source();
        assert!(body.contains("libc::setrlimit"), "markers moved?");
        for forbidden in [
            "format!",
            "vec!",
            "to_string",
            "to_owned",
            "Vec",
            "String",
            "Box",
            "collect",
            "clone",
            "nix::",
            "println",
            "eprintln",
            "log",
            "Rc",
            "Arc",
            "Mutex",
            "CString",
        ] {
            assert!(
                !body.contains(forbidden),
                "`{forbidden}` in ChildSetup::apply: it runs between fork and exec"
            );
        }
        for (at, _) in body.match_indices("libc::") {
            let name: String = body[at + "libc::".len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let is_constant_or_type = name.chars().all(|c| c.is_uppercase() || c == '_')
                || ["size_t", "gid_t", "uid_t", "mode_t"].contains(&name.as_str());
            assert!(
                is_constant_or_type || SAFE_CALLS.contains(&name.as_str()),
                "libc::{name} is not on the async-signal-safe list"
            );
        }
        // Besides libc, only errno wrapped into an io::Error (an integer,
        // no allocation) and the return type.
        let rest = body
            .replace("std::io::Error::last_os_error()", "")
            .replace("std::io::Result", "");
        let stray = rest
            .match_indices("::")
            .filter(|(at, _)| !rest[..*at].ends_with("libc"))
            .count();
        assert_eq!(stray, 0, "a path call other than libc in ChildSetup::apply");
    }

    #[test]
    fn prepared_values_are_what_the_calls_get() {
        let limits = ChildLimits {
            nofile_soft: 1024,
            nofile_hard: 4096,
        };
        let identity = Identity {
            uid: 1000,
            gid: 100,
            groups: vec![100, 27],
        };
        let setup = ChildSetup::new(&limits, Some(&identity), Some(0o022), None);
        assert_eq!(setup.nofile.rlim_cur, 1024);
        assert_eq!(setup.nofile.rlim_max, 4096);
        let c = setup
            .credentials
            .as_ref()
            .map(|c| (c.uid, c.gid, c.groups.clone()));
        assert_eq!(c, Some((1000, 100, vec![100, 27])));
        assert_eq!(setup.umask, Some(0o022));
    }
}
