//! The dispatcher against a scripted actor: a task that answers each
//! [`Op`] from a fixed table of processes, so the order of checks, the
//! fan-out of group operations and the faults the dispatcher builds itself
//! are tested without a daemon or a child process.

use std::path::PathBuf;

use sv_api::{FaultCode, ProcessInfo, RpcError};
use sv_core::process::State;
use sv_xmlrpc::{MethodCall, Value};
use tokio::sync::mpsc;

use super::Dispatcher;
use crate::supervisor::{DaemonInfo, Op, OpError, Selected};

/// The actor's refusal of an unknown name, in the error type its replies
/// carry. The only place the tests build an actor error, so a change of
/// that type changes only this line.
fn bad_name(spec: &str) -> OpError {
    OpError::BadName(spec.into())
}

/// What the scripted actor knows.
struct Script {
    /// `(group, name, state)` of every process.
    processes: Vec<(&'static str, &'static str, State)>,
    /// The main log, `None` for syslog.
    mainlog: Option<PathBuf>,
    /// Where each process's stdout log would be.
    log_dir: Option<PathBuf>,
}

impl Script {
    fn find(&self, spec: &str) -> Option<(&'static str, &'static str, State)> {
        let (group, name) = sv_api::split_namespec(spec);
        let name = name?;
        self.processes
            .iter()
            .copied()
            .find(|(g, n, _)| *g == group && *n == name)
    }
}

/// Start the scripted actor; the log of operations it saw comes back
/// through the returned receiver.
fn scripted(script: Script) -> (mpsc::Sender<Op>, mpsc::UnboundedReceiver<String>) {
    let (tx, mut rx) = mpsc::channel::<Op>(16);
    let (seen_tx, seen) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(op) = rx.recv().await {
            match op {
                Op::Info(reply) => {
                    let _ = reply.send(DaemonInfo {
                        mood: sv_api::SupervisorState::Running,
                        identifier: "test".into(),
                        pid: 42,
                        mainlog: script.mainlog.clone(),
                    });
                }
                Op::ProcessInfo(spec, reply) => {
                    let info = script.find(&spec).map(|(group, name, _)| ProcessInfo {
                        name: name.into(),
                        group: group.into(),
                        ..ProcessInfo::default()
                    });
                    let _ = reply.send(info.ok_or_else(|| bad_name(&spec)));
                }
                Op::ConfigInfo(reply) => {
                    let infos = script
                        .processes
                        .iter()
                        .rev()
                        .map(|&(group, name, _)| sv_api::ConfigInfo {
                            name: name.into(),
                            group: group.into(),
                            command: "/bin/cat <&>".into(),
                            ..sv_api::ConfigInfo::default()
                        })
                        .collect();
                    let _ = reply.send(Ok(infos));
                }
                Op::AllProcessInfo(reply) => {
                    let infos = script
                        .processes
                        .iter()
                        .map(|&(group, name, _)| ProcessInfo {
                            name: name.into(),
                            group: group.into(),
                            statename: "RUNNING & <up>".into(),
                            pid: 7,
                            ..ProcessInfo::default()
                        })
                        .collect();
                    let _ = reply.send(Ok(infos));
                }
                Op::Select { group, reply } => {
                    let known = group
                        .as_deref()
                        .is_none_or(|g| script.processes.iter().any(|p| p.0 == g));
                    let selected = script
                        .processes
                        .iter()
                        .filter(|p| group.as_deref().is_none_or(|g| p.0 == g))
                        .map(|&(group, name, state)| Selected {
                            group: group.into(),
                            name: name.into(),
                            state,
                        })
                        .collect();
                    let answer = if known {
                        Ok(selected)
                    } else {
                        Err(bad_name(group.as_deref().unwrap_or_default()))
                    };
                    let _ = reply.send(answer);
                }
                Op::Signal {
                    spec,
                    signal,
                    reply,
                } => {
                    let _ = seen_tx.send(format!("signal {spec} {signal}"));
                    let _ = reply.send(Ok(()));
                }
                Op::Start { spec, reply, .. } => {
                    let _ = seen_tx.send(format!("start {spec}"));
                    let _ = reply.send(Ok(()));
                }
                Op::LogPath { spec, reply, .. } => {
                    let path = script
                        .log_dir
                        .as_ref()
                        .map(|d| d.join(format!("{spec}.log")));
                    let _ = reply.send(Ok(path));
                }
                other => panic!("the script does not answer {other:?}"),
            }
        }
    });
    (tx, seen)
}

