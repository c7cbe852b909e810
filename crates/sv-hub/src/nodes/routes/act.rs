//! State changes and log reads: Cesi's process actions (GET, and POST
//! too), its all-processes actions, the log endpoint with our
//! offset/length, and ours: signal, clear logs, bulk actions across nodes.
//! Every outcome Cesi logs is recorded through the [`ActivitySink`] with
//! Cesi's message (spec §1.6); the node is polled again before the answer.
//!
//! [`ActivitySink`]: crate::activity::ActivitySink

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use serde_json::{Value, json};

use super::{NodesState, find_connected, refuse_cross_site, visible};
use crate::activity::{Activity, Level};
use crate::api::error::ApiError;
use crate::api::guard::{Operate, Principal, ReadLogs, Require};
use crate::api::json::{CesiJson, success};
use crate::nodes::actions::{
    self, ActionError, CESI_LOG_BYTES, LogWindow, MAX_LOG_BYTES, ProcessOutcome, Verb,
};
use crate::nodes::fleet::Node;

/// Record one activity line at INFO.
pub(super) async fn record(
    state: &NodesState,
    principal: &Principal,
    action: &str,
    node: &str,
    process: &str,
    ok: bool,
    message: String,
) {
    state
        .activity
        .record(Activity {
            level: Level::Info,
            username: principal.username.clone(),
            action: action.to_string(),
            node: Some(node.to_string()),
            process: Some(process.to_string()),
            ok,
            message,
        })
        .await;
}

/// Cesi's activity line for a verb: `<u> started <n> node's <p> process.`
/// or `<u> unsuccessful start event <n> node's <p> process.`
fn verb_line(user: &str, verb: Verb, node: &str, process: &str, ok: bool) -> String {
    if ok {
        format!("{user} {} {node} node's {process} process.", verb.past())
    } else {
        format!(
            "{user} unsuccessful {} event {node} node's {process} process.",
            verb.word()
        )
    }
}

async fn process_action(
    state: NodesState,
    principal: Principal,
    headers: &HeaderMap,
    name: String,
    uname: String,
    verb: Verb,
) -> Result<CesiJson, ApiError> {
    refuse_cross_site(headers)?;
    let node = find_connected(&state, &principal, &name).await?;
    let outcome = actions::act(&node, &uname, verb).await;
    if outcome == Err(ActionError::WrongProcess) {
        // A 400, which Cesi does not log.
        return Err(ApiError::BadRequest("Wrong process name".into()));
    }
    let line = verb_line(&principal.username, verb, &name, &uname, outcome.is_ok());
    record(
        &state,
        &principal,
        verb.word(),
        &name,
        &uname,
        outcome.is_ok(),
        line,
    )
    .await;
    node.poll().await;
    match outcome {
        Ok(()) => Ok(success(json!({
            "message": format!("{name} {uname} {} event succesfully", verb.word())
        }))),
        Err(e) => Err(ApiError::Action(e.to_string())),
    }
}

/// `…/processes/<uname>/start/`.
pub(super) async fn start(
    State(state): State<NodesState>,
    auth: Require<Operate>,
    headers: HeaderMap,
    Path((name, uname)): Path<(String, String)>,
) -> Result<CesiJson, ApiError> {
    process_action(state, auth.principal, &headers, name, uname, Verb::Start).await
}

/// `…/processes/<uname>/stop/`.
pub(super) async fn stop(
    State(state): State<NodesState>,
    auth: Require<Operate>,
    headers: HeaderMap,
    Path((name, uname)): Path<(String, String)>,
) -> Result<CesiJson, ApiError> {
    process_action(state, auth.principal, &headers, name, uname, Verb::Stop).await
}

/// `…/processes/<uname>/restart/`.
pub(super) async fn restart(
    State(state): State<NodesState>,
    auth: Require<Operate>,
    headers: HeaderMap,
    Path((name, uname)): Path<(String, String)>,
) -> Result<CesiJson, ApiError> {
    process_action(state, auth.principal, &headers, name, uname, Verb::Restart).await
}

