//! The supervisor actor: the one task that owns every process.
//!
//! It wakes only when something happens — SIGCHLD (then it reaps with
//! `waitpid(-1, WNOHANG)` on this same task, so no exit can beat its pid into
//! the table), another signal, a request, or the one deadline it armed
//! itself (the earliest of every process's startsecs / backoff / SIGKILL
//! time). There is no periodic sweep: an idle daemon sleeps.
//!
//! Each wake-up feeds an [`Input`] to the pure state machine
//! (`sv_core::process`) and carries out the [`Effect`]s it returns: spawn,
//! signal, arm a deadline, log, and publish the state change on the
//! [`Bus`], which listeners, the web page, metrics and the hub subscribe to.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::errno::Errno;
use sv_core::config::{Config, FcgiSocket, GroupKind, LogLevel, ProcessConfig};
use sv_core::process::{Effect, Input, Mono, Now, Process, Refused, State};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;

use sv_core::events::{self as ev, Channel, Hub, Listener, ListenerAction, Ticks};

use crate::capture::{self, ChildLogs, ChildOutput, EventTap};
use crate::mainlog::MainLog;
use crate::spawn::{self, SpawnContext};
use crate::sys;

mod ops;
pub use ops::{DaemonInfo, Op, Reply, Selected, Waiter, local_time};

/// A stable handle on a process, valid for as long as its group exists.
pub type ProcKey = u64;

/// supervisord's own state (Supervisor's "mood").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mood {
    Running,
    Restarting,
    Shutdown,
}

impl Mood {
    /// The code of `getState`.
    pub fn code(self) -> i32 {
        match self {
            Mood::Running => 1,
            Mood::Restarting => 0,
            Mood::Shutdown => -1,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Mood::Running => "RUNNING",
            Mood::Restarting => "RESTARTING",
            Mood::Shutdown => "SHUTDOWN",
        }
    }
}

/// Something that happened, as every observer sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BusEvent {
    ProcessState {
        group: String,
        name: String,
        pid: u32,
        from: State,
        to: State,
        expected: bool,
        tries: u32,
    },
    SupervisorState(Mood),
    GroupAdded(String),
    GroupRemoved(String),
    /// `sendRemoteCommEvent` (REMOTE_COMMUNICATION).
    RemoteCommunication {
        kind: String,
        data: String,
    },
    /// A logged chunk of output of a stream with `*_events_enabled`.
    ProcessLog {
        group: String,
        name: String,
        pid: u32,
        channel: Channel,
        data: Vec<u8>,
    },
    /// Output captured between the capture-mode tokens.
    ProcessCommunication {
        group: String,
        name: String,
        pid: u32,
        channel: Channel,
        data: Vec<u8>,
    },
    /// TICK_`period`, `when` the start of the new slice.
    Tick {
        period: u32,
        when: i64,
    },
}

impl BusEvent {
    /// The Supervisor event listeners hear of.
    fn to_event(&self) -> ev::Event {
        match self.clone() {
            BusEvent::ProcessState {
                group,
                name,
                pid,
                from,
                to,
                expected,
                tries,
            } => ev::Event::ProcessState {
                process: name,
                group,
                from,
                to,
                expected,
                tries,
                pid,
            },
            BusEvent::SupervisorState(Mood::Running) => ev::Event::SupervisorRunning,
            BusEvent::SupervisorState(_) => ev::Event::SupervisorStopping,
            BusEvent::GroupAdded(g) => ev::Event::GroupAdded(g),
            BusEvent::GroupRemoved(g) => ev::Event::GroupRemoved(g),
            BusEvent::RemoteCommunication { kind, data } => {
                ev::Event::RemoteCommunication { kind, data }
            }
            BusEvent::ProcessLog {
                group,
                name,
                pid,
                channel,
                data,
            } => ev::Event::ProcessLog {
                channel,
                process: name,
                group,
                pid,
                data,
            },
            BusEvent::ProcessCommunication {
                group,
                name,
                pid,
                channel,
                data,
            } => ev::Event::ProcessCommunication {
                channel,
                process: name,
                group,
                pid,
                data,
            },
            BusEvent::Tick { period, when } => ev::Event::Tick { period, when },
        }
    }
}

