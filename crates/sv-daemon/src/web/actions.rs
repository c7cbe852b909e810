//! The page's actions: `index.html?processname=<ns>&action=<a>` (and the
//! same fields posted) as Supervisor answers them — the action run through
//! the API, **waited for**, then `301` to `/?message=<Supervisor's words>` —
//! and `POST /action`, the same actions sent by our script and answered in
//! JSON.
//!
//! Who may act is decided here, with [`csrf`]'s answers: an action carrying
//! a token needs the session's token; Supervisor's token-less form runs
//! unless the browser says it is cross-site, and a browser's GET that says
//! nothing is asked to confirm first (another site could have forged it).
//!
//! Messages are Supervisor's word for word (`Process x started`,
//! `ERROR: Process x: spawn error`, `No such process named x`,
//! `All stopped at <ctime>` …); an action Supervisor does not know answers
//! `500`, as it does.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use sv_api::FaultCode;

use super::calls::{self, unexpected};
use super::csrf::{self, Provenance};
use super::forms::{Form, url_quote};
use super::respond::{json_message, redirect};
use super::{Local, pages};
use crate::rpc::Dispatcher;

/// `index.html` with an `action` field: run it (or refuse it, or ask to
/// confirm it) and redirect with its message.
pub async fn index_action(
    d: &Dispatcher,
    headers: &HeaderMap,
    post: bool,
    action: &str,
    form: &Form,
    local: Local,
) -> Response {
    let from_page = match form.get(csrf::FIELD) {
        // From our own page: the token must be the session's.
        Some(token) => {
            if !csrf::verify(headers, token) || csrf::cross_site(headers) {
                return crate::http::error(StatusCode::FORBIDDEN);
            }
            true
        }
        // Supervisor's form, from a script or a browser.
        None => match csrf::provenance(headers) {
            Provenance::CrossSite => return crate::http::error(StatusCode::FORBIDDEN),
            Provenance::SameOrigin => false,
            // A browser that says nothing may be following a forged link
            // or image from another site: ask. (`refresh` changes nothing,
            // so it is not asked about.)
            Provenance::Unknown
                if !post && action != "refresh" && csrf::looks_like_browser(headers) =>
            {
                return pages::confirm_page(headers, form);
            }
            Provenance::Unknown => false,
        },
    };
    let namespec = form.get("processname").map(String::as_str);
    let signal = form.get("signal").map(String::as_str);
    match run_action(d, action, namespec, signal).await {
        // The page's own forms come back to the page they were on
        // (relative, so proxies with a prefix or TLS keep working); scripts
        // get Supervisor's absolute redirect.
        Some(message) if from_page => {
            redirect(&format!("index.html?message={}", url_quote(&message)))
        }
        Some(message) => redirect(&format!(
            "{}/?message={}",
            server_url(headers, local),
            url_quote(&message)
        )),
        // Supervisor raises ValueError for an action it does not know,
        // which its server turns into a 500.
        None => crate::http::error(StatusCode::INTERNAL_SERVER_ERROR),
    }
}

