//! Supervisor's value datatypes (its `datatypes.py`): how one option's text
//! becomes a typed value, and the message when it cannot.
//!
//! Messages keep Supervisor's wording, because operators search for them;
//! the loader adds the file, line, section and option around them. Functions
//! that need the machine (users, directories) take the [`Host`].

use super::host::Host;
use crate::pyfmt::py_repr_str;
use crate::pypath;

/// Python's `str.isspace` and `str.strip()`, shared with the INI reader.
pub use sv_ini::{is_python_whitespace as is_py_space, python_strip as py_strip};

/// Digits with Python's underscore rule: single underscores between digits.
fn parse_digits(digits: &str, radix: u32) -> Option<i128> {
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    let mut value: i128 = 0;
    for c in digits.chars().filter(|&c| c != '_') {
        let d = c.to_digit(radix)?;
        value = value.checked_mul(radix as i128)?.checked_add(d as i128)?;
    }
    Some(value)
}

fn split_sign(s: &str) -> (bool, &str) {
    if let Some(rest) = s.strip_prefix('-') {
        (true, rest)
    } else if let Some(rest) = s.strip_prefix('+') {
        (false, rest)
    } else {
        (false, s)
    }
}

/// Python's `int(s)` for base 10. Values beyond `i64` are refused here (Python
/// would accept them, but no Supervisor option can use them).
pub fn py_int(s: &str) -> Option<i64> {
    let (negative, digits) = split_sign(py_strip(s));
    let value = parse_digits(digits, 10)?;
    i64::try_from(if negative { -value } else { value }).ok()
}

/// `integer`: Python `int()`.
pub fn integer(s: &str) -> Result<i64, String> {
    py_int(s).ok_or_else(|| format!("invalid literal for int() with base 10: {}", py_repr_str(s)))
}

/// `s` lower-cased (Python's `str.lower`), without a copy when it already is.
fn lower(s: &str) -> std::borrow::Cow<'_, str> {
    if s.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) {
        std::borrow::Cow::Borrowed(s)
    } else {
        std::borrow::Cow::Owned(s.to_lowercase())
    }
}

/// `boolean`: `yes/true/on/1` and `no/false/off/0`, any case.
pub fn boolean(s: &str) -> Result<bool, String> {
    match lower(s).as_ref() {
        "yes" | "true" | "on" | "1" => Ok(true),
        "no" | "false" | "off" | "0" => Ok(false),
        _ => Err(format!("not a valid boolean value: {}", py_repr_str(s))),
    }
}

/// `byte_size`: an integer with an optional `KB`/`MB`/`GB` suffix (1024-based,
/// any case).
pub fn byte_size(s: &str) -> Result<i64, String> {
    let lower = lower(s);
    let bad = || format!("invalid literal for int() with base 10: {}", py_repr_str(s));
    for (suffix, mult) in [("kb", 1i64 << 10), ("mb", 1 << 20), ("gb", 1 << 30)] {
        if let Some(number) = lower.strip_suffix(suffix) {
            let n = py_int(number).ok_or_else(bad)?;
            return n.checked_mul(mult).ok_or_else(bad);
        }
    }
    py_int(&lower).ok_or_else(bad)
}

/// `octal_type`: Python `int(s, 8)` (`022`, `0o22`).
pub fn octal(s: &str) -> Result<u32, String> {
    let err = || format!("{s} can not be converted to an octal type");
    let (negative, rest) = split_sign(py_strip(s));
    let digits = rest
        .strip_prefix("0o")
        .or_else(|| rest.strip_prefix("0O"))
        .map(|d| d.strip_prefix('_').unwrap_or(d))
        .unwrap_or(rest);
    let value = parse_digits(digits, 8).ok_or_else(err)?;
    if negative && value != 0 {
        // Python accepts a negative octal, but no mode or umask can use it.
        return Err(err());
    }
    u32::try_from(value).map_err(|_| err())
}

