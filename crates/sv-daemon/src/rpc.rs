//! The XML-RPC method table: Supervisor's `supervisor.*` and `system.*`
//! methods, turned into actor operations ([`Op`]).
//!
//! Dispatch follows Supervisor's rules (spec §4.2): only an exact
//! `namespace.method` from the table is callable (the CVE-2017-11610
//! lesson), arity is checked first, and every fault keeps Supervisor's code
//! and text. Group and all-process operations send one operation per
//! process and report results in completion order, as Supervisor does;
//! `system.multicall` runs its calls one after another.

use std::path::Path;

use sv_api::records::{ProcessResult, StateInfo, config_info_array};
use sv_api::{
    FaultCode, RpcError, SupervisorState, expect_arity, expect_int, expect_string, optional_bool,
};
use sv_xmlrpc::{Fault, MethodCall, Response, Value};
use tokio::sync::{mpsc, oneshot};

use crate::logread::{self, ReadError};
use crate::supervisor::{DaemonInfo, Mood, Op, Reply, Selected};

/// The Supervisor release we report (`getSupervisorVersion`).
pub const SUPERVISOR_VERSION: &str = crate::SUPERVISOR_VERSION;
/// The XML-RPC API version (`getAPIVersion`).
pub const API_VERSION: &str = "3.0";

/// Sends method calls to the actor; cheap to clone, one per connection.
#[derive(Debug, Clone)]
pub struct Dispatcher {
    tx: mpsc::Sender<Op>,
    /// Whether `[rpcinterface:supervisor]` is configured: without it the
    /// `supervisor.*` namespace does not exist, as in Supervisor.
    main_interface: bool,
}

fn err(code: FaultCode, detail: impl Into<String>) -> RpcError {
    RpcError::with_detail(code, detail)
}

fn failed_actor() -> RpcError {
    RpcError::new(FaultCode::ShutdownState)
}

fn read_error(e: ReadError) -> RpcError {
    match e {
        ReadError::NoFile(Some(path)) => err(FaultCode::NoFile, path),
        ReadError::NoFile(None) => RpcError::new(FaultCode::NoFile),
        ReadError::BadArguments => RpcError::new(FaultCode::BadArguments),
        ReadError::Failed(why) => err(FaultCode::Failed, why),
    }
}

/// Which predicate a group/all operation selects processes by.
#[derive(Clone)]
enum Action {
    Start { wait: bool },
    Stop { wait: bool },
    Signal(Result<i32, String>),
}

impl Dispatcher {
    pub fn new(tx: mpsc::Sender<Op>, main_interface: bool) -> Self {
        Dispatcher { tx, main_interface }
    }

