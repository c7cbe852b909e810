//! Ours: a process's log one stream at a time, for the page and scripts
//! (`nodes/logs.rs` does the reading), and the process's detail.
//!
//! * `GET …/processes/<uname>/log/<stdout|stderr>/[?lines=N]`: the last
//!   `N` lines (200; at most `MAX_LINES`); `&before=S` the `N` lines
//!   before byte `S` (older); `&after=E[&length=M]` what was written since
//!   byte `E` (live follow by polling), at most `M` bytes.
//! * `…/log/<stream>/search/?q=TEXT[&window=M][&case=1]`: lines of the
//!   last `M` bytes (1 MiB, the most) containing `TEXT`.
//! * `…/log/<stream>/download/`: the current file (its last 256 MiB at
//!   most), streamed, as an attachment.
//! * `GET …/processes/<uname>/detail/`: the process, its config summary
//!   (roles that may read logs only) and its observed state history.
//!
//! Opening a log (the first window), a search and a download each write
//! one activity line; following and paging do not (a page following a
//! log polls every second).

use std::collections::HashMap;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sv_api::ProcessInfo;
use sv_api::records::{ConfigInfo, LogFile};
use sv_client::{Client, LogStream};

use super::act::record;
use super::{NodesState, find, find_connected};
use crate::api::error::ApiError;
use crate::api::guard::{Permission, Read, ReadLogs, Require};
use crate::api::json::{CesiJson, success};
use crate::nodes::logs::{
    self, FIRST_READ, LogError, MAX_LINES, MAX_READ, Window, download_name, parse_stream,
};
use crate::nodes::process::process_json;

/// Lines in a window when the query names none.
pub const DEFAULT_LINES: usize = 200;
/// Longest search text.
pub const MAX_NEEDLE: usize = 256;

type Params = HashMap<String, String>;

fn bad(key: &str) -> ApiError {
    ApiError::BadRequest(format!("Please enter valid value for '{key}' fields"))
}

/// The integer parameter `key` within `range`, `default` when absent.
fn number(
    q: &Params,
    key: &str,
    range: std::ops::RangeInclusive<i64>,
) -> Result<Option<i64>, ApiError> {
    match q.get(key) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| range.contains(n))
            .map(Some)
            .ok_or_else(|| bad(key)),
    }
}

fn stream_of(word: &str) -> Result<LogStream, ApiError> {
    parse_stream(word).ok_or(ApiError::NotFound)
}

fn client_of(node: &crate::nodes::Node) -> Result<Client, ApiError> {
    node.client().map_err(ApiError::Action)
}

fn window_json(stream: &str, w: &Window) -> Value {
    json!({
        "stream": stream,
        "lines": w.lines,
        "start": w.start,
        "end": w.end,
        "size": w.size,
        "gap": w.gap,
        "reset": w.reset,
    })
}

/// A log error as the answer: `NO_FILE` is a window with no lines and the
/// node's reason (`missing`), so the page can say "no stderr log".
fn log_answer(stream: &str, result: Result<Value, LogError>) -> Result<CesiJson, ApiError> {
    match result {
        Ok(log) => Ok(success(json!({ "log": log }))),
        Err(LogError::NoFile(why)) => Ok(success(json!({
            "log": {"stream": stream, "lines": [], "missing": why}
        }))),
        Err(LogError::WrongProcess) => Err(ApiError::BadRequest("Wrong process name".into())),
        Err(LogError::Failed(why)) => Err(ApiError::Action(why)),
    }
}

