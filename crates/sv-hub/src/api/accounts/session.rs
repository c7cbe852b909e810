//! `/api/version`, login, logout, and the hub's one-time setup.

use std::net::IpAddr;

use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AccountsState;
use crate::activity::Level;
use crate::api::body::JsonBody;
use crate::api::error::ApiError;
use crate::api::guard::Peer;
use crate::api::json::{CesiJson, success};
use crate::auth::{HubAuth, Login, password, store_failure, token};

/// The version Cesi reports; the UI and scripts read it.
pub const CESI_VERSION: &str = "2.7.1";

/// Name of the setting holding the setup token's hash.
pub const SETUP_SETTING: &str = "setup_token_hash";

/// `GET /api/version` (no session needed).
pub async fn version() -> CesiJson {
    success(json!({"version": CESI_VERSION}))
}

fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

fn cookie_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(token::cookie_token)
        .map(str::to_string)
}

/// `POST /api/v2/auth/login/`.
pub async fn login(
    State(state): State<AccountsState>,
    peer: Option<Extension<Peer>>,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Response, ApiError> {
    if let Some(missing) = body.missing(&["username", "password"]) {
        return Err(missing);
    }
    let peer_ip = client_ip(
        &state,
        peer.map(|Extension(Peer(addr))| addr.ip()),
        &headers,
    );
    // Cesi compares whatever it was sent; a non-string never matches.
    let outcome = match (body.str("username"), body.str("password")) {
        (Some(user), Some(pass)) => state.auth.login(user, pass, peer_ip).await?,
        _ => Login::Invalid,
    };
    match outcome {
        Login::Ok { token: new } => {
            // Logging in again replaces the old session (Cesi overwrote
            // its cookie); the old token stops working here.
            if let Some(old) = cookie_of(&headers) {
                state.auth.end_session(&old).await?;
            }
            let user = body.str("username").unwrap_or_default().to_string();
            state
                .log(
                    Level::Info,
                    &user,
                    "login",
                    true,
                    format!("{user} logged in."),
                )
                .await;
            let cookie = token::session_cookie(&new, state.auth.settings().cookie_secure);
            let response = success(json!({"message": "Valid username/password"})).into_response();
            Ok(with_cookie(response, &cookie))
        }
        Login::Invalid => {
            // A failed login also logs out the browser (Cesi's Q11).
            if let Some(old) = cookie_of(&headers) {
                state.auth.end_session(&old).await?;
            }
            let response = ApiError::Forbidden("Invalid username/password".into()).into_response();
            Ok(with_cookie(response, token::CLEAR_COOKIE))
        }
        Login::Throttled => Err(ApiError::TooManyRequests),
    }
}

/// The address a login is throttled under: the TCP peer, or — when the
/// peer is a trusted proxy — the last address it appended to
/// `X-Forwarded-For`, so one client behind the proxy cannot lock out
/// everybody else behind it.
pub(crate) fn client_ip(
    state: &AccountsState,
    peer: Option<IpAddr>,
    headers: &HeaderMap,
) -> Option<IpAddr> {
    let peer = peer?;
    if !state.auth.settings().trusted_proxies.contains(&peer) {
        return Some(peer);
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse::<IpAddr>().ok())
        .next_back();
    Some(forwarded.unwrap_or(peer))
}

/// `POST /api/v2/auth/logout/`: ends the session for good.
pub async fn logout(
    State(state): State<AccountsState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let token = cookie_of(&headers);
    let user = match &token {
        Some(t) => state.auth.session_user(t).await?,
        None => None,
    };
    let (Some(token), Some(user)) = (token, user) else {
        return Err(ApiError::Forbidden("You haven't already entered".into()));
    };
    state.auth.end_session(&token).await?;
    state
        .log(
            Level::Error,
            &user,
            "logout",
            true,
            format!("{user} logged out"),
        )
        .await;
    let response = success(json!({"message": "Logout"})).into_response();
    Ok(with_cookie(response, token::CLEAR_COOKIE))
}

/// `POST /api/v2/setup/` (the hub's addition): with the one-time token
/// printed at first start, creates the first admin. Works only while the
/// store has no user at all.
pub async fn setup(
    State(state): State<AccountsState>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    if let Some(missing) = body.missing(&["token", "username", "password"]) {
        return Err(missing);
    }
    let token = body
        .str("token")
        .ok_or_else(|| ApiError::Forbidden("Invalid setup token".into()))?;
    let (Some(username), Some(pass)) = (body.str("username"), body.str("password")) else {
        check_setup_token(state.auth.store(), token).await?;
        return Err(ApiError::BadRequest(
            "Please enter valid value for 'username,password' fields".into(),
        ));
    };
    create_first_admin(&state, token, username, pass).await?;
    Ok(success(json!({"message": "User added"})).into_response())
}

/// Whether the one-time setup can still be done: no user exists and a
/// setup token is waiting (the page's setup form is offered only then).
pub async fn setup_open(auth: &HubAuth) -> Result<bool, ApiError> {
    let store = auth.store();
    Ok(store.user_count().await.map_err(store_failure)? == 0
        && store
            .setting(SETUP_SETTING)
            .await
            .map_err(store_failure)?
            .is_some())
}

/// 403 unless `given` is the waiting setup token and no user exists.
async fn check_setup_token(store: &crate::store::Store, given: &str) -> Result<(), ApiError> {
    let stored = store.setting(SETUP_SETTING).await.map_err(store_failure)?;
    if stored.as_deref() != Some(token::token_hash(given).as_str())
        || store.user_count().await.map_err(store_failure)? != 0
    {
        return Err(ApiError::Forbidden("Invalid setup token".into()));
    }
    Ok(())
}

/// Creates the first admin with the one-time setup token `given` (the API
/// route and the page's setup form both end here).
pub async fn create_first_admin(
    state: &AccountsState,
    given: &str,
    username: &str,
    pass: &str,
) -> Result<(), ApiError> {
    let refused = || ApiError::Forbidden("Invalid setup token".into());
    let store = state.auth.store();
    check_setup_token(store, given).await?;
    let (username, pass) = (username.to_string(), pass.to_string());
    super::users::check_new_user(&username, &pass)?;
    // Only one request can take the token.
    if !store
        .take_setting(SETUP_SETTING)
        .await
        .map_err(store_failure)?
    {
        return Err(refused());
    }
    let hash = password::hash_async(pass).await.map_err(|e| {
        eprintln!("supervisor-hub: {e}");
        ApiError::Internal
    })?;
    store
        .add_user(&username, &hash, 0)
        .await
        .map_err(store_failure)?;
    state
        .log(
            Level::Info,
            &username,
            "user.add",
            true,
            format!("'{username}' user added by 'setup' user."),
        )
        .await;
    Ok(())
}

/// Creates the setup token if the store has no user: returns the token to
/// print, or `None` when users exist.
pub async fn ensure_setup_token(auth: &HubAuth) -> Result<Option<String>, ApiError> {
    let store = auth.store();
    if store.user_count().await.map_err(store_failure)? != 0 {
        return Ok(None);
    }
    let fresh = token::new_token().map_err(|_| ApiError::Internal)?;
    // A new token at every start until it is used: the printed one is the
    // one that works.
    store
        .take_setting(SETUP_SETTING)
        .await
        .map_err(store_failure)?;
    store
        .init_setting(SETUP_SETTING, &token::token_hash(&fresh))
        .await
        .map_err(store_failure)?;
    Ok(Some(fresh))
}
