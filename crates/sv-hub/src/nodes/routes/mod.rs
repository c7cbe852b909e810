//! Every `/api/v2/nodes/…`, `/environments/…`, `/groups/…` route of Cesi
//! (spec §3.4–3.8, §4, §5), and ours: `/fleet/` (health per node),
//! `/events/` (the live stream), bulk all-processes actions across nodes,
//! signal and clear-logs.
//!
//! Every handler takes a [`Require`](crate::api::guard::Require) first, so
//! a missing session is 401 before anything else (spec §2.3); state
//! changes then refuse a request a browser marks cross-site (403, nothing
//! done), then check the node name (400 `Wrong node name` — also for a node
//! outside the user's environments, so its existence does not leak) and
//! the node's connectivity (400 `Node is not connected`).
//!
//! Reads answer from the fleet's cache; a state change refreshes its node
//! before answering, so the answer and the next read show the change.
//!
//! # Layout
//! * `read`: nodes, processes, environments, groups, fleet health;
//! * `act`: process actions, logs, all-processes (per node and bulk);
//! * `logs`: one log stream at a time (windows, follow, search,
//!   download) and a process's detail (ours);
//! * `stream`: `GET /api/v2/events/`.

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use axum::Router;
use axum::extract::FromRef;
use axum::http::HeaderMap;
use axum::routing::{get, post};

use crate::activity::ActivitySink;
use crate::api::error::ApiError;
use crate::api::guard::{Permission, Principal, SharedAuthenticator};
use crate::nodes::fleet::{Fleet, Node};

mod act;
mod logs;
mod read;
mod stream;

/// What the node routes share.
#[derive(Clone)]
pub struct NodesState {
    /// The nodes and their cache.
    pub fleet: Fleet,
    /// Who is calling (the one guard asks it).
    pub auth: SharedAuthenticator,
    /// Where actions are recorded.
    pub activity: Arc<dyn ActivitySink>,
    /// Live streams open now (bounded by `stream::MAX_STREAMS`).
    pub streams: Arc<AtomicUsize>,
}

impl FromRef<NodesState> for SharedAuthenticator {
    fn from_ref(state: &NodesState) -> Self {
        Arc::clone(&state.auth)
    }
}

/// The node routes, ready to be merged into the hub's router.
pub fn router(fleet: Fleet, auth: SharedAuthenticator, activity: Arc<dyn ActivitySink>) -> Router {
    let p = "/api/v2/nodes/{node}/processes/{uname}";
    Router::new()
        .route("/api/v2/nodes/", get(read::nodes))
        .route("/api/v2/nodes/{node}/", get(read::node))
        .route("/api/v2/nodes/{node}/processes/", get(read::processes))
        .route(&format!("{p}/"), get(read::process))
        .route(&format!("{p}/start/"), get(act::start).post(act::start))
        .route(&format!("{p}/stop/"), get(act::stop).post(act::stop))
        .route(
            &format!("{p}/restart/"),
            get(act::restart).post(act::restart),
        )
        .route(&format!("{p}/log/"), get(act::log))
        .route(&format!("{p}/log/{{stream}}/"), get(logs::window))
        .route(&format!("{p}/log/{{stream}}/search/"), get(logs::search))
        .route(
            &format!("{p}/log/{{stream}}/download/"),
            get(logs::download),
        )
        .route(&format!("{p}/detail/"), get(logs::detail))
        .route(&format!("{p}/signal/{{signal}}/"), post(act::signal))
        .route(&format!("{p}/clear/"), post(act::clear))
        .route(
            "/api/v2/nodes/{node}/all-processes/{verb}/",
            get(act::all_processes).post(act::all_processes),
        )
        .route("/api/v2/environments/", get(read::environments))
        .route(
            "/api/v2/environments/{env}/all-processes/{verb}/",
            post(act::environment_all),
        )
        .route("/api/v2/all-processes/{verb}/", post(act::fleet_all))
        .route("/api/v2/groups/", get(read::groups))
        .route("/api/v2/groups/{group}/", get(read::group))
        .route("/api/v2/groups/{group}/node/{node}/", get(read::group_node))
        .route("/api/v2/fleet/", get(read::fleet))
        .route("/api/v2/events/", get(stream::events))
        .with_state(NodesState {
            fleet,
            auth,
            activity,
            streams: Arc::new(AtomicUsize::new(0)),
        })
}

