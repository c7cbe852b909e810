//! The pages, rendered from the askama templates in `templates/`: the
//! status table (`index.html`), Supervisor's tail page (`tail.html`), our
//! log view (`log.html`) and the confirmation asked of a browser's
//! unannounced GET action.
//!
//! Each page gathers what it shows through [`calls`] and hands it to its
//! template; askama escapes every value. The pages change nothing: actions
//! are [`super::actions`]'.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use sv_api::FaultCode;

use sv_api::ProcessInfo;

use super::calls::{self, unexpected};
use super::csrf;
use super::forms::{Form, url_quote};
use super::logview;
use super::respond::{render, with_cookie};
use crate::rpc::Dispatcher;

/// The log view's window when none is asked for.
pub const DEFAULT_LINES: usize = 500;

/// One row of the status table.
struct Row {
    namespec: String,
    statename: String,
    description: String,
    pid: u32,
    /// Seconds since the start, while running.
    uptime: Option<i64>,
}

impl Row {
    fn from_info(info: &ProcessInfo) -> Row {
        let running = info.state == sv_api::ProcessState::Running.code();
        Row {
            namespec: sv_api::make_namespec(&info.group, &info.name),
            statename: info.statename.clone(),
            description: info.description.clone(),
            pid: info.pid,
            uptime: running.then(|| (info.now - info.start).max(0)),
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

    /// The uptime as Supervisor shows it (Python's `timedelta`, as in the
    /// description); empty unless running.
    fn uptime_shown(&self) -> String {
        self.uptime
            .map(sv_api::format_timedelta)
            .unwrap_or_default()
    }

    /// The namespec quoted for a URL.
    fn quoted(&self) -> String {
        url_quote(&self.namespec)
    }
}

/// The status page.
#[derive(askama::Template)]
#[template(path = "status.html")]
struct StatusTemplate<'a> {
    title: String,
    script: &'static str,
    identification: &'a str,
    pid: u32,
    daemon_state: &'a str,
    total: usize,
    summary: String,
    message: Option<&'a str>,
    csrf: String,
    /// The bus's change count when the snapshot was taken.
    changes: u64,
    groups: Vec<GroupRows>,
}

/// The rows of one group; `head` when the group gets its own header row
/// (more than one process, or a process named apart from its group).
struct GroupRows {
    name: String,
    head: bool,
    rows: Vec<Row>,
}

/// The session's token for the page's forms, and the cookie to set when
/// the session is new.
fn session_token(headers: &HeaderMap) -> (String, Option<axum::http::HeaderValue>) {
    let (session, set_cookie) = csrf::for_page(headers);
    let token = session.as_deref().and_then(csrf::token).unwrap_or_default();
    (token, set_cookie)
}

/// `index.html` without an action: the status table, with `message` above.
/// `changes` is the bus's change count read before the snapshot: the
/// script hands it back when its live stream opens, which then says
/// `resync` if something changed in between.
pub async fn status_page(
    d: &Dispatcher,
    changes: u64,
    headers: &HeaderMap,
    message: Option<&str>,
) -> Response {
    let Ok(infos) = d.all_process_info().await else {
        // Supervisor's page raises (a 500) while the daemon shuts down.
        return crate::http::error(StatusCode::INTERNAL_SERVER_ERROR);
    };
    let identification = calls::identification(d)
        .await
        .unwrap_or_else(|| "supervisor".to_string());
    let pid = calls::pid(d).await.unwrap_or(0);
    let daemon_state = calls::state_name(d).await.unwrap_or_default();
    let rows: Vec<(String, Row)> = infos
        .iter()
        .map(|info| (info.group.clone(), Row::from_info(info)))
        .collect();
    let (csrf, set_cookie) = session_token(headers);
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
        changes,
        groups: group_rows(rows),
    };
    with_cookie(render(&page), set_cookie)
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

/// "Confirm: stop web", whose button posts the same fields with the token.
pub fn confirm_page(headers: &HeaderMap, form: &Form) -> Response {
    let (csrf, set_cookie) = session_token(headers);
    let action = form.get("action").map(String::as_str).unwrap_or("");
    let target = form
        .get("processname")
        .map(String::as_str)
        .unwrap_or("all processes");
    let fields = ["processname", "action", "signal"]
        .iter()
        .filter_map(|&k| form.get(k).map(|v| (k, v.as_str())))
        .collect();
    let page = ConfirmTemplate {
        title: format!("Confirm {action}"),
        script: "",
        action,
        target,
        fields,
        csrf,
    };
    with_cookie(render(&page), set_cookie)
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
pub async fn tail_page(d: &Dispatcher, form: &Form) -> Response {
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
    let text = match calls::stdout_tail(d, name, limit).await {
        Ok(text) => text,
        Err(fault) if fault.code == FaultCode::NoFile => format!("No file for {name}"),
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
pub async fn log_page(d: &Dispatcher, form: &Form) -> Response {
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

    fn row(namespec: &str, statename: &str) -> Row {
        Row {
            namespec: namespec.to_string(),
            statename: statename.to_string(),
            description: String::new(),
            pid: 0,
            uptime: None,
        }
    }

    #[test]
    fn uptime_is_shown_as_supervisor_shows_it() {
        let mut running = row("web", "RUNNING");
        for (seconds, shown) in [
            (5, "0:00:05"),
            (3_725, "1:02:05"),
            (86_400 + 61, "1 day, 0:01:01"),
            (2 * 86_400, "2 days, 0:00:00"),
        ] {
            running.uptime = Some(seconds);
            assert_eq!(running.uptime_shown(), shown);
        }
        assert_eq!(row("web", "STOPPED").uptime_shown(), "");
    }

    #[test]
    fn counts_by_state_in_name_order() {
        let states = ["RUNNING", "STOPPED", "RUNNING", "FATAL"];
        assert_eq!(summary(states.into_iter()), "1 fatal, 2 running, 1 stopped");
    }

    #[test]
    fn groups_get_a_head_row_when_they_hold_several_or_are_named_apart() {
        let rows = vec![
            ("solo".to_string(), row("solo", "RUNNING")),
            ("web".to_string(), row("web:web_0", "RUNNING")),
            ("web".to_string(), row("web:web_1", "STOPPED")),
            ("one".to_string(), row("one:worker", "STOPPED")),
        ];
        let groups = group_rows(rows);
        let heads: Vec<(&str, bool, usize)> = groups
            .iter()
            .map(|g| (g.name.as_str(), g.head, g.rows.len()))
            .collect();
        assert_eq!(
            heads,
            [("solo", false, 1), ("web", true, 2), ("one", true, 1)]
        );
    }
}
