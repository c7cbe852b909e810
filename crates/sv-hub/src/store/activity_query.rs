//! The activity log, filtered and paged: by user, node, process, action,
//! result and time, newest first, a page at a time (keyset paging on the
//! row id, so a page costs the same at any depth and rows written while
//! a user pages do not shift what they see).
//!
//! One statement serves every combination of filters: an absent filter is
//! a NULL parameter that switches its condition off
//! (`CAST($n AS TEXT) IS NULL OR …`), which both engines accept and which
//! keeps the SQL a constant (the engine takes `&'static str`).

use super::{ActivityRow, Store, StoreError, activity_row};

/// Most entries one page may hold.
pub const MAX_PAGE: u32 = 500;

/// Which entries to list. Every field is optional; set ones must all hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActivityFilter {
    /// The acting user, exactly.
    pub user: Option<String>,
    /// The node, exactly.
    pub node: Option<String>,
    /// The process: an entry's process equals it, or ends with `:` and it
    /// (`web` finds `web` and `web:web`; `g:web` finds only `g:web`).
    pub process: Option<String>,
    /// The action word (`start`, `login`, `user.add`, …), exactly.
    pub action: Option<String>,
    /// Succeeded (`true`) or failed (`false`).
    pub ok: Option<bool>,
    /// At or after this time, milliseconds since the epoch.
    pub since_ms: Option<i64>,
    /// Before this time, milliseconds since the epoch.
    pub until_ms: Option<i64>,
    /// Entries older than this id (the previous page's `next`).
    pub before_id: Option<i64>,
    /// Page size, 1 to [`MAX_PAGE`].
    pub limit: u32,
}

/// One stored entry with its id (the paging key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityEntry {
    /// The row id: increasing with time of writing.
    pub id: i64,
    /// The entry.
    pub row: ActivityRow,
}

/// `text` as a LIKE pattern matching itself literally (`\` escapes).
fn like_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl Store {
    /// The entries `filter` selects, newest first, at most `filter.limit`
    /// (clamped to 1 ..= [`MAX_PAGE`]).
    pub async fn query_activity(
        &self,
        filter: &ActivityFilter,
    ) -> Result<Vec<ActivityEntry>, StoreError> {
        let text = |v: &Option<String>| v.as_deref().into();
        let int = |v: Option<i64>| v.map_or(super::engine::Param::Null, Into::into);
        let suffix = filter
            .process
            .as_deref()
            .map(|p| format!("%:{}", like_literal(p)));
        let limit = i64::from(filter.limit.clamp(1, MAX_PAGE));
        let rows = self
            .engine
            .query(
                "SELECT id, time_ms, level, username, action, node, process, ok, message FROM hub_activity \
WHERE (CAST($1 AS TEXT) IS NULL OR username = $1) \
AND (CAST($2 AS TEXT) IS NULL OR node = $2) \
AND (CAST($3 AS TEXT) IS NULL OR process = $3 OR process LIKE $4 ESCAPE '\\') \
AND (CAST($5 AS TEXT) IS NULL OR action = $5) \
AND (CAST($6 AS BIGINT) IS NULL OR ok = $6) \
AND (CAST($7 AS BIGINT) IS NULL OR time_ms >= $7) \
AND (CAST($8 AS BIGINT) IS NULL OR time_ms < $8) \
AND (CAST($9 AS BIGINT) IS NULL OR id < $9) \
ORDER BY id DESC LIMIT $10",
                vec![
                    text(&filter.user),
                    text(&filter.node),
                    text(&filter.process),
                    suffix.as_deref().into(),
                    text(&filter.action),
                    int(filter.ok.map(i64::from)),
                    int(filter.since_ms),
                    int(filter.until_ms),
                    int(filter.before_id),
                    limit.into(),
                ],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| ActivityEntry {
                id: r[0].int(),
                row: activity_row(&r[1..]),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_match_literally() {
        assert_eq!(like_literal("my_app"), "my\\_app");
        assert_eq!(like_literal("100%"), "100\\%");
        assert_eq!(like_literal("a\\b"), "a\\\\b");
        assert_eq!(like_literal("web"), "web");
    }
}