/// The internal event bus: one sender, any number of subscribers; a slow
/// subscriber loses old events rather than slowing the actor.
#[derive(Debug, Clone)]
pub struct Bus(broadcast::Sender<BusEvent>);

impl Bus {
    pub fn new() -> Self {
        Bus(broadcast::channel(4096).0)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<BusEvent> {
        self.0.subscribe()
    }

    pub(crate) fn publish(&self, event: BusEvent) {
        // No subscriber is not an error.
        let _ = self.0.send(event);
    }
}

impl Default for Bus {
    fn default() -> Self {
        Self::new()
    }
}

/// A request from a transport (RPC, web) to the actor.
pub type Request = Op;

/// Why the actor returned.
#[derive(Debug)]
pub enum Outcome {
    /// Everything is stopped; exit.
    Shutdown,
    /// Everything is stopped; start again with this configuration.
    Restart(Box<Config>),
}

/// A group as configured: what `reloadConfig` compares and `addProcessGroup`
/// instantiates.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GroupDef {
    pub name: String,
    pub priority: i64,
    pub kind: GroupKind,
    pub processes: Vec<Arc<ProcessConfig>>,
}

impl GroupDef {
    fn from_config(configs: Vec<sv_core::config::GroupConfig>) -> Vec<GroupDef> {
        configs
            .into_iter()
            .map(|g| GroupDef {
                name: g.name,
                priority: g.priority,
                kind: g.kind,
                processes: g.processes.into_iter().map(Arc::new).collect(),
            })
            .collect()
    }
}

/// An active group.
pub(crate) struct Group {
    pub def: GroupDef,
    pub members: Vec<ProcKey>,
    /// An fcgi group's socket, handed to each process as stdin.
    pub socket: Option<(FcgiSocket, std::os::fd::OwnedFd)>,
}

pub(crate) struct Managed {
    pub process: Process,
    /// The child's stdin pipe (`sendProcessStdin`, listener events); its
    /// writer starts on first use.
    pub stdin: Option<capture::StdinPipe>,
    /// The current child's stdout/stderr readers, read dry at its exit.
    pub drains: Vec<capture::Drain>,
    pub logs: ChildLogs,
    /// An event listener's side of the protocol.
    pub listener: Option<Listener>,
}

/// Stopping everything, one priority at a time.
struct StopPlan {
    /// Group names still to stop, by priority, highest last.
    waves: Vec<Vec<String>>,
    /// The restart target, if this is a restart.
    restart: Option<Box<Config>>,
}

/// What outlives a SIGHUP restart: the main log, and the events' global
/// serial (Supervisor's is a module-level counter, so it keeps counting
/// while the pools and their serials start over).
pub struct Kept {
    pub log: MainLog,
    pub event_serial: Option<u64>,
}

/// The daemon's state and its loop.
pub struct Supervisor {
    config: Config,
    /// The groups as last read (at start or by `reloadConfig`).
    configured: Vec<GroupDef>,
    log: MainLog,
    origin: Instant,
    mood: Mood,
    /// Active groups in the order they were added (ties of priority keep it).
    groups: Vec<Group>,
    procs: HashMap<ProcKey, Managed>,
    pids: HashMap<u32, ProcKey>,
    deadlines: BTreeSet<(Mono, ProcKey)>,
    next_key: ProcKey,
    spawn_ctx: SpawnContext,
    bus: Bus,
    stopping: Option<StopPlan>,
    /// When the next "waiting for … to die" line may be written.
    next_wait_report: Option<Mono>,
    /// RPC calls waiting for a process to reach a state.
    waiters: Vec<Waiter>,
    /// Reloads the configuration (SIGHUP, `reloadConfig`).
    reload: Box<dyn Fn() -> Result<Config, String>>,
    /// Event listener pools, their buffers and the serials.
    hub: Hub,
    /// TICK slices, evaluated only while some pool subscribes to TICK.
    ticks: Ticks,
    /// When the next TICK slice starts, if some pool wants TICKs.
    next_tick: Option<Mono>,
    /// What the pipe readers report (events, listener answers).
    output_tx: mpsc::UnboundedSender<ChildOutput>,
    output_rx: Option<mpsc::UnboundedReceiver<ChildOutput>>,
}

