//! The web page: Supervisor's `/`, `/index.html` and `/tail.html`, with
//! their query contract kept exactly, and our own markup.
//!
//! What scripts rely on, and what this module therefore reproduces from
//! Supervisor 4.3.0 (spec §8.5):
//!
//! * `index.html?processname=<ns>&action=<a>` (or the same fields in a
//!   form POST) runs the action through the XML-RPC methods, **waits for its
//!   result**, and answers `301` with
//!   `Location: http://<Host>/?message=<quoted message>`; the messages are
//!   Supervisor's, word for word (`Process x started`, `ERROR: Process x:
//!   spawn error`, `No such process named x`, `All stopped at <ctime>` …).
//!   An action Supervisor does not know answers `500`, as it does.
//! * `tail.html?processname=<ns>&limit=<bytes>` shows the end of the stdout
//!   log (at least 1024 bytes) with Supervisor's messages for the failures.
//!
//! What is ours: the HTML (written here, not Supervisor's templates), every
//! value HTML-escaped, a strict Content-Security-Policy, and one safety rule
//! Supervisor lacks (spec §9 item 27): an action requested by a browser on
//! behalf of another site (`Sec-Fetch-Site` other than `same-origin` /
//! `none`, or an `Origin` that is not this server) is refused with `403`.
//! Scripts send neither header, so `curl` keeps working.
//!
//! This module does not own the HTTP server, authentication or the log
//! streams; [`crate::http`] routes here after checking credentials.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sv_api::FaultCode;
use sv_xmlrpc::{Fault, Value};

use crate::rpc::Dispatcher;

pub mod live;
pub mod logview;
pub mod session;

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

impl Page {
    /// The page served at `path` (already percent-decoded).
    pub fn from_path(path: &str) -> Option<Page> {
        Some(match path {
            "/" | "/index.html" => Page::Status,
            "/tail.html" => Page::Tail,
            "/log.html" => Page::Log,
            "/logevents" => Page::LogEvents,
            "/download" => Page::Download,
            "/action" => Page::Action,
            _ => return None,
        })
    }
}

/// Our version, shown in the footer.
pub const OURS: &str = env!("CARGO_PKG_VERSION");

/// The signals the page offers to send.
pub const SIGNALS: &[&str] = &["HUP", "INT", "QUIT", "TERM", "USR1", "USR2", "KILL"];

/// The line windows the log view offers.
pub const LINE_CHOICES: &[usize] = &[100, 500, 2000, 10_000];

/// The log view's window when none is asked for.
pub const DEFAULT_LINES: usize = 500;

/// Where the request arrived, for the redirect's URL when the client sent
/// no `Host` header (Supervisor then uses its server name and port).
#[derive(Debug, Clone, Copy)]
pub struct Local {
    /// The inet server's port; `None` on the unix socket.
    pub port: Option<u16>,
}

/// The policy every page is served with: nothing but our own stylesheet
/// and script (no inline script), connections only to ourselves (the
/// live-update stream), no framing, forms and links only to ourselves.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; \
     script-src 'self'; connect-src 'self'; img-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The stylesheet, served at `/stylesheets/supervisor.css` (where
/// Supervisor's page keeps its own, so proxies that allow that path work).
pub const STYLESHEET: &str = include_str!("web/page.css");

/// Where the status page's script is served.
pub const SCRIPT_PATH: &str = "/scripts/status.js";

/// The status page's script: follows [`live::EVENTS_PATH`] and patches the
/// rows in place, sends the actions, filters. Our own plain JavaScript, no
/// build step; the page works without it.
pub const SCRIPT: &str = include_str!("web/status.js");

/// Where the log view's script is served.
pub const LOG_SCRIPT_PATH: &str = "/scripts/log.js";

/// The log view's script: live follow, search, the follow switch.
pub const LOG_SCRIPT: &str = include_str!("web/log.js");

/// The request's fields: the query string as Python's `parse_qs` reads it
/// (blank values dropped, the first of duplicates kept), then a POST body
/// as `parse_qsl` reads it, overriding (the last of duplicates kept).
pub fn form(query: Option<&str>, body: &[u8]) -> BTreeMap<String, String> {
    let mut fields = BTreeMap::new();
    for (key, value) in pairs(query.unwrap_or("")) {
        fields.entry(key).or_insert(value);
    }
    for (key, value) in pairs(&String::from_utf8_lossy(body)) {
        fields.insert(key, value);
    }
    fields
}

fn pairs(text: &str) -> impl Iterator<Item = (String, String)> + '_ {
    text.split('&').filter_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (!value.is_empty()).then(|| (form_decode(key), form_decode(value)))
    })
}

