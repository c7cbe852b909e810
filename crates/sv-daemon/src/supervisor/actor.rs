//! The actor's loop and its contact with the processes: it wakes only
//! when something happens — a child exit (SIGCHLD, then `waitpid(-1,
//! WNOHANG)` on this same task, so no exit can beat its pid into the table),
//! another signal, a request, or the one deadline it armed itself (the
//! earliest of every process's startsecs / backoff / SIGKILL time, a stop
//! report, a TICK). There is no periodic sweep: an idle daemon sleeps.
//!
//! Each wake-up feeds an [`Input`] to the pure state machine and carries
//! out the [`Effect`]s it returns through the [`Spawner`](crate::spawner::Spawner).

use std::future::pending;

use nix::errno::Errno;
use sv_api::SupervisorState;
use sv_core::events::{self as ev, Listener};
use sv_core::process::{Effect, Input, Mono, Refused, State};
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;

use super::table::ProcKey;
use super::{BusEvent, Kept, Op, Outcome, Supervisor};
use crate::capture::{self, ChildOutput};

/// The signals supervisord acts on besides SIGCHLD (all `None` when the
/// daemon is embedded and stopped by its shutdown future).
#[derive(Default)]
struct DaemonSignals {
    term: Option<Signal>,
    int: Option<Signal>,
    quit: Option<Signal>,
    hup: Option<Signal>,
    usr2: Option<Signal>,
}

impl DaemonSignals {
    fn watch() -> std::io::Result<Self> {
        Ok(DaemonSignals {
            term: Some(signal(SignalKind::terminate())?),
            int: Some(signal(SignalKind::interrupt())?),
            quit: Some(signal(SignalKind::quit())?),
            hup: Some(signal(SignalKind::hangup())?),
            usr2: Some(signal(SignalKind::user_defined2())?),
        })
    }
}

/// The next notice of a fake child's exit; never, for real children.
async fn notified(notice: Option<&Notify>) {
    match notice {
        Some(notice) => notice.notified().await,
        None => pending().await,
    }
}

/// The next delivery of a watched signal; never, when it is not watched.
async fn next(signal: Option<&mut Signal>) {
    match signal {
        Some(signal) => {
            signal.recv().await;
        }
        None => pending().await,
    }
}

impl Supervisor {
    /// Run until shutdown or restart; gives back what outlives a restart.
    pub async fn run(self, requests: &mut mpsc::Receiver<Op>) -> (Outcome, Kept) {
        self.run_draining(requests, std::future::ready(())).await
    }

    /// [`run`](Self::run), and on shutdown keep answering requests, as the
    /// stopping daemon they reach, until `drained` completes (the servers
    /// have written the answers under way). A client's call that reaches
    /// the queue after the last process stopped — the later calls of a
    /// `system.multicall` that began with `supervisor.shutdown` — is then
    /// answered (SHUTDOWN_STATE, as Supervisor gives) instead of never,
    /// which dropped that client's connection.
    pub async fn run_draining(
        mut self,
        requests: &mut mpsc::Receiver<Op>,
        drained: impl Future<Output = ()>,
    ) -> (Outcome, Kept) {
        let outcome = match self.run_inner(requests).await {
            Ok(outcome) => outcome,
            Err(e) => {
                self.log.critical(&format!("cannot watch signals: {e}"));
                // What comes while the servers drain is refused, as in
                // any shutdown: nothing may start now.
                self.mood = SupervisorState::Shutdown;
                Outcome::Shutdown
            }
        };
        if matches!(outcome, Outcome::Shutdown) {
            let mut drained = std::pin::pin!(drained);
            loop {
                tokio::select! {
                    biased;
                    () = &mut drained => break,
                    Some(op) = requests.recv() => self.handle(op),
                }
            }
        }
        let kept = Kept {
            event_serial: self.hub.last_serial(),
            log: self.log,
        };
        (outcome, kept)
    }

