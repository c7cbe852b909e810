//! The few pieces of Python's `posixpath` whose exact results show through
//! Supervisor's resolved paths: `normpath`, `abspath`, `dirname`, `join` and
//! `expanduser`. They are lexical, like Python's: no symlink is resolved and
//! nothing touches the file system (the caller passes the working directory
//! and the home-directory lookups in).

/// `posixpath.normpath`: collapse `.`/`..`/repeated slashes lexically.
/// Like Python, exactly two leading slashes are kept, three or more become one.
pub fn normpath(path: &str) -> String {
    if path.is_empty() {
        return ".".to_string();
    }
    let leading = if path.starts_with("//") && !path.starts_with("///") {
        "//"
    } else if path.starts_with('/') {
        "/"
    } else {
        ""
    };
    let mut parts: Vec<&str> = Vec::new();
    for comp in path.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                if (leading.is_empty() && parts.is_empty()) || parts.last() == Some(&"..") {
                    parts.push("..");
                } else if !parts.is_empty() {
                    parts.pop();
                }
                // ".." at the root of an absolute path stays at the root.
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    let result = format!("{leading}{joined}");
    if result.is_empty() {
        ".".to_string()
    } else {
        result
    }
}

/// `posixpath.isabs`.
pub fn isabs(path: &str) -> bool {
    path.starts_with('/')
}

/// `posixpath.join(a, b)` for two components.
pub fn join(a: &str, b: &str) -> String {
    if isabs(b) || a.is_empty() {
        b.to_string()
    } else if a.ends_with('/') {
        format!("{a}{b}")
    } else {
        format!("{a}/{b}")
    }
}

/// `posixpath.abspath`, relative to `cwd`.
pub fn abspath(cwd: &str, path: &str) -> String {
    if isabs(path) {
        normpath(path)
    } else {
        normpath(&join(cwd, path))
    }
}

/// `posixpath.dirname`: everything before the last slash, with trailing
/// slashes removed unless the result is only slashes.
pub fn dirname(path: &str) -> &str {
    let Some(i) = path.rfind('/') else {
        return "";
    };
    let head = &path[..=i];
    let trimmed = head.trim_end_matches('/');
    if trimmed.is_empty() { head } else { trimmed }
}

/// `posixpath.expanduser`. `home` answers `None` for the current user's home
/// (Python uses `$HOME`, else the password database) and `Some(name)` for
/// `~name`; an unknown user leaves the path unchanged, as in Python.
pub fn expanduser(path: &str, home: &dyn Fn(Option<&str>) -> Option<String>) -> String {
    if !path.starts_with('~') {
        return path.to_string();
    }
    let end = path.find('/').unwrap_or(path.len());
    let user = &path[1..end];
    let found = if user.is_empty() {
        home(None)
    } else {
        home(Some(user))
    };
    match found {
        Some(dir) => {
            let rest = &path[end..];
            let out = format!("{}{rest}", dir.trim_end_matches('/'));
            if out.is_empty() { "/".to_string() } else { out }
        }
        None => path.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normpath_matches_python() {
        for (input, want) in [
            ("", "."),
            ("/", "/"),
            ("//", "//"),
            ("///", "/"),
            ("//a/b", "//a/b"),
            ("///a/./b/", "/a/b"),
            ("a/../..", ".."),
            ("/..", "/"),
            ("/a/b/../../..", "/"),
            ("a/./b//c/", "a/b/c"),
            ("../a/..", ".."),
            ("./", "."),
        ] {
            assert_eq!(normpath(input), want, "normpath({input:?})");
        }
    }

    #[test]
    fn dirname_matches_python() {
        for (input, want) in [
            ("a", ""),
            ("/a", "/"),
            ("/a/b", "/a"),
            ("a/b/", "a/b"),
            ("//a", "//"),
            ("/a//b", "/a"),
        ] {
            assert_eq!(dirname(input), want, "dirname({input:?})");
        }
    }

    #[test]
    fn abspath_and_expanduser() {
        assert_eq!(abspath("/srv", "x/../y.log"), "/srv/y.log");
        assert_eq!(abspath("/srv", "/var//log/"), "/var/log");
        let home = |u: Option<&str>| match u {
            None => Some("/root".to_string()),
            Some("bob") => Some("/home/bob/".to_string()),
            Some(_) => None,
        };
        assert_eq!(expanduser("~/x", &home), "/root/x");
        assert_eq!(expanduser("~bob/x", &home), "/home/bob/x");
        assert_eq!(expanduser("~nobody9/x", &home), "~nobody9/x");
        assert_eq!(expanduser("a/~", &home), "a/~");
    }
}