    /// Ask the actor; a closed actor (shutting down) is SHUTDOWN_STATE.
    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Op) -> Result<T, RpcError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(make(reply))
            .await
            .map_err(|_| failed_actor())?;
        rx.await
            .map_err(|_| failed_actor())?
            .map_err(RpcError::from)
    }

    pub async fn info(&self) -> Option<DaemonInfo> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(Op::Info(reply)).await.ok()?;
        rx.await.ok()
    }

    /// `supervisor.*` methods that only read static facts still refuse
    /// while the daemon stops.
    async fn running_info(&self) -> Result<DaemonInfo, RpcError> {
        match self.info().await {
            Some(info) if info.mood == Mood::Running => Ok(info),
            _ => Err(RpcError::new(FaultCode::ShutdownState)),
        }
    }

    /// Where a process log is, or 404 material for `/logtail`.
    pub async fn log_path(
        &self,
        spec: &str,
        stderr: bool,
    ) -> Result<Option<std::path::PathBuf>, RpcError> {
        self.ask(|reply| Op::LogPath {
            spec: spec.to_string(),
            stderr,
            reply,
        })
        .await
    }

    /// A call made by the web page on the user's behalf. Supervisor's page
    /// builds its own `supervisor` namespace, so it works even when
    /// `[rpcinterface:supervisor]` is not configured.
    pub async fn call_for_web(&self, name: &str, params: Vec<Value>) -> Response {
        let web = Dispatcher {
            tx: self.tx.clone(),
            main_interface: true,
        };
        web.dispatch(name, &params, false)
            .await
            .map_err(Fault::from)
    }

    /// Handle one decoded call.
    pub async fn call(&self, call: MethodCall) -> Response {
        self.dispatch(&call.name, &call.params, false)
            .await
            .map_err(Fault::from)
    }

    async fn dispatch(
        &self,
        name: &str,
        params: &[Value],
        nested: bool,
    ) -> Result<Value, RpcError> {
        let unknown = || RpcError::new(FaultCode::UnknownMethod);
        let mut parts = name.split('.');
        let (Some(_), Some(method), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(unknown());
        };
        if method.starts_with('_') {
            return Err(unknown());
        }
        if !self.main_interface && name.starts_with("supervisor.") {
            return Err(unknown());
        }
        let info = sv_api::lookup(name).ok_or_else(unknown)?;
        expect_arity(params, info.min_params(), info.max_params())?;
        let canonical = sv_api::methods::canonical_name(name);
        match canonical {
            "system.listMethods" => Ok(Value::Array(
                sv_api::list_methods()
                    .into_iter()
                    .filter(|m| self.main_interface || m.starts_with("system."))
                    .map(Value::from)
                    .collect(),
            )),
            "system.methodHelp" => {
                let target = expect_string(params, 0)?;
                sv_api::lookup(target)
                    .map(|m| Value::from(m.help))
                    .ok_or_else(|| RpcError::new(FaultCode::SignatureUnsupported))
            }
            "system.methodSignature" => {
                let target = expect_string(params, 0)?;
                sv_api::lookup(target)
                    .map(|m| m.signature_value())
                    .ok_or_else(|| RpcError::new(FaultCode::SignatureUnsupported))
            }
            "system.multicall" => {
                if nested {
                    return Err(err(
                        FaultCode::IncorrectParameters,
                        "Recursive system.multicall forbidden",
                    ));
                }
                self.multicall(params).await
            }
            _ => self.supervisor_method(canonical, params).await,
        }
    }

    async fn multicall(&self, params: &[Value]) -> Result<Value, RpcError> {
        let calls = params
            .first()
            .and_then(Value::as_array)
            .ok_or_else(|| RpcError::new(FaultCode::IncorrectParameters))?;
        let mut results = Vec::with_capacity(calls.len());
        for call in calls {
            let name = call.get("methodName").and_then(Value::as_str);
            let result = match name {
                None => Err(err(FaultCode::IncorrectParameters, "No methodName")),
                Some("system.multicall") => Err(err(
                    FaultCode::IncorrectParameters,
                    "Recursive system.multicall forbidden",
                )),
                Some(name) => {
                    let args = call.get("params").and_then(Value::as_array).unwrap_or(&[]);
                    Box::pin(self.dispatch(name, args, true)).await
                }
            };
            // Supervisor's convention: bare values, faults as structs.
            results.push(match result {
                Ok(value) => value,
                Err(e) => e.to_fault_struct(),
            });
        }
        Ok(Value::Array(results))
    }

    async fn supervisor_method(&self, name: &str, p: &[Value]) -> Result<Value, RpcError> {
        match name {
            "supervisor.getAPIVersion" => {
                self.running_info().await?;
                Ok(API_VERSION.into())
            }
            "supervisor.getSupervisorVersion" => {
                self.running_info().await?;
                Ok(SUPERVISOR_VERSION.into())
            }
            "supervisor.getIdentification" => Ok(self.running_info().await?.identifier.into()),
            "supervisor.getState" => {
                self.running_info().await?;
                Ok(StateInfo::from(SupervisorState::Running).to_value())
            }
            "supervisor.getPID" => Ok(Value::Int(self.running_info().await?.pid as i32)),
            "supervisor.readLog" => {
                let (offset, length) = (expect_int(p, 0)?, expect_int(p, 1)?);
                let info = self.running_info().await?;
                let Some(path) = info.mainlog else {
                    return Err(err(FaultCode::NoFile, "syslog"));
                };
                logread::read_log(Some(&path), offset, length)
                    .map(Value::from)
                    .map_err(read_error)
            }
            "supervisor.clearLog" => self.ask(Op::ClearLog).await.map(|()| true.into()),
            "supervisor.shutdown" => self.ask(Op::Shutdown).await.map(|()| true.into()),
            "supervisor.restart" => self.ask(Op::Restart).await.map(|()| true.into()),
            "supervisor.reloadConfig" => {
                let [added, changed, removed] = self.ask(Op::ReloadConfig).await?;
                let list =
                    |names: Vec<String>| Value::Array(names.into_iter().map(Value::from).collect());
                Ok(Value::Array(vec![Value::Array(vec![
                    list(added),
                    list(changed),
                    list(removed),
                ])]))
            }
            "supervisor.addProcessGroup" => {
                let group = expect_string(p, 0)?.to_string();
                self.ask(|r| Op::AddGroup(group, r))
                    .await
                    .map(|()| true.into())
            }
            "supervisor.removeProcessGroup" => {
                let group = expect_string(p, 0)?.to_string();
                self.ask(|r| Op::RemoveGroup(group, r))
                    .await
                    .map(|()| true.into())
            }
            "supervisor.startProcess" => {
                let spec = expect_string(p, 0)?.to_string();
                let wait = optional_bool(p, 1, true)?;
                self.one_or_group(spec, Action::Start { wait }).await
            }
            "supervisor.startProcessGroup" => {
                let group = expect_string(p, 0)?.to_string();
                let wait = optional_bool(p, 1, true)?;
                self.many(Some(group), Action::Start { wait }).await
            }
            "supervisor.startAllProcesses" => {
                let wait = optional_bool(p, 0, true)?;
                self.many(None, Action::Start { wait }).await
            }
            "supervisor.stopProcess" => {
                let spec = expect_string(p, 0)?.to_string();
                let wait = optional_bool(p, 1, true)?;
                self.one_or_group(spec, Action::Stop { wait }).await
            }
            "supervisor.stopProcessGroup" => {
                let group = expect_string(p, 0)?.to_string();
                let wait = optional_bool(p, 1, true)?;
                self.many(Some(group), Action::Stop { wait }).await
            }
            "supervisor.stopAllProcesses" => {
                let wait = optional_bool(p, 0, true)?;
                self.many(None, Action::Stop { wait }).await
            }
            "supervisor.signalProcess" => {
                let spec = expect_string(p, 0)?.to_string();
                let signal = parse_signal(p.get(1));
                self.one_or_group(spec, Action::Signal(signal)).await
            }
            "supervisor.signalProcessGroup" => {
                let group = expect_string(p, 0)?.to_string();
                self.many(Some(group), Action::Signal(parse_signal(p.get(1))))
                    .await
            }
            "supervisor.signalAllProcesses" => {
                self.many(None, Action::Signal(parse_signal(p.first())))
                    .await
            }
            "supervisor.getAllConfigInfo" => self.ask(Op::ConfigInfo).await.map(config_info_array),
            "supervisor.getProcessInfo" => {
                let spec = expect_string(p, 0)?.to_string();
                self.ask(|r| Op::ProcessInfo(spec, r))
                    .await
                    .map(|i| i.to_value())
            }
            "supervisor.getAllProcessInfo" => {
                let infos = self.ask(Op::AllProcessInfo).await?;
                Ok(Value::Array(infos.iter().map(|i| i.to_value()).collect()))
            }
            "supervisor.readProcessStdoutLog" | "supervisor.readProcessStderrLog" => {
                let spec = expect_string(p, 0)?.to_string();
                let (offset, length) = (expect_int(p, 1)?, expect_int(p, 2)?);
                let path = self.log_path(&spec, name.contains("Stderr")).await?;
                logread::read_log(path.as_deref(), offset, length)
                    .map(Value::from)
                    .map_err(read_error)
            }
            "supervisor.tailProcessStdoutLog" | "supervisor.tailProcessStderrLog" => {
                let spec = expect_string(p, 0)?.to_string();
                let (offset, length) = (expect_int(p, 1)?, expect_int(p, 2)?);
                let path = self.log_path(&spec, name.contains("Stderr")).await?;
                let (text, offset, overflow) = match path.as_deref().filter(|p| p.exists()) {
                    Some(path) => logread::tail_log(Some(path), offset, length),
                    None => (String::new(), 0, false),
                };
                Ok(Value::Array(vec![
                    text.into(),
                    Value::Int(sv_api::records::capped_int(offset)),
                    overflow.into(),
                ]))
            }
            "supervisor.clearProcessLogs" => {
                let spec = expect_string(p, 0)?.to_string();
                self.ask(|reply| Op::ClearProcessLogs { spec, reply })
                    .await
                    .map(|()| true.into())
            }
            "supervisor.clearAllProcessLogs" => {
                let selected = self.ask(|reply| Op::Select { group: None, reply }).await?;
                let mut results = Vec::new();
                for s in selected {
                    let spec = sv_api::make_namespec(&s.group, &s.name);
                    let outcome = self.ask(|reply| Op::ClearProcessLogs { spec, reply }).await;
                    results
                        .push(ProcessResult::from_outcome(&s.name, &s.group, &outcome).to_value());
                }
                Ok(Value::Array(results))
            }
            "supervisor.sendProcessStdin" => {
                let chars = match p.get(1) {
                    Some(Value::String(s)) => s.as_bytes().to_vec(),
                    Some(Value::Base64(b)) => b.clone(),
                    Some(other) => {
                        return Err(err(FaultCode::IncorrectParameters, sv_api::py_str(other)));
                    }
                    None => return Err(RpcError::new(FaultCode::IncorrectParameters)),
                };
                let spec = expect_string(p, 0)?.to_string();
                self.ask(|reply| Op::SendStdin {
                    spec,
                    data: chars,
                    reply,
                })
                .await
                .map(|()| true.into())
            }
            "supervisor.sendRemoteCommEvent" => {
                let kind = sv_api::py_str(p.first().unwrap_or(&Value::Nil));
                let data = sv_api::py_str(p.get(1).unwrap_or(&Value::Nil));
                let (reply, rx) = oneshot::channel();
                self.tx
                    .send(Op::RemoteComm { kind, data, reply })
                    .await
                    .map_err(|_| failed_actor())?;
                rx.await.map_err(|_| failed_actor())?;
                Ok(true.into())
            }
            _ => Err(RpcError::new(FaultCode::UnknownMethod)),
        }
    }

    /// One process, or (for `group:` / `group:*` / a bare group name that is
    /// not also a process) the whole group, returning an array then.
    async fn one_or_group(&self, spec: String, action: Action) -> Result<Value, RpcError> {
        let (group, process) = sv_api::split_namespec(&spec);
        if process.is_none() {
            // Supervisor looks the whole spec up first, so an unknown group
            // is reported as what the caller typed (`nosuch:*`).
            return self.many(Some(group), action).await.map_err(|e| {
                if e.code == FaultCode::BadName {
                    err(FaultCode::BadName, spec)
                } else {
                    e
                }
            });
        }
        self.single(spec, action).await.map(|()| true.into())
    }

    async fn single(&self, spec: String, action: Action) -> Result<(), RpcError> {
        match action {
            Action::Start { wait } => self.ask(|reply| Op::Start { spec, wait, reply }).await,
            Action::Stop { wait } => self.ask(|reply| Op::Stop { spec, wait, reply }).await,
            Action::Signal(signal) => {
                // Supervisor checks the name before the signal.
                let name = spec.clone();
                self.ask(|r| Op::ProcessInfo(name, r)).await?;
                let signal = signal.map_err(|given| err(FaultCode::BadSignal, given))?;
                self.ask(|reply| Op::Signal {
                    spec,
                    signal,
                    reply,
                })
                .await
            }
        }
    }

    /// Supervisor's `make_allfunc`: act on every selected process, results
    /// in completion order.
    async fn many(&self, group: Option<String>, action: Action) -> Result<Value, RpcError> {
        let selected = self.ask(|reply| Op::Select { group, reply }).await?;
        let wanted: Vec<Selected> = selected
            .into_iter()
            .filter(|s| match &action {
                Action::Start { .. } => !s.state.is_running(),
                Action::Stop { .. } => s.state.is_running(),
                Action::Signal(_) => s.state.is_signallable(),
            })
            .collect();
        if let Action::Signal(Err(given)) = &action {
            let bad = err(FaultCode::BadSignal, given.clone());
            return Ok(Value::Array(
                wanted
                    .iter()
                    .map(|s| ProcessResult::from_error(&s.name, &s.group, &bad).to_value())
                    .collect(),
            ));
        }
        // Send every request first (the actor handles them in this order,
        // as Supervisor starts them all in one pass), then collect answers
        // as they come.
        let mut pending = tokio::task::JoinSet::new();
        for s in wanted {
            let spec = sv_api::make_namespec(&s.group, &s.name);
            let (reply, rx) = oneshot::channel();
            let op = match &action {
                Action::Start { wait } => Op::Start {
                    spec,
                    wait: *wait,
                    reply,
                },
                Action::Stop { wait } => Op::Stop {
                    spec,
                    wait: *wait,
                    reply,
                },
                Action::Signal(signal) => Op::Signal {
                    spec,
                    signal: signal.clone().unwrap_or(0),
                    reply,
                },
            };
            self.tx.send(op).await.map_err(|_| failed_actor())?;
            pending.spawn(async move {
                let outcome = rx
                    .await
                    .map_err(|_| failed_actor())
                    .and_then(|r| r.map_err(RpcError::from));
                ProcessResult::from_outcome(&s.name, &s.group, &outcome)
            });
        }
        let mut results = Vec::new();
        while let Some(done) = pending.join_next().await {
            if let Ok(result) = done {
                results.push(result.to_value());
            }
        }
        Ok(Value::Array(results))
    }
}

/// A signal given as a name (`HUP`, `SIGHUP`) or a number (int or text);
/// on error, the value as given (BAD_SIGNAL's detail).
fn parse_signal(value: Option<&Value>) -> Result<i32, String> {
    let given = value.map(sv_api::py_str).unwrap_or_default();
    match value {
        Some(Value::Int(_) | Value::I8(_) | Value::String(_)) => {
            sv_core::config::datatypes::signal_number(&given).map_err(|_| given)
        }
        _ => Err(given),
    }
}

/// Whether a path exists (for `/logtail` 404s).
pub fn exists(path: Option<&Path>) -> bool {
    path.is_some_and(Path::exists)
}