    async fn run_inner(&mut self, requests: &mut mpsc::Receiver<Op>) -> std::io::Result<Outcome> {
        // SIGCHLD must be watched before the first child exists; a fake
        // spawner announces its exits itself.
        let exit_notice = self.spawner.exit_notice();
        let mut sigchld = match exit_notice {
            Some(_) => None,
            None => Some(signal(SignalKind::child())?),
        };
        let mut signals = match self.os_signals {
            true => DaemonSignals::watch()?,
            false => DaemonSignals::default(),
        };

        let mut output_rx = self
            .output_rx
            .take()
            .unwrap_or_else(|| mpsc::unbounded_channel().1);
        let mut readiness_rx = self
            .readiness_rx
            .take()
            .unwrap_or_else(|| mpsc::channel(1).1);
        self.boot();

        loop {
            if let Some(outcome) = self.finished() {
                self.record_children(true);
                return Ok(outcome);
            }
            self.record_children(false);
            let wake = self.next_wake().map(|m| self.origin + m);
            // During the boot wave only requests and supervisord's own
            // signals are taken between batches (see `boot.rs`).
            let booting = self.booting();
            let auto_logs_pending = !self.pending_auto_logs.is_empty();
            tokio::select! {
                biased;
                _ = next(sigchld.as_mut()), if !booting => {
                    // Supervisor's line for each pass of its loop that saw
                    // SIGCHLD (deliveries that arrive together are one).
                    self.log.debug("received SIGCHLD indicating a child quit");
                    self.reap();
                }
                _ = notified(exit_notice.as_deref()), if !booting => self.reap(),
                _ = next(signals.term.as_mut()) => self.request_shutdown("SIGTERM"),
                _ = next(signals.int.as_mut()) => self.request_shutdown("SIGINT"),
                _ = next(signals.quit.as_mut()) => self.request_shutdown("SIGQUIT"),
                _ = next(signals.hup.as_mut()) => self.request_restart(),
                _ = next(signals.usr2.as_mut()) => self.reopen_logs(),
                Some(op) = requests.recv() => {
                    let mut batch = vec![op];
                    // One RPC's batch (stopProcessGroup, stopAllProcesses
                    // send one op per process before the actor runs) is
                    // handled in one go, then the stops report: Supervisor
                    // kills every process of the batch first and only then
                    // logs "waiting for x to stop" for each.
                    while let Ok(more) = requests.try_recv() {
                        batch.push(more);
                    }
                    // stopAllProcesses: dependents first (docs/readiness.md).
                    self.order_stop_batch(&mut batch);
                    for op in batch {
                        self.handle(op);
                    }
                    let now = self.now().mono;
                    self.report_stopping_waiters(now);
                }
                Some(output) = output_rx.recv(), if !booting => {
                    self.child_output(output);
                    // Take what else is waiting in one go.
                    while let Ok(more) = output_rx.try_recv() {
                        self.child_output(more);
                    }
                }
                Some(report) = readiness_rx.recv() => self.readiness_report(report),
                _ = tokio::time::sleep_until(wake.unwrap_or_else(Instant::now)), if wake.is_some() && !booting => {
                    self.fire_due();
                }
                // Let the servers and the other tasks run, then the next
                // batch (a branch that is always ready would never let
                // the runtime schedule anything else).
                // AUTO log files (`childlogs.rs`) are created the same way,
                // a batch per turn, alongside the wave's spawns.
                _ = tokio::task::yield_now(), if booting || auto_logs_pending => {
                    self.auto_logs_step();
                    if booting {
                        self.boot_step();
                    }
                }
            }
        }
    }

