//! The page's answers as HTTP responses: rendered pages with their security
//! headers, Supervisor's `301` redirect, plain-text and JSON errors, the
//! stylesheet and the scripts. Every header the page sends is set here, so
//! they stay the same whichever page or action produced the answer.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The policy every page is served with: nothing but our own stylesheet
/// and script (no inline script), connections only to ourselves (the
/// live-update stream), no framing, forms and links only to ourselves.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; \
     script-src 'self'; connect-src 'self'; img-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The stylesheet, served at `/stylesheets/supervisor.css` (where
/// Supervisor's page keeps its own, so proxies that allow that path work).
pub const STYLESHEET: &str = include_str!("page.css");

/// Where the status page's script is served.
pub const SCRIPT_PATH: &str = "/scripts/status.js";

/// The status page's script: follows [`super::live::EVENTS_PATH`] and
/// patches the rows in place, sends the actions, filters. Our own plain
/// JavaScript, no build step; the page works without it.
pub const SCRIPT: &str = include_str!("status.js");

/// Where the log view's script is served.
pub const LOG_SCRIPT_PATH: &str = "/scripts/log.js";

/// The log view's script: live follow, search, the follow switch.
pub const LOG_SCRIPT: &str = include_str!("log.js");

/// A rendered template as a page (an error page if rendering failed,
/// which only a bug in a template could cause).
pub fn render(template: &impl askama::Template) -> Response {
    match template.render() {
        Ok(body) => html(body),
        Err(_) => crate::http::error(StatusCode::INTERNAL_SERVER_ERROR),
    }
}

/// A page with `Set-Cookie` added when the session is new.
pub fn with_cookie(mut response: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(cookie) = cookie {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// A rendered page with Supervisor's headers plus our security headers.
fn html(body: String) -> Response {
    let mut response = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html;charset=utf-8"),
        )],
        body,
    )
        .into_response();
    let headers = response.headers_mut();
    no_cache(headers);
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
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

/// Supervisor's no-cache headers, on its pages and redirects.
fn no_cache(headers: &mut HeaderMap) {
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::EXPIRES,
        HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT"),
    );
}

/// Supervisor's answer after an action: its error page with status 301.
pub fn redirect(location: &str) -> Response {
    let Ok(location) = HeaderValue::from_str(location) else {
        return crate::http::error(StatusCode::INTERNAL_SERVER_ERROR);
    };
    let mut response = crate::http::error(StatusCode::MOVED_PERMANENTLY);
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, location);
    no_cache(headers);
    response
}

/// `{"message": …}`, the answer of `POST /action`.
pub fn json_message(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({ "message": message }).to_string();
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    no_cache(response.headers_mut());
    response
}

/// A plain-text error whose body may repeat request input.
pub fn text_error(status: StatusCode, message: String) -> Response {
    let mut response = (status, message).into_response();
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// `/stylesheets/supervisor.css`.
pub fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// One of our scripts ([`SCRIPT`], [`LOG_SCRIPT`]).
pub fn script(source: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript;charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        source,
    )
        .into_response()
}
