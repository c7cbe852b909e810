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

/// Which page a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// `/` and `/index.html`: the status table and the actions.
    Status,
    /// `/tail.html`: the end of one process's stdout log.
    Tail,
}

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
/// rows in place. Our own plain JavaScript, no build step; the page works
/// without it.
pub const SCRIPT: &str = include_str!("web/status.js");

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

/// Whether a browser sent this request on behalf of another site. Only
/// browsers send `Sec-Fetch-Site` and `Origin`; `curl` and scripts send
/// neither and are never refused.
fn cross_site(headers: &HeaderMap, own_origin: &str) -> bool {
    let fetch_site = headers
        .get("sec-fetch-site")
        .map(|v| v.to_str().unwrap_or("cross-site"));
    if let Some(site) = fetch_site
        && !matches!(site, "same-origin" | "none")
    {
        return true;
    }
    match headers.get(header::ORIGIN) {
        Some(origin) => origin.to_str().map_or(true, |o| o != own_origin),
        None => false,
    }
}

/// Serve one page request (GET or POST; the caller checked the method and
/// the credentials).
pub async fn serve(
    dispatcher: &Dispatcher,
    page: Page,
    headers: &HeaderMap,
    query: Option<&str>,
    body: Bytes,
    local: Local,
) -> Response {
    let form = form(query, &body);
    match page {
        Page::Tail => tail_page(dispatcher, &form).await,
        Page::Status => {
            let Some(action) = form.get("action") else {
                return status_page(dispatcher, form.get("message").map(String::as_str)).await;
            };
            let url = server_url(headers, local);
            if cross_site(headers, &url) {
                return crate::http::error(StatusCode::FORBIDDEN);
            }
            let namespec = form.get("processname").map(String::as_str);
            match run_action(dispatcher, action, namespec).await {
                Some(message) => redirect(&format!("{url}/?message={}", url_quote(&message))),
                // Supervisor raises ValueError for an action it does not
                // know, which its server turns into a 500.
                None => crate::http::error(StatusCode::INTERNAL_SERVER_ERROR),
            }
        }
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

/// [`SCRIPT_PATH`].
pub fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript;charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        SCRIPT,
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
async fn run_action(d: &Dispatcher, action: &str, namespec: Option<&str>) -> Option<String> {
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
        _ => {}
    }
    let namespec = namespec.filter(|n| !n.is_empty())?;
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
        _ => None,
    }
}

/// One row of the status table.
struct Row {
    namespec: String,
    state: i32,
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
            state,
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

    /// Supervisor's action set per state.
    fn actions(&self) -> Vec<(&'static str, &'static str)> {
        const RUNNING: i32 = sv_api::ProcessState::Running.code();
        const STOPPED: i32 = sv_api::ProcessState::Stopped.code();
        const EXITED: i32 = sv_api::ProcessState::Exited.code();
        const FATAL: i32 = sv_api::ProcessState::Fatal.code();
        let mut actions = match self.state {
            RUNNING => vec![("restart", "Restart"), ("stop", "Stop")],
            STOPPED | EXITED | FATAL => vec![("start", "Start")],
            _ => vec![],
        };
        actions.push(("clearlog", "Clear log"));
        actions
    }
}

/// `H:MM:SS`, with `N day(s), ` in front past a day (Supervisor's uptime).
fn uptime_text(seconds: i64) -> String {
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let clock = format!("{}:{:02}:{:02}", rest / 3600, rest % 3600 / 60, rest % 60);
    match days {
        0 => clock,
        1 => format!("1 day, {clock}"),
        n => format!("{n} days, {clock}"),
    }
}

async fn status_page(d: &Dispatcher, message: Option<&str>) -> Response {
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
    let rows: Vec<Row> = infos.iter().map(Row::from_info).collect();
    html(render_status(&identification, pid, &rows, message))
}

fn render_status(identification: &str, pid: i32, rows: &[Row], message: Option<&str>) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for row in rows {
        *counts.entry(row.statename.as_str()).or_default() += 1;
    }
    let summary = counts
        .iter()
        .map(|(state, n)| format!("{n} {}", state.to_lowercase()))
        .collect::<Vec<_>>()
        .join(", ");
    let mut out = String::with_capacity(2048 + rows.len() * 600);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{id} · processes</title>\n\
         <link rel=\"stylesheet\" href=\"stylesheets/supervisor.css\">\n\
         <script src=\"scripts/status.js\" defer></script>\n</head>\n<body>\n\
         <header class=\"top\">\n<h1>{id}</h1>\n\
         <p class=\"meta\">supervisord pid {pid} · Supervisor {version} API · \
         {total} process{plural}{sep}<span class=\"counts\">{summary}</span></p>\n</header>\n<main>\n",
        id = escape(identification),
        version = crate::SUPERVISOR_VERSION,
        total = rows.len(),
        plural = if rows.len() == 1 { "" } else { "es" },
        sep = if rows.is_empty() { "" } else { ": " },
        summary = escape(&summary),
    );
    if let Some(message) = message {
        let _ = writeln!(
            out,
            "<p class=\"message\" role=\"status\">{}</p>",
            escape(message)
        );
    }
    out.push_str(
        "<nav class=\"bulk\">\
         <a class=\"button\" href=\"index.html?action=refresh\">Refresh</a> \
         <a class=\"button\" href=\"index.html?action=restartall\">Restart all</a> \
         <a class=\"button danger\" href=\"index.html?action=stopall\">Stop all</a>\
         </nav>\n",
    );
    if rows.is_empty() {
        out.push_str("<p class=\"empty\">No programs to manage</p>\n");
    } else {
        out.push_str(
            "<table class=\"processes\">\n<thead><tr><th>State</th><th>Description</th>\
             <th>Name</th><th>Pid</th><th>Uptime</th><th>Actions</th></tr></thead>\n<tbody>\n",
        );
        for row in rows {
            render_row(&mut out, row);
        }
        out.push_str("</tbody>\n</table>\n");
    }
    let _ = write!(
        out,
        "</main>\n<footer>supervisor-rs {} · compatible with Supervisor {}</footer>\n\
         </body>\n</html>\n",
        env!("CARGO_PKG_VERSION"),
        crate::SUPERVISOR_VERSION
    );
    out
}

