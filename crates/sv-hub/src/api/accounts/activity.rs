//! `/api/v2/activitylogs/`: read (newest first, Cesi's lines with their
//! `\n`) and clear (admin only, and the clear itself is logged: D14).

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use serde_json::json;

use super::AccountsState;
use crate::api::error::ApiError;
use crate::api::guard::{Admin, Read, Require};
use crate::api::json::{CesiJson, success};
use crate::auth::store_failure;

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