/// One route of [`router`], for the role matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteInfo {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// The path, with `{node}`, `{uname}`, `{signal}`, `{verb}`, `{env}`,
    /// `{group}` segments to fill in.
    pub path: &'static str,
    /// What the one guard asks of the caller.
    pub needs: Permission,
}

const fn route(method: &'static str, path: &'static str, needs: Permission) -> RouteInfo {
    RouteInfo {
        method,
        path,
        needs,
    }
}

/// Every method and path [`router`] serves, with the permission it needs
/// (the role-matrix test walks it; keep it beside the router).
pub const ROUTES: &[RouteInfo] = &[
    route("GET", "/api/v2/nodes/", Permission::Read),
    route("GET", "/api/v2/nodes/{node}/", Permission::Read),
    route("GET", "/api/v2/nodes/{node}/processes/", Permission::Read),
    route(
        "GET",
        "/api/v2/nodes/{node}/processes/{uname}/",
        Permission::Read,
    ),
    route(
        "GET",
        "/api/v2/nodes/{node}/processes/{uname}/start/",
        Permission::Operate,
    ),
    route(
        "POST",
        "/api/v2/nodes/{node}/processes/{uname}/start/",
        Permission::Operate,
    ),
    route(
        "GET",
        "/api/v2/nodes/{node}/processes/{uname}/stop/",
        Permission::Operate,
    ),
    route(
        "POST",
        "/api/v2/nodes/{node}/processes/{uname}/stop/",
        Permission::Operate,
    ),
    route(
        "GET",
        "/api/v2/nodes/{node}/processes/{uname}/restart/",
        Permission::Operate,
    ),
    route(
        "POST",
        "/api/v2/nodes/{node}/processes/{uname}/restart/",
        Permission::Operate,
    ),
    route(
        "GET",
        "/api/v2/nodes/{node}/processes/{uname}/log/",
        Permission::ReadLogs,
    ),
    route(
        "GET",
        "/api/v2/nodes/{node}/processes/{uname}/log/{stream}/",
        Permission::ReadLogs,
    ),
    route(
        "GET",
        "/api/v2/nodes/{node}/processes/{uname}/log/{stream}/search/",
        Permission::ReadLogs,
    ),
    route(
        "GET",
        "/api/v2/nodes/{node}/processes/{uname}/log/{stream}/download/",
        Permission::ReadLogs,
    ),
    route(
        "GET",
        "/api/v2/nodes/{node}/processes/{uname}/detail/",
        Permission::Read,
    ),
    route(
        "POST",
        "/api/v2/nodes/{node}/processes/{uname}/signal/{signal}/",
        Permission::Operate,
    ),
    route(
        "POST",
        "/api/v2/nodes/{node}/processes/{uname}/clear/",
        Permission::Operate,
    ),
    route(
        "GET",
        "/api/v2/nodes/{node}/all-processes/{verb}/",
        Permission::Operate,
    ),
    route(
        "POST",
        "/api/v2/nodes/{node}/all-processes/{verb}/",
        Permission::Operate,
    ),
    route("GET", "/api/v2/environments/", Permission::Read),
    route(
        "POST",
        "/api/v2/environments/{env}/all-processes/{verb}/",
        Permission::Operate,
    ),
    route("POST", "/api/v2/all-processes/{verb}/", Permission::Operate),
    route("GET", "/api/v2/groups/", Permission::Read),
    route("GET", "/api/v2/groups/{group}/", Permission::Read),
    route(
        "GET",
        "/api/v2/groups/{group}/node/{node}/",
        Permission::Read,
    ),
    route("GET", "/api/v2/fleet/", Permission::Read),
    route("GET", "/api/v2/events/", Permission::Read),
];

