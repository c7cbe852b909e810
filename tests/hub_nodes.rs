//! supervisor-hub's node routes against real nodes: our supervisord and
//! Supervisor 4.3.0 (the reference venv), on unix sockets and on
//! 127.0.0.1 with basic auth, plus a closed port, a blackhole (accepts,
//! never answers) and a node with a wrong password. The overview answers
//! and marks the bad nodes; actions on the live ones work and show at
//! once; a change made on one of our nodes behind the hub's back arrives
//! through its live stream (the poll interval is a minute). Nothing here
//! asserts a duration: the dead are "not waited on" because every answer
//! arrives while they stay dead.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use axum::http::request::Parts;
use futures_util::future::BoxFuture;
use serde_json::{Value, json};
use support::bin::wait_until;
use support::pair::{Daemon, Impl, Options, free_port};
use sv_hub::activity::{Activity, ActivitySink};
use sv_hub::api::error::ApiError;
use sv_hub::api::guard::{Authenticator, Principal, Role};
use sv_hub::nodes::{Fleet, FleetSettings, NodeSpec};

const DEADLINE: Duration = Duration::from_secs(30);

const PROGRAMS: &str = "\
[program:web]
command=/bin/sh -c 'echo web stdout line 1; echo web stdout line 2; echo READY; exec sleep 1000'
startsecs=0
stdout_logfile={dir}/web.out

[program:manual]
command=/bin/sleep 1000
autostart=false
startsecs=0
";

/// Everyone is an admin called `admin`.
struct Admin;

impl Authenticator for Admin {
    fn authenticate<'a>(
        &'a self,
        _parts: &'a Parts,
        _peer: Option<SocketAddr>,
    ) -> BoxFuture<'a, Result<Option<Principal>, ApiError>> {
        Box::pin(async {
            Ok(Some(Principal {
                username: "admin".into(),
                role: Role::Admin,
                environments: None,
            }))
        })
    }
}

struct Discard;

impl ActivitySink for Discard {
    fn record(&self, _entry: Activity) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// `GET path` on the hub: status and body.
fn get(addr: SocketAddr, path: &str) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).expect("connect to the hub");
    stream
        .set_read_timeout(Some(DEADLINE))
        .expect("read timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).expect("read the answer");
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{path}: {e}: {raw}"));
    (status, value)
}

/// The state name of `process` on node `node` in the overview.
fn state_in_overview(addr: SocketAddr, node: &str, process: &str) -> Option<String> {
    let (_, v) = get(addr, "/api/v2/nodes/");
    v["nodes"]
        .as_array()?
        .iter()
        .find(|n| n["general"]["name"] == node)?["processes"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == process)
        .and_then(|p| p["statename"].as_str().map(str::to_string))
}

