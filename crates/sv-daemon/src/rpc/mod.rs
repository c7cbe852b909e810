//! The daemon's side of the XML-RPC interface: the [`Dispatcher`] every
//! transport (XML-RPC over HTTP, the web page) hands calls to.
//!
//! A call is decoded once into a typed [`Request`] (`sv_api` checks the
//! name, the arity and the argument types, with Supervisor's faults); this
//! module matches on the variant and runs the method, which mostly means
//! sending an [`Op`] to the supervisor actor and turning its answer into a
//! wire value. Each method family lives in its own file and is also
//! callable directly, returning `sv_api` records instead of XML-RPC values,
//! for in-process callers such as the web page:
//!
//! - `system.rs`: `listMethods`, `methodHelp`, `methodSignature`, `multicall`
//! - `identity.rs`: versions, identification, state, pid, shutdown, restart
//! - `info.rs`: process and configuration info
//! - `control.rs`: start / stop / signal of one process, a group or all
//! - `logs.rs`: the main log and the process logs (files read off the
//!   runtime's worker threads)
//! - `groups.rs`: `reloadConfig`, adding and removing groups
//! - `input.rs`: process stdin and remote-communication events
//! - `faults.rs`: every fault this side builds, by name
//!
//! Only an exact `namespace.method` from the published table is callable
//! (the CVE-2017-11610 lesson), and without `[rpcinterface:supervisor]` the
//! `supervisor.*` namespace does not exist at all, as in Supervisor. The
//! typed methods are for in-process callers and are always available: the
//! web page builds its own `supervisor` namespace upstream too.
//!
//! # Adding a method
//!
//! 1. Publish it in `sv_api::methods::METHODS` (name, signature, help).
//! 2. Give it a `sv_api::Request` variant, with its arm in
//!    `Request::decode` (arity and argument types) and in
//!    `Request::method_name` / `Request::params` (the client's direction).
//! 3. Write the typed `Dispatcher` method in its family's file here,
//!    returning an `sv_api` record, and its arm in `Dispatcher::execute`
//!    turning that record into the wire value.
//!
//! The tests of `sv_api::request` fail until the variant round-trips and
//! its declared arity agrees with the published signature.

mod control;
mod faults;
mod groups;
mod identity;
mod info;
mod input;
mod logs;
mod system;

use sv_api::{Request, RpcError};
use sv_xmlrpc::{Fault, MethodCall, Response, Value};
use tokio::sync::{mpsc, oneshot};

use crate::supervisor::{DaemonInfo, Op, Reply};

pub use control::ActedOn;
pub use system::MULTICALL_LOG_LIMIT;

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

/// The actor's answer to one operation, as an RPC result. A dropped reply
/// means the actor is gone (the daemon is shutting down).
fn answer<T, E>(received: Result<Result<T, E>, oneshot::error::RecvError>) -> Result<T, RpcError>
where
    RpcError: From<E>,
{
    received
        .map_err(|_| faults::shutdown_state())?
        .map_err(RpcError::from)
}

impl Dispatcher {
    /// A dispatcher talking to the actor behind `tx`. `main_interface`:
    /// whether `[rpcinterface:supervisor]` is configured.
    pub fn new(tx: mpsc::Sender<Op>, main_interface: bool) -> Self {
        Dispatcher { tx, main_interface }
    }

    /// Have the actor log a WARN line. Never waits: with the actor's queue
    /// full the line is dropped (the callers' warnings are throttled
    /// repeats of a condition that persists).
    pub fn warn(&self, message: String) {
        let _ = self.tx.try_send(Op::Warn(message));
    }

