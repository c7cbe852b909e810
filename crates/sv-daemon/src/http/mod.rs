//! The HTTP servers of `[unix_http_server]` and `[inet_http_server]`, and
//! which endpoint a request goes to: `POST /RPC2`, the streaming
//! `/logtail/<name>` and `/mainlogtail` of `supervisorctl tail -f` /
//! `maintail -f`, `/ok.html`, and the web page (`/`, `/index.html`,
//! `/tail.html` and ours), handed to [`crate::web`].
//!
//! # Layout
//! * [`bind`]: the sockets, bound before the daemon forks;
//! * [`serve`]: the accept loops and per-connection timeouts;
//! * `auth`: basic authentication, checked before any routing, and
//!   `ratelimit`: repeated failures from one [`peer`] answered 429;
//! * `framing`: the request-smuggling guard (ambiguous framing refused,
//!   the connection closed after an error to a request with a body);
//! * `logtail`: the `tail -f` streams, over the shared [`follow`] module;
//! * [`follow`]: following a log file through rotations and clears, also
//!   used by the page's live log view.
//!
//! Each request talks to the actor through the [`Dispatcher`]; this module
//! moves bytes and checks credentials, it decides nothing about processes.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sv_xmlrpc::Limits;

use crate::rpc::Dispatcher;
use crate::supervisor::Bus;

mod auth;
pub mod bind;
pub mod follow;
mod framing;
mod logtail;
pub mod peer;
mod ratelimit;
pub mod serve;

pub use bind::{BindError, Bound, Server, bind_all, exposure_warning, remove_sockets};
pub use serve::{Drain, serve_stream, spawn};

/// Largest XML-RPC request body accepted.
const MAX_BODY: usize = 32 << 20;

/// What every request of one server needs.
#[derive(Clone)]
struct App {
    dispatcher: Dispatcher,
    credentials: Option<(String, String)>,
    /// Where requests arrive, for the web page's redirects.
    local: crate::web::Local,
    /// The actor's bus, which `/events` streams from.
    bus: Bus,
    /// Failed authentications by peer, this server's.
    auth_failures: std::sync::Arc<ratelimit::AuthFailures>,
}

/// Medusa's error page, which Supervisor's clients see on HTTP errors.
pub(crate) fn error(status: StatusCode) -> Response {
    let reason = status.canonical_reason().unwrap_or("Error");
    let body = format!(
        "<head>\r\n<title>Error response</title>\r\n</head>\r\n<body>\r\n<h1>Error response</h1>\r\n<p>Error code {}.\r\n<p>Message: {reason}.\r\n</body>\r\n",
        status.as_u16()
    );
    (status, [(header::CONTENT_TYPE, "text/html")], body).into_response()
}

/// A request's body, at most `limit` bytes, within the client timeout;
/// `Err` is the answer to send instead (413, 408).
pub(crate) async fn read_body(body: Body, limit: usize) -> Result<Bytes, Response> {
    // A declared length past the limit is refused before any byte is read,
    // not after holding the connection until the timeout waiting for them.
    let declared = axum::body::HttpBody::size_hint(&body).lower();
    if usize::try_from(declared).map_or(true, |n| n > limit) {
        return Err(error(StatusCode::PAYLOAD_TOO_LARGE));
    }
    let read = tokio::time::timeout(serve::client_timeout(), axum::body::to_bytes(body, limit));
    match read.await {
        Ok(Ok(body)) => Ok(body),
        Ok(Err(_)) => Err(error(StatusCode::PAYLOAD_TOO_LARGE)),
        Err(_) => Err(error(StatusCode::REQUEST_TIMEOUT)),
    }
}

/// The request path as Medusa matches it: `%XX` decoded (invalid escapes
/// kept as they are, invalid UTF-8 replaced), repeated slashes
/// (`http://h:9001//logtail/x`) taken as one.
fn routing_path(raw: &str) -> String {
    let decoded = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
    let mut path = String::with_capacity(decoded.len());
    for c in decoded.chars() {
        if !(c == '/' && path.ends_with('/')) {
            path.push(c);
        }
    }
    path
}

async fn handle(State(app): State<App>, request: Request) -> Response {
    let had_body = framing::has_body(request.headers());
    let mut response = if framing::ambiguous(request.headers()) {
        error(StatusCode::BAD_REQUEST)
    } else {
        route(app, request).await
    };
    framing::close_after_error(&mut response, had_body);
    // Every answer, not only the page's: error pages and 404s repeat
    // request input (`/download?processname=<html>`), and no answer of
    // ours is meant to be read as anything but its declared type.
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    response
}

