//! Commands run in-process against a scripted daemon (a tiny HTTP/1.1
//! server on 127.0.0.1 answering by method name): the lines and exit
//! statuses `replies.rs` maps, for answers a real Supervisor rarely gives
//! (foreign result and state codes, an old API version), and that one
//! command's calls share one kept-alive connection.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use sv_api::{FaultCode, ProcessInfo, ProcessResult, RpcError};
use sv_ctl::controller::Controller;
use sv_ctl::options::Options;
use sv_ctl::output::Out;
use sv_xmlrpc::{Limits, MethodCall, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The scripted daemon's answer to one call.
type Script = fn(&MethodCall) -> Result<Value, sv_xmlrpc::Fault>;

fn info(group: &str, name: &str, state: i32, statename: &str) -> Value {
    ProcessInfo {
        name: name.into(),
        group: group.into(),
        state,
        statename: statename.into(),
        description: "desc".into(),
        ..ProcessInfo::default()
    }
    .to_value()
}

fn result(group: &str, name: &str, code: i32) -> Value {
    ProcessResult {
        name: name.into(),
        group: group.into(),
        status: code,
        description: String::new(),
    }
    .to_value()
}

fn fault(code: FaultCode, detail: &str) -> Result<Value, sv_xmlrpc::Fault> {
    Err(RpcError::with_detail(code, detail).into())
}

/// A daemon with group `g` (processes `a`, `b`) where starting `b` fails.
fn usual(call: &MethodCall) -> Result<Value, sv_xmlrpc::Fault> {
    let first = call.params.first().and_then(Value::as_str).unwrap_or("");
    match call.name.as_str() {
        "supervisor.getVersion" => Ok(Value::from("3.0")),
        "supervisor.startAllProcesses" => Ok(Value::Array(vec![
            result("g", "a", FaultCode::Success.code()),
            result("g", "b", FaultCode::SpawnError.code()),
        ])),
        "supervisor.startProcessGroup" | "supervisor.stopProcessGroup" if first != "g" => {
            fault(FaultCode::BadName, first)
        }
        // A result code Supervisor does not define.
        "supervisor.startProcess" if first == "odd" => Err(sv_xmlrpc::Fault {
            code: 5,
            string: "ODD".into(),
        }),
        "supervisor.getAllProcessInfo" => Ok(Value::Array(vec![
            info("g", "a", 20, "RUNNING"),
            // A state code Supervisor does not define.
            info("g", "b", 7, "ODD"),
        ])),
        _ => fault(FaultCode::UnknownMethod, ""),
    }
}

/// Serve `script` on 127.0.0.1, keeping connections alive; returns the
/// URL and the count of connections accepted.
async fn scripted_daemon(script: Script) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = Vec::new();
                loop {
                    let mut chunk = [0u8; 4096];
                    let head_end = loop {
                        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break at + 4;
                        }
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
                    let length: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    while buf.len() < head_end + length {
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let body: Vec<u8> = buf.drain(..head_end + length).skip(head_end).collect();
                    let call = sv_xmlrpc::decode_call(&body, &Limits::default()).unwrap();
                    let reply = sv_xmlrpc::encode_response(&script(&call));
                    let mut response = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n",
                        reply.len()
                    )
                    .into_bytes();
                    response.extend_from_slice(&reply);
                    if stream.write_all(&response).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, accepted)
}

/// Run one command line; returns (exit status, output).
async fn ctl(url: &str, line: &str) -> (i32, String) {
    let captured = Arc::new(Mutex::new(Vec::new()));
    let options = Options {
        serverurl: url.to_owned(),
        username: None,
        password: None,
        prompt: "supervisor".into(),
        history_file: None,
        interactive: false,
        interactive_flag: false,
        args: Vec::new(),
    };
    let mut ctl = Controller::new(options, Out::capture(Arc::clone(&captured)));
    ctl.onecmd(line).await;
    ctl.flush();
    let text = String::from_utf8(captured.lock().unwrap().clone()).unwrap();
    (ctl.exitstatus, text)
}

#[tokio::test(flavor = "current_thread")]
async fn start_all_lines_and_exit_status() {
    let (url, accepted) = scripted_daemon(usual).await;
    let (status, text) = ctl(&url, "start all").await;
    assert_eq!(text, "g:a: started\ng:b: ERROR (spawn error)\n");
    assert_eq!(status, 7);
    // The connection check and the command shared one connection.
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "current_thread")]
async fn unknown_group_exit_depends_on_the_command() {
    let (url, _) = scripted_daemon(usual).await;
    assert_eq!(
        ctl(&url, "start nosuch:*").await,
        (2, "nosuch: ERROR (no such group)\n".to_owned())
    );
    assert_eq!(
        ctl(&url, "stop nosuch:*").await,
        (1, "nosuch: ERROR (no such group)\n".to_owned())
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_foreign_result_code_is_pythons_value_error() {
    let (url, _) = scripted_daemon(usual).await;
    let (status, text) = ctl(&url, "start odd").await;
    assert_eq!(status, 1);
    assert!(
        text.starts_with("error: <class 'ValueError'>, Unknown result code 5 for odd: file: "),
        "{text}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn status_leaves_foreign_state_codes_alone() {
    let (url, _) = scripted_daemon(usual).await;
    let (status, text) = ctl(&url, "status").await;
    assert_eq!(
        text,
        format!(
            "{:<33}{:<10}desc\n{:<33}{:<10}desc\n",
            "g:a", "RUNNING", "g:b", "ODD"
        )
    );
    // Neither RUNNING nor one of the stopped states: not "not running".
    assert_eq!(status, 0);
    let (status, text) = ctl(&url, "status g:nosuch").await;
    assert_eq!(text, "g:nosuch: ERROR (no such process)\n");
    assert_eq!(status, 4);
}

#[tokio::test(flavor = "current_thread")]
async fn an_old_api_version_is_refused() {
    fn old(call: &MethodCall) -> Result<Value, sv_xmlrpc::Fault> {
        match call.name.as_str() {
            "supervisor.getVersion" => Ok(Value::from("2.0")),
            _ => fault(FaultCode::UnknownMethod, ""),
        }
    }
    let (url, _) = scripted_daemon(old).await;
    let (status, text) = ctl(&url, "status").await;
    assert_eq!(
        text,
        "Sorry, this version of supervisorctl expects to talk to a server with API version 3.0, but the remote version is 2.0.\n"
    );
    // `status` turns every failed connection check into "unknown".
    assert_eq!(status, 4);
    assert_eq!(ctl(&url, "version").await.0, 5);
}