/// `POST …/processes/<uname>/signal/<signal>/` (ours).
pub(super) async fn signal(
    State(state): State<NodesState>,
    auth: Require<Operate>,
    headers: HeaderMap,
    Path((name, uname, sig)): Path<(String, String, String)>,
) -> Result<CesiJson, ApiError> {
    refuse_cross_site(&headers)?;
    let principal = auth.principal;
    let node = find_connected(&state, &principal, &name).await?;
    let outcome = actions::signal(&node, &uname, &sig).await;
    let user = &principal.username;
    let line = if outcome.is_ok() {
        format!("{user} signalled {name} node's {uname} process with {sig}.")
    } else {
        format!("{user} unsuccessful signal event {name} node's {uname} process.")
    };
    record(
        &state,
        &principal,
        "signal",
        &name,
        &uname,
        outcome.is_ok(),
        line,
    )
    .await;
    node.poll().await;
    outcome.map_err(|e| ApiError::Action(e.to_string()))?;
    Ok(success(json!({
        "message": format!("{name} {uname} signal event succesfully")
    })))
}

/// `POST …/processes/<uname>/clear/` (ours): clear both logs.
pub(super) async fn clear(
    State(state): State<NodesState>,
    auth: Require<Operate>,
    headers: HeaderMap,
    Path((name, uname)): Path<(String, String)>,
) -> Result<CesiJson, ApiError> {
    refuse_cross_site(&headers)?;
    let principal = auth.principal;
    let node = find_connected(&state, &principal, &name).await?;
    let outcome = actions::clear_logs(&node, &uname).await;
    let user = &principal.username;
    let line = if outcome.is_ok() {
        format!("{user} cleared logs of {name} node's {uname} process.")
    } else {
        format!("{user} unsuccessful clear log event {name} node's {uname} process.")
    };
    record(
        &state,
        &principal,
        "clear",
        &name,
        &uname,
        outcome.is_ok(),
        line,
    )
    .await;
    outcome.map_err(|e| ApiError::Action(e.to_string()))?;
    Ok(success(json!({
        "message": format!("{name} {uname} clear event succesfully")
    })))
}

/// The log window from `?offset=&length=`: Cesi's last 500 bytes without
/// them.
fn window(query: &HashMap<String, String>) -> Result<LogWindow, ApiError> {
    let number = |key: &str| -> Result<Option<i64>, ApiError> {
        match query.get(key) {
            None => Ok(None),
            Some(v) => v.trim().parse::<i64>().map(Some).map_err(|_| {
                ApiError::BadRequest(format!("Please enter valid value for '{key}' fields"))
            }),
        }
    };
    let offset = number("offset")?;
    let length = number("length")?.unwrap_or(CESI_LOG_BYTES);
    if !(1..=MAX_LOG_BYTES).contains(&length) {
        return Err(ApiError::BadRequest(format!(
            "length must be between 1 and {MAX_LOG_BYTES}"
        )));
    }
    if offset.is_some_and(|o| o < 0) {
        return Err(ApiError::BadRequest("offset must not be negative".into()));
    }
    Ok(LogWindow { offset, length })
}

