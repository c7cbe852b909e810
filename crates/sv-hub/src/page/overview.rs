//! `/`: the fleet overview. Every node the user may see with its health
//! and the age of its last good answer, and every process of every node
//! in one table, grouped by environment and node.
//!
//! The page carries the fleet as it is cached now in a JSON data block
//! (`<script type="application/json">`, never executed, `<`, `>` and `&`
//! escaped) and `overview.js` draws the table from it, then keeps it
//! live from `/api/v2/events/`. A node that is down is given with the
//! processes of its last good answer ([`Snapshot::processes`], kept while
//! it is down), which the page shows greyed: a dead node never blanks
//! its part of the page.
//!
//! [`Snapshot::processes`]: crate::nodes::fleet::Snapshot::processes

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};
use sv_api::ProcessInfo;

use super::PageState;
use super::guard::PageUser;
use super::layout::{Layout, render};
use crate::api::guard::Principal;
use crate::nodes::fleet::Node;

/// The signals offered (Supervisor takes any name; these are the usual).
pub const SIGNALS: &[&str] = &[
    "HUP", "INT", "QUIT", "KILL", "USR1", "USR2", "TERM", "STOP", "CONT",
];

/// The overview's route.
pub fn routes() -> Router<PageState> {
    Router::new().route("/", get(overview))
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    layout: Layout,
    /// The fleet as JSON, escaped for a `<script>` data block.
    data: String,
    /// How many nodes and processes (for the first paint's counts).
    nodes: usize,
    processes: usize,
}

/// One process as the page's script reads it.
pub fn process_value(p: &ProcessInfo) -> Value {
    json!({
        "group": p.group,
        "name": p.name,
        "state": p.state,
        "statename": p.statename,
        "description": p.description,
        "start": p.start,
        "now": p.now,
        "pid": p.pid,
    })
}

/// One node as the page's script reads it: the fleet route's health
/// fields and the processes of the last good answer.
pub fn node_value(node: &Node) -> Value {
    let s = node.snapshot();
    let ms = |d: std::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    json!({
        "name": node.name(),
        "environment": node.environment(),
        "health": s.health.as_str(),
        "connected": s.health.connected(),
        "age_ms": s.fresh.map(|t| ms(t.elapsed())),
        "error": s.error,
        "processes": s.processes.iter().map(process_value).collect::<Vec<_>>(),
    })
}

/// The nodes `principal` may see, in config order.
pub fn visible_nodes(state: &PageState, principal: &Principal) -> Vec<std::sync::Arc<Node>> {
    state
        .fleet
        .nodes()
        .iter()
        .filter(|n| principal.sees_environment(n.environment()))
        .cloned()
        .collect()
}

/// JSON to put inside a `<script type="application/json">` block: no
/// `<`, `>` or `&` survives, so no text can close the block.
pub fn script_json(value: &Value) -> String {
    value
        .to_string()
        .replace('&', "\\u0026")
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
}

/// `GET /`.
async fn overview(user: PageUser, State(state): State<PageState>) -> Response {
    let nodes = visible_nodes(&state, &user.principal);
    let list: Vec<Value> = nodes.iter().map(|n| node_value(n)).collect();
    let processes = list
        .iter()
        .map(|n| n["processes"].as_array().map_or(0, Vec::len))
        .sum();
    let settings = state.fleet.settings();
    let data = json!({
        "nodes": list,
        "poll_interval_ms": u64::try_from(settings.poll_interval.as_millis()).unwrap_or(u64::MAX),
    });
    let layout = user.layout("Fleet", "fleet").with_script("overview.js");
    render(&OverviewPage {
        layout,
        data: script_json(&data),
        nodes: nodes.len(),
        processes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_blocks_cannot_be_closed_from_inside() {
        let v = json!({"description": "</script><script>alert(1)</script>&"});
        let out = script_json(&v);
        assert!(!out.contains('<') && !out.contains('>') && !out.contains('&'));
        let back: Value = serde_json::from_str(&out).expect("still JSON");
        assert_eq!(back, v);
    }
}
