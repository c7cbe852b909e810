//! The reads: nodes, processes, environments, groups (Cesi) and the
//! fleet's health (ours). All answer from the cache except the
//! single-process read, which asks the node (bounded by its deadline) so
//! that any namespec Supervisor resolves works as in Cesi.

use std::sync::Arc;

use axum::extract::{Path, State};
use serde_json::{Value, json};

use super::{NodesState, find, find_connected, visible};
use crate::api::error::ApiError;
use crate::api::guard::{Read, Require};
use crate::api::json::{CesiJson, success};
use crate::nodes::fleet::{Node, Snapshot};
use crate::nodes::process::process_json;
use crate::nodes::render::{RawJson, environment_object, success_list, success_node};
use crate::nodes::view::{
    GroupView, NodeGroups, environments as env_labels, groups as group_views,
};

/// Snapshots of `nodes`, each polled at least once (waits only right
/// after start, at most a node's deadline).
async fn settled(nodes: &[Arc<Node>]) -> Vec<Snapshot> {
    futures_util::future::join_all(nodes.iter().map(|n| n.settled())).await
}

/// `GET /api/v2/nodes/`.
pub(super) async fn nodes(State(state): State<NodesState>, auth: Require<Read>) -> RawJson {
    let nodes = visible(&state, &auth.principal);
    let snaps = settled(&nodes).await;
    success_list("nodes", snaps.iter().map(|s| &*s.json))
}

/// `GET /api/v2/nodes/<node>/`: 200 even for a dead node (spec Q10).
pub(super) async fn node(
    State(state): State<NodesState>,
    auth: Require<Read>,
    Path(name): Path<String>,
) -> Result<RawJson, ApiError> {
    let node = find(&state, &auth.principal, &name)?;
    Ok(success_node(&node.settled().await.json))
}

/// `GET /api/v2/nodes/<node>/processes/`.
pub(super) async fn processes(
    State(state): State<NodesState>,
    auth: Require<Read>,
    Path(name): Path<String>,
) -> Result<CesiJson, ApiError> {
    let node = find_connected(&state, &auth.principal, &name).await?;
    let tz = state.fleet.time_zone();
    let list: Vec<Value> = node
        .snapshot()
        .processes
        .iter()
        .map(|p| process_json(p, tz))
        .collect();
    Ok(success(json!({ "processes": list })))
}

/// `GET /api/v2/nodes/<node>/processes/<uname>/`.
pub(super) async fn process(
    State(state): State<NodesState>,
    auth: Require<Read>,
    Path((name, uname)): Path<(String, String)>,
) -> Result<CesiJson, ApiError> {
    let node = find_connected(&state, &auth.principal, &name).await?;
    let wrong = || ApiError::BadRequest("Wrong process name".into());
    let client = node.client().map_err(|_| wrong())?;
    let info = client.get_process_info(&uname).await.map_err(|_| wrong())?;
    Ok(success(
        json!({ "process": process_json(&info, state.fleet.time_zone()) }),
    ))
}

/// `GET /api/v2/environments/`: config first-appearance order.
pub(super) async fn environments(State(state): State<NodesState>, auth: Require<Read>) -> RawJson {
    let nodes = visible(&state, &auth.principal);
    let snaps = settled(&nodes).await;
    let labels = env_labels(nodes.iter().map(|n| n.environment()));
    let objects: Vec<String> = labels
        .iter()
        .map(|env| {
            let members = nodes
                .iter()
                .zip(&snaps)
                .filter(|(n, _)| n.environment() == *env)
                .map(|(_, s)| &*s.json);
            environment_object(env, members)
        })
        .collect();
    success_list("environments", objects.iter().map(String::as_str))
}

/// The groups of the nodes `auth` sees, from their cached processes.
async fn group_list(
    state: &NodesState,
    auth: &Require<Read>,
) -> (Vec<Arc<Node>>, Vec<Snapshot>, Vec<GroupView>) {
    let nodes = visible(state, &auth.principal);
    let snaps = settled(&nodes).await;
    let views = {
        let inputs: Vec<NodeGroups<'_>> = nodes
            .iter()
            .zip(&snaps)
            .map(|(n, s)| NodeGroups {
                name: n.name(),
                environment: n.environment(),
                groups: if s.health.connected() {
                    s.processes.iter().map(|p| p.group.as_str()).collect()
                } else {
                    Vec::new()
                },
            })
            .collect();
        group_views(&inputs)
    };
    (nodes, snaps, views)
}

/// `GET /api/v2/groups/`.
pub(super) async fn groups(State(state): State<NodesState>, auth: Require<Read>) -> CesiJson {
    let (_, _, views) = group_list(&state, &auth).await;
    let list: Vec<Value> = views.iter().map(GroupView::to_json).collect();
    success(json!({ "groups": list }))
}

/// `GET /api/v2/groups/<group>/`: a one-element list (spec Q12).
pub(super) async fn group(
    State(state): State<NodesState>,
    auth: Require<Read>,
    Path(group): Path<String>,
) -> Result<CesiJson, ApiError> {
    let (_, _, views) = group_list(&state, &auth).await;
    let view = views
        .iter()
        .find(|g| g.name == group)
        .ok_or_else(|| ApiError::BadRequest("Wrong group name".into()))?;
    Ok(success(json!({ "group": [view.to_json()] })))
}

/// `GET /api/v2/groups/<group>/node/<node>/`: what Cesi meant (it always
/// answers 500 — spec Q13): `{"result":{<node>:[its processes of the group]}}`.
pub(super) async fn group_node(
    State(state): State<NodesState>,
    auth: Require<Read>,
    Path((group, name)): Path<(String, String)>,
) -> Result<CesiJson, ApiError> {
    let (nodes, snaps, views) = group_list(&state, &auth).await;
    let view = views
        .iter()
        .find(|g| g.name == group)
        .ok_or_else(|| ApiError::BadRequest("Wrong group name".into()))?;
    if !view.has_member(&name) {
        return Err(ApiError::BadRequest(
            "Wrong node name for group name".into(),
        ));
    }
    let tz = state.fleet.time_zone();
    let list: Vec<Value> = nodes
        .iter()
        .zip(&snaps)
        .find(|(n, _)| n.name() == name)
        .map(|(_, s)| {
            s.processes
                .iter()
                .filter(|p| p.group == group)
                .map(|p| process_json(p, tz))
                .collect()
        })
        .unwrap_or_default();
    let mut result = serde_json::Map::new();
    result.insert(name, Value::Array(list));
    Ok(success(json!({ "result": result })))
}

/// `GET /api/v2/fleet/` (ours): each node's health, the age of its data,
/// the last poll's latency and error, whether it is followed live.
pub(super) async fn fleet(State(state): State<NodesState>, auth: Require<Read>) -> CesiJson {
    let nodes = visible(&state, &auth.principal);
    let list: Vec<Value> = nodes
        .iter()
        .map(|n| {
            let s = n.snapshot();
            let ms = |d: std::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
            json!({
                "name": n.name(),
                "environment": n.environment(),
                "health": s.health.as_str(),
                "connected": s.health.connected(),
                "age_ms": s.fresh.map(|t| ms(t.elapsed())),
                "checked_ms": s.checked.map(|t| ms(t.elapsed())),
                "latency_ms": s.latency.map(ms),
                "error": s.error,
                "failures": s.failures,
                "skipped_entries": s.skipped,
                "live": s.push,
                "processes": s.processes.len(),
            })
        })
        .collect();
    success(json!({ "nodes": list }))
}
