//! The supervisor actor: the one task that owns every process.
//!
//! Transports (RPC, web) send it [`Op`]s; it answers each on the operation's
//! own channel and publishes what happens on the [`Bus`]. Its rooms:
//!
//! * [`actor`](self::actor): the loop (`select!` over signals, child exits,
//!   requests, pipe output and its one deadline), stepping the pure state
//!   machine (`sv_core::process`) and carrying out its effects;
//! * [`table`](self::table): the process table (keys, pids; no panicking
//!   lookups);
//! * [`groups`](self::groups): configured and active groups, fcgi sockets,
//!   process orders; [`childlogs`](self::childlogs): child log files made
//!   when Supervisor makes them (first spawn; AUTO on idle turns);
//! * [`ops`](self::ops): the operations and their checks; [`waiters`]: calls
//!   answered later (`wait=true`); [`info`](self::info): the records
//!   reported; [`error`](self::error): [`OpError`], the one fault mapping;
//! * [`order`](self::order): the start order and the stop waves, each
//!   from one sort key; [`boot`](self::boot): the autostart wave, in
//!   batches between requests; [`stopping`](self::stopping): shutdown and
//!   restart waves;
//! * [`dependencies`](self::dependencies) and [`ready`](self::ready):
//!   `depends_on` (holding, releasing, failing, stopping dependents) and
//!   `ready_when` (notify sockets, probes, their reports);
//! * [`event_glue`](self::event_glue) and [`bus`](self::bus): the bus,
//!   listener pools, pipe output, ticks.

use std::time::{SystemTime, UNIX_EPOCH};

use sv_api::SupervisorState;
use sv_core::config::{Config, LoadError};
use sv_core::events::{Hub, Ticks};
use sv_core::process::{Mono, Now};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::capture::ChildOutput;
use crate::mainlog::MainLog;
use crate::spawn::SpawnContext;
use crate::spawner::{OsSpawner, Spawner};

mod actor;
mod boot;
mod bus;
mod childlogs;
mod dependencies;
mod error;
mod event_glue;
mod groups;
mod info;
mod ops;
mod order;
mod ready;
mod stopping;
mod table;
#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;
mod waiters;

pub use bus::{Bus, BusEvent};
pub use error::OpError;
pub use info::local_time;
pub use ops::{DaemonInfo, Op, Reply, Selected};
pub use table::ProcKey;
pub use waiters::Waiter;

pub(crate) use groups::{Group, GroupDef, Groups};
pub(crate) use table::ProcTable;

/// Re-reads the configuration (SIGHUP, `reloadConfig`, `restart`).
pub type Reload = Box<dyn Fn() -> Result<Config, LoadError>>;

/// Why the actor returned.
#[derive(Debug)]
pub enum Outcome {
    /// Everything is stopped; exit.
    Shutdown,
    /// Everything is stopped; start again with this configuration.
    Restart(Box<Config>),
}

/// What outlives a SIGHUP restart: the main log, and the events' global
/// serial (Supervisor's is a module-level counter, so it keeps counting
/// while the pools and their serials start over).
pub struct Kept {
    pub log: MainLog,
    pub event_serial: Option<u64>,
}

/// Wall-clock seconds since the epoch (injected so tests can fix it).
pub type WallClock = fn() -> f64;

fn system_wall_clock() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// How the actor meets the outside world: who starts children, whether it
/// listens to supervisord's signals, which wall clock it reads. The
/// default is the real daemon's.
pub struct Seams {
    pub spawner: Box<dyn Spawner>,
    /// Act on SIGTERM/SIGINT/SIGQUIT/SIGHUP/SIGUSR2 (the binary does; an
    /// embedded daemon is stopped through its shutdown future instead).
    pub os_signals: bool,
    pub wall_clock: WallClock,
    /// Where to record the live children for the next daemon (beside the
    /// pidfile; see [`crate::leftovers`]); `None` records nothing.
    pub children_file: Option<std::path::PathBuf>,
    /// Told once the boot wave (every autostart start) has been issued:
    /// supervisord's report to systemd counts from there (see
    /// [`crate::sdnotify`]).
    pub booted: Option<mpsc::UnboundedSender<()>>,
}

impl Default for Seams {
    fn default() -> Self {
        Seams {
            spawner: Box::new(OsSpawner),
            os_signals: true,
            wall_clock: system_wall_clock,
            children_file: None,
            booted: None,
        }
    }
}