/// `GET …/log/<stream>/`.
pub(super) async fn window(
    State(state): State<NodesState>,
    auth: Require<ReadLogs>,
    Path((name, uname, word)): Path<(String, String, String)>,
    Query(q): Query<Params>,
) -> Result<CesiJson, ApiError> {
    let stream = stream_of(&word)?;
    let lines = number(&q, "lines", 1..=MAX_LINES as i64)?.map_or(DEFAULT_LINES, |n| n as usize);
    let length = number(&q, "length", 1..=MAX_READ)?.unwrap_or(FIRST_READ);
    let after = number(&q, "after", 0..=i64::MAX)?;
    let before = number(&q, "before", 0..=i64::MAX)?;
    if after.is_some() && before.is_some() {
        return Err(ApiError::BadRequest(
            "Use one of 'after' and 'before'".into(),
        ));
    }
    let principal = auth.principal;
    let node = find_connected(&state, &principal, &name).await?;
    let client = client_of(&node)?;
    let result = match (after, before) {
        (Some(after), _) => logs::follow(&client, &uname, stream, after, length, lines).await,
        (_, Some(before)) => logs::older(&client, &uname, stream, before, lines).await,
        _ => {
            let w = logs::tail(&client, &uname, stream, lines).await;
            if !matches!(w, Err(LogError::WrongProcess)) {
                let line = format!(
                    "{} read log {name} node's {uname} process.",
                    principal.username
                );
                record(&state, &principal, "log", &name, &uname, w.is_ok(), line).await;
            }
            w
        }
    };
    log_answer(&word, result.map(|w| window_json(&word, &w)))
}

/// `GET …/log/<stream>/search/?q=…`.
pub(super) async fn search(
    State(state): State<NodesState>,
    auth: Require<ReadLogs>,
    Path((name, uname, word)): Path<(String, String, String)>,
    Query(q): Query<Params>,
) -> Result<CesiJson, ApiError> {
    let stream = stream_of(&word)?;
    let needle = q
        .get("q")
        .filter(|n| !n.is_empty() && n.chars().count() <= MAX_NEEDLE)
        .ok_or_else(|| bad("q"))?;
    let window = number(&q, "window", 1..=MAX_READ)?.unwrap_or(MAX_READ);
    let case_sensitive = q.get("case").is_some_and(|v| v == "1" || v == "true");
    let principal = auth.principal;
    let node = find_connected(&state, &principal, &name).await?;
    let client = client_of(&node)?;
    let found = logs::search(&client, &uname, stream, needle, window, case_sensitive).await;
    if !matches!(found, Err(LogError::WrongProcess)) {
        let line = format!(
            "{} searched the {word} log of {name} node's {uname} process.",
            principal.username
        );
        record(
            &state,
            &principal,
            "log.search",
            &name,
            &uname,
            found.is_ok(),
            line,
        )
        .await;
    }
    log_answer(
        &word,
        found.map(|f| {
            let matches: Vec<Value> = f
                .matches
                .iter()
                .map(|m| json!({"offset": m.offset, "line": m.line}))
                .collect();
            json!({
                "stream": word,
                "query": needle,
                "matches": matches,
                "from": f.from,
                "to": f.to,
                "truncated": f.truncated,
            })
        }),
    )
}