fn web_and_worker() -> Script {
    Script {
        processes: vec![
            ("web", "web", State::Running),
            ("work", "a", State::Running),
            ("work", "b", State::Stopped),
        ],
        mainlog: None,
        log_dir: None,
    }
}

async fn call(d: &Dispatcher, name: &str, params: Vec<Value>) -> Result<Value, String> {
    d.call(MethodCall {
        name: name.into(),
        params,
    })
    .await
    .map_err(|fault| format!("{} {}", fault.code, fault.string))
}

fn s(text: &str) -> Value {
    Value::from(text)
}

#[tokio::test]
async fn without_the_main_interface_only_system_methods_exist() {
    let (tx, _seen) = scripted(web_and_worker());
    let d = Dispatcher::new(tx, false);
    assert_eq!(
        call(&d, "supervisor.getPID", vec![]).await,
        Err("1 UNKNOWN_METHOD".into())
    );
    let Ok(Value::Array(names)) = call(&d, "system.listMethods", vec![]).await else {
        panic!("listMethods answers an array");
    };
    assert!(
        names
            .iter()
            .all(|n| n.as_str().is_some_and(|n| n.starts_with("system.")))
    );
    // The web page's typed calls are never refused.
    assert_eq!(d.pid().await, Ok(42));
}

#[tokio::test]
async fn a_gone_actor_is_shutdown_state() {
    let (tx, rx) = mpsc::channel(1);
    drop(rx);
    let d = Dispatcher::new(tx, true);
    for method in ["supervisor.getAllProcessInfo", "supervisor.getPID"] {
        assert_eq!(
            call(&d, method, vec![]).await,
            Err("6 SHUTDOWN_STATE".into()),
            "{method}"
        );
    }
}

#[tokio::test]
async fn signal_checks_the_name_before_the_signal() {
    let (tx, mut seen) = scripted(web_and_worker());
    let d = Dispatcher::new(tx, true);
    let signal = |name: &str, sig: Value| {
        let d = d.clone();
        let params = vec![s(name), sig];
        async move { call(&d, "supervisor.signalProcess", params).await }
    };
    assert_eq!(
        signal("nosuch", s("NOSIG")).await,
        Err("10 BAD_NAME: nosuch".into())
    );
    assert_eq!(
        signal("web", s("NOSIG")).await,
        Err("11 BAD_SIGNAL: NOSIG".into())
    );
    assert_eq!(
        signal("web", Value::Base64(b"HUP".to_vec())).await,
        Err("11 BAD_SIGNAL: HUP".into())
    );
    assert_eq!(signal("web", s("HUP")).await, Ok(Value::Bool(true)));
    assert_eq!(
        seen.recv().await,
        Some(format!("signal web {}", libc::SIGHUP))
    );
}

#[tokio::test]
async fn group_operations_fan_out_to_the_processes_they_apply_to() {
    let (tx, mut seen) = scripted(web_and_worker());
    let d = Dispatcher::new(tx, true);
    // Only the stopped process of the group is started.
    let results = d.start_process_group("work", true).await.expect("started");
    assert_eq!(results.len(), 1);
    assert_eq!((results[0].name.as_str(), results[0].status), ("b", 80));
    assert_eq!(seen.recv().await.as_deref(), Some("start work:b"));
    // A bad signal gives every signallable process the fault, and sends
    // nothing.
    let results = d
        .signal_all_processes(&sv_api::SignalArg::named("NOSIG"))
        .await
        .expect("results");
    let described: Vec<(&str, i32, &str)> = results
        .iter()
        .map(|r| (r.name.as_str(), r.status, r.description.as_str()))
        .collect();
    assert_eq!(
        described,
        [
            ("web", 11, "BAD_SIGNAL: NOSIG"),
            ("a", 11, "BAD_SIGNAL: NOSIG")
        ]
    );
    assert!(seen.try_recv().is_err());
}

#[tokio::test]
async fn an_unknown_group_is_named_as_typed() {
    let (tx, _seen) = scripted(web_and_worker());
    let d = Dispatcher::new(tx, true);
    assert_eq!(
        call(&d, "supervisor.startProcess", vec![s("nosuch:*")]).await,
        Err("10 BAD_NAME: nosuch:*".into())
    );
    assert_eq!(
        call(&d, "supervisor.stopProcessGroup", vec![s("nosuch")]).await,
        Err("10 BAD_NAME: nosuch".into())
    );
}

