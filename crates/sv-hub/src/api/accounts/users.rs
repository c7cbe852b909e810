//! Users (admin only), the caller's profile, and password change.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use serde_json::{Value, json};

use super::AccountsState;
use crate::activity::Level;
use crate::api::body::JsonBody;
use crate::api::error::ApiError;
use crate::api::guard::{Admin, Read, Require};
use crate::api::json::{CesiJson, success};
use crate::auth::{password, store_failure};
use crate::store::StoreError;

/// Longest user name: Cesi's `VARCHAR(16)`, which sqlite never enforced
/// (its D15) and PostgreSQL does.
pub const MAX_USERNAME: usize = 16;

/// Checks a new user's name and password (our rules; Cesi had none).
pub fn check_new_user(username: &str, password: &str) -> Result<(), ApiError> {
    let len = username.chars().count();
    if len == 0 || len > MAX_USERNAME || username.chars().any(char::is_control) {
        return Err(ApiError::BadRequest(format!(
            "Username must be 1 to {MAX_USERNAME} characters"
        )));
    }
    if password.is_empty() {
        return Err(ApiError::BadRequest("Password must not be empty".into()));
    }
    Ok(())
}

/// Python's `int()` on a JSON value, as Cesi converts `usertype`:
/// integers, booleans, floats (truncated) and decimal strings (trimmed).
pub fn python_int(value: &Value) -> Option<i64> {
    match value {
        Value::Bool(b) => Some(i64::from(*b)),
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && f.abs() < 9.2e18)
                .map(|f| f.trunc() as i64)
        }),
        Value::String(s) => {
            let t = s.trim();
            let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
            if digits.is_empty()
                || digits.starts_with('_')
                || digits.ends_with('_')
                || digits.contains("__")
            {
                return None;
            }
            t.replace('_', "").parse::<i64>().ok()
        }
        _ => None,
    }
}

/// `GET /api/v2/users/` (Cesi's answer); `?detail=1` adds ours (roles,
/// environments, sessions, tokens: [`super::admin::detailed_list`]).
pub async fn list(
    _: Require<Admin>,
    State(state): State<AccountsState>,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Result<CesiJson, ApiError> {
    if super::admin::wants_detail(&query) {
        return super::admin::detailed_list(&state).await;
    }
    let users = state
        .auth
        .store()
        .list_users()
        .await
        .map_err(store_failure)?;
    let users: Vec<Value> = users
        .into_iter()
        .map(|(name, usertype)| json!({"name": name, "type": usertype}))
        .collect();
    Ok(success(json!({"users": users})))
}

/// `POST /api/v2/users/`.
pub async fn add(
    caller: Require<Admin>,
    State(state): State<AccountsState>,
    body: JsonBody,
) -> Result<CesiJson, ApiError> {
    if let Some(missing) = body.missing(&["username", "password", "usertype"]) {
        return Err(missing);
    }
    let bad =
        |key: &str| ApiError::BadRequest(format!("Please enter valid value for '{key}' fields"));
    let username = body
        .str("username")
        .ok_or_else(|| bad("username"))?
        .to_string();
    let pass = body
        .str("password")
        .ok_or_else(|| bad("password"))?
        .to_string();
    let usertype = body.0.get("usertype").and_then(python_int).ok_or_else(|| {
        ApiError::BadRequest("'usertype' must be an integer (0 admin, 1 operator, 2 viewer)".into())
    })?;
    // Our addition: `environments`, a list of names the user is limited to.
    let environments: Vec<String> = match body.0.get("environments") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or_else(|| bad("environments"))?,
        Some(_) => return Err(bad("environments")),
    };
    check_new_user(&username, &pass)?;
    let hash = password::hash_async(pass).await.map_err(|e| {
        eprintln!("supervisor-hub: {e}");
        ApiError::Internal
    })?;
    let store = state.auth.store();
    let by = &caller.principal.username;
    match store.add_user(&username, &hash, usertype).await {
        Ok(()) => {}
        Err(StoreError::Conflict) => {
            state
                .log(
                    Level::Error,
                    by,
                    "user.add",
                    false,
                    format!("'{username}' username is not available for creating new user."),
                )
                .await;
            return Err(ApiError::BadRequest(format!(
                "'{username}' username is not available. Please select different username"
            )));
        }
        Err(e) => return Err(store_failure(e)),
    }
    if !environments.is_empty() {
        store
            .set_user_environments(&username, &environments)
            .await
            .map_err(store_failure)?;
    }
    state
        .log(
            Level::Info,
            by,
            "user.add",
            true,
            format!("'{username}' user added by '{by}' user."),
        )
        .await;
    Ok(success(json!({"message": "User added"})))
}