/// `+` is a space, `%XX` a byte; invalid UTF-8 becomes U+FFFD (Python's
/// `unquote_plus` with `errors='replace'`).
fn form_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 3 <= bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Python's `urllib.parse.quote(text)`: everything but letters, digits,
/// `_.-~` and `/` percent-encoded (as UTF-8).
pub fn url_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || b"_.-~/".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// HTML-escape text for element content and quoted attribute values.
/// Process names, descriptions, messages and log lines all come from
/// outside (a config file, a query string, a child's output).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// C `ctime()` without the newline, in local time: `Fri Dec  4 13:56:36 2026`.
fn ctime() -> String {
    jiff::Zoned::now()
        .strftime("%a %b %e %H:%M:%S %Y")
        .to_string()
}

/// `http://<host>` as Supervisor's `get_server_url` builds it: the `Host`
/// header with a port of 80 dropped, or the server name and port.
fn server_url(headers: &HeaderMap, local: Local) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    let (name, port) = match host {
        Some(host) => match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => (
                name.to_string(),
                (!port.is_empty()).then(|| port.to_string()),
            ),
            _ => (host.to_string(), None),
        },
        None => ("localhost".to_string(), local.port.map(|p| p.to_string())),
    };
    match port {
        Some(port) if port != "80" => format!("http://{name}:{port}"),
        _ => format!("http://{name}"),
    }
}

/// Where a browser says a request comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Provenance {
    /// From a page of this server, or typed/bookmarked by the user.
    SameOrigin,
    /// On behalf of another site.
    CrossSite,
    /// The client said nothing: a script, or a browser talking plain HTTP
    /// to an address it does not trust (it then sends no
    /// `Sec-Fetch-Site`, and no `Origin` on a GET).
    Unknown,
}

/// `host[:port]` with the scheme's default port dropped, lower case.
fn authority(host: &str, scheme_default: &str) -> String {
    let host = host.trim().to_ascii_lowercase();
    match host.rsplit_once(':') {
        Some((name, port)) if port == scheme_default || port.is_empty() => name.to_string(),
        _ => host,
    }
}

/// What `Sec-Fetch-Site` says, or else what `Origin` against `Host` says.
/// The scheme is not compared: behind a TLS-terminating proxy the page is
/// `https://…` while this server speaks plain HTTP.
fn provenance(headers: &HeaderMap) -> Provenance {
    if let Some(site) = headers.get("sec-fetch-site") {
        return match site.to_str() {
            Ok("same-origin" | "none") => Provenance::SameOrigin,
            _ => Provenance::CrossSite,
        };
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Provenance::Unknown;
    };
    let origin = origin.to_str().unwrap_or("null");
    let (scheme, host) = origin.split_once("://").unwrap_or(("", ""));
    let default_port = if scheme == "https" { "443" } else { "80" };
    let ours = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    match ours {
        Some(ours)
            if !host.is_empty()
                && (authority(host, default_port) == authority(ours, "80")
                    || authority(host, default_port) == authority(ours, "443")) =>
        {
            Provenance::SameOrigin
        }
        _ => Provenance::CrossSite,
    }
}

/// Whether a browser sent this request on behalf of another site. Only
/// browsers send `Sec-Fetch-Site` and `Origin`; `curl` and scripts send
/// neither and are never refused.
fn cross_site(headers: &HeaderMap) -> bool {
    provenance(headers) == Provenance::CrossSite
}

/// Whether the client looks like a browser (every browser's user agent
/// starts with `Mozilla/`; `curl`, `wget`, Python's clients do not).
fn looks_like_browser(headers: &HeaderMap) -> bool {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ua| ua.starts_with("Mozilla/"))
        || headers.contains_key(header::UPGRADE_INSECURE_REQUESTS)
        || headers.contains_key("sec-ch-ua")
}