/// Every `SIG*` attribute of Python's `signal` module on Linux, which is the
/// set Supervisor accepts (names and numbers).
pub const SIGNALS: &[(&str, i32)] = &[
    ("SIGABRT", 6),
    ("SIGALRM", 14),
    ("SIGBUS", 7),
    ("SIGCHLD", 17),
    ("SIGCLD", 17),
    ("SIGCONT", 18),
    ("SIGFPE", 8),
    ("SIGHUP", 1),
    ("SIGILL", 4),
    ("SIGINT", 2),
    ("SIGIO", 29),
    ("SIGIOT", 6),
    ("SIGKILL", 9),
    ("SIGPIPE", 13),
    ("SIGPOLL", 29),
    ("SIGPROF", 27),
    ("SIGPWR", 30),
    ("SIGQUIT", 3),
    ("SIGRTMAX", 64),
    ("SIGRTMIN", 34),
    ("SIGSEGV", 11),
    ("SIGSTKFLT", 16),
    ("SIGSTOP", 19),
    ("SIGSYS", 31),
    ("SIGTERM", 15),
    ("SIGTRAP", 5),
    ("SIGTSTP", 20),
    ("SIGTTIN", 21),
    ("SIGTTOU", 22),
    ("SIGURG", 23),
    ("SIGUSR1", 10),
    ("SIGUSR2", 12),
    ("SIGVTALRM", 26),
    ("SIGWINCH", 28),
    ("SIGXCPU", 24),
    ("SIGXFSZ", 25),
    ("SIG_BLOCK", 0),
    ("SIG_DFL", 0),
    ("SIG_IGN", 1),
    ("SIG_SETMASK", 2),
    ("SIG_UNBLOCK", 1),
];

/// The conventional name of a signal number (`15` → `TERM`), for messages.
pub fn signal_name(num: i32) -> Option<&'static str> {
    SIGNALS
        .iter()
        .find(|(name, n)| *n == num && !name.starts_with("SIG_") && *name != "SIGCLD")
        .map(|(name, _)| &name[3..])
}

/// `signal_number`: a number, or a name with or without `SIG`, any case.
pub fn signal_number(s: &str) -> Result<i32, String> {
    let num = match py_int(s) {
        Some(n) => n,
        None => {
            let upper = py_strip(s).to_uppercase();
            let name = if upper.starts_with("SIG") {
                upper
            } else {
                format!("SIG{upper}")
            };
            match SIGNALS.iter().find(|(n, _)| *n == name) {
                Some((_, num)) => *num as i64,
                None => {
                    return Err(format!(
                        "value {} is not a valid signal name",
                        py_repr_str(s)
                    ));
                }
            }
        }
    };
    SIGNALS
        .iter()
        .find(|(_, n)| *n as i64 == num)
        .map(|(_, n)| *n)
        .ok_or_else(|| format!("value {} is not a valid signal number", py_repr_str(s)))
}

/// `list_of_exitcodes`: comma-separated integers 0..=255 (empty is allowed).
pub fn list_of_exitcodes(s: &str) -> Result<Vec<i32>, String> {
    let err = || format!("not a valid list of exit codes: {}", py_repr_str(s));
    if s.is_empty() {
        return Ok(Vec::new());
    }
    s.split(',')
        .map(|item| match py_int(item) {
            Some(n) if (0..=255).contains(&n) => Ok(n as i32),
            _ => Err(err()),
        })
        .collect()
}

/// `list_of_strings`: comma-separated, each item stripped; empty gives none.
pub fn list_of_strings(s: &str) -> Vec<String> {
    if s.is_empty() {
        return Vec::new();
    }
    s.split(',').map(|x| py_strip(x).to_string()).collect()
}

/// `process_or_group_name`: stripped, and free of the characters that break
/// namespecs, URLs and the event protocol.
pub fn process_or_group_name(s: &str) -> Result<String, String> {
    let stripped = py_strip(s);
    for c in [' ', ':', '/'] {
        if stripped.contains(c) {
            return Err(format!(
                "Invalid name: {} because of character: {}",
                py_repr_str(s),
                py_repr_str(&c.to_string())
            ));
        }
    }
    Ok(stripped.to_string())
}

/// `logging_level`: Supervisor's seven level names.
pub fn logging_level(s: &str) -> Result<super::LogLevel, String> {
    super::LogLevel::from_name(&s.to_lowercase())
        .ok_or_else(|| format!("bad logging level name {}", py_repr_str(s)))
}

/// `auto_restart`: `unexpected`, or a boolean.
pub fn auto_restart(s: &str) -> Result<super::AutoRestart, String> {
    let lower = lower(s);
    match lower.as_ref() {
        "unexpected" => Ok(super::AutoRestart::Unexpected),
        "yes" | "true" | "on" | "1" => Ok(super::AutoRestart::Always),
        "no" | "false" | "off" | "0" => Ok(super::AutoRestart::Never),
        _ => Err(format!(
            "invalid 'autorestart' value {}",
            py_repr_str(&lower)
        )),
    }
}

