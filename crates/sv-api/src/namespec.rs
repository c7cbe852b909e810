//! Process addressing (spec §4.4): how a client's `name` argument maps to a
//! group and (optionally) a process, and the reverse.

/// Split a namespec into `(group, process)`.
///
/// * `"g:p"` → `("g", Some("p"))`
/// * `"g:"` or `"g:*"` → `("g", None)` — the whole group
/// * `"x"` → `("x", Some("x"))` — a process in the group of the same name
///
/// Only the first `:` separates, so `"g:a:b"` names process `a:b` of `g`.
pub fn split_namespec(namespec: &str) -> (String, Option<String>) {
    match namespec.split_once(':') {
        Some((group, process)) => {
            let process = (!process.is_empty() && process != "*").then(|| process.to_owned());
            (group.to_owned(), process)
        }
        None => (namespec.to_owned(), Some(namespec.to_owned())),
    }
}

/// The name clients use for a process: the bare name when it equals its
/// group's name (the usual single-program case), otherwise `group:process`.
pub fn make_namespec(group: &str, process: &str) -> String {
    if group == process {
        process.to_owned()
    } else {
        format!("{group}:{process}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn split(s: &str) -> (String, Option<String>) {
        split_namespec(s)
    }

    #[test]
    fn split_forms() {
        assert_eq!(split("g:p"), ("g".into(), Some("p".into())));
        assert_eq!(split("g:"), ("g".into(), None));
        assert_eq!(split("g:*"), ("g".into(), None));
        assert_eq!(split("x"), ("x".into(), Some("x".into())));
        assert_eq!(split("g:a:b"), ("g".into(), Some("a:b".into())));
        assert_eq!(split("g:**"), ("g".into(), Some("**".into())));
        assert_eq!(split(":p"), ("".into(), Some("p".into())));
        assert_eq!(split(":"), ("".into(), None));
        assert_eq!(split(""), ("".into(), Some("".into())));
        assert_eq!(split("*"), ("*".into(), Some("*".into())));
    }

    #[test]
    fn make_forms() {
        assert_eq!(make_namespec("cat", "cat"), "cat");
        assert_eq!(make_namespec("grp", "cat_01"), "grp:cat_01");
    }

    proptest! {
        #[test]
        fn round_trip(group in "[a-z_0-9]{1,8}", process in "[a-z_0-9]{1,8}") {
            let spec = make_namespec(&group, &process);
            prop_assert_eq!(split_namespec(&spec), (group, Some(process)));
        }
    }
}