#[test]
fn the_hub_serves_real_nodes_and_marks_the_bad_ones() {
    let ours_a = Daemon::start(
        Impl::Ours,
        PROGRAMS,
        Options::inet_auth("hubuser", "hubpass"),
    );
    let ours_b = Daemon::start(Impl::Ours, PROGRAMS, Options::default());
    let ours_c = Daemon::start(Impl::Ours, PROGRAMS, Options::default());
    let ref_d = Daemon::start(
        Impl::Reference,
        PROGRAMS,
        Options::inet_auth("hubuser", "hubpass"),
    );
    let ref_e = Daemon::start(Impl::Reference, PROGRAMS, Options::default());
    // Accepts connections (the kernel completes them) and never answers.
    let blackhole = TcpListener::bind("127.0.0.1:0").expect("bind the blackhole");
    let blackhole_port = blackhole.local_addr().expect("addr").port();
    let closed_port = free_port();
    let inet = |d: &Daemon| format!("http://127.0.0.1:{}/RPC2", d.port.expect("inet port"));

    let specs = vec![
        NodeSpec::new("ours-unix", "prod", &ours_a.serverurl()),
        NodeSpec::new("ours-inet", "prod", &inet(&ours_a)).with_credentials("hubuser", "hubpass"),
        NodeSpec::new("ours-b", "staging", &ours_b.serverurl()),
        NodeSpec::new("ours-c", "staging", &ours_c.serverurl()),
        NodeSpec::new("ref-inet", "prod", &inet(&ref_d)).with_credentials("hubuser", "hubpass"),
        NodeSpec::new("ref-unix", "staging", &ref_e.serverurl()),
        NodeSpec::new("wrong-password", "prod", &inet(&ours_a)).with_credentials("hubuser", "nope"),
        NodeSpec::new(
            "closed",
            "prod",
            &format!("http://127.0.0.1:{closed_port}/RPC2"),
        ),
        NodeSpec::new(
            "blackhole",
            "prod",
            &format!("http://127.0.0.1:{blackhole_port}/RPC2"),
        ),
    ];
    let settings = FleetSettings {
        // Long: a change on one of our nodes can only show early through
        // its live stream.
        poll_interval: Duration::from_secs(60),
        ..FleetSettings::default()
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (addr, fleet) = runtime.block_on(async {
        let fleet = Fleet::start(specs, settings);
        let app = sv_hub::nodes::routes::router(fleet.clone(), Arc::new(Admin), Arc::new(Discard));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the hub");
        let addr = listener.local_addr().expect("hub addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (addr, fleet)
    });

    // The overview: every node, in config order, the bad ones marked.
    let (status, v) = get(addr, "/api/v2/nodes/");
    assert_eq!(status, 200, "{v}");
    let general: Vec<(String, bool)> = v["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| {
            (
                n["general"]["name"].as_str().unwrap_or("").to_string(),
                n["general"]["connected"].as_bool().unwrap_or(true),
            )
        })
        .collect();
    let expected: Vec<(String, bool)> = [
        ("ours-unix", true),
        ("ours-inet", true),
        ("ours-b", true),
        ("ours-c", true),
        ("ref-inet", true),
        ("ref-unix", true),
        ("wrong-password", false),
        ("closed", false),
        ("blackhole", false),
    ]
    .iter()
    .map(|(n, c)| (n.to_string(), *c))
    .collect();
    assert_eq!(general, expected);
    for node in v["nodes"].as_array().expect("nodes").iter().take(6) {
        let names: Vec<&str> = node["processes"]
            .as_array()
            .expect("processes")
            .iter()
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert_eq!(names, ["manual", "web"], "{node}");
    }
    let (_, fleet_view) = get(addr, "/api/v2/fleet/");
    let health: Vec<&str> = fleet_view["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["health"].as_str())
        .collect();
    assert!(
        health[..6]
            .iter()
            .all(|h| *h == "connected" || *h == "slow"),
        "{fleet_view}"
    );
    assert_eq!(health[6..], ["auth_failed", "unreachable", "unreachable"]);
    let (status, v) = get(addr, "/api/v2/nodes/blackhole/processes/");
    assert_eq!(
        (status, &v),
        (
            400,
            &json!({"message": "Node is not connected", "status": "error"})
        )
    );

    // Actions on every live node, ours and the reference, work and show
    // in the very next read.
    for node in [
        "ours-unix",
        "ours-inet",
        "ours-b",
        "ours-c",
        "ref-inet",
        "ref-unix",
    ] {
        let (status, v) = get(
            addr,
            &format!("/api/v2/nodes/{node}/processes/manual:manual/start/"),
        );
        assert_eq!(
            (status, &v),
            (
                200,
                &json!({"message": format!("{node} manual:manual start event succesfully"), "status": "success"})
            )
        );
        assert_eq!(
            state_in_overview(addr, node, "manual").as_deref(),
            Some("RUNNING"),
            "{node}"
        );
        let (status, v) = get(
            addr,
            &format!("/api/v2/nodes/{node}/processes/manual:manual/start/"),
        );
        assert_eq!(
            (status, &v),
            (
                500,
                &json!({"message": "ALREADY_STARTED: manual:manual", "status": "error"})
            ),
            "{node}"
        );
        let (status, _) = get(
            addr,
            &format!("/api/v2/nodes/{node}/processes/web:web/restart/"),
        );
        assert_eq!(status, 200, "{node}");
        // The first line of a file under 500 bytes is dropped (Cesi).
        let log = format!("/api/v2/nodes/{node}/processes/web:web/log/");
        assert!(
            wait_until(DEADLINE, || {
                let (status, v) = get(addr, &log);
                status == 200
                    && v["logs"]["stdout"].as_array().is_some_and(|lines| {
                        lines.iter().any(|l| l == "READY")
                            && lines.iter().any(|l| l == "web stdout line 2")
                    })
                    && v["logs"]["stderr"] == json!([])
            }),
            "{node}: {:?}",
            get(addr, &log)
        );
        let (status, _) = get(
            addr,
            &format!("/api/v2/nodes/{node}/processes/manual:manual/stop/"),
        );
        assert_eq!(status, 200, "{node}");
        assert_eq!(
            state_in_overview(addr, node, "manual").as_deref(),
            Some("STOPPED"),
            "{node}"
        );
    }

    // Push: a change made directly on our node reaches the hub through
    // the node's live stream, long before the next poll.
    assert!(
        wait_until(DEADLINE, || {
            let (_, v) = get(addr, "/api/v2/fleet/");
            v["nodes"][0]["live"] == true
        }),
        "the hub never followed ours-unix's live stream"
    );
    let (_, v) = get(addr, "/api/v2/fleet/");
    assert_eq!(
        v["nodes"][4]["live"], false,
        "Supervisor 4.3 has no live stream"
    );
    let answer = ours_a.call("supervisor.startProcess", json!(["manual"]));
    assert_eq!(answer, json!({"ok": true}));
    assert!(
        wait_until(DEADLINE, || state_in_overview(addr, "ours-unix", "manual")
            .as_deref()
            == Some("RUNNING")),
        "the change did not arrive through the live stream"
    );

    runtime.block_on(async { fleet.shutdown() });
    drop(blackhole);
}