/// `existing_directory`: `~` expanded; must be a directory.
pub fn existing_directory(host: &dyn Host, s: &str) -> Result<String, String> {
    let expanded = pypath::expanduser(s, &|u| host.home_dir(u));
    if host.is_dir(&expanded) {
        Ok(expanded)
    } else {
        Err(format!("{s} is not an existing directory"))
    }
}

/// `existing_dirpath`: `~` expanded; the directory part, if any, must exist.
pub fn existing_dirpath(host: &dyn Host, s: &str) -> Result<String, String> {
    let expanded = pypath::expanduser(s, &|u| host.home_dir(u));
    let dir = pypath::dirname(&expanded);
    if dir.is_empty() || host.is_dir(dir) {
        Ok(expanded)
    } else {
        Err(format!(
            "The directory named as part of the path {s} does not exist"
        ))
    }
}

/// `name_to_uid`: a user name or a numeric uid that exists.
pub fn name_to_uid(host: &dyn Host, s: &str) -> Result<u32, String> {
    match py_int(s) {
        Some(n) => u32::try_from(n)
            .ok()
            .filter(|&uid| host.user_by_uid(uid).is_some())
            .ok_or_else(|| format!("Invalid user id {s}")),
        None => host
            .user_by_name(s)
            .map(|u| u.uid)
            .ok_or_else(|| format!("Invalid user name {s}")),
    }
}

/// `name_to_gid`: a group name or a numeric gid that exists.
pub fn name_to_gid(host: &dyn Host, s: &str) -> Result<u32, String> {
    match py_int(s) {
        Some(n) => u32::try_from(n)
            .ok()
            .filter(|&gid| host.group_exists(gid))
            .ok_or_else(|| format!("Invalid group id {s}")),
        None => host
            .group_by_name(s)
            .ok_or_else(|| format!("Invalid group name {s}")),
    }
}

/// `colon_separated_user_group`: `user` or `user:group` → (uid, gid), gid
/// `-1` when only a user is given.
pub fn colon_separated_user_group(host: &dyn Host, s: &str) -> Result<(i64, i64), String> {
    let parsed = match s.split_once(':') {
        None => name_to_uid(host, s).map(|uid| (uid as i64, -1)),
        Some((user, group)) => name_to_uid(host, user)
            .and_then(|uid| name_to_gid(host, group).map(|gid| (uid as i64, gid as i64))),
    };
    parsed.map_err(|_| format!("Invalid user:group definition {s}"))
}