/// `GET …/log/<stream>/download/`: streamed in reads of
/// `DOWNLOAD_READ` bytes up to the size the file had when asked.
pub(super) async fn download(
    State(state): State<NodesState>,
    auth: Require<ReadLogs>,
    Path((name, uname, word)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let stream = stream_of(&word)?;
    let principal = auth.principal;
    let node = find_connected(&state, &principal, &name).await?;
    let client = client_of(&node)?;
    let range = logs::download_range(&client, &uname, stream).await;
    if !matches!(range, Err(LogError::WrongProcess)) {
        let line = format!(
            "{} downloaded the {word} log of {name} node's {uname} process.",
            principal.username
        );
        record(
            &state,
            &principal,
            "log.download",
            &name,
            &uname,
            range.is_ok(),
            line,
        )
        .await;
    }
    let (from, size) = match range {
        Ok(r) => r,
        Err(e) => return log_answer(&word, Err(e)).map(IntoResponse::into_response),
    };
    let filename = download_name(&name, &uname, stream);
    let body = futures_util::stream::unfold(Some(from), move |pos| {
        let client = client.clone();
        let uname = uname.clone();
        async move {
            let pos = pos.filter(|p| *p < size)?;
            let length = (size - pos).min(logs::DOWNLOAD_READ);
            match client.read_process_log(&uname, stream, pos, length).await {
                // The file shrank under us (cleared, rotated): stop here.
                Ok(text) if text.is_empty() => None,
                Ok(text) => {
                    let next = pos + text.len() as i64;
                    Some((Ok(Bytes::from(text)), Some(next)))
                }
                // Cut the download short: the client sees it incomplete.
                Err(e) => Some((Err(std::io::Error::other(e.to_string())), None)),
            }
        }
    });
    let mut response = Body::from_stream(body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    let disposition = format!("attachment; filename=\"{filename}\"");
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

fn logfile(l: &LogFile) -> &str {
    match l {
        LogFile::Path(p) => p,
        LogFile::Auto => "auto",
        LogFile::None => "none",
    }
}

/// The config summary the process view shows.
pub fn config_json(c: &ConfigInfo) -> Value {
    json!({
        "command": c.command,
        "directory": c.directory,
        "uid": c.uid,
        "autostart": c.autostart,
        "inuse": c.inuse,
        "priority": c.process_prio,
        "group_priority": c.group_prio,
        "startsecs": c.startsecs,
        "startretries": c.startretries,
        "stopsignal": c.stopsignal,
        "stopwaitsecs": c.stopwaitsecs,
        "killasgroup": c.killasgroup,
        "exitcodes": c.exitcodes,
        "redirect_stderr": c.redirect_stderr,
        "stdout_logfile": logfile(&c.stdout_logfile),
        "stdout_logfile_maxbytes": c.stdout_logfile_maxbytes,
        "stdout_logfile_backups": c.stdout_logfile_backups,
        "stderr_logfile": logfile(&c.stderr_logfile),
        "stderr_logfile_maxbytes": c.stderr_logfile_maxbytes,
        "stderr_logfile_backups": c.stderr_logfile_backups,
        "serverurl": c.serverurl,
    })
}

/// `GET …/processes/<uname>/detail/`: `{"process", "config", "history",
/// "live"}`. A node that does not answer gives its last known process
/// (`live: false`) and no config.
pub(super) async fn detail(
    State(state): State<NodesState>,
    auth: Require<Read>,
    Path((name, uname)): Path<(String, String)>,
) -> Result<CesiJson, ApiError> {
    let principal = auth.principal;
    let node = find(&state, &principal, &name)?;
    let wrong = || ApiError::BadRequest("Wrong process name".into());
    let cached = || -> Option<ProcessInfo> {
        node.snapshot()
            .processes
            .iter()
            .find(|p| format!("{}:{}", p.group, p.name) == uname || p.name == uname)
            .cloned()
    };
    let client = node.client().ok();
    let live = match (&client, node.is_connected().await) {
        (Some(c), true) => Some(c.get_process_info(&uname).await),
        _ => None,
    };
    let (info, live) = match live {
        Some(Ok(info)) => (info, true),
        Some(Err(e)) if e.is_fault(sv_client::FaultCode::BadName) => return Err(wrong()),
        _ => (cached().ok_or_else(wrong)?, false),
    };
    let namespec = format!("{}:{}", info.group, info.name);
    let mut config = Value::Null;
    let mut config_error = Value::Null;
    if live
        && principal.role.allows(Permission::ReadLogs)
        && let Some(c) = &client
    {
        match c.get_all_config_info().await {
            Ok(all) => {
                config = all
                    .iter()
                    .find(|c| c.group == info.group && c.name == info.name)
                    .map_or(Value::Null, config_json);
            }
            Err(e) => config_error = Value::from(crate::nodes::health::classify(&e).1),
        }
    }
    let history: Vec<Value> = node
        .history(&namespec)
        .into_iter()
        .map(|t| {
            json!({
                "time": t.time,
                "from": t.from,
                "to": t.to,
                "pid": t.pid,
                "exitstatus": t.exitstatus,
                "description": t.description,
            })
        })
        .collect();
    Ok(success(json!({
        "node": name,
        "namespec": namespec,
        "process": process_json(&info, state.fleet.time_zone()),
        "config": config,
        "config_error": config_error,
        "history": history,
        "live": live,
    })))
}