/// `POST /action`: what the page's script sends. Always needs the
/// session's token (which another site cannot read), and is refused when
/// the browser says it is cross-site; answers `{"message": …}` (the
/// message the redirect of `index.html` would carry) instead of a redirect.
pub async fn page_action(d: &Dispatcher, headers: &HeaderMap, form: &Form) -> Response {
    let token_ok = form
        .get(csrf::FIELD)
        .is_some_and(|token| csrf::verify(headers, token));
    if csrf::cross_site(headers) || !token_ok {
        return json_message(
            StatusCode::FORBIDDEN,
            "Refused: this page's session is not valid (the daemon restarted?). Reload the page.",
        );
    }
    let Some(action) = form.get("action") else {
        return json_message(StatusCode::BAD_REQUEST, "No action given");
    };
    let namespec = form.get("processname").map(String::as_str);
    let signal = form.get("signal").map(String::as_str);
    match run_action(d, action, namespec, signal).await {
        Some(message) => json_message(StatusCode::OK, &message),
        None => json_message(
            StatusCode::BAD_REQUEST,
            &format!("Unknown action {action:?}"),
        ),
    }
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

/// Run one action as Supervisor's `StatusView.make_callback` does and
/// return the message for the redirect; `None` is Supervisor's 500.
async fn run_action(
    d: &Dispatcher,
    action: &str,
    namespec: Option<&str>,
    signal: Option<&str>,
) -> Option<String> {
    // The all-process actions come first: a process name beside them is
    // ignored, as in Supervisor.
    match action {
        "refresh" => return Some(format!("Page refreshed at {}", ctime())),
        "stopall" => {
            calls::stop_all(d).await;
            return Some(format!("All stopped at {}", ctime()));
        }
        "restartall" => {
            calls::restart_all(d).await;
            return Some(format!("All restarted at {}", ctime()));
        }
        // Ours: Supervisor's page has no "start all".
        "startall" => {
            calls::start_all(d).await;
            return Some(format!("All started at {}", ctime()));
        }
        _ => {}
    }
    let namespec = namespec.filter(|n| !n.is_empty())?;
    if let Some(message) = group_action(d, action, namespec).await {
        return Some(message);
    }
    // Supervisor looks the process up before looking at the action, so an
    // unknown process wins over an unknown action.
    if let Err(fault) = d.process_info(namespec).await
        && fault.code == FaultCode::BadName
    {
        return Some(format!("No such process named {namespec}"));
    }
    match action {
        "start" => Some(match calls::start_process(d, namespec).await {
            Ok(()) => format!("Process {namespec} started"),
            Err(fault) => {
                let why = match fault.code {
                    FaultCode::NoFile => "no such file".to_string(),
                    FaultCode::NotExecutable => "file not executable".to_string(),
                    FaultCode::AlreadyStarted => "already started".to_string(),
                    FaultCode::SpawnError => "spawn error".to_string(),
                    FaultCode::AbnormalTermination => "abnormal termination".to_string(),
                    _ => unexpected(&fault),
                };
                format!("ERROR: Process {namespec}: {why}")
            }
        }),
        "stop" => Some(match calls::stop_process(d, namespec).await {
            Ok(()) => format!("Process {namespec} stopped"),
            Err(fault) => unexpected(&fault),
        }),
        "restart" => {
            // Supervisor reports success whatever the two calls returned.
            calls::restart_process(d, namespec).await;
            Some(format!("Process {namespec} restarted"))
        }
        "clearlog" => Some(match d.clear_process_logs(namespec).await {
            Ok(()) => format!("Log for {namespec} cleared"),
            Err(fault) => unexpected(&fault),
        }),
        // Ours: Supervisor's page cannot send a signal.
        "signal" => {
            let signal = signal.filter(|s| !s.is_empty()).unwrap_or("HUP");
            Some(match calls::signal_process(d, namespec, signal).await {
                Ok(()) => format!("Signal {signal} sent to {namespec}"),
                Err(fault) => match fault.code {
                    FaultCode::BadSignal => format!("ERROR: bad signal {signal}"),
                    FaultCode::NotRunning => {
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
    let (answer, done) = match action {
        "startgroup" => (calls::start_group(d, group).await.map(|()| true), "started"),
        "stopgroup" => (calls::stop_group(d, group).await.map(|()| true), "stopped"),
        "restartgroup" => (calls::restart_group(d, group).await, "restarted"),
        _ => return None,
    };
    Some(match answer {
        Ok(true) => format!("Group {group} {done}"),
        Ok(false) => format!("No such group named {group}"),
        Err(fault) if fault.code == FaultCode::BadName => {
            format!("No such group named {group}")
        }
        Err(fault) => unexpected(&fault),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

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
    fn ctime_is_c_ctime_without_the_newline() {
        let now = ctime();
        // `Fri Dec  4 13:56:36 2026`: a day of the month padded to two.
        assert_eq!(now.len(), 24, "{now}");
        assert_eq!(&now[3..4], " ");
        assert_eq!(&now[19..20], " ");
    }
}