const WAIT_REPORT_EVERY: Duration = Duration::from_secs(3);

impl Supervisor {
    pub fn new(
        mut config: Config,
        kept: Kept,
        spawn_ctx: SpawnContext,
        bus: Bus,
        reload: Box<dyn Fn() -> Result<Config, String>>,
    ) -> Self {
        let configured = GroupDef::from_config(std::mem::take(&mut config.groups));
        let (output_tx, output_rx) = mpsc::unbounded_channel();
        let Kept { log, event_serial } = kept;
        Supervisor {
            config,
            configured,
            log,
            origin: Instant::now(),
            mood: Mood::Running,
            groups: Vec::new(),
            procs: HashMap::new(),
            pids: HashMap::new(),
            deadlines: BTreeSet::new(),
            next_key: 1,
            spawn_ctx,
            bus,
            stopping: None,
            next_wait_report: None,
            waiters: Vec::new(),
            reload,
            hub: Hub::continuing(event_serial),
            ticks: Ticks::new(),
            next_tick: None,
            output_tx,
            output_rx: Some(output_rx),
        }
    }

    fn now(&self) -> Now {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Now {
            mono: self.origin.elapsed(),
            wall,
        }
    }

    /// Instantiate a configured group (AUTO logs are named here, as
    /// Supervisor creates them at group creation) and announce it.
    pub(crate) fn add_group(&mut self, def: GroupDef) {
        let mut members = Vec::new();
        let is_listener = matches!(def.kind, GroupKind::EventListener { .. });
        if let GroupKind::EventListener {
            buffer_size,
            events,
            ..
        } = &def.kind
        {
            // Subscribed before the group is announced: a pool hears of its
            // own PROCESS_GROUP_ADDED, as in Supervisor.
            self.hub
                .add_pool(ev::Pool::new(&def.name, *buffer_size, events));
        }
        for pc in &def.processes {
            let key = self.next_key;
            self.next_key += 1;
            let s = &self.config.supervisord;
            let strip_ansi = s.strip_ansi;
            let mut logs = ChildLogs::default();
            for (channel, stream, slot) in [
                ("stdout", &pc.stdout, &mut logs.stdout),
                ("stderr", &pc.stderr, &mut logs.stderr),
            ] {
                if channel == "stderr" && pc.redirect_stderr {
                    continue;
                }
                let path =
                    capture::log_path(stream, &pc.name, channel, &s.childlogdir, &s.identifier);
                let file = path
                    .as_ref()
                    .and_then(|path| match capture::open_file(path, stream) {
                        Ok(file) => Some(file),
                        Err(e) => {
                            self.log.log(
                                LogLevel::Warn,
                                &format!("could not open log file {path} for {}: {e}", pc.name),
                            );
                            None
                        }
                    });
                let mut sink = capture::StreamLog::new(
                    &pc.name,
                    channel,
                    file,
                    stream,
                    strip_ansi,
                    is_listener && channel == "stdout",
                    self.log.clone(),
                );
                if (is_listener && channel == "stdout")
                    || stream.events_enabled
                    || stream.capture_maxbytes > 0
                {
                    sink.set_tap(EventTap {
                        key,
                        tx: self.output_tx.clone(),
                        events_enabled: stream.events_enabled,
                    });
                }
                *slot = Some(std::rc::Rc::new(std::cell::RefCell::new(sink)));
            }
            self.procs.insert(
                key,
                Managed {
                    process: Process::new(&def.name, pc.clone()),
                    stdin: None,
                    drains: Vec::new(),
                    logs,
                    listener: is_listener.then(|| Listener::new(&pc.name)),
                },
            );
            members.push(key);
        }
        let socket = match &def.kind {
            GroupKind::FastCgi { socket } => match crate::fcgi::open(socket) {
                Ok(fd) => {
                    self.log.info(&format!("Creating socket {}", socket.url()));
                    Some((socket.clone(), fd))
                }
                Err(e) => {
                    self.log.critical(&format!(
                        "Could not create FastCGI socket {}: {e}",
                        socket.url()
                    ));
                    None
                }
            },
            _ => None,
        };
        let name = def.name.clone();
        self.groups.push(Group {
            def,
            members,
            socket,
        });
        self.emit(BusEvent::GroupAdded(name));
        self.arm_ticks();
    }

