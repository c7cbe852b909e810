//! Node overrides (admin only): add, change, disable and remove nodes at
//! run time without editing the TOML. Rows live in the database
//! (`hub_nodes`), so every instance on one PostgreSQL serves the same
//! fleet; this instance applies a change at once, the others at their
//! next poll interval ([`crate::fleet_sync`]).
//!
//! A node password is write-only: it is never returned (`has_password`
//! instead), never logged, and an update without `password` keeps the
//! stored one.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{FromRef, Path, State};
use axum::routing::{get, put};
use serde_json::{Value, json};

use crate::activity::{Activity, ActivitySink, Level};
use crate::api::body::JsonBody;
use crate::api::error::ApiError;
use crate::api::guard::{Admin, Require, SharedAuthenticator};
use crate::api::json::{CesiJson, success};
use crate::auth::activity_log::ActivityLog;
use crate::auth::{HubAuth, store_failure};
use crate::fleet_sync::FleetSync;
use crate::nodes::spec::redact_url;
use crate::store::NodeOverride;

/// Longest node name, environment or user name accepted.
pub const MAX_NAME: usize = 64;
/// Longest URL or password accepted.
pub const MAX_TEXT: usize = 1024;
/// Most overrides the store will hold: each is a poll task.
pub const MAX_OVERRIDES: i64 = 5000;
/// Longest per-node timeout, seconds (as the config's `timeout`).
const MAX_TIMEOUT_SECS: f64 = 86_400.0 * 365.0;

/// What the override routes share.
#[derive(Clone)]
pub struct OverridesState {
    /// Who is calling.
    pub auth: Arc<HubAuth>,
    /// The activity log.
    pub activity: Arc<ActivityLog>,
    /// The store and the fleet to recompute.
    pub sync: Arc<FleetSync>,
}

impl FromRef<OverridesState> for SharedAuthenticator {
    fn from_ref(state: &OverridesState) -> SharedAuthenticator {
        state.auth.clone()
    }
}

/// The override routes, unfinished (see [`crate::api::routing::finish`]).
pub fn overrides_router(state: OverridesState) -> Router {
    Router::new()
        .route("/api/v2/node-overrides/", get(list))
        .route("/api/v2/node-overrides/{name}/", put(save).delete(remove))
        .with_state(state)
}

/// An override as the API shows it: everything but the password.
pub fn to_json(ov: &NodeOverride) -> Value {
    json!({
        "name": ov.name,
        "environment": ov.environment,
        "url": redact_url(&ov.url),
        "username": ov.username,
        "has_password": !ov.password.is_empty(),
        "timeout": ov.timeout.map(|t| t.as_secs_f64()),
        "disabled": ov.disabled,
        "updated_at": ov.updated_at,
    })
}

/// `GET /api/v2/node-overrides/`: `{"overrides":[…],"status":"success"}`.
pub async fn list(
    _: Require<Admin>,
    State(state): State<OverridesState>,
) -> Result<CesiJson, ApiError> {
    let rows = state
        .sync
        .store()
        .list_node_overrides()
        .await
        .map_err(store_failure)?;
    let rows: Vec<Value> = rows.iter().map(to_json).collect();
    Ok(success(json!({"overrides": rows})))
}

/// The fields of a `PUT` body; `password: None` keeps the stored one.
#[derive(Debug, PartialEq)]
pub struct Fields {
    /// Environment.
    pub environment: String,
    /// Checked URL (`/RPC2` added to a bare `http://host:port`).
    pub url: String,
    /// Basic-auth user.
    pub username: String,
    /// New password, if given.
    pub password: Option<String>,
    /// Own poll deadline.
    pub timeout: Option<Duration>,
    /// Hidden.
    pub disabled: bool,
}

fn bad(key: &str) -> ApiError {
    ApiError::BadRequest(format!("Please enter valid value for '{key}' fields"))
}

fn text(body: &JsonBody, key: &str, max: usize) -> Result<Option<String>, ApiError> {
    match body.0.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() <= max && !s.chars().any(char::is_control) => {
            Ok(Some(s.clone()))
        }
        Some(_) => Err(bad(key)),
    }
}

/// Checks a node name from the path.
pub fn check_name(name: &str) -> Result<(), ApiError> {
    let len = name.chars().count();
    if len == 0 || len > MAX_NAME || name.chars().any(|c| c.is_control() || c == '/') {
        return Err(ApiError::BadRequest(format!(
            "Node name must be 1 to {MAX_NAME} characters, without '/'"
        )));
    }
    Ok(())
}

/// Reads and checks a `PUT` body (pure).
pub fn parse_fields(body: &JsonBody) -> Result<Fields, ApiError> {
    if let Some(missing) = body.missing(&["environment", "url"]) {
        return Err(missing);
    }
    let environment = text(body, "environment", MAX_NAME)?.ok_or_else(|| bad("environment"))?;
    let url = text(body, "url", MAX_TEXT)?.ok_or_else(|| bad("url"))?;
    // The config's own rule, so a URL the file refuses is refused here.
    let url = crate::config::check_url(&url)
        .map_err(|detail| ApiError::BadRequest(format!("'url': {detail}")))?;
    let username = text(body, "username", MAX_NAME)?.unwrap_or_default();
    let password = text(body, "password", MAX_TEXT)?;
    let timeout = match body.0.get("timeout") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_f64()
                .filter(|s| s.is_finite() && *s > 0.0 && *s <= MAX_TIMEOUT_SECS)
                .map(Duration::from_secs_f64)
                .ok_or_else(|| {
                    ApiError::BadRequest("'timeout' must be a positive number of seconds".into())
                })?,
        ),
    };
    let disabled = match body.0.get("disabled") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(bad("disabled")),
    };
    Ok(Fields {
        environment,
        url,
        username,
        password,
        timeout,
        disabled,
    })
}

