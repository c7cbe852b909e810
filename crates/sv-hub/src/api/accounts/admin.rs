//! User administration beyond Cesi's add/list/delete (ours, admin only):
//! a user's role and environments, a password reset, revoking a user's
//! sessions and API tokens, and the detailed user list the page shows.
//!
//! Guard rails: nobody changes their own role (an admin cannot lock
//! themselves out), the protected admin accounts stay admins, and the
//! last admin cannot be demoted. Every change writes an activity line.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde_json::{Value, json};

use super::AccountsState;
use super::users::python_int;
use crate::activity::Level;
use crate::api::body::JsonBody;
use crate::api::error::ApiError;
use crate::api::guard::{Admin, Require};
use crate::api::json::{CesiJson, success};
use crate::auth::{password, store_failure, token, unix_now};

/// Most environments one user may be limited to.
pub const MAX_ENVIRONMENTS: usize = 100;
/// Longest environment name accepted.
pub const MAX_ENVIRONMENT: usize = 64;

/// The role names of Cesi's usertypes, for messages and the page.
pub fn role_name(usertype: i64) -> &'static str {
    match usertype {
        0 => "admin",
        1 => "operator",
        2 => "viewer",
        _ => "restricted",
    }
}

/// `environments` from a body: a list of names (empty or `null`: all).
pub fn environments_of(value: Option<&Value>) -> Result<Option<Vec<String>>, ApiError> {
    let bad = || ApiError::BadRequest("Please enter valid value for 'environments' fields".into());
    match value {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(Vec::new())),
        Some(Value::Array(items)) if items.len() <= MAX_ENVIRONMENTS => {
            let mut list: Vec<String> = items
                .iter()
                .map(|v| {
                    v.as_str()
                        .filter(|s| {
                            let n = s.chars().count();
                            n > 0 && n <= MAX_ENVIRONMENT && !s.chars().any(char::is_control)
                        })
                        .map(str::to_string)
                })
                .collect::<Option<_>>()
                .ok_or_else(bad)?;
            list.sort();
            list.dedup();
            Ok(Some(list))
        }
        Some(_) => Err(bad()),
    }
}

/// The session token of the request's cookie, if any.
pub fn current_session(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(token::cookie_token)
        .map(str::to_string)
}

/// `GET /api/v2/users/?detail=1`: each user with role name,
/// environments, live session count and token names (Cesi's bytes
/// without `detail`).
pub async fn detailed_list(state: &AccountsState) -> Result<CesiJson, ApiError> {
    let store = state.auth.store();
    let now = unix_now();
    let mut users = Vec::new();
    for (name, usertype) in store.list_users().await.map_err(store_failure)? {
        let user = store.user(&name).await.map_err(store_failure)?;
        let sessions = store.sessions_of(&name, now).await.map_err(store_failure)?;
        let tokens: Vec<Value> = store
            .tokens_of(&name)
            .await
            .map_err(store_failure)?
            .into_iter()
            .map(|t| json!({"name": t.name, "created": t.created}))
            .collect();
        users.push(json!({
            "name": name,
            "type": usertype,
            "role": role_name(usertype),
            "environments": user.and_then(|u| u.environments),
            "sessions": sessions.len(),
            "tokens": tokens,
            "protected": state.protected_users.contains(&name),
        }));
    }
    Ok(success(json!({ "users": users })))
}

/// Whether `?detail=` asks for the detailed list.
pub fn wants_detail(query: &HashMap<String, String>) -> bool {
    query
        .get("detail")
        .is_some_and(|v| matches!(v.as_str(), "1" | "true" | "yes"))
}

async fn existing(state: &AccountsState, username: &str) -> Result<i64, ApiError> {
    state
        .auth
        .store()
        .user(username)
        .await
        .map_err(store_failure)?
        .map(|u| u.usertype)
        .ok_or(ApiError::NotFound)
}

