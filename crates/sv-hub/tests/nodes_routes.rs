//! The node routes against simulated nodes (tests/support/sim.rs): live
//! ones, one that never answers, a closed port and one that refuses the
//! credentials. Cesi's shapes, texts and status codes; roles; the
//! cross-site refusal; environment restriction; bulk actions; the live
//! stream. Waits are conditions with deadlines; nothing asserts durations.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::hub::{Hub, eventually};
use support::sim::{Kind, Sim};
use sv_hub::nodes::{Fleet, FleetSettings, NodeSpec};

const DEADLINE: Duration = Duration::from_secs(20);
const ADMIN: &str = "admin:admin";
const OPERATOR: &str = "olga:operator";
const VIEWER: &str = "vic:viewer";

fn settings() -> FleetSettings {
    FleetSettings {
        poll_interval: Duration::from_millis(500),
        // Generous: a loaded machine must not turn a live node slow or dead.
        timeout: Duration::from_secs(2),
        slow_after: Duration::from_secs(2),
        max_backoff: Duration::from_secs(1),
        action_timeout: Duration::from_secs(5),
        follow_events: true,
    }
}

/// live `n0` (prod), live `n1` (staging), `hung` (prod), `refused`
/// (staging), `denied` (prod).
async fn fleet() -> (Sim, Hub) {
    let sim = Sim::start(
        &[
            Kind::Live,
            Kind::Live,
            Kind::Hung,
            Kind::Refused,
            Kind::AuthFail,
        ],
        20,
    )
    .await;
    let names = [
        ("n0", "prod"),
        ("n1", "staging"),
        ("hung", "prod"),
        ("refused", "staging"),
        ("denied", "prod"),
    ];
    let specs = names
        .iter()
        .zip(&sim.nodes)
        .map(|((name, env), node)| {
            NodeSpec::new(name, env, &node.url()).with_credentials("u", "wrong-or-right")
        })
        .collect();
    let hub = Hub::serve(Fleet::start(specs, settings())).await;
    (sim, hub)
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overview_answers_with_every_node_and_marks_the_bad_ones() {
    let (_sim, hub) = fleet().await;
    let (status, body) = hub.get("/api/v2/nodes/", ADMIN).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.ends_with("}\n") && body.starts_with("{\"nodes\":[{\"general\":"));
    let v = json(&body);
    assert_eq!(v["status"], "success");
    let nodes = v["nodes"].as_array().expect("nodes");
    let names: Vec<&str> = nodes
        .iter()
        .filter_map(|n| n["general"]["name"].as_str())
        .collect();
    assert_eq!(names, ["n0", "n1", "hung", "refused", "denied"]);
    let connected: Vec<bool> = nodes
        .iter()
        .filter_map(|n| n["general"]["connected"].as_bool())
        .collect();
    assert_eq!(connected, [true, true, false, false, false]);
    assert_eq!(nodes[0]["processes"].as_array().map(Vec::len), Some(20));
    assert_eq!(nodes[2]["processes"], Value::Array(vec![]));
    // The four Cesi keys and the 14 of Supervisor, nothing else.
    let p = nodes[0]["processes"][0].as_object().expect("process");
    assert_eq!(p.len(), 18, "{p:?}");
    assert_eq!(p["uptime"], "0:01:40");
    assert_eq!(nodes[0]["processes"][3]["uptime"], 0);

    let (_, body) = hub.get("/api/v2/fleet/", ADMIN).await;
    let v = json(&body);
    let health: Vec<&str> = v["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["health"].as_str())
        .collect();
    assert_eq!(
        health,
        [
            "connected",
            "connected",
            "unreachable",
            "unreachable",
            "auth_failed"
        ]
    );
    assert!(!body.contains("wrong-or-right"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_endpoints_answer_as_cesi_does() {
    let (_sim, hub) = fleet().await;
    let (status, body) = hub.get("/api/v2/nodes/refused/", ADMIN).await;
    assert_eq!(
        (status, body.as_str()),
        (
            200,
            "{\"node\":{\"general\":{\"connected\":false,\"environment\":\"staging\",\"name\":\"refused\"},\"processes\":[]},\"status\":\"success\"}\n"
        )
    );
    for path in [
        "/api/v2/nodes/refused/processes/",
        "/api/v2/nodes/hung/processes/g0:p00/",
        "/api/v2/nodes/denied/processes/g0:p00/start/",
        "/api/v2/nodes/hung/processes/g0:p00/log/",
        "/api/v2/nodes/refused/all-processes/stop/",
    ] {
        let (status, body) = hub.get(path, ADMIN).await;
        assert_eq!(
            (status, body.as_str()),
            (
                400,
                "{\"message\":\"Node is not connected\",\"status\":\"error\"}\n"
            ),
            "{path}"
        );
    }
    let (status, body) = hub.get("/api/v2/nodes/nosuch/processes/", ADMIN).await;
    assert_eq!(
        (status, body.as_str()),
        (
            400,
            "{\"message\":\"Wrong node name\",\"status\":\"error\"}\n"
        )
    );

    let (status, body) = hub.get("/api/v2/nodes/n0/processes/", ADMIN).await;
    assert_eq!(status, 200);
    assert_eq!(json(&body)["processes"].as_array().map(Vec::len), Some(20));
    let (status, body) = hub.get("/api/v2/nodes/n0/processes/g0%3Ap01/", ADMIN).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["process"]["name"], "p01");
    let (status, body) = hub.get("/api/v2/nodes/n0/processes/nosuch/", ADMIN).await;
    assert_eq!(
        (status, body.as_str()),
        (
            400,
            "{\"message\":\"Wrong process name\",\"status\":\"error\"}\n"
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_report_their_result_and_show_at_once() {
    let (sim, hub) = fleet().await;
    // p03 starts STOPPED.
    let (status, body) = hub
        .get("/api/v2/nodes/n0/processes/g0:p03/start/", OPERATOR)
        .await;
    assert_eq!(
        (status, body.as_str()),
        (
            200,
            "{\"message\":\"n0 g0:p03 start event succesfully\",\"status\":\"success\"}\n"
        )
    );
    assert_eq!(sim.nodes[0].statename("g0:p03").as_deref(), Some("RUNNING"));
    // The answer came after a refresh: the cache shows it already.
    let (_, body) = hub.get("/api/v2/nodes/n0/processes/", ADMIN).await;
    assert_eq!(json(&body)["processes"][3]["statename"], "RUNNING");

    let (status, body) = hub
        .post("/api/v2/nodes/n0/processes/g0:p03/start/", OPERATOR)
        .await;
    assert_eq!(
        (status, body.as_str()),
        (
            500,
            "{\"message\":\"ALREADY_STARTED: g0:p03\",\"status\":\"error\"}\n"
        )
    );
    let (status, _) = hub
        .get("/api/v2/nodes/n0/processes/g0:p03/restart/", OPERATOR)
        .await;
    assert_eq!(status, 200);
    let (status, body) = hub
        .get("/api/v2/nodes/n0/processes/nosuch/restart/", OPERATOR)
        .await;
    assert_eq!(
        (status, body.as_str()),
        (
            400,
            "{\"message\":\"Wrong process name\",\"status\":\"error\"}\n"
        )
    );
    let (status, _) = hub
        .get("/api/v2/nodes/n0/processes/g0:p03/stop/", OPERATOR)
        .await;
    assert_eq!(status, 200);
    assert_eq!(sim.nodes[0].statename("g0:p03").as_deref(), Some("STOPPED"));
    let (status, _) = hub
        .post("/api/v2/nodes/n0/processes/g0:p01/signal/HUP/", OPERATOR)
        .await;
    assert_eq!(status, 200);
    let (status, _) = hub
        .post("/api/v2/nodes/n0/processes/g0:p01/clear/", OPERATOR)
        .await;
    assert_eq!(status, 200);

    assert_eq!(
        hub.activity.messages(),
        [
            "olga started n0 node's g0:p03 process.",
            "olga unsuccessful start event n0 node's g0:p03 process.",
            "olga restarted n0 node's g0:p03 process.",
            "olga stopped n0 node's g0:p03 process.",
            "olga signalled n0 node's g0:p01 process with HUP.",
            "olga cleared logs of n0 node's g0:p01 process.",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_keep_cesis_window_and_take_offset_and_length() {
    let (_sim, hub) = fleet().await;
    let (status, body) = hub
        .get("/api/v2/nodes/n0/processes/g0:p00/log/", VIEWER)
        .await;
    assert_eq!(
        (status, body.as_str()),
        (
            200,
            "{\"logs\":{\"stderr\":[\"full 1\",\"full 2\"],\"stdout\":[\"full 1\",\"full 2\"]},\"status\":\"success\"}\n"
        )
    );
    let (_, body) = hub
        .get(
            "/api/v2/nodes/n0/processes/g0:p00/log/?offset=0&length=100",
            VIEWER,
        )
        .await;
    assert_eq!(
        json(&body)["logs"]["stdout"],
        serde_json::json!(["from offset", "second"])
    );
    let (status, _) = hub
        .get("/api/v2/nodes/n0/processes/g0:p00/log/?length=0", VIEWER)
        .await;
    assert_eq!(status, 400);
    let (status, body) = hub
        .get("/api/v2/nodes/n0/processes/nosuch/log/", VIEWER)
        .await;
    assert_eq!(
        (status, body.as_str()),
        (
            500,
            "{\"message\":\"BAD_NAME: nosuch\",\"status\":\"error\"}\n"
        )
    );
    assert_eq!(
        hub.activity.messages(),
        [
            "vic read log n0 node's g0:p00 process.",
            "vic read log n0 node's g0:p00 process."
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_processes_answer_ok_and_report_each_process() {
    let (sim, hub) = fleet().await;
    let (status, body) = hub
        .get("/api/v2/nodes/n0/all-processes/stop/", OPERATOR)
        .await;
    assert_eq!(status, 200, "{body}");
    let v = json(&body);
    assert_eq!(v["message"], "ok");
    // 15 of the 20 run (every fourth is stopped): only those are stopped.
    assert_eq!(v["results"].as_array().map(Vec::len), Some(15));
    assert!(sim.nodes[0].statename("g0:p00").as_deref() == Some("STOPPED"));
    assert!(
        hub.activity
            .messages()
            .contains(&"olga stopped n0 node's p00 process.".to_string())
    );
    let (_, body) = hub.get("/api/v2/nodes/n0/", ADMIN).await;
    assert!(!body.contains("RUNNING"), "the answer came after a refresh");

    let (status, body) = hub.post("/api/v2/all-processes/start/", OPERATOR).await;
    assert_eq!(status, 200, "{body}");
    let v = json(&body);
    let per_node: Vec<(String, bool)> = v["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| {
            (
                n["name"].as_str().unwrap_or("").to_string(),
                n["ok"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    assert_eq!(
        per_node,
        [
            ("n0".to_string(), true),
            ("n1".to_string(), true),
            ("hung".to_string(), false),
            ("refused".to_string(), false),
            ("denied".to_string(), false),
        ]
    );
    assert_eq!(sim.nodes[1].statename("g0:p03").as_deref(), Some("RUNNING"));
    let (status, body) = hub
        .post("/api/v2/environments/nosuch/all-processes/start/", OPERATOR)
        .await;
    assert_eq!(
        (status, body.as_str()),
        (
            400,
            "{\"message\":\"Wrong environment name\",\"status\":\"error\"}\n"
        )
    );
    let (status, _) = hub
        .post("/api/v2/environments/staging/all-processes/stop/", OPERATOR)
        .await;
    assert_eq!(status, 200);
    assert_eq!(sim.nodes[1].statename("g0:p00").as_deref(), Some("STOPPED"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_cross_site_and_environments_are_enforced() {
    let (sim, hub) = fleet().await;
    let start = "/api/v2/nodes/n0/processes/g0:p03/start/";
    let (status, body) = hub.call("GET", start, None, &[]).await;
    assert_eq!(
        (status, body.as_str()),
        (
            401,
            "{\"message\":\"Session expired\",\"status\":\"error\"}\n"
        )
    );
    let (status, _) = hub.get(start, VIEWER).await;
    assert_eq!(status, 403);
    let (status, _) = hub
        .get("/api/v2/nodes/n0/processes/g0:p00/log/", "rita:restricted")
        .await;
    assert_eq!(status, 403);
    for header in [
        ("Sec-Fetch-Site", "cross-site"),
        ("Sec-Fetch-Site", "same-site"),
        ("Origin", "http://evil.example"),
    ] {
        let (status, body) = hub.call("GET", start, Some(ADMIN), &[header]).await;
        assert_eq!(status, 403, "{header:?} {body}");
    }
    assert_eq!(sim.nodes[0].statename("g0:p03").as_deref(), Some("STOPPED"));
    let (status, _) = hub
        .call(
            "GET",
            start,
            Some(ADMIN),
            &[("Sec-Fetch-Site", "same-origin")],
        )
        .await;
    assert_eq!(status, 200);

    // A user limited to staging sees only staging's nodes.
    let staff = "sam:operator:staging";
    let (_, body) = hub.get("/api/v2/nodes/", staff).await;
    let v = json(&body);
    let names: Vec<&str> = v["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["general"]["name"].as_str())
        .collect();
    assert_eq!(names, ["n1", "refused"]);
    let (status, body) = hub.get("/api/v2/nodes/n0/", staff).await;
    assert_eq!(
        (status, body.as_str()),
        (
            400,
            "{\"message\":\"Wrong node name\",\"status\":\"error\"}\n"
        )
    );
    let (_, body) = hub.get("/api/v2/environments/", staff).await;
    assert!(!body.contains("\"prod\""), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn environments_and_groups_have_cesis_shapes() {
    let (_sim, hub) = fleet().await;
    let (_, body) = hub.get("/api/v2/environments/", VIEWER).await;
    let v = json(&body);
    let envs: Vec<&str> = v["environments"]
        .as_array()
        .expect("environments")
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert_eq!(envs, ["prod", "staging"]);
    assert_eq!(
        v["environments"][0]["members"].as_array().map(Vec::len),
        Some(3)
    );

    let (_, body) = hub.get("/api/v2/groups/", VIEWER).await;
    let v = json(&body);
    assert_eq!(v["groups"].as_array().map(Vec::len), Some(4));
    assert_eq!(
        v["groups"][0],
        serde_json::json!({"environments": [{"members": ["n0"], "name": "prod"}, {"members": ["n1"], "name": "staging"}], "name": "g0"})
    );
    let (status, body) = hub.get("/api/v2/groups/g1/", VIEWER).await;
    assert_eq!(status, 200);
    assert_eq!(json(&body)["group"].as_array().map(Vec::len), Some(1));
    let (status, body) = hub.get("/api/v2/groups/nosuch/", VIEWER).await;
    assert_eq!(
        (status, body.as_str()),
        (
            400,
            "{\"message\":\"Wrong group name\",\"status\":\"error\"}\n"
        )
    );
    let (status, body) = hub.get("/api/v2/groups/g1/node/n1/", VIEWER).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        json(&body)["result"]["n1"].as_array().map(Vec::len),
        Some(5)
    );
    let (status, body) = hub.get("/api/v2/groups/g1/node/hung/", VIEWER).await;
    assert_eq!(
        (status, body.as_str()),
        (
            400,
            "{\"message\":\"Wrong node name for group name\",\"status\":\"error\"}\n"
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_stream_sends_the_state_then_each_change() {
    let (_sim, hub) = fleet().await;
    hub.fleet.settled().await;
    let mut stream = hub.open_stream("/api/v2/events/", VIEWER).await;
    // The current state of the five nodes first …
    let text = stream
        .read_until(DEADLINE, |t| t.matches("event: node").count() >= 5)
        .await;
    assert_eq!(text.matches("event: node").count(), 5, "{text}");
    // … then each change.
    let (status, _) = hub
        .get("/api/v2/nodes/n1/processes/g0:p03/start/", OPERATOR)
        .await;
    assert_eq!(status, 200);
    let initial = text.len();
    let text = stream
        .read_until(DEADLINE, |t| t[initial..].contains("\"name\":\"n1\""))
        .await;
    assert!(text[initial..].contains("\"name\":\"n1\""), "{text}");
    assert!(text.contains("text/event-stream"), "{text}");
    assert!(text.contains("event: node\ndata: {\"environment\":\"prod\",\"health\":\"connected\",\"name\":\"n0\",\"node\":{\"general\":"), "{text}");
    assert!(text.matches("event: node").count() >= 6, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_keeps_unchanged_nodes_and_drops_removed_ones() {
    let (sim, hub) = fleet().await;
    hub.fleet.settled().await;
    let before = hub.fleet.node("n0").expect("n0");
    let specs = vec![
        NodeSpec::new("n0", "prod", &sim.nodes[0].url()).with_credentials("u", "wrong-or-right"),
        NodeSpec::new("new", "test", &sim.nodes[1].url()),
    ];
    hub.fleet.replace(specs);
    let after = hub.fleet.node("n0").expect("n0");
    assert!(std::sync::Arc::ptr_eq(&before, &after));
    assert!(hub.fleet.node("hung").is_none());
    let ok = eventually(DEADLINE, || async {
        let (_, body) = hub.get("/api/v2/nodes/", ADMIN).await;
        body.contains("\"name\":\"new\"") && body.matches("\"connected\":true").count() == 2
    })
    .await;
    assert!(ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_nodes_stay_connected_and_strangers_are_not_supervisors() {
    let sim = Sim::start(&[Kind::Slow, Kind::Garbage], 3).await;
    let specs = vec![
        NodeSpec::new("slow", "prod", &sim.nodes[0].url()),
        NodeSpec::new("stranger", "prod", &sim.nodes[1].url()),
    ];
    let settings = FleetSettings {
        timeout: Duration::from_secs(5),
        slow_after: Duration::from_millis(300),
        ..settings()
    };
    let hub = Hub::serve(Fleet::start(specs, settings)).await;
    hub.fleet.settled().await;
    let (_, body) = hub.get("/api/v2/fleet/", VIEWER).await;
    let v = json(&body);
    assert_eq!(v["nodes"][0]["health"], "slow", "{body}");
    assert_eq!(v["nodes"][0]["connected"], true);
    assert_eq!(v["nodes"][1]["health"], "not_supervisor", "{body}");
    let (_, body) = hub.get("/api/v2/nodes/", VIEWER).await;
    let v = json(&body);
    assert_eq!(v["nodes"][0]["processes"].as_array().map(Vec::len), Some(3));
    assert_eq!(v["nodes"][1]["general"]["connected"], false);
}

/// Every node route × every role and anonymous: 401 without a user, 403
/// when the role lacks the route's permission, neither otherwise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_matrix_of_every_node_route() {
    use sv_hub::api::guard::Role;
    use sv_hub::nodes::routes::ROUTES;
    let (_sim, hub) = fleet().await;
    let users: [(Option<&str>, Option<Role>); 5] = [
        (None, None),
        (Some(ADMIN), Some(Role::Admin)),
        (Some(OPERATOR), Some(Role::Operator)),
        (Some(VIEWER), Some(Role::Viewer)),
        (Some("rita:restricted"), Some(Role::Restricted)),
    ];
    let mut failures = Vec::new();
    for route in ROUTES {
        let path = route
            .path
            .replace("{node}", "n0")
            .replace("{uname}", "g0:p01")
            .replace("{signal}", "HUP")
            .replace("{verb}", "start")
            .replace("{env}", "prod")
            .replace("{group}", "g0")
            .replace("{stream}", "stdout");
        for (user, role) in users {
            let status = if path == "/api/v2/events/" && user.is_some() {
                let text = hub
                    .stream_until(&path, user.unwrap_or_default(), DEADLINE, |t| {
                        t.contains("\r\n\r\n")
                    })
                    .await;
                text.split(' ')
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0)
            } else {
                hub.call(route.method, &path, user, &[]).await.0
            };
            let ok = match role {
                None => status == 401,
                Some(role) if role.allows(route.needs) => ![401, 403, 404, 405].contains(&status),
                Some(_) => status == 403,
            };
            if !ok {
                failures.push(format!("{} {path} as {user:?}: {status}", route.method));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
