//! `/api/v2/activitylogs/`: read (newest first, Cesi's lines with their
//! `\n`) and clear (admin only, and the clear itself is logged: D14);
//! and ours, `/api/v2/activity/`: the entries filtered by user, node,
//! process, action, result and time, paged.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use serde_json::{Value, json};

use super::AccountsState;
use crate::api::error::ApiError;
use crate::api::guard::{Admin, Read, Require};
use crate::api::json::{CesiJson, success};
use crate::auth::activity_log::format_line;
use crate::auth::store_failure;
use crate::store::ActivityFilter;
use crate::store::activity_query::MAX_PAGE;

async fn answer(state: &AccountsState, limit: Option<u64>) -> Result<CesiJson, ApiError> {
    let lines = state.activity.lines(limit).await.map_err(store_failure)?;
    Ok(success(json!({"logs": lines})))
}

/// `GET /api/v2/activitylogs/`: every line.
pub async fn all(
    _: Require<Read>,
    State(state): State<AccountsState>,
) -> Result<CesiJson, ApiError> {
    answer(&state, None).await
}

/// The `<limit>` segment: an unsigned decimal integer, else Cesi's 404 —
/// a routing answer, so it comes before the session check, as in Cesi.
pub struct Limit(Option<u64>);

impl<S: Send + Sync> FromRequestParts<S> for Limit {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::NotFound)?;
        if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::NotFound);
        }
        // 0 means all; too many digits for u64 is "more than there are".
        Ok(Limit(raw.parse::<u64>().ok().filter(|n| *n != 0)))
    }
}

/// `GET /api/v2/activitylogs/<limit>/`: the newest `limit` lines; `0`
/// (and any limit past the end) means all.
pub async fn limited(
    Limit(limit): Limit,
    _: Require<Read>,
    State(state): State<AccountsState>,
) -> Result<CesiJson, ApiError> {
    answer(&state, limit).await
}

/// `DELETE /api/v2/activitylogs/`.
pub async fn clear(
    caller: Require<Admin>,
    State(state): State<AccountsState>,
) -> Result<CesiJson, ApiError> {
    state
        .activity
        .clear(&caller.principal.username)
        .await
        .map_err(store_failure)?;
    Ok(success(json!({})))
}

/// Longest text filter accepted.
const MAX_FILTER: usize = 256;

/// The filter of `GET /api/v2/activity/`'s query: `user`, `node`,
/// `process`, `action` (texts), `result` (`ok` or `failed`), `since`,
/// `until` (milliseconds since the epoch), `before` (the previous page's
/// `next`), `limit` (1–500, 100 by default).
pub fn filter_of(q: &HashMap<String, String>) -> Result<ActivityFilter, ApiError> {
    let bad =
        |key: &str| ApiError::BadRequest(format!("Please enter valid value for '{key}' fields"));
    let text = |key: &str| -> Result<Option<String>, ApiError> {
        match q.get(key).map(|v| v.trim()).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) if v.chars().count() <= MAX_FILTER => Ok(Some(v.to_string())),
            Some(_) => Err(bad(key)),
        }
    };
    let int = |key: &str| -> Result<Option<i64>, ApiError> {
        match q.get(key).map(|v| v.trim()).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => v.parse::<i64>().map(Some).map_err(|_| bad(key)),
        }
    };
    let ok = match q.get("result").map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => None,
        Some("ok" | "success") => Some(true),
        Some("failed" | "error") => Some(false),
        Some(_) => return Err(bad("result")),
    };
    let limit = match int("limit")? {
        None => 100,
        Some(n) => u32::try_from(n)
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| bad("limit"))?,
    };
    Ok(ActivityFilter {
        user: text("user")?,
        node: text("node")?,
        process: text("process")?,
        action: text("action")?,
        ok,
        since_ms: int("since")?,
        until_ms: int("until")?,
        before_id: int("before")?,
        limit,
    })
}

/// `GET /api/v2/activity/` (ours): entries filtered, newest first, one
/// page at a time: `{"entries":[{"id","time","level","user","action",
/// "node","process","ok","message","line"}…],"next":<id or null>}`;
/// pass `next` as `before` for the following page.
pub async fn query(
    _: Require<Read>,
    State(state): State<AccountsState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<CesiJson, ApiError> {
    let filter = filter_of(&q)?;
    let found = state
        .auth
        .store()
        .query_activity(&filter)
        .await
        .map_err(store_failure)?;
    let next = (found.len() == filter.limit as usize)
        .then(|| found.last().map(|e| e.id))
        .flatten();
    let entries: Vec<Value> = found
        .iter()
        .map(|e| {
            let r = &e.row.entry;
            json!({
                "id": e.id,
                "time": e.row.time_ms,
                "level": r.level.as_str(),
                "user": r.username,
                "action": r.action,
                "node": r.node,
                "process": r.process,
                "ok": r.ok,
                "message": r.message,
                "line": format_line(&e.row).trim_end(),
            })
        })
        .collect();
    Ok(success(json!({ "entries": entries, "next": next })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn filters_are_read_and_checked() {
        let f = filter_of(&q(&[
            ("user", "alice"),
            ("result", "failed"),
            ("since", "10"),
            ("limit", "5"),
            ("node", " "),
        ]))
        .expect("valid");
        assert_eq!(f.user.as_deref(), Some("alice"));
        assert_eq!(f.ok, Some(false));
        assert_eq!((f.since_ms, f.limit, f.node), (Some(10), 5, None));
        assert_eq!(filter_of(&q(&[])).expect("empty").limit, 100);
        for bad in [
            ("result", "maybe"),
            ("limit", "0"),
            ("limit", "501"),
            ("since", "yesterday"),
        ] {
            assert!(filter_of(&q(&[bad])).is_err(), "{bad:?}");
        }
    }
}