/// `PUT /api/v2/users/<username>/`: `{"usertype"?, "environments"?}`.
pub async fn update(
    caller: Require<Admin>,
    State(state): State<AccountsState>,
    Path(username): Path<String>,
    body: JsonBody,
) -> Result<CesiJson, ApiError> {
    let by = caller.principal.username.clone();
    let current = existing(&state, &username).await?;
    let usertype = match body.0.get("usertype") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            python_int(v)
                .filter(|t| (0..=2).contains(t))
                .ok_or_else(|| {
                    ApiError::BadRequest(
                        "'usertype' must be 0 (admin), 1 (operator) or 2 (viewer)".into(),
                    )
                })?,
        ),
    };
    let environments = environments_of(body.0.get("environments"))?;
    if usertype.is_none() && environments.is_none() {
        return Err(ApiError::BadRequest(
            "Please enter valid value for 'usertype,environments' fields".into(),
        ));
    }
    let store = state.auth.store();
    if let Some(new) = usertype.filter(|t| *t != current) {
        if username == by {
            return Err(ApiError::BadRequest(
                "You can't change your own role".into(),
            ));
        }
        if state.protected_users.contains(&username) {
            return Err(ApiError::Forbidden("Admin can't be changed".into()));
        }
        if current == 0 && store.admin_count().await.map_err(store_failure)? <= 1 {
            return Err(ApiError::BadRequest(
                "The last admin can't be changed".into(),
            ));
        }
        store
            .set_usertype(&username, new)
            .await
            .map_err(store_failure)?;
        state
            .log(
                Level::Info,
                &by,
                "user.role",
                true,
                format!(
                    "'{username}' user's role changed to {} by '{by}' user.",
                    role_name(new)
                ),
            )
            .await;
    }
    if let Some(list) = environments {
        store
            .set_user_environments(&username, &list)
            .await
            .map_err(store_failure)?;
        let shown = if list.is_empty() {
            "all".to_string()
        } else {
            list.join(", ")
        };
        state
            .log(
                Level::Info,
                &by,
                "user.environments",
                true,
                format!("'{username}' user's environments set to {shown} by '{by}' user."),
            )
            .await;
    }
    Ok(success(json!({"message": "User updated"})))
}

/// `PUT /api/v2/users/<username>/password/`: `{"password"}`; every session
/// of that user ends (the admin's own current one stays).
pub async fn reset_password(
    caller: Require<Admin>,
    State(state): State<AccountsState>,
    Path(username): Path<String>,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<CesiJson, ApiError> {
    if let Some(missing) = body.missing(&["password"]) {
        return Err(missing);
    }
    let pass = body
        .str("password")
        .filter(|p| !p.is_empty())
        .ok_or_else(|| ApiError::BadRequest("Password must not be empty".into()))?
        .to_string();
    existing(&state, &username).await?;
    let hash = password::hash_async(pass).await.map_err(|e| {
        eprintln!("supervisor-hub: {e}");
        ApiError::Internal
    })?;
    let by = caller.principal.username.clone();
    let store = state.auth.store();
    store
        .set_password(&username, &hash)
        .await
        .map_err(store_failure)?;
    let keep = (username == by)
        .then(|| current_session(&headers))
        .flatten();
    state
        .auth
        .end_sessions_of(&username, keep.as_deref())
        .await?;
    state
        .log(
            Level::Info,
            &by,
            "user.password",
            true,
            format!("'{username}' user's password reset by '{by}' user."),
        )
        .await;
    Ok(success(json!({"message": "Password reset"})))
}

/// `POST /api/v2/users/<username>/revoke/`: ends every session and
/// revokes every API token of the user (an admin revoking themselves
/// keeps the session making the request).
pub async fn revoke(
    caller: Require<Admin>,
    State(state): State<AccountsState>,
    Path(username): Path<String>,
    headers: HeaderMap,
) -> Result<CesiJson, ApiError> {
    existing(&state, &username).await?;
    let by = caller.principal.username.clone();
    let store = state.auth.store();
    let keep = (username == by)
        .then(|| current_session(&headers))
        .flatten()
        .map(|t| token::token_hash(&t));
    let sessions = store
        .delete_sessions_of(&username, keep.as_deref())
        .await
        .map_err(store_failure)?;
    let tokens = store
        .delete_tokens_of(&username)
        .await
        .map_err(store_failure)?;
    state
        .log(
            Level::Info,
            &by,
            "user.revoke",
            true,
            format!(
                "'{by}' user revoked {sessions} sessions and {tokens} tokens of '{username}' user."
            ),
        )
        .await;
    Ok(success(json!({"sessions": sessions, "tokens": tokens})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_lists_are_checked_sorted_and_deduplicated() {
        assert_eq!(environments_of(None), Ok(None));
        assert_eq!(environments_of(Some(&json!(null))), Ok(Some(vec![])));
        assert_eq!(
            environments_of(Some(&json!(["prod", "dev", "prod"]))),
            Ok(Some(vec!["dev".to_string(), "prod".to_string()]))
        );
        assert!(environments_of(Some(&json!(["ok", 1]))).is_err());
        assert!(environments_of(Some(&json!([""]))).is_err());
        assert!(environments_of(Some(&json!("prod"))).is_err());
        let many: Vec<String> = (0..=MAX_ENVIRONMENTS).map(|i| format!("e{i}")).collect();
        assert!(environments_of(Some(&json!(many))).is_err());
    }

    #[test]
    fn roles_have_names() {
        assert_eq!(role_name(0), "admin");
        assert_eq!(role_name(2), "viewer");
        assert_eq!(role_name(7), "restricted");
    }
}
