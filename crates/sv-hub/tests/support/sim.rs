//! A node simulator: one process serving Supervisor's XML-RPC for many
//! fake nodes, one 127.0.0.1 port each. A node is live (20 processes by
//! default; start/stop/restart/signal/logs work), hung (accepts, never
//! answers), refused (a closed port) or denies every call with 401 (a
//! wrong password). Used by the hub's route tests and by the benchmark
//! (`examples/node_sim.rs`, `examples/hub_bench.rs`).
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use sv_api::ProcessInfo;
use sv_xmlrpc::{Fault, Limits, Value};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// What a simulated node does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Answers like Supervisor.
    Live,
    /// Accepts connections and never answers.
    Hung,
    /// Nothing listens on its port.
    Refused,
    /// Answers 401 to every request.
    AuthFail,
    /// Answers like Supervisor, 600 ms late.
    Slow,
    /// Answers 200 with something that is not XML-RPC.
    Garbage,
}

/// One simulated node.
pub struct SimNode {
    pub kind: Kind,
    pub port: u16,
    /// XML-RPC calls received.
    pub calls: AtomicUsize,
    processes: Mutex<Vec<ProcessInfo>>,
}

impl SimNode {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/RPC2", self.port)
    }

    /// The state name of `group:name`.
    pub fn statename(&self, namespec: &str) -> Option<String> {
        let procs = self
            .processes
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        procs
            .iter()
            .find(|p| format!("{}:{}", p.group, p.name) == namespec)
            .map(|p| p.statename.clone())
    }
}