/// The answer of the endpoint the request is for, after basic auth.
async fn route(app: App, request: Request) -> Response {
    if let Some(refused) = authenticate(&app, &request) {
        return refused;
    }
    let path = routing_path(request.uri().path());
    if path.starts_with("/RPC2") {
        return rpc(app, request).await;
    }
    if let Some(rest) = path.strip_prefix("/logtail") {
        return logtail::process_log(&app.dispatcher, request.method(), rest).await;
    }
    if path.starts_with("/mainlogtail") {
        return logtail::main_log(&app.dispatcher, request.method()).await;
    }
    if path == "/ok.html" && matches!(*request.method(), Method::GET | Method::POST) {
        return ([(header::CONTENT_TYPE, "text/plain")], "OK").into_response();
    }
    if let Some(route) = crate::web::Route::from_path(&path) {
        let site = crate::web::Site {
            dispatcher: &app.dispatcher,
            bus: &app.bus,
            local: app.local,
        };
        return crate::web::serve(site, route, request).await;
    }
    error(StatusCode::NOT_FOUND)
}

/// Basic auth, under the failed-authentication limit: `Some` answer when
/// the request may not go on (401, 400, or 429 for a peer locked out).
/// Only requests that offered credentials count as failures: a first
/// request without them is the usual start of a browser's login.
fn authenticate(app: &App, request: &Request) -> Option<Response> {
    app.credentials.as_ref()?;
    let peer = request
        .extensions()
        .get::<peer::Peer>()
        .copied()
        .unwrap_or(peer::Peer::Unknown);
    let now = std::time::Instant::now();
    if let Some(wait) = app.auth_failures.locked_out(peer, now) {
        return Some(too_many(wait));
    }
    let refused = auth::refusal(request.headers(), app.credentials.as_ref())?;
    if request.headers().contains_key(header::AUTHORIZATION)
        && let Some(warning) = app.auth_failures.failed(peer, now)
    {
        app.dispatcher.warn(warning);
    }
    Some(refused)
}

/// 429, with when to try again, closing the connection.
fn too_many(wait: std::time::Duration) -> Response {
    let mut response = error(StatusCode::TOO_MANY_REQUESTS);
    let headers = response.headers_mut();
    let seconds = wait.as_secs().max(1).to_string();
    if let Ok(value) = header::HeaderValue::from_str(&seconds) {
        headers.insert(header::RETRY_AFTER, value);
    }
    headers.insert(
        header::CONNECTION,
        header::HeaderValue::from_static("close"),
    );
    response
}

async fn rpc(app: App, request: Request) -> Response {
    // Any web page can make a browser POST here (`mode: 'no-cors'`,
    // `Content-Type: text/plain` needs no preflight), with cached Basic
    // credentials or none needed. Such a request says where it comes from;
    // XML-RPC clients send neither `Sec-Fetch-Site` nor `Origin` and are
    // not affected. The same rule as the page's actions (web/csrf.rs).
    if crate::web::csrf::cross_site(request.headers()) {
        return error(StatusCode::FORBIDDEN);
    }
    if request.method() != Method::POST {
        return error(StatusCode::BAD_REQUEST);
    }
    let Some(length) = request.headers().get(header::CONTENT_LENGTH) else {
        return error(StatusCode::LENGTH_REQUIRED);
    };
    // Refuse an oversized body before reading any of it.
    let declared = length
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok());
    match declared {
        None => return error(StatusCode::BAD_REQUEST),
        Some(n) if n > MAX_BODY as u64 => return error(StatusCode::PAYLOAD_TOO_LARGE),
        Some(_) => {}
    }
    let body = match read_body(request.into_body(), MAX_BODY).await {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let limits = Limits {
        max_input_bytes: MAX_BODY,
        ..Limits::default()
    };
    let call = match sv_xmlrpc::decode_call(&body, &limits) {
        Ok(call) if !call.name.is_empty() => call,
        _ => return error(StatusCode::BAD_REQUEST),
    };
    let xml = app.dispatcher.call_encoded(call).await;
    ([(header::CONTENT_TYPE, "text/xml")], xml).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_decoded_and_slashes_collapsed() {
        assert_eq!(routing_path("/logtail/grp%3Aproc"), "/logtail/grp:proc");
        assert_eq!(routing_path("/a%2"), "/a%2");
        assert_eq!(routing_path("/a%zz"), "/a%zz");
        assert_eq!(routing_path("/plain"), "/plain");
        assert_eq!(routing_path("//logtail//x"), "/logtail/x");
        assert_eq!(routing_path("/%C3%A9%FF"), "/é\u{fffd}");
    }
}