/// `DELETE /api/v2/users/<username>/`: the user, their sessions and
/// tokens go.
pub async fn remove(
    caller: Require<Admin>,
    State(state): State<AccountsState>,
    Path(username): Path<String>,
) -> Result<CesiJson, ApiError> {
    let by = &caller.principal.username;
    if state.protected_users.contains(&username) {
        state
            .log(
                Level::Error,
                by,
                "user.delete",
                false,
                format!("'{by}' user request for delete '{username}' user. Delete '{username}' user event fail."),
            )
            .await;
        return Err(ApiError::Forbidden("Admin can't be deleted".into()));
    }
    if !state
        .auth
        .store()
        .delete_user(&username)
        .await
        .map_err(store_failure)?
    {
        return Err(ApiError::NotFound);
    }
    state
        .log(
            Level::Info,
            by,
            "user.delete",
            true,
            format!("'{username}' user deleted by '{by}' user."),
        )
        .await;
    Ok(success(json!({})))
}

/// `GET /api/v2/profile/`.
pub async fn profile(
    caller: Require<Read>,
    State(state): State<AccountsState>,
) -> Result<CesiJson, ApiError> {
    let user = state
        .auth
        .store()
        .user(&caller.principal.username)
        .await
        .map_err(store_failure)?
        .ok_or(ApiError::Unauthenticated)?;
    Ok(success(
        json!({"user": {"name": user.username, "type": user.usertype}}),
    ))
}

/// `PUT /api/v2/profile/password/`: every other session of the user ends.
pub async fn change_password(
    caller: Require<Read>,
    State(state): State<AccountsState>,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<CesiJson, ApiError> {
    let invalid =
        || ApiError::BadRequest("Please enter valid value old password or new_password".into());
    let (Some(old), Some(new)) = (body.str("oldPassword"), body.str("newPassword")) else {
        return Err(invalid());
    };
    if old.is_empty() || new.is_empty() {
        return Err(invalid());
    }
    let me = &caller.principal.username;
    let store = state.auth.store();
    let user = store
        .user(me)
        .await
        .map_err(store_failure)?
        .ok_or(ApiError::Unauthenticated)?;
    if password::verify_async(user.password_hash, old.to_string()).await == password::Verdict::Wrong
    {
        state
            .log(
                Level::Error,
                me,
                "password.change",
                false,
                format!("Old password is wrong to change {me} 's password."),
            )
            .await;
        return Err(ApiError::BadRequest("Old password is wrong".into()));
    }
    let hash = password::hash_async(new.to_string()).await.map_err(|e| {
        eprintln!("supervisor-hub: {e}");
        ApiError::Internal
    })?;
    store.set_password(me, &hash).await.map_err(store_failure)?;
    let current = headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(crate::auth::token::cookie_token)
        .map(str::to_string);
    state.auth.end_sessions_of(me, current.as_deref()).await?;
    state
        .log(
            Level::Error,
            me,
            "password.change",
            true,
            format!("{me} user changed the own password."),
        )
        .await;
    Ok(success(json!({})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usertype_follows_python_int() {
        for (value, want) in [
            (json!(1), Some(1)),
            (json!("1"), Some(1)),
            (json!(" 2 "), Some(2)),
            (json!(true), Some(1)),
            (json!(1.9), Some(1)),
            (json!("1_0"), Some(10)),
            (json!("admin"), None),
            (json!([1]), None),
            (json!("1.5"), None),
            (json!(""), None),
        ] {
            assert_eq!(python_int(&value), want, "{value}");
        }
    }

    #[test]
    fn new_users_are_checked() {
        assert!(check_new_user("alice", "pw").is_ok());
        assert!(check_new_user("", "pw").is_err());
        assert!(check_new_user("a-name-longer-than-16", "pw").is_err());
        assert!(check_new_user("jürgen", "pw").is_ok());
        assert!(check_new_user("bob", "").is_err());
    }
}
