//! [`PageUser<P>`]: who is looking at a page, checked against `P` (the
//! same permission markers as the API's `Require<P>`: `Read`, `ReadLogs`,
//! `Operate`, `Admin`).
//!
//! The caller is found as the API finds them — session cookie, bearer
//! token, trusted proxy header — with one difference: a page form posts
//! its token in a field, not the header, so a live session cookie is read
//! here directly and the form's token is checked by [`PageUser::check_form`].
//!
//! Refusals are pages, not JSON: anonymous → `303 /login?next=<this page>`,
//! a role without `P` → a 403 page.

use std::collections::HashMap;
use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use super::PageState;
use super::layout::{self, Layout};
use crate::api::error::ApiError;
use crate::api::guard::{Authenticator, Needs, Peer, Principal, Read};
use crate::auth::{HubAuth, csrf};

/// A signed-in caller whose role grants `P`.
pub struct PageUser<P: Needs = Read> {
    /// Who is calling.
    pub principal: Principal,
    /// The session token of their cookie (`None` when signed in by a
    /// bearer token or the proxy header).
    pub session: Option<String>,
    /// The page token for this session (empty without a session: such a
    /// caller's page forms are refused).
    pub csrf: String,
    _needs: PhantomData<P>,
}

impl<P: Needs> PageUser<P> {
    /// The layout of a page titled `title`, `current` being its nav entry
    /// (`"fleet"`, `"activity"`, `"users"`, `"profile"`, or `""`).
    pub fn layout(&self, title: impl Into<String>, current: &'static str) -> Layout {
        Layout::signed_in(title, &self.principal, &self.csrf, current)
    }

    /// Whether a posted form carries this session's page token
    /// (`Err` answers 403 with the error page).
    pub fn check_form(&self, form: &HashMap<String, String>) -> Result<(), FormRefused> {
        let given = form.get(csrf::FIELD).map_or("", String::as_str);
        match &self.session {
            Some(session) if csrf::matches(session, given) => Ok(()),
            _ => Err(FormRefused),
        }
    }
}

/// A page form without this session's token: 403.
#[derive(Debug, Clone, Copy)]
pub struct FormRefused;

impl IntoResponse for FormRefused {
    fn into_response(self) -> Response {
        layout::error_page(StatusCode::FORBIDDEN, "Forbidden", csrf::REFUSED)
    }
}

/// Where an anonymous visitor of `uri` is sent: the login page, coming
/// back here afterwards.
pub fn to_login(uri: &Uri) -> Response {
    let here = uri.path_and_query().map_or("/", |pq| pq.as_str());
    let target = if here == "/" {
        "/login".to_string()
    } else {
        format!("/login?next={}", layout::url_encode(here))
    };
    layout::see_other(&target)
}

impl<P: Needs> FromRequestParts<PageState> for PageUser<P> {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &PageState,
    ) -> Result<Self, Self::Rejection> {
        let fail = |e: ApiError| layout::error_page(e.status(), "Error", &e.to_string());
        let mut session = None;
        let mut principal = None;
        if let Some(token) = HubAuth::cookie_token(parts)
            && let Some(user) = state.auth.session_user(&token).await.map_err(fail)?
        {
            principal = state.auth.principal(&user).await.map_err(fail)?;
            session = principal.as_ref().map(|_| token);
        }
        if principal.is_none() {
            let peer = parts.extensions.get::<Peer>().map(|p| p.0);
            principal = state.auth.authenticate(parts, peer).await.map_err(fail)?;
        }
        let Some(principal) = principal else {
            return Err(to_login(&parts.uri));
        };
        if !principal.role.allows(P::PERMISSION) {
            return Err(layout::error_page_for(
                Layout::signed_in("Forbidden", &principal, "", ""),
                StatusCode::FORBIDDEN,
                "You are not authorized for this page.",
            ));
        }
        let csrf = session.as_deref().map(csrf::token_for).unwrap_or_default();
        Ok(PageUser {
            principal,
            session,
            csrf,
            _needs: PhantomData,
        })
    }
}