#[tokio::test]
async fn multicall_puts_each_fault_in_its_place() {
    let (tx, _seen) = scripted(web_and_worker());
    let d = Dispatcher::new(tx, true);
    let entry = |name: &str, params: Vec<Value>| {
        Value::Struct(vec![
            ("methodName".into(), s(name)),
            ("params".into(), Value::Array(params)),
        ])
    };
    let calls = Value::Array(vec![
        entry("supervisor.getPID", vec![]),
        Value::Struct(vec![]),
        entry("system.multicall", vec![Value::Array(vec![])]),
        entry("supervisor.getPID", vec![Value::Int(1)]),
        entry("supervisor.nosuch", vec![]),
    ]);
    let fault = |code: FaultCode, detail: Option<&str>| {
        RpcError {
            code,
            detail: detail.map(str::to_owned),
        }
        .to_fault_struct()
    };
    assert_eq!(
        call(&d, "system.multicall", vec![calls]).await,
        Ok(Value::Array(vec![
            Value::Int(42),
            fault(FaultCode::IncorrectParameters, Some("No methodName")),
            fault(
                FaultCode::IncorrectParameters,
                Some("Recursive system.multicall forbidden")
            ),
            fault(FaultCode::IncorrectParameters, None),
            fault(FaultCode::UnknownMethod, None),
        ]))
    );
}

#[tokio::test]
async fn logs_are_read_from_their_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let main = dir.path().join("main.log");
    std::fs::write(&main, b"line one\nline two\n").expect("write main log");
    std::fs::write(dir.path().join("web.log"), b"0123456789").expect("write web log");
    let (tx, _seen) = scripted(Script {
        mainlog: Some(main),
        log_dir: Some(dir.path().to_owned()),
        ..web_and_worker()
    });
    let d = Dispatcher::new(tx, true);
    assert_eq!(d.read_log(-9, 0).await, Ok("line two\n".to_owned()));
    assert_eq!(
        call(
            &d,
            "supervisor.readProcessLog",
            vec![s("web"), Value::Int(2), Value::Int(3)]
        )
        .await,
        Ok(s("234"))
    );
    assert_eq!(
        call(
            &d,
            "supervisor.tailProcessStdoutLog",
            vec![s("web"), Value::Int(0), Value::Int(4)]
        )
        .await,
        Ok(Value::Array(vec![
            s("6789"),
            Value::Int(10),
            Value::Bool(true)
        ]))
    );
    // Not written yet: an empty tail from offset 0.
    assert_eq!(
        call(
            &d,
            "supervisor.tailProcessStdoutLog",
            vec![s("work:a"), Value::Int(5), Value::Int(4)]
        )
        .await,
        Ok(Value::Array(vec![s(""), Value::Int(0), Value::Bool(false)]))
    );
}

#[tokio::test]
async fn the_main_log_of_a_syslog_daemon_is_no_file() {
    let (tx, _seen) = scripted(web_and_worker());
    let d = Dispatcher::new(tx, true);
    assert_eq!(
        call(&d, "supervisor.readLog", vec![Value::Int(0), Value::Int(0)]).await,
        Err("20 NO_FILE: syslog".into())
    );
}

/// The HTTP layer sends `call_encoded`'s bytes: the same as encoding
/// `call`'s value, for the directly written answers and their faults too.
#[tokio::test]
async fn encoded_answers_are_the_value_paths_bytes() {
    let (tx, _seen) = scripted(web_and_worker());
    let d = Dispatcher::new(tx, true);
    for (name, params) in [
        ("supervisor.getAllProcessInfo", vec![]),
        ("supervisor.getProcessInfo", vec![s("web")]),
        ("supervisor.getProcessInfo", vec![s("work:a")]),
        ("supervisor.getProcessInfo", vec![s("nosuch")]),
        ("supervisor.getProcessInfo", vec![]),
        ("supervisor.getAllConfigInfo", vec![]),
        ("supervisor.getPID", vec![]),
        ("no.such.method", vec![]),
    ] {
        let call = MethodCall {
            name: name.into(),
            params,
        };
        let tree = sv_xmlrpc::encode_response(&d.call(call.clone()).await);
        let direct = d.call_encoded(call).await;
        assert_eq!(
            String::from_utf8_lossy(&direct),
            String::from_utf8_lossy(&tree),
            "{name}"
        );
    }
}
