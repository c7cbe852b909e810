//! Cesi's JSON built from cached pieces. A node's object is serialized once
//! per poll (through [`to_cesi_string`], so its bytes are Cesi's); the
//! overview and the environments list are the concatenation of those
//! pieces, so answering 1000 nodes from the cache copies bytes instead of
//! rebuilding 20 000 process objects per request.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::api::json::to_cesi_string;

/// `value` as Cesi writes it, without the trailing newline (a piece to
/// embed in a larger answer).
pub fn piece(value: &Value) -> String {
    let mut text = to_cesi_string(value);
    text.pop();
    text
}

/// Cesi's node object: `{"general":{…},"processes":[…]}`. `processes` are
/// already pieces (process objects).
pub fn node_object(name: &str, environment: &str, connected: bool, processes: &[String]) -> String {
    let general = piece(&json!({
        "connected": connected,
        "environment": environment,
        "name": name,
    }));
    let mut out = String::with_capacity(
        general.len() + 32 + processes.iter().map(|p| p.len() + 1).sum::<usize>(),
    );
    out.push_str("{\"general\":");
    out.push_str(&general);
    out.push_str(",\"processes\":[");
    join_into(&mut out, processes.iter().map(String::as_str));
    out.push_str("]}");
    out
}

/// `[a,b,…]` appended to `out`.
fn join_into<'a>(out: &mut String, items: impl Iterator<Item = &'a str>) {
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(item);
    }
}

/// `{"<key>":[pieces…],"status":"success"}` — the key must sort before
/// `status` (`nodes`, `environments`, `groups` all do).
pub fn success_list<'a>(key: &str, items: impl Iterator<Item = &'a str>) -> RawJson {
    debug_assert!(key < "status");
    // Sized once: the overview of 1000 nodes is megabytes.
    let items: Vec<&str> = items.collect();
    let mut out =
        String::with_capacity(key.len() + 32 + items.iter().map(|i| i.len() + 1).sum::<usize>());
    out.push('{');
    out.push_str(&piece(&Value::from(key)));
    out.push_str(":[");
    join_into(&mut out, items.into_iter());
    out.push_str("],\"status\":\"success\"}\n");
    RawJson(out)
}

/// `{"node":<piece>,"status":"success"}`.
pub fn success_node(node: &str) -> RawJson {
    RawJson(format!("{{\"node\":{node},\"status\":\"success\"}}\n"))
}

/// One environment: `{"members":[node pieces…],"name":<env>}`.
pub fn environment_object<'a>(name: &str, members: impl Iterator<Item = &'a str>) -> String {
    let members: Vec<&str> = members.collect();
    let mut out =
        String::with_capacity(name.len() + 32 + members.iter().map(|m| m.len() + 1).sum::<usize>());
    out.push_str("{\"members\":[");
    join_into(&mut out, members.into_iter());
    out.push_str("],\"name\":");
    out.push_str(&piece(&Value::from(name)));
    out.push('}');
    out
}

/// A 200 JSON answer whose bytes are already Cesi's (ends with `\n`).
#[derive(Debug, Clone)]
pub struct RawJson(pub String);

impl IntoResponse for RawJson {
    fn into_response(self) -> Response {
        let mut response = (StatusCode::OK, self.0).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::json::success;

    #[test]
    fn assembled_answers_equal_whole_serialization() {
        let process = json!({"name": "w\u{fc}", "group": "g", "state": 20});
        let node = node_object("live", "prod", true, &[piece(&process)]);
        let whole = json!({"general": {"name": "live", "environment": "prod", "connected": true}, "processes": [process]});
        assert_eq!(node, piece(&whole));

        let list = success_list("nodes", [node.as_str()].into_iter()).0;
        let expected = to_cesi_string(&success(json!({"nodes": [whole.clone()]})).1);
        assert_eq!(list, expected);

        let env = environment_object("prod", [node.as_str()].into_iter());
        assert_eq!(
            env,
            piece(&json!({"name": "prod", "members": [whole.clone()]}))
        );
        assert_eq!(
            success_node(&node).0,
            to_cesi_string(&success(json!({"node": whole})).1)
        );
    }
}