    /// Take a group out (its processes must all be stopped).
    pub(crate) fn remove_group(&mut self, name: &str) {
        let Some(index) = self.groups.iter().position(|g| g.def.name == name) else {
            return;
        };
        let group = self.groups.remove(index);
        self.hub.remove_pool(name);
        for key in &group.members {
            self.procs.remove(key);
        }
        if let Some((socket, fd)) = group.socket {
            self.log.info(&format!("Closing socket {}", socket.url()));
            crate::fcgi::close(&socket, fd);
        }
        self.emit(BusEvent::GroupRemoved(name.to_string()));
        self.arm_ticks();
    }

    fn add_groups(&mut self) {
        let mut defs = self.configured.clone();
        defs.sort_by_key(|d| d.priority);
        for def in defs {
            self.add_group(def);
        }
    }

    /// Run until shutdown or restart; gives back what outlives a restart.
    pub async fn run(mut self, requests: &mut mpsc::Receiver<Request>) -> (Outcome, Kept) {
        let outcome = match self.run_inner(requests).await {
            Ok(outcome) => outcome,
            Err(e) => {
                self.log.critical(&format!("cannot watch signals: {e}"));
                Outcome::Shutdown
            }
        };
        let kept = Kept {
            event_serial: self.hub.last_serial(),
            log: self.log,
        };
        (outcome, kept)
    }

    async fn run_inner(
        &mut self,
        requests: &mut mpsc::Receiver<Request>,
    ) -> std::io::Result<Outcome> {
        // SIGCHLD must be watched before the first child exists.
        let mut sigchld = signal(SignalKind::child())?;
        let mut sigterm = signal(SignalKind::terminate())?;
        let mut sigint = signal(SignalKind::interrupt())?;
        let mut sigquit = signal(SignalKind::quit())?;
        let mut sighup = signal(SignalKind::hangup())?;
        let mut sigusr2 = signal(SignalKind::user_defined2())?;

        let mut output_rx = self
            .output_rx
            .take()
            .unwrap_or_else(|| mpsc::unbounded_channel().1);
        self.add_groups();
        self.emit(BusEvent::SupervisorState(Mood::Running));
        self.autostart();
        // Starting many programs leaves freed transient memory (argv, env
        // copies) in the allocator; give it back so the resident size
        // reflects what the daemon keeps.
        sys::release_free_memory();

        loop {
            if let Some(outcome) = self.finished() {
                return Ok(outcome);
            }
            let wake = self.next_wake().map(|m| self.origin + m);
            tokio::select! {
                biased;
                _ = sigchld.recv() => self.reap(),
                _ = sigterm.recv() => self.request_shutdown("SIGTERM"),
                _ = sigint.recv() => self.request_shutdown("SIGINT"),
                _ = sigquit.recv() => self.request_shutdown("SIGQUIT"),
                _ = sighup.recv() => self.request_restart(),
                _ = sigusr2.recv() => self.reopen_logs(),
                Some(op) = requests.recv() => self.handle(op),
                Some(output) = output_rx.recv() => {
                    self.child_output(output);
                    // Take what else is waiting in one go.
                    while let Ok(more) = output_rx.try_recv() {
                        self.child_output(more);
                    }
                }
                _ = tokio::time::sleep_until(wake.unwrap_or_else(Instant::now)), if wake.is_some() => {
                    self.fire_due();
                }
            }
        }
    }

