//! The caller's own sessions and API tokens (ours; any signed-in user):
//! list sessions (created, expiry, which one is this — never a token),
//! end one or all others; list, create (the token is shown once, only
//! its hash is kept) and revoke API tokens acting as oneself.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde_json::{Value, json};

use super::AccountsState;
use super::admin::current_session;
use crate::activity::Level;
use crate::api::body::JsonBody;
use crate::api::error::ApiError;
use crate::api::guard::{Read, Require};
use crate::api::json::{CesiJson, success};
use crate::auth::{store_failure, token, unix_now};
use crate::store::StoreError;
use crate::store::accounts::SESSION_ID_LEN;

/// Most API tokens one user may hold.
pub const MAX_TOKENS_PER_USER: usize = 20;
/// Longest token name.
pub const MAX_TOKEN_NAME: usize = 64;

/// Checks a token name: 1 to [`MAX_TOKEN_NAME`] characters, no control
/// characters, no `/` (it is a path segment).
pub fn check_token_name(name: &str) -> Result<(), ApiError> {
    let n = name.chars().count();
    if n == 0 || n > MAX_TOKEN_NAME || name.contains('/') || name.chars().any(char::is_control) {
        return Err(ApiError::BadRequest(format!(
            "Token name must be 1 to {MAX_TOKEN_NAME} characters, without '/'"
        )));
    }
    Ok(())
}

/// `GET /api/v2/profile/sessions/`.
pub async fn sessions(
    caller: Require<Read>,
    State(state): State<AccountsState>,
    headers: HeaderMap,
) -> Result<CesiJson, ApiError> {
    let me = &caller.principal.username;
    let current = current_session(&headers).map(|t| token::token_hash(&t));
    let list: Vec<Value> = state
        .auth
        .store()
        .sessions_of(me, unix_now())
        .await
        .map_err(store_failure)?
        .into_iter()
        .map(|s| {
            json!({
                "id": s.id,
                "created": s.created,
                "expires": s.expires,
                "current": current.as_deref() == Some(s.token_hash.as_str()),
            })
        })
        .collect();
    Ok(success(json!({ "sessions": list })))
}

/// `DELETE /api/v2/profile/sessions/<id>/`: ends one of one's own
/// sessions (the current one too: that is a logout).
pub async fn end_session(
    caller: Require<Read>,
    State(state): State<AccountsState>,
    Path(id): Path<String>,
) -> Result<CesiJson, ApiError> {
    if id.len() != SESSION_ID_LEN || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::NotFound);
    }
    let me = &caller.principal.username;
    let store = state.auth.store();
    let found = store
        .sessions_of(me, unix_now())
        .await
        .map_err(store_failure)?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or(ApiError::NotFound)?;
    store
        .delete_session_of(me, &found.token_hash)
        .await
        .map_err(store_failure)?;
    state
        .log(
            Level::Info,
            me,
            "session.revoke",
            true,
            format!("{me} ended one of the own sessions."),
        )
        .await;
    Ok(success(json!({"message": "Session ended"})))
}

/// `DELETE /api/v2/profile/sessions/`: ends every other session of
/// the caller ("log out everywhere else").
pub async fn end_other_sessions(
    caller: Require<Read>,
    State(state): State<AccountsState>,
    headers: HeaderMap,
) -> Result<CesiJson, ApiError> {
    let me = &caller.principal.username;
    let keep = current_session(&headers).map(|t| token::token_hash(&t));
    let n = state
        .auth
        .store()
        .delete_sessions_of(me, keep.as_deref())
        .await
        .map_err(store_failure)?;
    state
        .log(
            Level::Info,
            me,
            "session.revoke",
            true,
            format!("{me} ended {n} other own sessions."),
        )
        .await;
    Ok(success(json!({"ended": n})))
}

/// `GET /api/v2/profile/tokens/`: names and creation times.
pub async fn tokens(
    caller: Require<Read>,
    State(state): State<AccountsState>,
) -> Result<CesiJson, ApiError> {
    let list: Vec<Value> = state
        .auth
        .store()
        .tokens_of(&caller.principal.username)
        .await
        .map_err(store_failure)?
        .into_iter()
        .map(|t| json!({"name": t.name, "created": t.created}))
        .collect();
    Ok(success(json!({ "tokens": list })))
}

/// `POST /api/v2/profile/tokens/`: `{"name"}` → `{"name","token"}`; the
/// token is in this answer only.
pub async fn create_token(
    caller: Require<Read>,
    State(state): State<AccountsState>,
    body: JsonBody,
) -> Result<CesiJson, ApiError> {
    if let Some(missing) = body.missing(&["name"]) {
        return Err(missing);
    }
    let name = body
        .str("name")
        .ok_or_else(|| ApiError::BadRequest("Please enter valid value for 'name' fields".into()))?
        .to_string();
    check_token_name(&name)?;
    let me = caller.principal.username.clone();
    let store = state.auth.store();
    if store.tokens_of(&me).await.map_err(store_failure)?.len() >= MAX_TOKENS_PER_USER {
        return Err(ApiError::BadRequest(format!(
            "At most {MAX_TOKENS_PER_USER} tokens per user; revoke one first"
        )));
    }
    let value = token::new_token().map_err(|e| {
        eprintln!("supervisor-hub: {e}");
        ApiError::Internal
    })?;
    match store
        .add_token(&name, &token::token_hash(&value), &me, unix_now())
        .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict) => {
            return Err(ApiError::BadRequest(format!(
                "'{name}' token name is not available. Please select a different name"
            )));
        }
        Err(e) => return Err(store_failure(e)),
    }
    state
        .log(
            Level::Info,
            &me,
            "token.add",
            true,
            format!("{me} created the API token '{name}'."),
        )
        .await;
    Ok(success(json!({"name": name, "token": value})))
}

/// `DELETE /api/v2/profile/tokens/<name>/`: one's own token only.
pub async fn revoke_token(
    caller: Require<Read>,
    State(state): State<AccountsState>,
    Path(name): Path<String>,
) -> Result<CesiJson, ApiError> {
    let me = &caller.principal.username;
    if !state
        .auth
        .store()
        .revoke_token_of(me, &name)
        .await
        .map_err(store_failure)?
    {
        return Err(ApiError::NotFound);
    }
    state
        .log(
            Level::Info,
            me,
            "token.revoke",
            true,
            format!("{me} revoked the API token '{name}'."),
        )
        .await;
    Ok(success(json!({"message": "Token revoked"})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_names_are_bounded_path_segments() {
        assert!(check_token_name("ci-deploy").is_ok());
        assert!(check_token_name("").is_err());
        assert!(check_token_name("a/b").is_err());
        assert!(check_token_name("tab\there").is_err());
        assert!(check_token_name(&"x".repeat(MAX_TOKEN_NAME + 1)).is_err());
    }
}
