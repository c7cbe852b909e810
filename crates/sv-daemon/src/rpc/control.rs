//! Starting, stopping and signalling: one process, a group, or everything.
//!
//! Group and all-process operations follow Supervisor's `make_allfunc`:
//! pick the processes the action applies to, send one operation per
//! process, and report each process's result in completion order.

use sv_api::{ProcessResult, RpcError, SignalArg};
use sv_xmlrpc::Value;
use tokio::sync::oneshot;

use super::{Dispatcher, answer, faults};
use crate::supervisor::{Op, Selected};

/// What a start, stop or signal of a namespec did. A name that designates
/// a whole group (`group:*`, `group:`, or a bare group name that is not
/// also a process) acts on each of its processes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActedOn {
    /// One process was acted on (the wire answer is `true`).
    Process,
    /// A group was acted on: one result per process, in completion order.
    Group(Vec<ProcessResult>),
}

impl ActedOn {
    /// The wire form: `true`, or the array of result structs.
    pub fn to_value(self) -> Value {
        match self {
            ActedOn::Process => Value::Bool(true),
            ActedOn::Group(results) => results_value(results),
        }
    }
}

/// A group or all-process operation's results as the wire array.
pub(super) fn results_value(results: Vec<ProcessResult>) -> Value {
    Value::Array(results.iter().map(ProcessResult::to_value).collect())
}

/// What to do to each selected process.
#[derive(Clone)]
enum Action {
    Start {
        wait: bool,
    },
    Stop {
        wait: bool,
    },
    /// The resolved signal, or the BAD_SIGNAL fault every process gets.
    Signal(Result<i32, RpcError>),
}

impl Action {
    /// Whether the action applies to a process in this state (Supervisor's
    /// RUNNING_STATES / SIGNALLABLE_STATES filters).
    fn applies_to(&self, process: &Selected) -> bool {
        match self {
            Action::Start { .. } => !process.state.is_running(),
            Action::Stop { .. } => process.state.is_running(),
            Action::Signal(_) => process.state.is_signallable(),
        }
    }
}

/// A signal argument as a number: a name (`HUP`, `SIGHUP`) or a number
/// given as an int or as text; anything else is BAD_SIGNAL with the value
/// as given.
fn resolve_signal(signal: &SignalArg) -> Result<i32, RpcError> {
    match signal {
        SignalArg::Given(text) => {
            sv_core::config::datatypes::signal_number(text).map_err(|_| faults::bad_signal(text))
        }
        SignalArg::WrongType(text) => Err(faults::bad_signal(text)),
    }
}

impl Dispatcher {
    /// `startProcess`: start one process, or a whole group.
    pub async fn start_process(
        &self,
        spec: impl Into<String>,
        wait: bool,
    ) -> Result<ActedOn, RpcError> {
        self.one_or_group(spec.into(), Action::Start { wait }).await
    }

    /// `startProcessGroup`: start every process of `group` not yet running.
    pub async fn start_process_group(
        &self,
        group: impl Into<String>,
        wait: bool,
    ) -> Result<Vec<ProcessResult>, RpcError> {
        self.many(Some(group.into()), Action::Start { wait }).await
    }

    /// `startAllProcesses`: start every process not yet running.
    pub async fn start_all_processes(&self, wait: bool) -> Result<Vec<ProcessResult>, RpcError> {
        self.many(None, Action::Start { wait }).await
    }

    /// `stopProcess`: stop one process, or a whole group.
    pub async fn stop_process(
        &self,
        spec: impl Into<String>,
        wait: bool,
    ) -> Result<ActedOn, RpcError> {
        self.one_or_group(spec.into(), Action::Stop { wait }).await
    }

    /// `stopProcessGroup`: stop every running process of `group`.
    pub async fn stop_process_group(
        &self,
        group: impl Into<String>,
        wait: bool,
    ) -> Result<Vec<ProcessResult>, RpcError> {
        self.many(Some(group.into()), Action::Stop { wait }).await
    }

    /// `stopAllProcesses`: stop every running process.
    pub async fn stop_all_processes(&self, wait: bool) -> Result<Vec<ProcessResult>, RpcError> {
        self.many(None, Action::Stop { wait }).await
    }