    /// Ask the actor; a closed actor (shutting down) is SHUTDOWN_STATE.
    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Op) -> Result<T, RpcError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(make(reply))
            .await
            .map_err(|_| faults::shutdown_state())?;
        answer(rx.await)
    }

    /// The daemon's own facts, or `None` once the actor has gone.
    pub async fn info(&self) -> Option<DaemonInfo> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(Op::Info(reply)).await.ok()?;
        rx.await.ok()
    }

    /// `supervisor.*` methods that only read static facts still refuse
    /// while the daemon stops.
    async fn running_info(&self) -> Result<DaemonInfo, RpcError> {
        match self.info().await {
            Some(info) if info.mood == sv_api::SupervisorState::Running => Ok(info),
            _ => Err(faults::shutdown_state()),
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

    /// Handle one decoded call.
    pub async fn call(&self, call: MethodCall) -> Response {
        self.dispatch(&call.name, &call.params)
            .await
            .map_err(Fault::from)
    }

    /// Handle one call and encode its answer for the wire: what
    /// `encode_response(&self.call(call))` gives, byte for byte, but
    /// `getAllProcessInfo`, `getProcessInfo` and `getAllConfigInfo` are
    /// written straight into
    /// the answer, with no [`Value`] tree in between (at thousands of
    /// programs the tree was half the daemon's work per call).
    pub async fn call_encoded(&self, call: MethodCall) -> Vec<u8> {
        let fault = |e: RpcError| sv_xmlrpc::encode_response(&Err(Fault::from(e)));
        match self.decode(&call.name, &call.params) {
            Ok(Request::GetAllProcessInfo) => match self.all_process_info().await {
                Ok(infos) => sv_api::ProcessInfo::encode_all(&infos),
                Err(e) => fault(e),
            },
            Ok(Request::GetProcessInfo { name }) => match self.process_info(name).await {
                Ok(info) => sv_xmlrpc::encode_response_with(1024, |w| info.write_value(w)),
                Err(e) => fault(e),
            },
            Ok(Request::GetAllConfigInfo) => match self.all_config_info().await {
                Ok(infos) => sv_api::encode_config_info_array(infos),
                Err(e) => fault(e),
            },
            Ok(request) => {
                sv_xmlrpc::encode_response(&self.execute(request).await.map_err(Fault::from))
            }
            Err(e) => fault(e),
        }
    }

    async fn dispatch(&self, name: &str, params: &[Value]) -> Result<Value, RpcError> {
        let request = self.decode(name, params)?;
        self.execute(request).await
    }

    /// Decode a call against the namespaces this daemon publishes.
    fn decode(&self, name: &str, params: &[Value]) -> Result<Request, RpcError> {
        if !self.main_interface && name.starts_with("supervisor.") {
            return Err(faults::unknown_method());
        }
        Request::decode(name, params)
    }

    /// Run one decoded request and encode its result for the wire.
    async fn execute(&self, request: Request) -> Result<Value, RpcError> {
        use Request as R;
        let done = |()| Value::Bool(true);
        match request {
            R::ListMethods => Ok(self.list_methods()),
            R::MethodHelp { name } => system::method_help(&name),
            R::MethodSignature { name } => system::method_signature(&name),
            R::Multicall { calls } => Ok(self.multicall(&calls).await),

            R::GetApiVersion => self.api_version().await.map(Value::from),
            R::GetSupervisorVersion => self.supervisor_version().await.map(Value::from),
            R::GetIdentification => self.identification().await.map(Value::from),
            R::GetState => self.state().await.map(|state| state.to_value()),
            // Supervisor sends os.getpid() as an XML-RPC int.
            R::GetPid => self.pid().await.map(|pid| Value::Int(pid as i32)),
            R::Shutdown => self.shutdown().await.map(done),
            R::Restart => self.restart().await.map(done),

            R::ReloadConfig => self.reload_config().await.map(|changes| changes.to_value()),
            R::AddProcessGroup { name } => self.add_process_group(name).await.map(done),
            R::RemoveProcessGroup { name } => self.remove_process_group(name).await.map(done),
            R::GetAllConfigInfo => self.all_config_info().await.map(sv_api::config_info_array),

            R::GetProcessInfo { name } => self.process_info(name).await.map(|i| i.to_value()),
            R::GetAllProcessInfo => self.all_process_info().await.map(|infos| {
                Value::Array(infos.iter().map(sv_api::ProcessInfo::to_value).collect())
            }),

            R::StartProcess { name, wait } => {
                self.start_process(name, wait).await.map(ActedOn::to_value)
            }
            R::StartProcessGroup { name, wait } => self
                .start_process_group(name, wait)
                .await
                .map(control::results_value),
            R::StartAllProcesses { wait } => self
                .start_all_processes(wait)
                .await
                .map(control::results_value),
            R::StopProcess { name, wait } => {
                self.stop_process(name, wait).await.map(ActedOn::to_value)
            }
            R::StopProcessGroup { name, wait } => self
                .stop_process_group(name, wait)
                .await
                .map(control::results_value),
            R::StopAllProcesses { wait } => self
                .stop_all_processes(wait)
                .await
                .map(control::results_value),
            R::SignalProcess { name, signal } => self
                .signal_process(name, &signal)
                .await
                .map(ActedOn::to_value),
            R::SignalProcessGroup { name, signal } => self
                .signal_process_group(name, &signal)
                .await
                .map(control::results_value),
            R::SignalAllProcesses { signal } => self
                .signal_all_processes(&signal)
                .await
                .map(control::results_value),

            R::ReadLog { offset, length } => self.read_log(offset, length).await.map(Value::from),
            R::ClearLog => self.clear_log().await.map(done),
            R::ReadProcessLog {
                name,
                stream,
                offset,
                length,
            } => self
                .read_process_log(&name, stream, offset, length)
                .await
                .map(Value::from),
            R::TailProcessLog {
                name,
                stream,
                offset,
                length,
            } => self
                .tail_process_log(&name, stream, offset, length)
                .await
                .map(|tail| tail.to_value()),
            R::ClearProcessLogs { name } => self.clear_process_logs(name).await.map(done),
            R::ClearAllProcessLogs => self
                .clear_all_process_logs()
                .await
                .map(control::results_value),

            R::SendProcessStdin { name, chars } => {
                self.send_process_stdin(name, chars).await.map(done)
            }
            R::SendRemoteCommEvent { kind, data } => {
                self.send_remote_comm_event(kind, data).await.map(done)
            }
        }
    }
}

#[cfg(test)]
mod tests;