/// The daemon's state and its loop.
pub struct Supervisor {
    config: Config,
    /// The groups as last read (at start or by `reloadConfig`); an active
    /// group shares its definition with this list.
    configured: Vec<std::sync::Arc<GroupDef>>,
    log: MainLog,
    origin: Instant,
    mood: SupervisorState,
    /// Active groups by name (each knows when it was added: ties of
    /// priority keep that order).
    groups: Groups,
    table: ProcTable,
    /// How many processes are not stopped (kept by `step`).
    live: usize,
    /// The autostart processes boot has not started yet.
    boot_wave: Option<boot::BootWave>,
    /// Processes whose AUTO log files are still to be created.
    pending_auto_logs: childlogs::PendingAutoLogs,
    deadlines: std::collections::BTreeSet<(Mono, ProcKey)>,
    spawn_ctx: SpawnContext,
    spawner: Box<dyn Spawner>,
    os_signals: bool,
    wall_clock: WallClock,
    bus: Bus,
    stopping: Option<stopping::StopPlan>,
    /// When the next "waiting for … to die" line may be written.
    next_wait_report: Option<Mono>,
    /// RPC calls waiting for a process to reach a state.
    waiters: waiters::Waiters,
    reload: Reload,
    /// Event listener pools, their buffers and the serials.
    hub: Hub,
    /// TICK slices, evaluated only while some pool subscribes to TICK.
    ticks: Ticks,
    /// When the next TICK slice starts, if some pool wants TICKs.
    next_tick: Option<Mono>,
    /// What the pipe readers report (events, listener answers).
    output_tx: mpsc::UnboundedSender<ChildOutput>,
    output_rx: Option<mpsc::UnboundedReceiver<ChildOutput>>,
    /// The last `kill` that failed for a reason other than ESRCH, for the
    /// operation that sent it to answer FAILED (the state is left alone).
    signal_error: Option<String>,
    /// Records the live children for a daemon started after this one dies.
    recorder: Option<crate::leftovers::Recorder>,
    /// When the children's record is next rewritten (changes coalesce).
    record_due: Option<Mono>,
    /// Told when the boot wave has been issued (see [`Seams::booted`]).
    booted: Option<mpsc::UnboundedSender<()>>,
    /// `depends_on` over the active groups.
    deps: dependencies::DepIndex,
    /// `ready_when` probes and notify sockets.
    readiness: crate::readiness::Readiness,
    readiness_rx: Option<mpsc::Receiver<crate::readiness::Message>>,
}

impl Supervisor {
    /// The real daemon's actor (real children, supervisord's signals).
    pub fn new(
        config: Config,
        kept: Kept,
        spawn_ctx: SpawnContext,
        bus: Bus,
        reload: Reload,
    ) -> Self {
        Self::with_seams(config, kept, spawn_ctx, bus, reload, Seams::default())
    }

    pub fn with_seams(
        mut config: Config,
        kept: Kept,
        spawn_ctx: SpawnContext,
        bus: Bus,
        reload: Reload,
        seams: Seams,
    ) -> Self {
        let configured = GroupDef::from_config(std::mem::take(&mut config.groups));
        let (output_tx, output_rx) = mpsc::unbounded_channel();
        let Kept { log, event_serial } = kept;
        let (readiness, readiness_rx) = crate::readiness::Readiness::new();
        Supervisor {
            config,
            configured,
            log,
            origin: Instant::now(),
            mood: SupervisorState::Running,
            groups: Groups::default(),
            table: ProcTable::default(),
            live: 0,
            boot_wave: None,
            pending_auto_logs: childlogs::PendingAutoLogs::default(),
            deadlines: std::collections::BTreeSet::new(),
            spawn_ctx,
            spawner: seams.spawner,
            os_signals: seams.os_signals,
            wall_clock: seams.wall_clock,
            bus,
            stopping: None,
            next_wait_report: None,
            waiters: waiters::Waiters::default(),
            reload,
            hub: Hub::continuing(event_serial),
            ticks: Ticks::new(),
            next_tick: None,
            output_tx,
            output_rx: Some(output_rx),
            signal_error: None,
            recorder: seams.children_file.map(crate::leftovers::Recorder::new),
            record_due: None,
            booted: seams.booted,
            deps: dependencies::DepIndex::default(),
            readiness,
            readiness_rx: Some(readiness_rx),
        }
    }

    fn now(&self) -> Now {
        Now {
            mono: self.origin.elapsed(),
            wall: self.wall_now() as i64,
        }
    }

    fn wall_now(&self) -> f64 {
        (self.wall_clock)()
    }
}