/// `PUT /api/v2/node-overrides/<name>/`.
pub async fn save(
    caller: Require<Admin>,
    State(state): State<OverridesState>,
    Path(name): Path<String>,
    body: JsonBody,
) -> Result<CesiJson, ApiError> {
    check_name(&name)?;
    let fields = parse_fields(&body)?;
    let store = state.sync.store();
    let existing = store.list_node_overrides().await.map_err(store_failure)?;
    let exists = existing.iter().any(|o| o.name == name);
    if !exists && existing.len() as i64 >= MAX_OVERRIDES {
        return Err(ApiError::BadRequest(format!(
            "At most {MAX_OVERRIDES} node overrides"
        )));
    }
    let keep_password = fields.password.is_none();
    let row = NodeOverride {
        name: name.clone(),
        environment: fields.environment,
        url: fields.url,
        username: fields.username,
        password: fields.password.unwrap_or_default(),
        timeout: fields.timeout,
        disabled: fields.disabled,
        updated_at: now_ms(),
    };
    store
        .upsert_node_override(&row, keep_password)
        .await
        .map_err(store_failure)?;
    apply(&state).await;
    let by = &caller.principal.username;
    let what = if row.disabled { "disabled" } else { "saved" };
    state
        .activity
        .record(Activity {
            level: Level::Info,
            username: by.clone(),
            action: "node.override".into(),
            node: Some(name.clone()),
            process: None,
            ok: true,
            message: format!("'{by}' user {what} the node override '{name}'."),
        })
        .await;
    Ok(success(
        json!({"message": format!("Node override '{name}' {what}")}),
    ))
}

/// `DELETE /api/v2/node-overrides/<name>/`: 404 when there is none.
pub async fn remove(
    caller: Require<Admin>,
    State(state): State<OverridesState>,
    Path(name): Path<String>,
) -> Result<CesiJson, ApiError> {
    let removed = state
        .sync
        .store()
        .delete_node_override(&name)
        .await
        .map_err(store_failure)?;
    if !removed {
        return Err(ApiError::NotFound);
    }
    apply(&state).await;
    let by = &caller.principal.username;
    state
        .activity
        .record(Activity {
            level: Level::Info,
            username: by.clone(),
            action: "node.override.delete".into(),
            node: Some(name.clone()),
            process: None,
            ok: true,
            message: format!("'{by}' user removed the node override '{name}'."),
        })
        .await;
    Ok(success(
        json!({"message": format!("Node override '{name}' removed")}),
    ))
}

/// Recomputes this instance's fleet now; the write already succeeded, so
/// a failed re-read is logged and left to the periodic check.
async fn apply(state: &OverridesState) {
    if let Err(e) = state.sync.reload_overrides().await {
        eprintln!("supervisor-hub: node overrides saved but not re-read yet: {e}");
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(v: Value) -> JsonBody {
        match v {
            Value::Object(map) => JsonBody(map),
            _ => JsonBody(serde_json::Map::new()),
        }
    }

    #[test]
    fn a_full_body_is_read_and_the_url_checked_as_the_config_does() {
        let f = parse_fields(&body(json!({
            "environment": "prod", "url": "http://10.0.0.1:9001", "username": "u",
            "password": "p", "timeout": 1.5, "disabled": true
        })))
        .expect("valid");
        assert_eq!(f.url, "http://10.0.0.1:9001/RPC2");
        assert_eq!(f.password.as_deref(), Some("p"));
        assert_eq!(f.timeout, Some(Duration::from_millis(1500)));
        assert!(f.disabled);
    }

    #[test]
    fn absent_password_keeps_and_bad_fields_are_400() {
        let f = parse_fields(&body(
            json!({"environment": "", "url": "unix:///run/s.sock"}),
        ))
        .expect("valid");
        assert_eq!((f.password, f.timeout, f.disabled), (None, None, false));
        for (v, want) in [
            (
                json!({"url": "unix:///s"}),
                "Please enter valid value for 'environment' fields",
            ),
            (
                json!({"environment": "e", "url": "unix://rel"}),
                "'url': a unix socket path must be absolute (unix:///path/to/supervisor.sock)",
            ),
            (
                json!({"environment": "e", "url": "ftp://x"}),
                "'url': must start with unix://, http:// or https://",
            ),
            (
                json!({"environment": "e", "url": "unix:///s", "timeout": 0}),
                "'timeout' must be a positive number of seconds",
            ),
            (
                json!({"environment": "e", "url": "unix:///s", "disabled": "yes"}),
                "Please enter valid value for 'disabled' fields",
            ),
        ] {
            assert_eq!(
                parse_fields(&body(v)),
                Err(ApiError::BadRequest(want.into()))
            );
        }
        assert!(check_name("ok-name").is_ok());
        assert!(check_name("a/b").is_err() && check_name("").is_err());
    }

    #[test]
    fn the_listing_never_carries_the_password() {
        let ov = NodeOverride {
            name: "n".into(),
            environment: "e".into(),
            url: "http://u:urlpw@h:1/RPC2".into(),
            username: "u".into(),
            password: "s3cret".into(),
            timeout: None,
            disabled: false,
            updated_at: 5,
        };
        let shown = to_json(&ov).to_string();
        assert!(
            !shown.contains("s3cret") && !shown.contains("urlpw"),
            "{shown}"
        );
        assert_eq!(to_json(&ov)["has_password"], true);
        assert!(!format!("{ov:?}").contains("s3cret"));
    }
}