fn render_row(out: &mut String, row: &Row) {
    let quoted = url_quote(&row.namespec);
    let pid = if row.pid > 0 {
        row.pid.to_string()
    } else {
        String::new()
    };
    let uptime = row.uptime.map(uptime_text).unwrap_or_default();
    let _ = write!(
        out,
        "<tr data-namespec=\"{name}\">\n<td><span class=\"state {class}\">{state}</span></td>\n\
         <td class=\"desc\">{desc}</td>\n\
         <td class=\"name\"><a href=\"{tail}\">{name}</a></td>\n\
         <td class=\"num pid\">{pid}</td>\n<td class=\"num uptime\"{seconds}>{uptime}</td>\n\
         <td class=\"actions\">",
        class = row.class(),
        state = escape(&row.statename.to_lowercase()),
        desc = escape(&row.description),
        tail = escape(&format!("tail.html?processname={quoted}")),
        name = escape(&row.namespec),
        seconds = row
            .uptime
            .map(|s| format!(" data-uptime=\"{s}\""))
            .unwrap_or_default(),
    );
    for (action, label) in row.actions() {
        let _ = write!(
            out,
            "<a class=\"button\" href=\"{}\">{label}</a> ",
            escape(&format!("index.html?processname={quoted}&action={action}"))
        );
    }
    let _ = write!(
        out,
        "<a class=\"button\" href=\"{}\">Follow stdout</a> \
         <a class=\"button\" href=\"{}\">Follow stderr</a></td>\n</tr>\n",
        escape(&format!("logtail/{quoted}")),
        escape(&format!("logtail/{quoted}/stderr")),
    );
}

/// Supervisor's `TailView`: at least 1024 bytes of the stdout log.
async fn tail_page(d: &Dispatcher, form: &BTreeMap<String, String>) -> Response {
    let Some(name) = form.get("processname").filter(|n| !n.is_empty()) else {
        return html(render_tail(None, 1024, "No process name found"));
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
    html(render_tail(Some(name), limit, &text))
}

fn render_tail(name: Option<&str>, limit: i32, text: &str) -> String {
    let title = name.unwrap_or("(no process)");
    let mut out = String::with_capacity(text.len() + 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} · log</title>\n\
         <link rel=\"stylesheet\" href=\"stylesheets/supervisor.css\">\n</head>\n<body>\n\
         <header class=\"top\">\n<h1>{title} <small>stdout</small></h1>\n<nav class=\"bulk\">\
         <a class=\"button\" href=\"index.html\">All processes</a> ",
        title = escape(title),
    );
    if let Some(name) = name {
        let quoted = url_quote(name);
        let _ = write!(
            out,
            "<a class=\"button\" href=\"{}\">Refresh</a> \
             <a class=\"button\" href=\"{}\">Follow</a>",
            escape(&format!("tail.html?processname={quoted}&limit={limit}")),
            escape(&format!("logtail/{quoted}")),
        );
    }
    let _ = write!(
        out,
        "</nav>\n</header>\n<main>\n<pre class=\"log\">{}</pre>\n</main>\n</body>\n</html>\n",
        escape(text)
    );
    out
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
        let own = "http://127.0.0.1:9001";
        let with = |pairs: &[(&'static str, &str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(*k, HeaderValue::from_str(v).unwrap());
            }
            cross_site(&h, own)
        };
        assert!(!with(&[]), "curl sends neither header");
        assert!(with(&[("sec-fetch-site", "cross-site")]));
        assert!(with(&[("sec-fetch-site", "same-site")]));
        assert!(!with(&[("sec-fetch-site", "same-origin")]));
        assert!(!with(&[("sec-fetch-site", "none")]));
        assert!(with(&[("origin", "http://evil.example")]));
        assert!(with(&[("origin", "null")]));
        assert!(!with(&[("origin", own)]));
    }

    #[test]
    fn uptime_format() {
        assert_eq!(uptime_text(5), "0:00:05");
        assert_eq!(uptime_text(3_725), "1:02:05");
        assert_eq!(uptime_text(86_400 + 61), "1 day, 0:01:01");
        assert_eq!(uptime_text(2 * 86_400), "2 days, 0:00:00");
    }
}
