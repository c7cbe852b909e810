//! What every page shares: [`Layout`] (the fields `base.html` reads —
//! title, the signed-in user and their role, the page token, the nav
//! entry, the page's scripts) and the page's HTML answers.
//!
//! A page is an askama template struct with a `layout: Layout` field whose
//! template starts with `{% extends "base.html" %}` and fills
//! `{% block main %}`; [`render`] turns it into a response.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::assets;
use crate::api::guard::{Permission, Principal, Role};

/// What `base.html` needs from every page.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The page's title (after "supervisor-hub · ").
    pub title: String,
    /// The signed-in user (`None` on the login and setup pages).
    pub user: Option<Principal>,
    /// The page token: in the `csrf-token` meta tag for scripts and in
    /// every form.
    pub csrf: String,
    /// The nav entry to mark current.
    pub current: &'static str,
    /// The page's own scripts (names in [`assets::ASSETS`]), after `hub.js`.
    pub scripts: Vec<&'static str>,
    /// The page's own stylesheets (names in [`assets::ASSETS`]), after
    /// `hub.css`.
    pub styles: Vec<&'static str>,
}

impl Layout {
    /// The layout of a page for `user`.
    pub fn signed_in(
        title: impl Into<String>,
        user: &Principal,
        csrf: &str,
        current: &'static str,
    ) -> Layout {
        Layout {
            title: title.into(),
            user: Some(user.clone()),
            csrf: csrf.to_string(),
            current,
            scripts: Vec::new(),
            styles: Vec::new(),
        }
    }

    /// The layout of a page for nobody in particular (login, setup).
    pub fn anonymous(title: impl Into<String>) -> Layout {
        Layout {
            title: title.into(),
            user: None,
            csrf: String::new(),
            current: "",
            scripts: Vec::new(),
            styles: Vec::new(),
        }
    }

    /// Adds one of the page's scripts.
    pub fn with_script(mut self, name: &'static str) -> Layout {
        self.scripts.push(name);
        self
    }

    /// Adds one of the page's stylesheets.
    pub fn with_style(mut self, name: &'static str) -> Layout {
        self.styles.push(name);
        self
    }

    /// The URLs of the page's stylesheets.
    pub fn style_urls(&self) -> Vec<String> {
        self.styles.iter().map(|s| assets::url(s)).collect()
    }

    /// The signed-in user's name, or `""`.
    pub fn username(&self) -> &str {
        self.user.as_ref().map_or("", |u| u.username.as_str())
    }

    /// The signed-in user's role as shown (`admin`, `operator`, `viewer`).
    pub fn role_name(&self) -> &'static str {
        match self.user.as_ref().map(|u| u.role) {
            Some(Role::Admin) => "admin",
            Some(Role::Operator) => "operator",
            Some(Role::Viewer) => "viewer",
            Some(Role::Restricted) => "viewer (no logs)",
            None => "",
        }
    }

    fn allows(&self, permission: Permission) -> bool {
        self.user
            .as_ref()
            .is_some_and(|u| u.role.allows(permission))
    }

    /// Whether action controls are shown (operator and admin).
    pub fn can_operate(&self) -> bool {
        self.allows(Permission::Operate)
    }

    /// Whether logs may be read.
    pub fn can_read_logs(&self) -> bool {
        self.allows(Permission::ReadLogs)
    }

    /// Whether user admin is shown.
    pub fn is_admin(&self) -> bool {
        self.allows(Permission::Admin)
    }

    /// `aria-current="page"` for the current nav entry.
    pub fn nav_mark(&self, entry: &str) -> &'static str {
        if self.current == entry {
            "page"
        } else {
            "false"
        }
    }

    /// The URL of a static asset, with its content hash.
    pub fn asset(&self, name: &str) -> String {
        assets::url(name)
    }

    /// The URLs of the page's scripts.
    pub fn script_urls(&self) -> Vec<String> {
        self.scripts.iter().map(|s| assets::url(s)).collect()
    }
}

/// A rendered page: HTML, never cached (it holds the page token and live
/// data). The security headers come from the page router's layer.
pub fn render(template: &impl Template) -> Response {
    render_status(StatusCode::OK, template)
}

/// [`render`] with another status.
pub fn render_status(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(body) => html(status, body),
        Err(e) => {
            eprintln!("supervisor-hub: page template failed: {e}");
            html(
                StatusCode::INTERNAL_SERVER_ERROR,
                "<!DOCTYPE html><title>Error</title><p>Internal error</p>".to_string(),
            )
        }
    }
}

fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `303 See Other` to `location` (after a form post, and for anonymous
/// visitors).
pub fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The error page.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    message: String,
}

/// An error page for whoever is calling (nav hidden).
pub fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    error_page_for(Layout::anonymous(title), status, message)
}

/// An error page with a given layout (nav shown for a signed-in user).
pub fn error_page_for(layout: Layout, status: StatusCode, message: &str) -> Response {
    render_status(
        status,
        &ErrorPage {
            layout,
            message: message.to_string(),
        },
    )
}

/// `text` percent-encoded for a query value (unreserved characters and
/// `/` kept).
pub fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Where to go after logging in: `next` if it is a path on this site
/// (`/…`, not `//…` or `/\…`, which browsers read as another host), else `/`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && !n.bytes().any(|b| b.is_ascii_control()) =>
        {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/nodes/a/?x=1")), "/nodes/a/?x=1");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/a\nb")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn queries_are_encoded() {
        assert_eq!(url_encode("/nodes/a b?x=1&y"), "/nodes/a%20b%3Fx%3D1%26y");
    }
}
