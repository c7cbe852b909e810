//! The hub's own page: server-rendered askama templates
//! (`crates/sv-hub/templates/`), our plain JavaScript and one stylesheet
//! (`crates/sv-hub/static/`), no build step and nothing from elsewhere.
//!
//! # Rooms
//!
//! * [`guard`]: [`PageUser<P>`], the page's one role check. An anonymous
//!   page request is sent to `/login?next=…` (the API keeps answering 401
//!   JSON); a role without `P` gets a 403 page. It carries the caller and
//!   the page token of their session (`auth::csrf`).
//! * [`layout`]: [`Layout`], what `base.html` (nav, theme switch, logout)
//!   needs from every page, and the HTML responses.
//! * [`assets`]: the stylesheet and scripts, served at
//!   `/static/<name>?v=<content hash>` (immutable for the current hash,
//!   revalidated by `ETag` otherwise).
//! * [`login`]: `/login`, the one-time `/setup`, `POST /logout` (this
//!   session or all of the user's sessions).
//! * [`overview`]: `/`, the fleet overview.
//! * [`views`]: the node, process (with its log), users, profile and
//!   activity views.
//!
//! Every answer of this router carries the page's security headers
//! ([`security_headers`]): a Content-Security-Policy without
//! `unsafe-inline` (no inline script, style or handler anywhere),
//! `frame-ancestors 'none'` and `X-Frame-Options: DENY`, `nosniff`,
//! `Referrer-Policy: same-origin`.
//!
//! The page acts through the JSON API (`/api/v2/…`) with `fetch`, sending
//! the page token in the `X-CSRF-Token` header; its own forms (login,
//! setup, logout) post here with the token in a `csrf` field.

pub mod assets;
pub mod guard;
pub mod layout;
pub mod login;
pub mod overview;
pub mod views;

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, Request};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;

use crate::api::accounts::AccountsState;
use crate::api::guard::SharedAuthenticator;
use crate::auth::HubAuth;
use crate::nodes::Fleet;

/// The hub's version, shown in the footer.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub use guard::PageUser;
pub use layout::Layout;

/// What the page's handlers share.
#[derive(Clone)]
pub struct PageState {
    /// Sessions, logins, the store.
    pub auth: Arc<HubAuth>,
    /// The account side (setup, the activity log, protected users).
    pub accounts: AccountsState,
    /// The nodes and their cache.
    pub fleet: Fleet,
}

impl FromRef<PageState> for SharedAuthenticator {
    fn from_ref(state: &PageState) -> SharedAuthenticator {
        state.auth.clone()
    }
}

/// The policy every page answer carries: our own stylesheet, scripts and
/// images only, connections only to ourselves (the API and the live
/// stream), forms only to ourselves, never framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; \
     script-src 'self'; connect-src 'self'; img-src 'self' data:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Every page route, unfinished (see [`crate::api::routing::finish`]).
pub fn router(state: PageState) -> Router {
    Router::new()
        .route("/static/{name}", get(assets::serve))
        .merge(login::routes())
        .merge(overview::routes())
        // More pages: `.merge(<module>::routes())` below this line.
        .merge(views::routes())
        .with_state(state)
        .layer(middleware::from_fn(security_headers))
}

/// Adds the page's security headers to every answer of the page router.
async fn security_headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}