/// The node `name` as `principal` may see it, else 400 `Wrong node name`.
fn find(state: &NodesState, principal: &Principal, name: &str) -> Result<Arc<Node>, ApiError> {
    state
        .fleet
        .node(name)
        .filter(|n| principal.sees_environment(n.environment()))
        .ok_or_else(|| ApiError::BadRequest("Wrong node name".into()))
}

/// `find`, then 400 `Node is not connected` unless it answers.
async fn find_connected(
    state: &NodesState,
    principal: &Principal,
    name: &str,
) -> Result<Arc<Node>, ApiError> {
    let node = find(state, principal, name)?;
    if node.is_connected().await {
        Ok(node)
    } else {
        Err(ApiError::BadRequest("Node is not connected".into()))
    }
}

/// The nodes `principal` may see, in config order.
fn visible(state: &NodesState, principal: &Principal) -> Vec<Arc<Node>> {
    state
        .fleet
        .nodes()
        .iter()
        .filter(|n| principal.sees_environment(n.environment()))
        .cloned()
        .collect()
}

/// 403 for a request a browser sent on behalf of another site: it says
/// so in `Sec-Fetch-Site` (`cross-site`, `same-site`), or its `Origin` is
/// not this host. Scripts send neither and are not affected. (Cesi takes
/// state changes over GET with a cookie that has no `SameSite`: any page
/// could start and stop processes — spec D8.)
fn refuse_cross_site(headers: &HeaderMap) -> Result<(), ApiError> {
    if cross_site(headers) {
        Err(ApiError::Forbidden("Cross-site request refused".into()))
    } else {
        Ok(())
    }
}

/// Whether the browser marks this request as coming from another site.
pub fn cross_site(headers: &HeaderMap) -> bool {
    use axum::http::header;
    if let Some(site) = headers.get("sec-fetch-site") {
        return !matches!(site.to_str(), Ok("same-origin" | "none"));
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    let origin = origin.to_str().unwrap_or("null");
    let Some((scheme, host)) = origin.split_once("://") else {
        return true;
    };
    let default = if scheme == "https" { "443" } else { "80" };
    let ours = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    match ours {
        // The scheme is not compared: behind a TLS proxy the page is
        // https while the hub speaks plain HTTP.
        Some(ours) => {
            let origin = authority(host, default);
            origin != authority(ours, "80") && origin != authority(ours, "443")
        }
        None => true,
    }
}

/// `host[:port]` lower case, the scheme's default port dropped.
fn authority(host: &str, default_port: &str) -> String {
    let host = host.trim().trim_end_matches('/').to_ascii_lowercase();
    match host.rsplit_once(':') {
        Some((name, port)) if port == default_port || port.is_empty() => name.to_string(),
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn browsers_marking_another_site_are_refused_scripts_are_not() {
        assert!(!cross_site(&headers(&[])));
        assert!(!cross_site(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(!cross_site(&headers(&[("sec-fetch-site", "none")])));
        assert!(cross_site(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(cross_site(&headers(&[("sec-fetch-site", "same-site")])));
        assert!(!cross_site(&headers(&[
            ("origin", "http://hub.example:5000"),
            ("host", "hub.example:5000")
        ])));
        assert!(!cross_site(&headers(&[
            ("origin", "https://hub.example"),
            ("host", "hub.example")
        ])));
        assert!(cross_site(&headers(&[
            ("origin", "http://evil.example"),
            ("host", "hub.example:5000")
        ])));
        assert!(cross_site(&headers(&[("origin", "null"), ("host", "h")])));
    }
}