    /// `signalProcess`: signal one process, or a whole group. The name is
    /// checked before the signal, as Supervisor does.
    pub async fn signal_process(
        &self,
        spec: impl Into<String>,
        signal: &SignalArg,
    ) -> Result<ActedOn, RpcError> {
        let action = Action::Signal(resolve_signal(signal));
        self.one_or_group(spec.into(), action).await
    }

    /// `signalProcessGroup`: signal every signallable process of `group`.
    pub async fn signal_process_group(
        &self,
        group: impl Into<String>,
        signal: &SignalArg,
    ) -> Result<Vec<ProcessResult>, RpcError> {
        let action = Action::Signal(resolve_signal(signal));
        self.many(Some(group.into()), action).await
    }

    /// `signalAllProcesses`: signal every signallable process.
    pub async fn signal_all_processes(
        &self,
        signal: &SignalArg,
    ) -> Result<Vec<ProcessResult>, RpcError> {
        self.many(None, Action::Signal(resolve_signal(signal)))
            .await
    }

    /// One process, or (for `group:` / `group:*` / a bare group name that is
    /// not also a process) the whole group.
    async fn one_or_group(&self, spec: String, action: Action) -> Result<ActedOn, RpcError> {
        let (group, process) = sv_api::split_namespec(&spec);
        if process.is_none() {
            return match self.many(Some(group), action).await {
                Ok(results) => Ok(ActedOn::Group(results)),
                Err(e) => Err(faults::bad_name_as_typed(e, &spec)),
            };
        }
        self.single(spec, action).await.map(|()| ActedOn::Process)
    }

    async fn single(&self, spec: String, action: Action) -> Result<(), RpcError> {
        match action {
            Action::Start { wait } => self.ask(|reply| Op::Start { spec, wait, reply }).await,
            Action::Stop { wait } => self.ask(|reply| Op::Stop { spec, wait, reply }).await,
            Action::Signal(signal) => {
                // Supervisor checks the name before the signal.
                self.process_info(spec.as_str()).await?;
                let signal = signal?;
                self.ask(|reply| Op::Signal {
                    spec,
                    signal,
                    reply,
                })
                .await
            }
        }
    }

    /// Supervisor's `make_allfunc`: act on every selected process that the
    /// action applies to; results in completion order.
    async fn many(
        &self,
        group: Option<String>,
        action: Action,
    ) -> Result<Vec<ProcessResult>, RpcError> {
        let selected = self.ask(|reply| Op::Select { group, reply }).await?;
        let wanted = selected.into_iter().filter(|s| action.applies_to(s));
        if let Action::Signal(Err(bad)) = &action {
            return Ok(wanted
                .map(|s| ProcessResult::from_error(&s.name, &s.group, bad))
                .collect());
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
            self.tx
                .send(op)
                .await
                .map_err(|_| faults::shutdown_state())?;
            pending.spawn(async move {
                let outcome = answer(rx.await);
                ProcessResult::from_outcome(&s.name, &s.group, &outcome)
            });
        }
        let mut results = Vec::new();
        while let Some(done) = pending.join_next().await {
            if let Ok(result) = done {
                results.push(result);
            }
        }
        Ok(results)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_resolve_by_name_or_number() {
        assert_eq!(resolve_signal(&SignalArg::named("HUP")), Ok(libc::SIGHUP));
        assert_eq!(
            resolve_signal(&SignalArg::named("sigterm")),
            Ok(libc::SIGTERM)
        );
        assert_eq!(resolve_signal(&SignalArg::named("9")), Ok(9));
    }

    #[test]
    fn bad_signals_echo_what_was_given() {
        for given in [
            SignalArg::named("nosuch"),
            SignalArg::named("99"),
            SignalArg::WrongType("HUP".into()),
        ] {
            let fault = resolve_signal(&given).expect_err("bad signal");
            assert_eq!(fault.text(), format!("BAD_SIGNAL: {}", given.given()));
        }
    }

    #[test]
    fn outcomes_encode_as_supervisor_answers() {
        assert_eq!(ActedOn::Process.to_value(), Value::Bool(true));
        let results = vec![ProcessResult::ok("a", "g")];
        assert_eq!(
            ActedOn::Group(results.clone()).to_value(),
            Value::Array(vec![results[0].to_value()])
        );
    }
}
