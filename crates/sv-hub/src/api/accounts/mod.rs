//! Cesi's account routes (spec §2, §3.3, §3.9, §3.10): version, login and
//! logout, users, profile and password, the activity log — plus the
//! hub's own: the one-time setup route, user administration (`admin`),
//! one's sessions and API tokens (`profile`), the filtered activity
//! query.
//!
//! Each handler states its permission with `Require<…>`; users and the
//! activity log's deletion are admin-only (Cesi's decorators meant that
//! and never enforced it, D4).

mod activity;
pub mod admin;
pub mod profile;
pub mod session;
pub mod users;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::{delete, get, post, put};

use crate::activity::{Activity, ActivitySink, Level};
use crate::api::guard::SharedAuthenticator;
use crate::auth::HubAuth;
use crate::auth::activity_log::ActivityLog;

/// What the account routes share.
#[derive(Clone)]
pub struct AccountsState {
    /// Sessions, logins, the store.
    pub auth: Arc<HubAuth>,
    /// The activity log.
    pub activity: Arc<ActivityLog>,
    /// User names that cannot be deleted: Cesi's `admin` and the
    /// config's `admin_username`.
    pub protected_users: Arc<Vec<String>>,
}

impl FromRef<AccountsState> for SharedAuthenticator {
    fn from_ref(state: &AccountsState) -> SharedAuthenticator {
        state.auth.clone()
    }
}

impl AccountsState {
    async fn log(&self, level: Level, user: &str, action: &str, ok: bool, message: String) {
        self.activity
            .record(Activity {
                level,
                username: user.to_string(),
                action: action.to_string(),
                node: None,
                process: None,
                ok,
                message,
            })
            .await;
    }
}

/// Every account route, unfinished (see [`crate::api::routing::finish`]).
pub fn accounts_router(state: AccountsState) -> Router {
    Router::new()
        .route("/api/version", get(session::version))
        .route("/api/v2/auth/login/", post(session::login))
        .route("/api/v2/auth/logout/", post(session::logout))
        .route("/api/v2/setup/", post(session::setup))
        .route("/api/v2/users/", get(users::list).post(users::add))
        .route(
            "/api/v2/users/{username}/",
            delete(users::remove).put(admin::update),
        )
        .route(
            "/api/v2/users/{username}/password/",
            put(admin::reset_password),
        )
        .route("/api/v2/users/{username}/revoke/", post(admin::revoke))
        .route("/api/v2/profile/", get(users::profile))
        .route("/api/v2/profile/password/", put(users::change_password))
        .route(
            "/api/v2/profile/sessions/",
            get(profile::sessions).delete(profile::end_other_sessions),
        )
        .route(
            "/api/v2/profile/sessions/{id}/",
            delete(profile::end_session),
        )
        .route(
            "/api/v2/profile/tokens/",
            get(profile::tokens).post(profile::create_token),
        )
        .route(
            "/api/v2/profile/tokens/{name}/",
            delete(profile::revoke_token),
        )
        .route("/api/v2/activity/", get(activity::query))
        .route(
            "/api/v2/activitylogs/",
            get(activity::all).delete(activity::clear),
        )
        .route("/api/v2/activitylogs/{limit}/", get(activity::limited))
        .with_state(state)
}