/// Serve one page request (GET or POST; the caller checked the method and
/// the credentials).
pub async fn serve(
    dispatcher: &Dispatcher,
    page: Page,
    headers: &HeaderMap,
    post: bool,
    query: Option<&str>,
    body: Bytes,
    local: Local,
) -> Response {
    let form = form(query, &body);
    match page {
        Page::Tail => tail_page(dispatcher, &form).await,
        Page::Log => log_page(dispatcher, &form).await,
        Page::LogEvents => match logview::Source::from_form(&form) {
            Ok(source) => {
                // A browser reconnecting goes on from the last id it got.
                let resume = headers
                    .get("last-event-id")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse().ok());
                let offset = resume.or_else(|| form.get("offset").and_then(|o| o.parse().ok()));
                logview::follow(dispatcher, &source, offset).await
            }
            Err(message) => text_error(StatusCode::BAD_REQUEST, message),
        },
        Page::Download => match logview::Source::from_form(&form) {
            Ok(source) => logview::download(dispatcher, &source).await,
            Err(message) => text_error(StatusCode::BAD_REQUEST, message),
        },
        Page::Action => page_action(dispatcher, headers, &form).await,
        Page::Status => {
            let Some(action) = form.get("action") else {
                let message = form.get("message").map(String::as_str);
                return status_page(dispatcher, headers, message).await;
            };
            let from_page = match form.get(session::FIELD) {
                // From our own page: the token must be the session's.
                Some(token) => {
                    if !session::verify(headers, token) || cross_site(headers) {
                        return crate::http::error(StatusCode::FORBIDDEN);
                    }
                    true
                }
                // Supervisor's form, from a script or a browser.
                None => match provenance(headers) {
                    Provenance::CrossSite => return crate::http::error(StatusCode::FORBIDDEN),
                    Provenance::SameOrigin => false,
                    // A browser that says nothing may be following a
                    // forged link or image from another site: ask.
                    // (`refresh` changes nothing, so it is not asked about.)
                    Provenance::Unknown
                        if !post && action != "refresh" && looks_like_browser(headers) =>
                    {
                        return confirm_page(headers, &form);
                    }
                    Provenance::Unknown => false,
                },
            };
            let namespec = form.get("processname").map(String::as_str);
            let signal = form.get("signal").map(String::as_str);
            match run_action(dispatcher, action, namespec, signal).await {
                // The page's own forms come back to the page they were on
                // (relative, so proxies with a prefix or TLS keep working);
                // scripts get Supervisor's absolute redirect.
                Some(message) if from_page => {
                    redirect(&format!("index.html?message={}", url_quote(&message)))
                }
                Some(message) => redirect(&format!(
                    "{}/?message={}",
                    server_url(headers, local),
                    url_quote(&message)
                )),
                // Supervisor raises ValueError for an action it does not
                // know, which its server turns into a 500.
                None => crate::http::error(StatusCode::INTERNAL_SERVER_ERROR),
            }
        }
    }
}

/// A plain-text error whose body may repeat request input.
fn text_error(status: StatusCode, message: String) -> Response {
    let mut response = (status, message).into_response();
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// The page asking to confirm an action that came in a way another site
/// could have forged.
#[derive(askama::Template)]
#[template(path = "confirm.html")]
struct ConfirmTemplate<'a> {
    title: String,
    script: &'static str,
    action: &'a str,
    target: &'a str,
    fields: Vec<(&'a str, &'a str)>,
    csrf: String,
}