/// `inet_address`: `host:port`, `:port`, `*:port` or `port` → (host, port),
/// host lower-cased, `""` for all interfaces.
pub fn inet_address(s: &str) -> Result<(String, u16), String> {
    let port_number = |p: &str| -> Result<u16, String> {
        let n = integer(p)?;
        if n < 1 {
            Err(format!("{n} is below lower bound (1)"))
        } else if n > 0xffff {
            Err(format!("{n} is above upper bound (65535)"))
        } else {
            Ok(n as u16)
        }
    };
    let (host, port) = match s.rsplit_once(':') {
        Some((host, port)) => {
            if port.is_empty() {
                return Err(format!("no port number specified in {}", py_repr_str(port)));
            }
            (host.to_lowercase(), port_number(port)?)
        }
        None => (
            String::new(),
            port_number(s).map_err(|_| format!("not a valid port number: {} ", py_repr_str(s)))?,
        ),
    };
    let host = if host == "*" { String::new() } else { host };
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{AutoRestart, LogLevel};

    #[test]
    fn integers_follow_python_int() {
        for (s, want) in [
            ("12", Some(12)),
            ("  22 ", Some(22)),
            ("+5", Some(5)),
            ("-3", Some(-3)),
            ("1_000", Some(1000)),
            ("08", Some(8)),
            ("1__0", None),
            ("_1", None),
            ("1_", None),
            ("0x10", None),
            ("1e3", None),
            ("", None),
            ("\u{a0}7\u{1c}", Some(7)),
        ] {
            assert_eq!(py_int(s), want, "int({s:?})");
        }
        assert_eq!(
            integer("abc").unwrap_err(),
            "invalid literal for int() with base 10: 'abc'"
        );
    }

    #[test]
    fn booleans() {
        for s in ["yes", "TRUE", "On", "1"] {
            assert_eq!(boolean(s), Ok(true));
        }
        for s in ["no", "False", "OFF", "0"] {
            assert_eq!(boolean(s), Ok(false));
        }
        assert_eq!(
            boolean("maybe").unwrap_err(),
            "not a valid boolean value: 'maybe'"
        );
    }

    #[test]
    fn byte_sizes() {
        assert_eq!(byte_size("50MB"), Ok(52_428_800));
        assert_eq!(byte_size("1kb"), Ok(1024));
        assert_eq!(byte_size("2GB"), Ok(2 << 30));
        assert_eq!(byte_size("0"), Ok(0));
        assert_eq!(byte_size("-5"), Ok(-5));
        assert!(byte_size("1.5MB").is_err());
        assert!(byte_size("10TB").is_err());
        assert!(byte_size("MB").is_err());
    }

    #[test]
    fn octals() {
        assert_eq!(octal("022"), Ok(0o22));
        assert_eq!(octal("0o22"), Ok(0o22));
        assert_eq!(octal("777"), Ok(0o777));
        assert_eq!(
            octal("8").unwrap_err(),
            "8 can not be converted to an octal type"
        );
        assert!(octal("0x1").is_err());
        assert!(octal("").is_err());
    }

    #[test]
    fn signals() {
        assert_eq!(signal_number("TERM"), Ok(15));
        assert_eq!(signal_number("sigterm"), Ok(15));
        assert_eq!(signal_number(" SIGHUP "), Ok(1));
        assert_eq!(signal_number("9"), Ok(9));
        assert_eq!(signal_number("0"), Ok(0));
        assert_eq!(signal_number("64"), Ok(64));
        assert_eq!(
            signal_number("40").unwrap_err(),
            "value '40' is not a valid signal number"
        );
        assert_eq!(
            signal_number("BOGUS").unwrap_err(),
            "value 'BOGUS' is not a valid signal name"
        );
        assert_eq!(signal_name(15), Some("TERM"));
        assert_eq!(signal_name(17), Some("CHLD"));
    }

    #[test]
    fn exitcodes_and_lists() {
        assert_eq!(list_of_exitcodes("0,2"), Ok(vec![0, 2]));
        assert_eq!(list_of_exitcodes(""), Ok(vec![]));
        assert_eq!(list_of_exitcodes(" 1 , 3"), Ok(vec![1, 3]));
        assert!(list_of_exitcodes("256").is_err());
        assert!(list_of_exitcodes("0,").is_err());
        assert_eq!(list_of_strings(" a, b ,c"), vec!["a", "b", "c"]);
        assert!(list_of_strings("").is_empty());
    }

    #[test]
    fn names_levels_restarts() {
        assert_eq!(process_or_group_name(" web "), Ok("web".to_string()));
        assert_eq!(
            process_or_group_name("a b").unwrap_err(),
            "Invalid name: 'a b' because of character: ' '"
        );
        assert!(process_or_group_name("a:b").is_err());
        assert_eq!(logging_level("WARN"), Ok(LogLevel::Warn));
        assert!(logging_level("warning").is_err());
        assert_eq!(auto_restart("unexpected"), Ok(AutoRestart::Unexpected));
        assert_eq!(auto_restart("TRUE"), Ok(AutoRestart::Always));
        assert_eq!(auto_restart("off"), Ok(AutoRestart::Never));
        assert_eq!(
            auto_restart("sometimes").unwrap_err(),
            "invalid 'autorestart' value 'sometimes'"
        );
    }

    #[test]
    fn inet_addresses() {
        assert_eq!(
            inet_address("127.0.0.1:9001"),
            Ok(("127.0.0.1".into(), 9001))
        );
        assert_eq!(inet_address("*:9001"), Ok(("".into(), 9001)));
        assert_eq!(inet_address(":9001"), Ok(("".into(), 9001)));
        assert_eq!(inet_address("9001"), Ok(("".into(), 9001)));
        assert_eq!(inet_address("LocalHost:80"), Ok(("localhost".into(), 80)));
        assert!(inet_address("host:").is_err());
        assert!(inet_address("host:0").is_err());
        assert!(inet_address("host:70000").is_err());
        assert!(inet_address("abc").is_err());
    }
}
