//! `reloadConfig`'s comparison: which groups a re-read configuration adds,
//! changes and removes relative to the active ones (Supervisor's
//! `diff_to_active`). Pure: the daemon passes both lists in.

/// The answer of `reloadConfig`, each list in Supervisor's order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Configured now, not active (in configuration order).
    pub added: Vec<String>,
    /// Active with a different definition (in configuration order).
    pub changed: Vec<String>,
    /// Active but no longer configured (in activation order).
    pub removed: Vec<String>,
}

impl Changes {
    /// `[added, changed, removed]`, the shape on the wire.
    pub fn into_lists(self) -> [Vec<String>; 3] {
        [self.added, self.changed, self.removed]
    }
}

/// Compare `active` groups with the `reread` ones; `name` gives a group's
/// name, and equality of the whole definition decides "changed".
pub fn diff<T: PartialEq>(active: &[&T], reread: &[T], name: impl Fn(&T) -> &str) -> Changes {
    let find_active = |wanted: &str| active.iter().find(|g| name(g) == wanted);
    let mut changes = Changes::default();
    for group in reread {
        match find_active(name(group)) {
            None => changes.added.push(name(group).to_string()),
            Some(current) if *current != group => changes.changed.push(name(group).to_string()),
            Some(_) => {}
        }
    }
    changes.removed = active
        .iter()
        .filter(|g| !reread.iter().any(|r| name(r) == name(g)))
        .map(|g| name(g).to_string())
        .collect();
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct G(&'static str, i64);

    fn names(changes: &Changes) -> [Vec<&str>; 3] {
        fn v(list: &[String]) -> Vec<&str> {
            list.iter().map(String::as_str).collect()
        }
        [v(&changes.added), v(&changes.changed), v(&changes.removed)]
    }

    #[test]
    fn added_changed_removed_in_supervisors_orders() {
        let (a, b, c) = (G("a", 1), G("b", 1), G("c", 1));
        let active = [&c, &a, &b];
        let reread = [G("d", 1), G("b", 2), G("a", 1), G("e", 0)];
        let changes = diff(&active, &reread, |g| g.0);
        assert_eq!(names(&changes), [vec!["d", "e"], vec!["b"], vec!["c"]]);
    }

    #[test]
    fn nothing_changes_when_the_file_is_the_same() {
        let (a, b) = (G("a", 1), G("b", 2));
        let changes = diff(&[&a, &b], &[G("b", 2), G("a", 1)], |g| g.0);
        assert_eq!(changes, Changes::default());
        assert_eq!(
            changes.into_lists(),
            [vec![], vec![], vec![]] as [Vec<String>; 3]
        );
    }

    #[test]
    fn everything_removed_when_no_group_is_left() {
        let a = G("a", 1);
        let changes = diff(&[&a], &[], |g: &G| g.0);
        assert_eq!(names(&changes), [vec![], vec![], vec!["a"]]);
    }
}