fn confirm_page(headers: &HeaderMap, form: &BTreeMap<String, String>) -> Response {
    let (session, set_cookie) = session::for_page(headers);
    let csrf = session
        .as_deref()
        .and_then(session::token)
        .unwrap_or_default();
    let action = form.get("action").map(String::as_str).unwrap_or("");
    let target = form
        .get("processname")
        .map(String::as_str)
        .unwrap_or("all processes");
    let fields = ["processname", "action", "signal"]
        .iter()
        .filter_map(|&k| form.get(k).map(|v| (k, v.as_str())))
        .collect();
    let mut response = render(&ConfirmTemplate {
        title: format!("Confirm {action}"),
        script: "",
        action,
        target,
        fields,
        csrf,
    });
    if let Some(cookie) = set_cookie {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// `POST /action`: what the page's script sends. Always needs the
/// session's token (which another site cannot read), and is refused when
/// the browser says it is cross-site; answers `{"message": …}` (the
/// message the redirect of `index.html` would carry) instead of a redirect.
async fn page_action(
    d: &Dispatcher,
    headers: &HeaderMap,
    form: &BTreeMap<String, String>,
) -> Response {
    let json = |status: StatusCode, message: &str| {
        let body = serde_json::json!({ "message": message }).to_string();
        let mut response = (status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        no_cache(response.headers_mut());
        response
    };
    let token_ok = form
        .get(session::FIELD)
        .is_some_and(|token| session::verify(headers, token));
    if cross_site(headers) || !token_ok {
        return json(
            StatusCode::FORBIDDEN,
            "Refused: this page's session is not valid (the daemon restarted?). Reload the page.",
        );
    }
    let Some(action) = form.get("action") else {
        return json(StatusCode::BAD_REQUEST, "No action given");
    };
    let namespec = form.get("processname").map(String::as_str);
    let signal = form.get("signal").map(String::as_str);
    match run_action(d, action, namespec, signal).await {
        Some(message) => json(StatusCode::OK, &message),
        None => json(
            StatusCode::BAD_REQUEST,
            &format!("Unknown action {action:?}"),
        ),
    }
}

/// Supervisor's answer after an action: its error page with status 301.
fn redirect(location: &str) -> Response {
    let Ok(location) = HeaderValue::from_str(location) else {
        return crate::http::error(StatusCode::INTERNAL_SERVER_ERROR);
    };
    let mut response = crate::http::error(StatusCode::MOVED_PERMANENTLY);
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, location);
    no_cache(headers);
    response
}

fn no_cache(headers: &mut HeaderMap) {
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::EXPIRES,
        HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT"),
    );
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

fn unexpected(fault: &Fault) -> String {
    format!("unexpected rpc fault [{}] {}", fault.code, fault.string)
}

fn fault_is(fault: &Fault, code: FaultCode) -> bool {
    FaultCode::from_code(fault.code) == Some(code)
}

fn call(name: &str, params: Vec<Value>) -> (String, Vec<Value>) {
    (name.to_string(), params)
}

fn multicall(calls: &[(&str, Option<&str>)]) -> Vec<Value> {
    let calls = calls
        .iter()
        .map(|(name, spec)| {
            let mut members = vec![("methodName".to_string(), Value::from(*name))];
            if let Some(spec) = spec {
                members.push(("params".to_string(), Value::Array(vec![Value::from(*spec)])));
            }
            Value::Struct(members)
        })
        .collect();
    vec![Value::Array(calls)]
}

/// Run one action as Supervisor's `StatusView.make_callback` does and
/// return the message for the redirect; `None` is Supervisor's 500.
async fn run_action(
    d: &Dispatcher,
    action: &str,
    namespec: Option<&str>,
    signal: Option<&str>,
) -> Option<String> {
    let ask =
        |(name, params): (String, Vec<Value>)| async move { d.call_for_web(&name, params).await };
    // The all-process actions come first: a process name beside them is
    // ignored, as in Supervisor.
    match action {
        "refresh" => return Some(format!("Page refreshed at {}", ctime())),
        "stopall" => {
            let _ = ask(call("supervisor.stopAllProcesses", vec![])).await;
            return Some(format!("All stopped at {}", ctime()));
        }
        "restartall" => {
            let calls = multicall(&[
                ("supervisor.stopAllProcesses", None),
                ("supervisor.startAllProcesses", None),
            ]);
            let _ = ask(call("system.multicall", calls)).await;
            return Some(format!("All restarted at {}", ctime()));
        }
        // Ours: Supervisor's page has no "start all".
        "startall" => {
            let _ = ask(call("supervisor.startAllProcesses", vec![])).await;
            return Some(format!("All started at {}", ctime()));
        }
        _ => {}
    }
    let namespec = namespec.filter(|n| !n.is_empty())?;
    if let Some(message) = group_action(d, action, namespec).await {
        return Some(message);
    }
    let spec = || vec![Value::from(namespec)];
    // Supervisor looks the process up before looking at the action, so an
    // unknown process wins over an unknown action.
    if let Err(fault) = ask(call("supervisor.getProcessInfo", spec())).await
        && fault_is(&fault, FaultCode::BadName)
    {
        return Some(format!("No such process named {namespec}"));
    }
    match action {
        "start" => Some(match ask(call("supervisor.startProcess", spec())).await {
            Ok(_) => format!("Process {namespec} started"),
            Err(fault) => {
                let why = match FaultCode::from_code(fault.code) {
                    Some(FaultCode::NoFile) => "no such file".to_string(),
                    Some(FaultCode::NotExecutable) => "file not executable".to_string(),
                    Some(FaultCode::AlreadyStarted) => "already started".to_string(),
                    Some(FaultCode::SpawnError) => "spawn error".to_string(),
                    Some(FaultCode::AbnormalTermination) => "abnormal termination".to_string(),
                    _ => unexpected(&fault),
                };
                format!("ERROR: Process {namespec}: {why}")
            }
        }),
        "stop" => Some(match ask(call("supervisor.stopProcess", spec())).await {
            Ok(_) => format!("Process {namespec} stopped"),
            Err(fault) => unexpected(&fault),
        }),
        "restart" => {
            let calls = multicall(&[
                ("supervisor.stopProcess", Some(namespec)),
                ("supervisor.startProcess", Some(namespec)),
            ]);
            // Supervisor reports success whatever the two calls returned.
            let _ = ask(call("system.multicall", calls)).await;
            Some(format!("Process {namespec} restarted"))
        }
        "clearlog" => Some(
            match ask(call("supervisor.clearProcessLogs", spec())).await {
                Ok(_) => format!("Log for {namespec} cleared"),
                Err(fault) => unexpected(&fault),
            },
        ),
        // Ours: Supervisor's page cannot send a signal.
        "signal" => {
            let signal = signal.filter(|s| !s.is_empty()).unwrap_or("HUP");
            let params = vec![Value::from(namespec), Value::from(signal)];
            Some(match ask(call("supervisor.signalProcess", params)).await {
                Ok(_) => format!("Signal {signal} sent to {namespec}"),
                Err(fault) => match FaultCode::from_code(fault.code) {
                    Some(FaultCode::BadSignal) => format!("ERROR: bad signal {signal}"),
                    Some(FaultCode::NotRunning) => {
                        format!("ERROR: Process {namespec}: not running")
                    }
                    _ => unexpected(&fault),
                },
            })
        }
        _ => None,
    }
}

/// The per-group actions (ours): `startgroup`, `stopgroup`,
/// `restartgroup` with the group's name as `processname`. `None` for any
/// other action.
async fn group_action(d: &Dispatcher, action: &str, group: &str) -> Option<String> {
    let ask =
        |(name, params): (String, Vec<Value>)| async move { d.call_for_web(&name, params).await };
    let (method, done) = match action {
        "startgroup" => ("supervisor.startProcessGroup", "started"),
        "stopgroup" => ("supervisor.stopProcessGroup", "stopped"),
        "restartgroup" => ("", "restarted"),
        _ => return None,
    };
    let answer = if method.is_empty() {
        let calls = multicall(&[
            ("supervisor.stopProcessGroup", Some(group)),
            ("supervisor.startProcessGroup", Some(group)),
        ]);
        ask(call("system.multicall", calls)).await.map(|results| {
            // A bad name shows in the first call's result.
            match results.as_array().and_then(|r| r.first()) {
                Some(Value::Struct(members))
                    if members.iter().any(|(k, v)| {
                        k == "faultCode" && v.as_i32() == Some(FaultCode::BadName.code())
                    }) =>
                {
                    Err(())
                }
                _ => Ok(()),
            }
        })
    } else {
        ask(call(method, vec![Value::from(group)]))
            .await
            .map(|_| Ok(()))
    };
    Some(match answer {
        Ok(Ok(())) => format!("Group {group} {done}"),
        Ok(Err(())) => format!("No such group named {group}"),
        Err(fault) if fault_is(&fault, FaultCode::BadName) => {
            format!("No such group named {group}")
        }
        Err(fault) => unexpected(&fault),
    })
}

/// One row of the status table.
struct Row {
    namespec: String,
    statename: String,
    description: String,
    pid: i64,
    uptime: Option<i64>,
}

impl Row {
    fn from_info(info: &Value) -> Row {
        let text = |key: &str| info.get(key).and_then(Value::as_str).unwrap_or("");
        let int = |key: &str| match info.get(key) {
            Some(Value::Int(v)) => i64::from(*v),
            Some(Value::I8(v)) => *v,
            _ => 0,
        };
        let state = int("state") as i32;
        let running = state == sv_api::ProcessState::Running.code();
        Row {
            namespec: sv_api::make_namespec(text("group"), text("name")),
            statename: text("statename").to_string(),
            description: text("description").to_string(),
            pid: int("pid"),
            uptime: running.then(|| (int("now") - int("start")).max(0)),
        }
    }

    /// The colour class: Supervisor's three (running, error, nominal),
    /// with the transitional states told apart.
    fn class(&self) -> &'static str {
        match self.statename.as_str() {
            "RUNNING" => "st-running",
            "FATAL" | "BACKOFF" => "st-error",
            "STARTING" | "STOPPING" => "st-busy",
            "EXITED" | "UNKNOWN" => "st-warn",
            _ => "st-stopped",
        }
    }

    /// The uptime as Supervisor shows it; empty unless running.
    fn uptime_shown(&self) -> String {
        self.uptime.map(uptime_text).unwrap_or_default()
    }

    /// The namespec quoted for a URL.
    fn quoted(&self) -> String {
        url_quote(&self.namespec)
    }
}

/// `H:MM:SS`, with `N day(s), ` in front past a day (Supervisor's uptime).
pub(crate) fn uptime_text(seconds: i64) -> String {
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let clock = format!("{}:{:02}:{:02}", rest / 3600, rest % 3600 / 60, rest % 60);
    match days {
        0 => clock,
        1 => format!("1 day, {clock}"),
        n => format!("{n} days, {clock}"),
    }
}

/// The status page.
#[derive(askama::Template)]
#[template(path = "status.html")]
struct StatusTemplate<'a> {
    title: String,
    script: &'static str,
    identification: &'a str,
    pid: i32,
    daemon_state: &'a str,
    total: usize,
    summary: String,
    message: Option<&'a str>,
    csrf: String,
    groups: Vec<GroupRows>,
}