/// `GET …/processes/<uname>/log/[?offset=N&length=M]`.
pub(super) async fn log(
    State(state): State<NodesState>,
    auth: Require<ReadLogs>,
    Path((name, uname)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<CesiJson, ApiError> {
    let principal = auth.principal;
    let node = find_connected(&state, &principal, &name).await?;
    let window = window(&query)?;
    let (stdout, stderr) = actions::read_logs(&node, &uname, window)
        .await
        .map_err(|e| ApiError::Action(e.to_string()))?;
    let line = format!(
        "{} read log {name} node's {uname} process.",
        principal.username
    );
    record(&state, &principal, "log", &name, &uname, true, line).await;
    Ok(success(
        json!({ "logs": { "stderr": stderr, "stdout": stdout } }),
    ))
}

/// Run `verb` on every process of `node`, record Cesi's lines (bare
/// process names), refresh the node; the per-process report.
async fn all_on_node(
    state: &NodesState,
    principal: &Principal,
    node: &Node,
    verb: Verb,
) -> Result<Vec<ProcessOutcome>, ApiError> {
    let outcomes = actions::act_all(node, verb)
        .await
        .map_err(|e| ApiError::Action(e.to_string()))?;
    for o in &outcomes {
        let ok = o.result.is_ok();
        let line = verb_line(&principal.username, verb, node.name(), &o.name, ok);
        record(
            state,
            principal,
            verb.word(),
            node.name(),
            &o.name,
            ok,
            line,
        )
        .await;
    }
    node.poll().await;
    Ok(outcomes)
}

/// The per-process report: `[{"message":…,"name":"g:n","ok":…}]`.
fn report(outcomes: &[ProcessOutcome]) -> Value {
    Value::Array(
        outcomes
            .iter()
            .map(|o| {
                json!({
                    "name": o.namespec,
                    "ok": o.result.is_ok(),
                    "message": match &o.result { Ok(()) => "OK", Err(m) => m.as_str() },
                })
            })
            .collect(),
    )
}

fn verb_of(word: &str) -> Result<Verb, ApiError> {
    Verb::parse(word).ok_or(ApiError::NotFound)
}

/// `…/nodes/<node>/all-processes/<verb>/`: Cesi's `{"message":"ok"}`
/// whatever happened, plus our `results` per process.
pub(super) async fn all_processes(
    State(state): State<NodesState>,
    auth: Require<Operate>,
    headers: HeaderMap,
    Path((name, word)): Path<(String, String)>,
) -> Result<CesiJson, ApiError> {
    let verb = verb_of(&word)?;
    refuse_cross_site(&headers)?;
    let principal = auth.principal;
    let node = find_connected(&state, &principal, &name).await?;
    let outcomes = all_on_node(&state, &principal, &node, verb).await?;
    Ok(success(
        json!({ "message": "ok", "results": report(&outcomes) }),
    ))
}

/// How many nodes a bulk action works on at once.
const NODES_AT_ONCE: usize = 64;

/// Every given node, in parallel; one report entry per node.
async fn bulk(
    state: &NodesState,
    principal: &Principal,
    nodes: Vec<Arc<Node>>,
    verb: Verb,
) -> CesiJson {
    let runs = nodes.into_iter().map(|node| async move {
        let name = node.name();
        if !node.is_connected().await {
            return json!({"name": name, "ok": false, "message": "Node is not connected", "results": []});
        }
        match all_on_node(state, principal, &node, verb).await {
            Ok(outcomes) => json!({
                "name": name,
                "ok": outcomes.iter().all(|o| o.result.is_ok()),
                "message": "ok",
                "results": report(&outcomes),
            }),
            Err(e) => json!({"name": name, "ok": false, "message": e.to_string(), "results": []}),
        }
    });
    // Nodes in parallel, a bounded number at a time (each runs up to
    // `CALLS_PER_NODE` calls), answers in config order.
    let list: Vec<Value> = futures_util::StreamExt::collect(futures_util::StreamExt::buffered(
        futures_util::stream::iter(runs),
        NODES_AT_ONCE,
    ))
    .await;
    success(json!({ "nodes": list }))
}

/// `POST /api/v2/environments/<env>/all-processes/<verb>/` (ours).
pub(super) async fn environment_all(
    State(state): State<NodesState>,
    auth: Require<Operate>,
    headers: HeaderMap,
    Path((env, word)): Path<(String, String)>,
) -> Result<CesiJson, ApiError> {
    let verb = verb_of(&word)?;
    refuse_cross_site(&headers)?;
    let principal = auth.principal;
    let nodes: Vec<Arc<Node>> = visible(&state, &principal)
        .into_iter()
        .filter(|n| n.environment() == env)
        .collect();
    if nodes.is_empty() {
        return Err(ApiError::BadRequest("Wrong environment name".into()));
    }
    Ok(bulk(&state, &principal, nodes, verb).await)
}

/// `POST /api/v2/all-processes/<verb>/` (ours): every node the user sees.
pub(super) async fn fleet_all(
    State(state): State<NodesState>,
    auth: Require<Operate>,
    headers: HeaderMap,
    Path(word): Path<String>,
) -> Result<CesiJson, ApiError> {
    let verb = verb_of(&word)?;
    refuse_cross_site(&headers)?;
    let principal = auth.principal;
    let nodes = visible(&state, &principal);
    Ok(bulk(&state, &principal, nodes, verb).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activity_lines_are_cesis() {
        assert_eq!(
            verb_line("admin", Verb::Stop, "live", "worker", true),
            "admin stopped live node's worker process."
        );
        assert_eq!(
            verb_line("admin", Verb::Start, "live", "manual:manual", false),
            "admin unsuccessful start event live node's manual:manual process."
        );
    }

    #[test]
    fn log_windows_default_to_cesis_and_are_bounded() {
        let q = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            window(&q(&[])),
            Ok(LogWindow {
                offset: None,
                length: 500
            })
        );
        assert_eq!(
            window(&q(&[("offset", "10"), ("length", "20")])),
            Ok(LogWindow {
                offset: Some(10),
                length: 20
            })
        );
        assert!(window(&q(&[("length", "0")])).is_err());
        assert!(window(&q(&[("length", "99999999999")])).is_err());
        assert!(window(&q(&[("offset", "-1")])).is_err());
        assert!(window(&q(&[("offset", "x")])).is_err());
    }
}
