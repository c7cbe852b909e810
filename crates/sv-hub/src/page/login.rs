//! Signing in and out on the page: `/login`, the one-time `/setup` (while
//! no user exists: the setup token printed at the hub's first start, as
//! `POST /api/v2/setup/` takes it), and `POST /logout` (this session, or
//! every session of the user: "log out everywhere").
//!
//! The session cookie is made by `auth::token::session_cookie`, the one
//! place for its flags (`HttpOnly`, `SameSite=Lax`, `Secure` with
//! `cookie_secure`). A cross-site login or setup post is refused by the
//! router's cross-site check before reaching here.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};

use super::PageState;
use super::guard::PageUser;
use super::layout::{self, Layout, render, render_status, safe_next, see_other};
use crate::activity::{Activity, ActivitySink, Level};
use crate::api::accounts::session;
use crate::api::guard::Peer;
use crate::auth::{Login, token};

/// The login and setup routes.
pub fn routes() -> Router<PageState> {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/setup", get(setup_form).post(setup))
        .route("/logout", post(logout))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    next: String,
    username: String,
    error: String,
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    layout: Layout,
    username: String,
    error: String,
}

fn field<'a>(form: &'a HashMap<String, String>, name: &str) -> &'a str {
    form.get(name).map_or("", String::as_str)
}

fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

async fn record(state: &PageState, user: &str, action: &str, message: String) {
    state
        .accounts
        .activity
        .record(Activity {
            level: Level::Info,
            username: user.to_string(),
            action: action.to_string(),
            node: None,
            process: None,
            ok: true,
            message,
        })
        .await;
}

/// Whether the request's cookie holds a live session.
async fn signed_in(state: &PageState, headers: &HeaderMap) -> bool {
    match cookie_of(headers) {
        Some(t) => matches!(state.auth.session_user(&t).await, Ok(Some(_))),
        None => false,
    }
}

fn error_of(e: &crate::api::error::ApiError) -> Response {
    layout::error_page(e.status(), "Error", &e.to_string())
}

/// `GET /login`.
async fn login_form(
    State(state): State<PageState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let next = safe_next(query.get("next").map(String::as_str));
    if signed_in(&state, &headers).await {
        return see_other(&next);
    }
    match session::setup_open(&state.auth).await {
        Ok(true) => return see_other("/setup"),
        Ok(false) => {}
        Err(e) => return error_of(&e),
    }
    render(&LoginPage {
        layout: Layout::anonymous("Log in"),
        next,
        username: String::new(),
        error: String::new(),
    })
}

/// `POST /login`: `username`, `password`, `next`.
async fn login(
    State(state): State<PageState>,
    peer: Option<Extension<Peer>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let next = safe_next(form.get("next").map(String::as_str));
    let username = field(&form, "username").to_string();
    let peer_ip = session::client_ip(
        &state.accounts,
        peer.map(|Extension(Peer(addr))| addr.ip()),
        &headers,
    );
    let outcome = state
        .auth
        .login(&username, field(&form, "password"), peer_ip)
        .await;
    let again = |status: StatusCode, error: &str| {
        render_status(
            status,
            &LoginPage {
                layout: Layout::anonymous("Log in"),
                next: next.clone(),
                username: username.clone(),
                error: error.to_string(),
            },
        )
    };
    match outcome {
        Ok(Login::Ok { token: new }) => {
            if let Some(old) = cookie_of(&headers) {
                // The browser's previous session ends here, as on the API.
                let _ = state.auth.end_session(&old).await;
            }
            record(&state, &username, "login", format!("{username} logged in.")).await;
            let cookie = token::session_cookie(&new, state.auth.settings().cookie_secure);
            with_cookie(see_other(&next), &cookie)
        }
        Ok(Login::Invalid) => again(StatusCode::FORBIDDEN, "Invalid username or password."),
        Ok(Login::Throttled) => again(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many failed logins; try again later.",
        ),
        Err(e) => again(e.status(), &e.to_string()),
    }
}

fn cookie_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(token::cookie_token)
        .map(str::to_string)
}

/// `GET /setup`: only while no user exists.
async fn setup_form(State(state): State<PageState>) -> Response {
    match session::setup_open(&state.auth).await {
        Ok(true) => render(&SetupPage {
            layout: Layout::anonymous("First admin"),
            username: "admin".to_string(),
            error: String::new(),
        }),
        Ok(false) => see_other("/login"),
        Err(e) => error_of(&e),
    }
}

/// `POST /setup`: `token`, `username`, `password`, `confirm`; signs the
/// new admin in.
async fn setup(
    State(state): State<PageState>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let username = field(&form, "username").to_string();
    let again = |status: StatusCode, error: &str| {
        render_status(
            status,
            &SetupPage {
                layout: Layout::anonymous("First admin"),
                username: username.clone(),
                error: error.to_string(),
            },
        )
    };
    let password = field(&form, "password");
    if password != field(&form, "confirm") {
        return again(StatusCode::BAD_REQUEST, "The two passwords differ.");
    }
    if let Err(e) =
        session::create_first_admin(&state.accounts, field(&form, "token"), &username, password)
            .await
    {
        return again(e.status(), &e.to_string());
    }
    match state.auth.start_session(&username).await {
        Ok(new) => {
            record(&state, &username, "login", format!("{username} logged in.")).await;
            let cookie = token::session_cookie(&new, state.auth.settings().cookie_secure);
            with_cookie(see_other("/"), &cookie)
        }
        Err(_) => see_other("/login"),
    }
}

/// `POST /logout`: `csrf`, and `scope=all` to end every session of the
/// user (all browsers, all hub instances), else this one.
async fn logout(
    user: PageUser,
    State(state): State<PageState>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if let Err(refused) = user.check_form(&form) {
        return refused.into_response();
    }
    let name = &user.principal.username;
    let everywhere = field(&form, "scope") == "all";
    let ended = if everywhere {
        state.auth.end_sessions_of(name, None).await
    } else {
        match &user.session {
            Some(t) => state.auth.end_session(t).await,
            None => Ok(()),
        }
    };
    if let Err(e) = ended {
        return error_of(&e);
    }
    let what = if everywhere {
        format!("{name} logged out everywhere")
    } else {
        format!("{name} logged out")
    };
    record(&state, name, "logout", what).await;
    with_cookie(see_other("/login"), token::CLEAR_COOKIE)
}