/// The rows of one group; `head` when the group gets its own header row
/// (more than one process, or a process named apart from its group).
struct GroupRows {
    name: String,
    head: bool,
    rows: Vec<Row>,
}

/// A rendered template as a page (an error page if rendering failed,
/// which only a bug in a template could cause).
fn render(template: &impl askama::Template) -> Response {
    match template.render() {
        Ok(body) => html(body),
        Err(_) => crate::http::error(StatusCode::INTERNAL_SERVER_ERROR),
    }
}

async fn status_page(d: &Dispatcher, headers: &HeaderMap, message: Option<&str>) -> Response {
    let infos = match d.call_for_web("supervisor.getAllProcessInfo", vec![]).await {
        Ok(Value::Array(infos)) => infos,
        // Supervisor's page raises (a 500) while the daemon shuts down.
        _ => return crate::http::error(StatusCode::INTERNAL_SERVER_ERROR),
    };
    let identification = d
        .call_for_web("supervisor.getIdentification", vec![])
        .await
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "supervisor".to_string());
    let pid = d
        .call_for_web("supervisor.getPID", vec![])
        .await
        .ok()
        .and_then(|v| v.as_i32())
        .unwrap_or(0);
    let daemon_state = d
        .call_for_web("supervisor.getState", vec![])
        .await
        .ok()
        .and_then(|v| {
            v.get("statename")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_default();
    let rows: Vec<(String, Row)> = infos
        .iter()
        .map(|info| {
            let group = info.get("group").and_then(Value::as_str).unwrap_or("");
            (group.to_string(), Row::from_info(info))
        })
        .collect();
    let (session, set_cookie) = session::for_page(headers);
    let csrf = session
        .as_deref()
        .and_then(session::token)
        .unwrap_or_default();
    let page = StatusTemplate {
        title: format!("{identification} · processes"),
        script: "scripts/status.js",
        identification: &identification,
        pid,
        daemon_state: &daemon_state,
        total: rows.len(),
        summary: summary(rows.iter().map(|(_, row)| row.statename.as_str())),
        message,
        csrf,
        groups: group_rows(rows),
    };
    let mut response = render(&page);
    if let Some(cookie) = set_cookie {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// `3 running, 1 stopped`: counts by state, in the order of the names.
fn summary<'a>(states: impl Iterator<Item = &'a str>) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for state in states {
        *counts.entry(state).or_default() += 1;
    }
    counts
        .iter()
        .map(|(state, n)| format!("{n} {}", state.to_lowercase()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Rows (already sorted by group and name, as `getAllProcessInfo` gives
/// them) split by group.
fn group_rows(rows: Vec<(String, Row)>) -> Vec<GroupRows> {
    let mut groups: Vec<GroupRows> = Vec::new();
    for (group, row) in rows {
        match groups.last_mut() {
            Some(last) if last.name == group => last.rows.push(row),
            _ => groups.push(GroupRows {
                name: group,
                head: false,
                rows: vec![row],
            }),
        }
    }
    for group in &mut groups {
        group.head = group.rows.len() > 1 || group.rows.iter().any(|r| r.namespec != group.name);
    }
    groups
}

/// Supervisor's tail page, in our markup.
#[derive(askama::Template)]
#[template(path = "tail.html")]
struct TailTemplate<'a> {
    title: String,
    script: &'static str,
    name: &'a str,
    quoted: Option<String>,
    limit: i32,
    text: &'a str,
}

/// Supervisor's `TailView`: at least 1024 bytes of the stdout log.
async fn tail_page(d: &Dispatcher, form: &BTreeMap<String, String>) -> Response {
    let Some(name) = form.get("processname").filter(|n| !n.is_empty()) else {
        return render_tail(None, 1024, "No process name found");
    };
    let limit = form
        .get("limit")
        .and_then(|l| {
            l.bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| l.parse::<i64>().ok())
                .flatten()
        })
        .unwrap_or(1024)
        .max(1024);
    let limit = i32::try_from(limit).unwrap_or(i32::MAX);
    let params = vec![
        Value::from(name.as_str()),
        Value::Int(-limit),
        Value::Int(0),
    ];
    let text = match d
        .call_for_web("supervisor.readProcessStdoutLog", params)
        .await
    {
        Ok(value) => value.as_str().unwrap_or("").to_string(),
        Err(fault) if fault_is(&fault, FaultCode::NoFile) => format!("No file for {name}"),
        Err(fault) => format!("ERROR: {}", unexpected(&fault)),
    };
    render_tail(Some(name), limit, &text)
}

fn render_tail(name: Option<&str>, limit: i32, text: &str) -> Response {
    let shown = name.unwrap_or("(no process)");
    render(&TailTemplate {
        title: format!("{shown} · log"),
        script: "",
        name: shown,
        quoted: name.map(url_quote),
        limit,
        text,
    })
}

/// The log view (ours).
#[derive(askama::Template)]
#[template(path = "log.html")]
struct LogTemplate<'a> {
    title: String,
    script: &'static str,
    name: &'a str,
    quoted: String,
    channel: &'static str,
    lines: usize,
    more: usize,
    problem: Option<String>,
    window: Vec<String>,
    shown: usize,
    more_before: bool,
    end: u64,
    open_end: bool,
    keep: usize,
}

/// `log.html?processname=<ns>&channel=stdout|stderr|main&lines=<n>`.
async fn log_page(d: &Dispatcher, form: &BTreeMap<String, String>) -> Response {
    let lines = form
        .get("lines")
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(DEFAULT_LINES)
        .clamp(1, logview::MAX_LINES);
    let source = logview::Source::from_form(form);
    let (name, channel) = match &source {
        Ok(logview::Source::Main) => ("supervisord".to_string(), "main"),
        Ok(source) => (source.namespec().to_string(), source.channel()),
        Err(_) => ("(no process)".to_string(), "stdout"),
    };
    let mut page = LogTemplate {
        title: format!("{name} · {channel} log"),
        script: "scripts/log.js",
        name: &name,
        quoted: if channel == "main" {
            String::new()
        } else {
            url_quote(&name)
        },
        channel,
        lines,
        more: (lines * 4).min(logview::MAX_LINES),
        problem: None,
        window: Vec::new(),
        shown: 0,
        more_before: false,
        end: 0,
        open_end: false,
        keep: lines.max(logview::FOLLOW_KEEP),
    };
    let path = match &source {
        Ok(source) => source.path(d).await,
        Err(message) => Err(message.clone()),
    };
    match path {
        Err(message) => page.problem = Some(message),
        // Not written yet: an empty window, followed from its start.
        Ok(path) if !path.exists() => {}
        Ok(path) => match logview::regular_file(&path) {
            Err(message) => page.problem = Some(message),
            Ok(()) => {
                let read = tokio::task::spawn_blocking({
                    let path = path.clone();
                    move || logview::last_lines(&path, lines)
                });
                match read.await {
                    Ok(Ok(window)) => {
                        page.shown = window.lines.len();
                        page.more_before = window.more_before;
                        page.end = window.end;
                        page.open_end = window.open_end;
                        page.window = window.lines;
                    }
                    Ok(Err(e)) => {
                        page.problem = Some(format!("Cannot read {}: {e}", path.display()));
                    }
                    Err(_) => page.problem = Some("Reading the log failed".to_string()),
                }
            }
        },
    }
    render(&page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_follows_parse_qs() {
        let f = form(Some("a=1&a=2&b=&c&d=x+y%3Az&e=%ZZ"), b"");
        assert_eq!(
            f.get("a").map(String::as_str),
            Some("1"),
            "first query value"
        );
        assert!(
            !f.contains_key("b") && !f.contains_key("c"),
            "blanks dropped"
        );
        assert_eq!(f.get("d").map(String::as_str), Some("x y:z"));
        assert_eq!(f.get("e").map(String::as_str), Some("%ZZ"));
        let f = form(Some("action=start&x=1"), b"action=stop&action=restart");
        assert_eq!(f.get("action").map(String::as_str), Some("restart"));
        assert_eq!(f.get("x").map(String::as_str), Some("1"));
    }

    #[test]
    fn quote_like_python() {
        assert_eq!(url_quote("g:*"), "g%3A%2A");
        assert_eq!(
            url_quote("Page refreshed at Fri Dec  4 13:56:36 2026"),
            "Page%20refreshed%20at%20Fri%20Dec%20%204%2013%3A56%3A36%202026"
        );
        assert_eq!(url_quote("a/b_c.d-e~é"), "a/b_c.d-e~%C3%A9");
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }

    #[test]
    fn server_url_like_supervisor() {
        let with_host = |host: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::HOST, HeaderValue::from_str(host).unwrap());
            server_url(&h, Local { port: Some(9001) })
        };
        assert_eq!(with_host("127.0.0.1:9001"), "http://127.0.0.1:9001");
        assert_eq!(with_host("example.com:80"), "http://example.com");
        assert_eq!(with_host(" example.com "), "http://example.com");
        assert_eq!(with_host("example.com:"), "http://example.com");
        assert_eq!(
            server_url(&HeaderMap::new(), Local { port: Some(9001) }),
            "http://localhost:9001"
        );
    }

    #[test]
    fn cross_site_detection() {
        let with = |pairs: &[(&'static str, &str)]| {
            let mut h = HeaderMap::new();
            h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:9001"));
            for (k, v) in pairs {
                h.insert(*k, HeaderValue::from_str(v).unwrap());
            }
            provenance(&h)
        };
        use Provenance::*;
        assert_eq!(with(&[]), Unknown, "curl sends neither header");
        assert_eq!(with(&[("sec-fetch-site", "cross-site")]), CrossSite);
        assert_eq!(with(&[("sec-fetch-site", "same-site")]), CrossSite);
        assert_eq!(with(&[("sec-fetch-site", "same-origin")]), SameOrigin);
        assert_eq!(with(&[("sec-fetch-site", "none")]), SameOrigin);
        assert_eq!(with(&[("origin", "http://evil.example")]), CrossSite);
        assert_eq!(with(&[("origin", "http://127.0.0.1:9002")]), CrossSite);
        assert_eq!(with(&[("origin", "null")]), CrossSite);
        assert_eq!(with(&[("origin", "http://127.0.0.1:9001")]), SameOrigin);
        // Sec-Fetch-Site wins over an Origin a TLS proxy makes differ.
        assert_eq!(
            with(&[
                ("origin", "https://127.0.0.1:9001"),
                ("sec-fetch-site", "same-origin")
            ]),
            SameOrigin
        );
        // Behind a TLS proxy that forwards Host: the scheme is not compared.
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("Sv.Example.com"));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://sv.example.com"),
        );
        assert_eq!(provenance(&h), SameOrigin);
        h.insert(header::HOST, HeaderValue::from_static("sv.example.com:80"));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://sv.example.com"),
        );
        assert_eq!(provenance(&h), SameOrigin);
    }

    #[test]
    fn browsers_are_told_from_scripts() {
        let ua = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(header::USER_AGENT, HeaderValue::from_static(v));
            looks_like_browser(&h)
        };
        assert!(ua(
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/148.0"
        ));
        assert!(!ua("curl/8.5.0"));
        assert!(!ua("Wget/1.21.3"));
        assert!(!ua("Python-urllib/3.11"));
        assert!(!looks_like_browser(&HeaderMap::new()));
    }

    #[test]
    fn uptime_format() {
        assert_eq!(uptime_text(5), "0:00:05");
        assert_eq!(uptime_text(3_725), "1:02:05");
        assert_eq!(uptime_text(86_400 + 61), "1 day, 0:01:01");
        assert_eq!(uptime_text(2 * 86_400), "2 days, 0:00:00");
    }
}