    fn next_wake(&self) -> Option<Mono> {
        [
            self.deadlines.first().map(|(t, _)| *t),
            self.next_wait_report,
            self.waiters.next_report(),
            self.next_tick,
            self.record_due,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    pub(super) fn step(&mut self, key: ProcKey, input: Input) -> Result<(), Refused> {
        let now = self.now();
        let autospawn = self.mood == SupervisorState::Running;
        let Some(managed) = self.table.get_mut(key) else {
            return Ok(());
        };
        let input_kind = if matches!(input, Input::Exited { .. }) {
            InputKind::Exited
        } else {
            InputKind::Other
        };
        let was_stopped = managed.process.state().is_stopped();
        match managed.process.step(input, now, autospawn) {
            Ok(effects) => {
                // The counters behind "is this group / wave / everything
                // stopped?", kept here, where every state change happens.
                let state = managed.process.state();
                if was_stopped != state.is_stopped() {
                    let group = self.groups.get_mut(&managed.process.group);
                    if state.is_stopped() {
                        self.live = self.live.saturating_sub(1);
                        if let Some(group) = group {
                            group.live = group.live.saturating_sub(1);
                        }
                    } else {
                        self.live += 1;
                        if let Some(group) = group {
                            group.live += 1;
                        }
                    }
                }
                if let Some(plan) = self.stopping.as_mut() {
                    plan.observe(key, was_stopped, state);
                }
                let changed = effects
                    .iter()
                    .any(|e| matches!(e, Effect::StateChanged { .. }));
                // A listener that ended gives back the event it had not
                // answered; it is requeued once the exit's state changes
                // are out, before any respawn (Supervisor's `finish`).
                let unanswered = match input_kind {
                    InputKind::Exited => managed
                        .listener
                        .as_deref_mut()
                        .and_then(Listener::take_event),
                    InputKind::Other => None,
                };
                self.apply(key, effects, unanswered);
                if changed {
                    self.settle_waiters(key);
                }
                Ok(())
            }
            Err(refused) => {
                if let Refused::IllegalTransition { .. } = &refused {
                    self.log.debug(&format!("refused: {refused}"));
                }
                Err(refused)
            }
        }
    }

    fn apply(&mut self, key: ProcKey, effects: Vec<Effect>, mut unanswered: Option<ev::Queued>) {
        for effect in effects {
            match effect {
                Effect::Spawn => {
                    if let Some(queued) = unanswered.take() {
                        self.requeue(key, queued);
                    }
                    if !self.hold_for_dependencies(key) {
                        self.spawn(key)
                    }
                }
                Effect::Signal { pid, signal } => match self.spawner.signal(pid, signal) {
                    Ok(()) => {}
                    Err(Errno::ESRCH) => {
                        if let Some(m) = self.table.get(key) {
                            let message = format!(
                                "unable to signal {} (pid {}), it probably just exited on its own: {}",
                                m.process.name(),
                                pid.unsigned_abs(),
                                Errno::ESRCH.desc()
                            );
                            self.log.debug(&message);
                        }
                    }
                    Err(e) => {
                        let error = e.desc().to_string();
                        self.signal_error = Some(error.clone());
                        let _ = self.step(key, Input::SignalFailed { error });
                    }
                },
                Effect::ArmDeadline(at) => {
                    self.deadlines.insert((at, key));
                }
                Effect::Log { level, message } => self.log.log(level, &message),
                Effect::StateChanged {
                    from,
                    to,
                    expected,
                    tries,
                    pid,
                } => {
                    if let Some(m) = self.table.get(key) {
                        let listener_running = to == State::Running && m.listener.is_some();
                        let pool = m.process.group.clone();
                        self.emit(BusEvent::ProcessState {
                            group: m.process.group.to_string(),
                            name: m.process.name().to_string(),
                            pid,
                            from,
                            to,
                            expected,
                            tries,
                        });
                        if listener_running {
                            self.dispatch_pool(&pool);
                        }
                        self.readiness_changed(key, from, to);
                        self.dependency_changed(key, from, to);
                    }
                }
            }
        }
        if let Some(queued) = unanswered {
            self.requeue(key, queued);
        }
    }

    fn spawn(&mut self, key: ProcKey) {
        let Some(config) = self.table.process(key).map(|p| p.config.clone()) else {
            return;
        };
        let config = match self.spawn_config(key, &config) {
            Ok(config) => config,
            Err(error) => {
                let _ = self.step(key, Input::SpawnFailed { error });
                return;
            }
        };
        let Some(managed) = self.table.get(key) else {
            return;
        };
        let socket = self
            .groups
            .get(&managed.process.group)
            .and_then(|g| g.socket.as_ref())
            .map(|s| &s.1);
        let result = self
            .spawner
            .spawn(&self.spawn_ctx, &managed.process.group, &config, socket);
        match result {
            Ok(child) => {
                // The log files are opened now, before the child's output
                // is read: Supervisor opens them once the command is
                // resolved, so a command that cannot be started gets none.
                self.open_logs(key);
                let Some(managed) = self.table.get_mut(key) else {
                    return;
                };
                if let Some(listener) = managed.listener.as_mut() {
                    listener.reset();
                }
                for sink in [&managed.logs.stdout, &managed.logs.stderr]
                    .into_iter()
                    .flatten()
                {
                    sink.borrow_mut().spawned(child.pid);
                }
                managed.stdin = child
                    .stdin
                    .map(|stdin| crate::stdin::StdinPipe::new(stdin.into()));
                managed.drains.clear();
                if let Some(out) = child.stdout {
                    managed.drains.extend(capture::start_reader(
                        out.into(),
                        managed.logs.stdout.clone(),
                    ));
                }
                if let Some(err) = child.stderr {
                    managed.drains.extend(capture::start_reader(
                        err.into(),
                        managed.logs.stderr.clone(),
                    ));
                }
                self.table.bind_pid(child.pid, key);
                self.start_readiness(key, child.pid);
                let _ = self.step(key, Input::Spawned { pid: child.pid });
            }
            Err(error) => {
                if error.after_logs_opened() {
                    self.open_logs(key);
                }
                let error = error.to_string();
                let _ = self.step(key, Input::SpawnFailed { error });
            }
        }
    }

    pub(super) fn reap(&mut self) {
        for (pid, status) in self.spawner.reap() {
            match self.table.take_pid(pid) {
                Some(key) => {
                    if let Some(m) = self.table.get_mut(key) {
                        m.stdin = None;
                        // What the child wrote before it exited is read now;
                        // its events queue ahead of the exit, which is
                        // handled when the output channel reaches it.
                        for drain in std::mem::take(&mut m.drains) {
                            drain.drain();
                        }
                    }
                    let _ = self.output_tx.send(ChildOutput::Reaped { key, status });
                }
                None if self.readiness.reaped(pid, status) => {}
                None => {
                    let (_, msg) = status.decode();
                    self.log.debug(&format!("reaped unknown pid {pid} ({msg})"));
                }
            }
        }
        self.advance_stop();
    }

    pub(super) fn fire_due(&mut self) {
        let now = self.now().mono;
        if self.next_tick.is_some_and(|at| at <= now) {
            self.tick();
        }
        while let Some(&(at, key)) = self.deadlines.first() {
            if at > now {
                break;
            }
            self.deadlines.pop_first();
            // Entries are never removed early: a stale one (the process has
            // moved on and armed another, or none) is simply skipped here.
            if self.table.process(key).and_then(|p| p.deadline()) == Some(at) {
                let _ = self.step(key, Input::Deadline);
            }
        }
        if let Some(at) = self.next_wait_report
            && at <= now
        {
            self.report_waiting();
        }
        self.report_stopping_waiters(now);
        self.advance_stop();
        if self.record_due.is_some_and(|at| at <= now) {
            self.record_due = None;
            self.write_children();
        }
    }

    /// Keep the state file of live children (see [`crate::leftovers`])
    /// current: a change arms one rewrite [`RECORD_DELAY`] later, so a
    /// crash storm of a thousand programs costs a few writes a second, not
    /// one per spawn. `now` writes a pending change at once (the actor is
    /// returning).
    fn record_children(&mut self, now: bool) {
        if self.recorder.is_none() {
            return;
        }
        if self.table.take_pids_changed() && self.record_due.is_none() {
            self.record_due = Some(self.now().mono + RECORD_DELAY);
        }
        if now && self.record_due.take().is_some() {
            self.write_children();
        }
    }

    fn write_children(&mut self) {
        let Some(recorder) = self.recorder.as_mut() else {
            return;
        };
        let children = self.table.pids().map(|(pid, m)| {
            let info = crate::leftovers::ChildInfo {
                name: m.process.namespec(),
                config: &m.process.config,
            };
            (pid, info)
        });
        if !recorder.write(children, &self.log) && self.record_due.is_none() {
            // Unwritable for now (full disk, no descriptor): try again
            // later, not in a loop.
            self.record_due = Some(self.now().mono + RECORD_RETRY);
        }
    }

    fn reopen_logs(&mut self) {
        self.log
            .info("received SIGUSR2 indicating log reopen request");
        self.log.reopen();
        for m in self.table.values() {
            m.logs.reopen();
        }
        self.log.info("supervisord logreopen");
    }
}

/// How long a change to the set of live children waits before the state
/// file is rewritten (changes in between share the write).
const RECORD_DELAY: Mono = Mono::from_millis(200);

/// How long a failed or incomplete record waits before it is tried again.
const RECORD_RETRY: Mono = Mono::from_secs(5);

/// Whether a step was an exit (a listener's unanswered event is then
/// requeued).
enum InputKind {
    Exited,
    Other,
}
