//! Which path is which part of the page, and which methods each answers.
//!
//! Supervisor's page answers GET and POST on `/`, `/index.html` and
//! `/tail.html`; any other method falls through to its static files (`HEAD`:
//! 404, the rest: 400), which is kept for every page here, ours included.
//! Our stylesheet and scripts answer GET only (other methods: 404), the
//! `/events` stream GET only (others: 400), `/action` POST only (405).

use axum::body::Bytes;
use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::response::Response;

use super::{Local, actions, live, logview, pages, respond};
use crate::rpc::Dispatcher;
use crate::supervisor::Bus;

/// Largest form body the page accepts.
const MAX_FORM: usize = 64 << 10;

/// Which page a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// `/` and `/index.html`: the status table and the actions.
    Status,
    /// `/tail.html`: the end of one process's stdout log.
    Tail,
    /// `/log.html` (ours): a line window of a log, followed live.
    Log,
    /// `/logevents` (ours): the log view's live follow.
    LogEvents,
    /// `/download` (ours): a whole log file.
    Download,
    /// `POST /action` (ours): the page's actions, answered in JSON.
    Action,
}

/// What a path of the page serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// A page or action, with its query and form.
    Page(Page),
    /// `/stylesheets/supervisor.css`.
    Stylesheet,
    /// One of our scripts (its source).
    Script(&'static str),
    /// `/events`, the status page's live updates.
    Events,
}

impl Route {
    /// The route of `path` (already percent-decoded), if the page has one.
    pub fn from_path(path: &str) -> Option<Route> {
        Some(match path {
            "/" | "/index.html" => Route::Page(Page::Status),
            "/tail.html" => Route::Page(Page::Tail),
            "/log.html" => Route::Page(Page::Log),
            "/logevents" => Route::Page(Page::LogEvents),
            "/download" => Route::Page(Page::Download),
            "/action" => Route::Page(Page::Action),
            "/stylesheets/supervisor.css" => Route::Stylesheet,
            respond::SCRIPT_PATH => Route::Script(respond::SCRIPT),
            respond::LOG_SCRIPT_PATH => Route::Script(respond::LOG_SCRIPT),
            live::EVENTS_PATH => Route::Events,
            _ => return None,
        })
    }
}

/// What the page needs from the server it is served on.
#[derive(Clone, Copy)]
pub struct Site<'a> {
    /// Calls into the daemon.
    pub dispatcher: &'a Dispatcher,
    /// The actor's bus, which `/events` streams from.
    pub bus: &'a Bus,
    /// Where requests arrive, for redirects.
    pub local: Local,
}

/// Serve one request of the page (the caller checked the credentials).
pub async fn serve(site: Site<'_>, route: Route, request: Request) -> Response {
    let method = request.method().clone();
    match route {
        Route::Stylesheet | Route::Script(_) if method != Method::GET => {
            crate::http::error(StatusCode::NOT_FOUND)
        }
        Route::Stylesheet => respond::stylesheet(),
        Route::Script(source) => respond::script(source),
        Route::Events if method != Method::GET => crate::http::error(StatusCode::BAD_REQUEST),
        // Like `/logtail`, the stream is exempt from the request timeouts
        // (they bound reading a request, not writing an answer).
        Route::Events => {
            // Subscribe first, then compare: a change the page's snapshot
            // missed (made between its render and this request) is either
            // counted here or arrives on the subscription.
            let rx = site.bus.subscribe();
            let stale = since(request.uri().query()).is_some_and(|n| n != site.bus.changes());
            live::events(site.dispatcher.clone(), rx, stale)
        }
        Route::Page(Page::Action) if method != Method::POST => {
            crate::http::error(StatusCode::METHOD_NOT_ALLOWED)
        }
        Route::Page(page) => match method {
            Method::GET | Method::POST => page_request(site, page, request).await,
            Method::HEAD => crate::http::error(StatusCode::NOT_FOUND),
            _ => crate::http::error(StatusCode::BAD_REQUEST),
        },
    }
}

/// The `since=` of `/events?since=N`: the bus's change count the page
/// was rendered at ([`Bus::changes`]).
fn since(query: Option<&str>) -> Option<u64> {
    query?
        .split('&')
        .find_map(|pair| pair.strip_prefix("since="))
        .and_then(|n| n.parse().ok())
}

/// A GET or POST of a page: its fields read, then the page or action.
async fn page_request(site: Site<'_>, page: Page, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let post = parts.method == Method::POST;
    let body = if post {
        match crate::http::read_body(body, MAX_FORM).await {
            Ok(body) => body,
            Err(refused) => return refused,
        }
    } else {
        Bytes::new()
    };
    let form = super::forms::form(parts.uri.query(), &body);
    let headers = &parts.headers;
    let d = site.dispatcher;
    match page {
        Page::Tail => pages::tail_page(d, &form).await,
        Page::Log => pages::log_page(d, &form).await,
        Page::LogEvents => match logview::Source::from_form(&form) {
            Ok(source) => {
                // A browser reconnecting goes on from the last id it got.
                let resume = headers
                    .get("last-event-id")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse().ok());
                let offset = resume.or_else(|| form.get("offset").and_then(|o| o.parse().ok()));
                logview::follow(d, &source, offset).await
            }
            Err(message) => respond::text_error(StatusCode::BAD_REQUEST, message),
        },
        Page::Download => match logview::Source::from_form(&form) {
            Ok(source) => logview::download(d, &source).await,
            Err(message) => respond::text_error(StatusCode::BAD_REQUEST, message),
        },
        Page::Action => actions::page_action(d, headers, &form).await,
        Page::Status => match form.get("action") {
            Some(action) => {
                actions::index_action(d, headers, post, action, &form, site.local).await
            }
            None => {
                let message = form.get("message").map(String::as_str);
                // Counted before the snapshot is taken (see `since`).
                let changes = site.bus.changes();
                pages::status_page(d, changes, headers, message).await
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_of_the_page() {
        assert_eq!(Route::from_path("/"), Some(Route::Page(Page::Status)));
        assert_eq!(
            Route::from_path("/index.html"),
            Some(Route::Page(Page::Status))
        );
        assert_eq!(Route::from_path("/action"), Some(Route::Page(Page::Action)));
        assert_eq!(Route::from_path("/events"), Some(Route::Events));
        assert_eq!(
            Route::from_path("/scripts/log.js"),
            Some(Route::Script(respond::LOG_SCRIPT))
        );
        assert_eq!(Route::from_path("/index.htm"), None);
        assert_eq!(Route::from_path("/images/button.png"), None);
    }
}