    fn next_wake(&self) -> Option<Mono> {
        [
            self.deadlines.first().map(|(t, _)| *t),
            self.next_wait_report,
            self.waiters.iter().filter_map(Waiter::next_report).min(),
            self.next_tick,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Every process: groups by ascending priority (stable), processes by
    /// (priority, name) as configured.
    pub(crate) fn keys_in_order(&self) -> Vec<ProcKey> {
        let mut order: Vec<&Group> = self.groups.iter().collect();
        order.sort_by_key(|g| g.def.priority);
        order.iter().flat_map(|g| self.sorted_members(g)).collect()
    }

    /// A group's processes by (priority, name).
    pub(crate) fn sorted_members(&self, group: &Group) -> Vec<ProcKey> {
        let mut members = group.members.clone();
        members.sort_by(|a, b| {
            let pa = &self.procs[a].process.config;
            let pb = &self.procs[b].process.config;
            (pa.priority, &pa.name).cmp(&(pb.priority, &pb.name))
        });
        members
    }

    pub(crate) fn group_of(&self, name: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.def.name == name)
    }

    /// Start every autostart process, groups by ascending priority.
    fn autostart(&mut self) {
        for key in self.keys_in_order() {
            if self
                .procs
                .get(&key)
                .is_some_and(|m| m.process.wants_autostart())
            {
                let _ = self.step(key, Input::Start);
            }
        }
    }

    fn step(&mut self, key: ProcKey, input: Input) -> Result<(), Refused> {
        let now = self.now();
        let autospawn = self.mood == Mood::Running;
        let Some(managed) = self.procs.get_mut(&key) else {
            return Ok(());
        };
        let input_kind = if matches!(input, Input::Exited { .. }) {
            InputKind::Exited
        } else {
            InputKind::Other
        };
        match managed.process.step(input, now, autospawn) {
            Ok(effects) => {
                let changed = effects
                    .iter()
                    .any(|e| matches!(e, Effect::StateChanged { .. }));
                // A listener that ended gives back the event it had not
                // answered; it is requeued once the exit's state changes
                // are out, before any respawn (Supervisor's `finish`).
                let unanswered = match input_kind {
                    InputKind::Exited => managed.listener.as_mut().and_then(Listener::take_event),
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
                    self.spawn(key)
                }
                Effect::Signal { pid, signal } => match sys::send_signal(pid, signal) {
                    Ok(()) => {}
                    Err(Errno::ESRCH) => {
                        if let Some(m) = self.procs.get(&key) {
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
                        let _ = self.step(
                            key,
                            Input::SignalFailed {
                                error: e.desc().to_string(),
                            },
                        );
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
                    if let Some(m) = self.procs.get(&key) {
                        let listener_running = to == State::Running && m.listener.is_some();
                        let pool = m.process.group.clone();
                        self.emit(BusEvent::ProcessState {
                            group: m.process.group.clone(),
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
                    }
                }
            }
        }
        if let Some(queued) = unanswered {
            self.requeue(key, queued);
        }
    }

    fn spawn(&mut self, key: ProcKey) {
        let Some(managed) = self.procs.get_mut(&key) else {
            return;
        };
        let socket = self
            .groups
            .iter()
            .find(|g| g.def.name == managed.process.group)
            .and_then(|g| g.socket.as_ref())
            .map(|(_, fd)| fd);
        let result = spawn::spawn(
            &self.spawn_ctx,
            &managed.process.group,
            &managed.process.config,
            socket,
        );
        match result {
            Ok(child) => {
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
                    .map(|stdin| capture::StdinPipe::new(stdin.into()));
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
                self.pids.insert(child.pid, key);
                let _ = self.step(key, Input::Spawned { pid: child.pid });
            }
            Err(error) => {
                let _ = self.step(key, Input::SpawnFailed { error });
            }
        }
    }

    fn reap(&mut self) {
        for (pid, status) in sys::reap_all() {
            match self.pids.remove(&pid) {
                Some(key) => {
                    if let Some(m) = self.procs.get_mut(&key) {
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
                None => {
                    let (_, msg) = status.decode();
                    self.log.debug(&format!("reaped unknown pid {pid} ({msg})"));
                }
            }
        }
        self.advance_stop();
    }

    fn fire_due(&mut self) {
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
            if self.procs.get(&key).and_then(|m| m.process.deadline()) == Some(at) {
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
    }

    fn reopen_logs(&mut self) {
        self.log
            .info("received SIGUSR2 indicating log reopen request");
        self.log.reopen();
        for m in self.procs.values() {
            m.logs.reopen();
        }
        self.log.info("supervisord logreopen");
    }

    fn request_shutdown(&mut self, signame: &str) {
        self.log
            .warn(&format!("received {signame} indicating exit request"));
        if self.mood == Mood::Shutdown {
            return;
        }
        self.mood = Mood::Shutdown;
        self.begin_stop(None);
    }

    fn request_restart(&mut self) {
        if self.mood == Mood::Shutdown {
            self.log
                .warn("ignored SIGHUP indicating restart request (shutdown in progress)");
            return;
        }
        self.log.warn("received SIGHUP indicating restart request");
        if self.mood == Mood::Restarting {
            return;
        }
        // Read the new configuration before stopping anything: a broken file
        // must not leave the daemon with nothing running.
        match (self.reload)() {
            Ok(config) => {
                self.mood = Mood::Restarting;
                self.begin_stop(Some(Box::new(config)));
            }
            Err(e) => {
                self.log.log(
                    LogLevel::Error,
                    &format!("not restarting: the configuration has errors:\n{e}"),
                );
            }
        }
    }

    /// Stop every group, highest priority number first; groups of equal
    /// priority stop together, and the next priority starts only when the
    /// current one has fully stopped.
    fn begin_stop(&mut self, restart: Option<Box<Config>>) {
        self.emit(BusEvent::SupervisorState(self.mood));
        let mut priorities: Vec<i64> = self.groups.iter().map(|g| g.def.priority).collect();
        priorities.sort_unstable();
        priorities.dedup();
        let waves = priorities
            .into_iter()
            .map(|p| {
                self.groups
                    .iter()
                    .filter(|g| g.def.priority == p)
                    .map(|g| g.def.name.clone())
                    .collect()
            })
            .collect();
        self.stopping = Some(StopPlan { waves, restart });
        self.advance_stop();
        // Supervisor reports at once, then at most every 3 s.
        self.report_waiting();
    }

    /// Supervisor's `stop_all` on one group: stop RUNNING/STARTING, give up
    /// BACKOFF, leave STOPPING to its SIGKILL deadline.
    fn stop_group(&mut self, name: &str) {
        let Some(group) = self.group_of(name) else {
            return;
        };
        let mut members = self.sorted_members(group);
        members.reverse();
        for key in members {
            match self.procs[&key].process.state() {
                State::Running | State::Starting => {
                    let _ = self.step(key, Input::Stop);
                }
                State::Backoff => {
                    let _ = self.step(key, Input::GiveUp);
                }
                _ => {}
            }
        }
    }

    fn group_stopped(&self, name: &str) -> bool {
        self.group_of(name).is_none_or(|g| {
            g.members
                .iter()
                .all(|k| self.procs[k].process.state().is_stopped())
        })
    }

    fn advance_stop(&mut self) {
        loop {
            let Some(plan) = self.stopping.as_mut() else {
                return;
            };
            let Some(wave) = plan.waves.last().cloned() else {
                return;
            };
            for name in &wave {
                self.stop_group(name);
            }
            if wave.iter().all(|name| self.group_stopped(name)) {
                if let Some(plan) = self.stopping.as_mut() {
                    plan.waves.pop();
                }
            } else {
                return;
            }
        }
    }

    fn report_waiting(&mut self) {
        let waiting: Vec<String> = self
            .keys_in_order()
            .into_iter()
            .filter(|k| !self.procs[k].process.state().is_stopped())
            .map(|k| self.procs[&k].process.name().to_string())
            .collect();
        if !waiting.is_empty() {
            self.log
                .info(&format!("waiting for {} to die", waiting.join(", ")));
        }
        self.next_wait_report = Some(self.now().mono + WAIT_REPORT_EVERY);
    }

    fn finished(&mut self) -> Option<Outcome> {
        let plan = self.stopping.as_ref()?;
        if !plan.waves.is_empty() || self.procs.values().any(|m| !m.process.state().is_stopped()) {
            return None;
        }
        let plan = self.stopping.take()?;
        self.fail_waiters();
        for group in &mut self.groups {
            if let Some((socket, fd)) = group.socket.take() {
                self.log.info(&format!("Closing socket {}", socket.url()));
                crate::fcgi::close(&socket, fd);
            }
        }
        Some(match plan.restart {
            Some(config) => Outcome::Restart(config),
            None => Outcome::Shutdown,
        })
    }
}

/// Whether a step was an exit (a listener's unanswered event is then
/// requeued).
enum InputKind {
    Exited,
    Other,
}

/// The event machinery: every bus event also goes to the listener pools.
impl Supervisor {
    /// Publish on the bus and offer the event to every subscribed pool,
    /// then dispatch those pools.
    pub(crate) fn emit(&mut self, event: BusEvent) {
        let core = event.to_event();
        self.bus.publish(event);
        if !self.hub.wants(core.event_type()) {
            return;
        }
        let mut log = Vec::new();
        let takers = self.hub.notify(core, &mut log);
        self.write_logs(log);
        for pool in takers {
            self.dispatch_pool(&pool);
        }
    }

    fn write_logs(&self, log: ev::LogLines) {
        for (level, message) in log {
            self.log.log(level, &message);
        }
    }

    /// Hand a pool's buffered events to its free listeners.
    fn dispatch_pool(&mut self, name: &str) {
        let Some(group) = self.group_of(name) else {
            return;
        };
        let keys = self.sorted_members(group);
        if self.hub.pool(name).is_none_or(|p| p.buffered() == 0) {
            return;
        }
        // Take the listeners out of the table for the duration.
        let mut taken: Vec<(ProcKey, bool, Listener)> = Vec::with_capacity(keys.len());
        for key in &keys {
            if let Some(m) = self.procs.get_mut(key)
                && let Some(listener) = m.listener.take()
            {
                let running = m.process.state() == State::Running;
                taken.push((*key, running, listener));
            }
        }
        let stdins: Vec<Option<mpsc::UnboundedSender<Vec<u8>>>> = taken
            .iter()
            .map(|(key, _, _)| {
                self.procs
                    .get_mut(key)
                    .and_then(|m| m.stdin.as_mut().and_then(capture::StdinPipe::sender))
            })
            .collect();
        let server = self.config.supervisord.identifier.clone();
        let mut log = Vec::new();
        if let Some(pool) = self.hub.pool_mut(name) {
            let mut slots: Vec<(bool, &mut Listener)> = taken
                .iter_mut()
                .map(|(_, running, l)| (*running, l))
                .collect();
            pool.dispatch(
                &server,
                &mut slots,
                |i, bytes| {
                    stdins[i]
                        .as_ref()
                        .is_some_and(|tx| tx.send(bytes.to_vec()).is_ok())
                },
                &mut log,
            );
        }
        for (key, _, listener) in taken {
            if let Some(m) = self.procs.get_mut(&key) {
                m.listener = Some(listener);
            }
        }
        self.write_logs(log);
    }

    /// A listener process ended: the event it had not answered goes back
    /// to the head of its pool.
    fn requeue(&mut self, key: ProcKey, queued: ev::Queued) {
        let Some(m) = self.procs.get(&key) else {
            return;
        };
        let pool = m.process.group.clone();
        let mut log = Vec::new();
        if let Some(p) = self.hub.pool_mut(&pool) {
            p.requeue(queued, &mut log);
        }
        self.write_logs(log);
        self.dispatch_pool(&pool);
    }

    /// What a pipe reader reported.
    fn child_output(&mut self, output: ChildOutput) {
        match output {
            ChildOutput::Reaped { key, status } => {
                let _ = self.step(key, Input::Exited { status });
                self.advance_stop();
            }
            ChildOutput::ListenerBytes { key, data } => {
                let Some(m) = self.procs.get_mut(&key) else {
                    return;
                };
                let pool = m.process.group.clone();
                let Some(listener) = m.listener.as_mut() else {
                    return;
                };
                let mut log = Vec::new();
                let mut actions = Vec::new();
                listener.feed(&data, &mut log, &mut actions);
                if let Some(p) = self.hub.pool_mut(&pool) {
                    for ListenerAction::Requeue(queued) in actions {
                        p.requeue(queued, &mut log);
                    }
                }
                self.write_logs(log);
                self.dispatch_pool(&pool);
            }
            ChildOutput::Log {
                key,
                pid,
                channel,
                data,
            } => self.emit_for(key, |group, name| BusEvent::ProcessLog {
                group,
                name,
                pid,
                channel,
                data,
            }),
            ChildOutput::Communication {
                key,
                pid,
                channel,
                data,
            } => self.emit_for(key, |group, name| BusEvent::ProcessCommunication {
                group,
                name,
                pid,
                channel,
                data,
            }),
        }
    }

    /// Emit the event `make` builds from the group and name of the process
    /// `key`, if it still exists.
    fn emit_for(&mut self, key: ProcKey, make: impl FnOnce(String, String) -> BusEvent) {
        if let Some(m) = self.procs.get(&key) {
            let event = make(m.process.group.clone(), m.process.name().to_string());
            self.emit(event);
        }
    }

    fn wall_now() -> f64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0)
    }

    /// Arm (or disarm) the TICK deadline: only while some pool subscribes
    /// to a TICK type. The first evaluation records the current slices.
    fn arm_ticks(&mut self) {
        if !self.hub.wants_ticks() {
            self.ticks.clear();
            self.next_tick = None;
            return;
        }
        if self.next_tick.is_none() {
            let wall = Self::wall_now();
            let _ = self.ticks.evaluate(wall);
            self.schedule_tick(wall);
        }
    }

    fn schedule_tick(&mut self, wall: f64) {
        let delay = (Ticks::next_due(wall) - wall).max(0.0);
        self.next_tick = Some(self.now().mono + Duration::from_secs_f64(delay));
    }

    /// The TICK deadline passed: emit what is due and arm the next one.
    fn tick(&mut self) {
        self.next_tick = None;
        if !self.hub.wants_ticks() {
            self.ticks.clear();
            return;
        }
        let wall = Self::wall_now();
        for event in self.ticks.evaluate(wall) {
            if let ev::Event::Tick { period, when } = event {
                self.emit(BusEvent::Tick { period, when });
            }
        }
        self.schedule_tick(wall);
    }
}