/// The running simulator; dropping it stops every node.
pub struct Sim {
    pub nodes: Vec<Arc<SimNode>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Sim {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn processes(count: usize) -> Vec<ProcessInfo> {
    let t = now();
    (0..count)
        .map(|i| {
            let running = i % 4 != 3;
            ProcessInfo {
                name: format!("p{i:02}"),
                group: format!("g{}", i / 5),
                start: if running { t - 100 } else { 0 },
                stop: 0,
                now: t,
                state: if running { 20 } else { 0 },
                statename: if running { "RUNNING" } else { "STOPPED" }.into(),
                spawnerr: String::new(),
                exitstatus: 0,
                stdout_logfile: format!("/sim/p{i:02}.out"),
                stderr_logfile: String::new(),
                pid: if running { 1000 + i as u32 } else { 0 },
                description: if running {
                    format!("pid {}, uptime 0:01:40", 1000 + i)
                } else {
                    "Not started".into()
                },
            }
        })
        .collect()
}

impl Sim {
    /// Start one node per entry of `kinds`, each with `count` processes.
    pub async fn start(kinds: &[Kind], count: usize) -> Sim {
        let mut nodes = Vec::new();
        let mut tasks = Vec::new();
        let mut closed = Vec::new();
        for &kind in kinds {
            let listener = TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind 127.0.0.1:0");
            let port = listener.local_addr().expect("local addr").port();
            let node = Arc::new(SimNode {
                kind,
                port,
                calls: AtomicUsize::new(0),
                processes: Mutex::new(processes(count)),
            });
            match kind {
                // Kept bound until every node has its port, so no other
                // node of this simulator gets the same one.
                Kind::Refused => closed.push(listener),
                Kind::Hung => tasks.push(tokio::spawn(async move {
                    while let Ok((stream, _)) = listener.accept().await {
                        // Read and never answer; let go when the peer does.
                        tokio::spawn(async move {
                            let mut stream = stream;
                            let mut buf = [0u8; 4096];
                            while let Ok(n) =
                                tokio::io::AsyncReadExt::read(&mut stream, &mut buf).await
                            {
                                if n == 0 {
                                    break;
                                }
                            }
                        });
                    }
                })),
                Kind::Live | Kind::AuthFail | Kind::Slow | Kind::Garbage => {
                    let app = Router::new()
                        .route("/RPC2", post(rpc))
                        .with_state(Arc::clone(&node));
                    tasks.push(tokio::spawn(async move {
                        let _ = axum::serve(listener, app).await;
                    }));
                }
            }
            nodes.push(node);
        }
        drop(closed);
        Sim { nodes, tasks }
    }
}

fn fault(code: i32, string: String) -> Result<Value, Fault> {
    Err(Fault { code, string })
}

fn name_param(params: &[Value]) -> String {
    params
        .first()
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

async fn rpc(State(node): State<Arc<SimNode>>, _headers: HeaderMap, body: Bytes) -> Response {
    node.calls.fetch_add(1, Ordering::Relaxed);
    match node.kind {
        Kind::AuthFail => return (StatusCode::UNAUTHORIZED, "Unauthorized").into_response(),
        Kind::Garbage => return "<html>not a supervisor</html>".into_response(),
        Kind::Slow => tokio::time::sleep(std::time::Duration::from_millis(600)).await,
        _ => {}
    }
    let Ok(call) = sv_xmlrpc::decode_call(&body, &Limits::default()) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let answer = dispatch(&node, &call.name, &call.params);
    (
        [(header::CONTENT_TYPE, "text/xml")],
        sv_xmlrpc::encode_response(&answer),
    )
        .into_response()
}

fn dispatch(node: &SimNode, method: &str, params: &[Value]) -> Result<Value, Fault> {
    let mut procs = node
        .processes
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let t = now();
    for p in procs.iter_mut() {
        p.now = t;
    }
    let name = name_param(params);
    let index = procs.iter().position(|p| {
        format!("{}:{}", p.group, p.name) == name || (p.group == p.name && p.name == name)
    });
    match method {
        "system.listMethods" => Ok(Value::Array(
            ["supervisor.getAllProcessInfo", "supervisor.getState"]
                .iter()
                .map(|&m| Value::from(m))
                .collect(),
        )),
        "supervisor.getState" => Ok(Value::Struct(vec![
            ("statecode".into(), Value::Int(1)),
            ("statename".into(), Value::from("RUNNING")),
        ])),
        "supervisor.getAllProcessInfo" => Ok(Value::Array(
            procs.iter().map(ProcessInfo::to_value).collect(),
        )),
        "supervisor.getProcessInfo" => match index {
            Some(i) => Ok(procs[i].to_value()),
            None => fault(10, format!("BAD_NAME: {name}")),
        },
        "supervisor.startProcess" => match index {
            None => fault(10, format!("BAD_NAME: {name}")),
            Some(i) if procs[i].state == 20 => fault(60, format!("ALREADY_STARTED: {name}")),
            Some(i) => {
                let p = &mut procs[i];
                p.state = 20;
                p.statename = "RUNNING".into();
                p.start = t;
                p.pid = 5000 + i as u32;
                p.description = format!("pid {}, uptime 0:00:00", p.pid);
                Ok(Value::Bool(true))
            }
        },
        "supervisor.stopProcess" => match index {
            None => fault(10, format!("BAD_NAME: {name}")),
            Some(i) if procs[i].state != 20 => fault(70, format!("NOT_RUNNING: {name}")),
            Some(i) => {
                let p = &mut procs[i];
                p.state = 0;
                p.statename = "STOPPED".into();
                p.stop = t;
                p.pid = 0;
                p.description = "Dec 06 12:00 AM".into();
                Ok(Value::Bool(true))
            }
        },
        "supervisor.signalProcess" | "supervisor.clearProcessLogs" => match index {
            None => fault(10, format!("BAD_NAME: {name}")),
            Some(_) => Ok(Value::Bool(true)),
        },
        "supervisor.tailProcessStdoutLog" | "supervisor.tailProcessStderrLog" => match index {
            None => fault(10, format!("BAD_NAME: {name}")),
            Some(_) => {
                let text = "partial line\nfull 1\nfull 2\nno newline at end";
                Ok(Value::Array(vec![
                    Value::from(text),
                    Value::Int(text.len() as i32),
                    Value::Bool(false),
                ]))
            }
        },
        "supervisor.readProcessStdoutLog" | "supervisor.readProcessStderrLog" => match index {
            None => fault(10, format!("BAD_NAME: {name}")),
            Some(_) => Ok(Value::from("from offset\nsecond\n")),
        },
        _ => fault(1, "UNKNOWN_METHOD".into()),
    }
}
