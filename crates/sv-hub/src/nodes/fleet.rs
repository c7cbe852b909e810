//! The [`Fleet`]: every configured node, each polled by its own task, its
//! last answer cached as a [`Snapshot`] that requests read without ever
//! waiting on the node.
//!
//! * One `sv_client::Client` per node, with the node's deadline (2 s by
//!   default) on every poll: a hung or blackholed node costs its own task
//!   that long, never anybody else (spec D1).
//! * A poll is one `getAllProcessInfo` (the probe and the list at once;
//!   Cesi makes 4 calls per node per overview — D10).
//! * A failing node is polled again after an exponentially growing wait
//!   (the poll interval doubled per failure, at most `max_backoff`).
//! * Nodes that serve our live stream are also followed (`follow.rs`):
//!   each change there triggers a poll at once.
//! * Changes of health or processes are broadcast as [`FleetEvent`]s for
//!   the hub's own live stream.

use std::sync::{Arc, Mutex, PoisonError, RwLock, Weak};
use std::time::Duration;

use jiff::tz::TimeZone;
use sv_api::ProcessInfo;
use sv_client::Client;
use tokio::sync::{Notify, broadcast, watch};
use tokio::task::AbortHandle;
use tokio::time::Instant;

use super::health::{Health, classify};
use super::history::{History, Transition};
use super::process::{parse_list, process_json};
use super::render::{node_object, piece};
use super::spec::{FleetSettings, NodeSpec};

/// How many fleet events a slow subscriber may fall behind before it is
/// told to resync.
const EVENT_BUFFER: usize = 1024;
/// A request finding a node down re-checks it only if the last check is
/// older than this (so a dashboard hammering a dead node does not turn
/// into a connection storm).
const RECHECK_AFTER: Duration = Duration::from_secs(1);

/// What the hub last learnt about one node.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The last poll's verdict.
    pub health: Health,
    /// The processes of the last successful poll (kept while the node is
    /// down, with [`Snapshot::fresh`] telling their age).
    pub processes: Arc<Vec<ProcessInfo>>,
    /// Cesi's node object for the current health, serialized.
    pub json: Arc<str>,
    /// When the last poll finished.
    pub checked: Option<Instant>,
    /// When the last successful poll finished.
    pub fresh: Option<Instant>,
    /// How long the last successful poll took.
    pub latency: Option<Duration>,
    /// Why the last poll failed (never contains credentials).
    pub error: Option<String>,
    /// Polls failed in a row.
    pub failures: u32,
    /// Process entries of the last poll that did not parse (skipped).
    pub skipped: usize,
    /// Whether the node's live stream is being followed.
    pub push: bool,
}

/// A change of one node, for the hub's live stream.
#[derive(Debug, Clone)]
pub enum FleetEvent {
    /// The node's health or processes changed; `json` is its new Cesi
    /// node object.
    Node {
        name: String,
        environment: String,
        health: Health,
        json: Arc<str>,
    },
    /// The node list was replaced (SIGHUP): reload everything.
    Resync,
}

/// What every node's tasks share.
struct Shared {
    settings: FleetSettings,
    tz: TimeZone,
    events: broadcast::Sender<FleetEvent>,
}

/// One configured node and its cache.
pub struct Node {
    spec: NodeSpec,
    /// The client, or why none could be made (an unsupported URL).
    client: Result<Client, String>,
    shared: Arc<Shared>,
    state: watch::Sender<Snapshot>,
    /// One poll at a time per node; a refresh waits for a poll under way
    /// and then polls again, so it sees every change made before it.
    polling: tokio::sync::Mutex<()>,
    /// Wakes the poll task early (a live-stream event, a refresh).
    kick: Arc<Notify>,
    tasks: Mutex<Vec<AbortHandle>>,
    /// Observed state changes of its processes (`history.rs`).
    history: Mutex<History>,
}

impl Drop for Node {
    fn drop(&mut self) {
        for task in self
            .tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
        {
            task.abort();
        }
    }
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("spec", &self.spec)
            .finish_non_exhaustive()
    }
}

impl Node {
    fn new(spec: NodeSpec, shared: Arc<Shared>) -> Node {
        let timeout = spec.timeout.unwrap_or(shared.settings.timeout);
        let client = Client::new(
            &spec.url,
            spec.username.as_deref(),
            spec.password.as_deref(),
        )
        .map(|c| c.with_deadline(Some(timeout)))
        .map_err(|e| classify(&e).1);
        let json: Arc<str> = node_object(&spec.name, &spec.environment, false, &[]).into();
        let (state, _) = watch::channel(Snapshot {
            health: Health::Pending,
            processes: Arc::new(Vec::new()),
            json,
            checked: None,
            fresh: None,
            latency: None,
            error: None,
            failures: 0,
            skipped: 0,
            push: false,
        });
        Node {
            spec,
            client,
            shared,
            state,
            polling: tokio::sync::Mutex::new(()),
            kick: Arc::new(Notify::new()),
            tasks: Mutex::new(Vec::new()),
            history: Mutex::new(History::default()),
        }
    }

    /// The node's configuration.
    pub fn spec(&self) -> &NodeSpec {
        &self.spec
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// Its environment.
    pub fn environment(&self) -> &str {
        &self.spec.environment
    }

    /// What the hub knows now (never waits on the node).
    pub fn snapshot(&self) -> Snapshot {
        self.state.borrow().clone()
    }

    /// The client for state changes: the fleet's action deadline.
    pub fn action_client(&self) -> Result<Client, String> {
        self.client
            .as_ref()
            .map(|c| c.with_deadline(Some(self.shared.settings.action_timeout)))
            .map_err(Clone::clone)
    }

    /// The client with the node's poll deadline (also for follow-up reads).
    pub fn client(&self) -> Result<Client, String> {
        self.client.clone()
    }

    /// The snapshot once the node has been polled at least once, waiting
    /// at most the node's deadline (only right after start or a reload).
    pub async fn settled(&self) -> Snapshot {
        // The usual case, without a timer per node per request.
        let now = self.snapshot();
        if now.health != Health::Pending {
            return now;
        }
        let mut rx = self.state.subscribe();
        let limit = self.spec.timeout.unwrap_or(self.shared.settings.timeout);
        let _ = tokio::time::timeout(limit, rx.wait_for(|s| s.health != Health::Pending)).await;
        self.snapshot()
    }

    /// Whether the node answers: the cache says so, or — when the cache
    /// says no and is older than a second — a poll now says so.
    pub async fn is_connected(&self) -> bool {
        let snap = self.settled().await;
        if snap.health.connected() {
            return true;
        }
        if snap.checked.is_some_and(|at| at.elapsed() < RECHECK_AFTER) {
            return false;
        }
        // A poll under way answers for us: wait for it rather than make
        // a second one (a hung node would cost its deadline twice).
        match self.polling.try_lock() {
            Ok(free) => {
                drop(free);
                self.poll().await.health.connected()
            }
            Err(_) => {
                drop(self.polling.lock().await);
                self.snapshot().health.connected()
            }
        }
    }

    /// Poll now and return the new snapshot (after a state change made
    /// through the hub, so its answer shows the change).
    pub async fn poll(&self) -> Snapshot {
        let _one = self.polling.lock().await;
        let started = Instant::now();
        let outcome = match &self.client {
            Ok(client) => client
                .call("supervisor.getAllProcessInfo", Vec::new())
                .await
                .map_err(|e| classify(&e))
                .and_then(|v| parse_list(&v).map_err(|m| (Health::NotSupervisor, m))),
            Err(why) => Err((Health::Unreachable, why.clone())),
        };
        let took = started.elapsed();
        let old = self.snapshot();
        let mut new = old.clone();
        new.checked = Some(Instant::now());
        match outcome {
            Ok((processes, skipped)) => {
                new.health = Health::answered(took, self.shared.settings.slow_after);
                new.fresh = new.checked;
                new.latency = Some(took);
                new.error = None;
                new.failures = 0;
                new.skipped = skipped;
                let pieces: Vec<String> = processes
                    .iter()
                    .map(|p| piece(&process_json(p, &self.shared.tz)))
                    .collect();
                new.json = node_object(self.name(), self.environment(), true, &pieces).into();
                if old.fresh.is_none() || !same_processes(&old.processes, &processes) {
                    let now = jiff::Timestamp::now().as_second();
                    self.history
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .observe(&old.processes, &processes, now);
                }
                new.processes = Arc::new(processes);
            }
            Err((health, message)) => {
                new.health = health;
                new.error = Some(message);
                new.failures = old.failures.saturating_add(1);
                new.json = node_object(self.name(), self.environment(), false, &[]).into();
            }
        }
        let changed = old.health.connected() != new.health.connected()
            || old.health != new.health
            || !same_processes(&old.processes, &new.processes);
        self.state.send_replace(new.clone());
        if old.health != new.health {
            log_health(self.name(), new.health, new.error.as_deref());
        }
        if changed {
            let _ = self.shared.events.send(FleetEvent::Node {
                name: self.spec.name.clone(),
                environment: self.spec.environment.clone(),
                health: new.health,
                json: Arc::clone(&new.json),
            });
        }
        new
    }

    /// Wait before the next background poll: the interval while healthy,
    /// doubled per failure (capped) while not.
    fn next_delay(&self) -> Duration {
        let settings = &self.shared.settings;
        let interval = self.spec.poll_interval.unwrap_or(settings.poll_interval);
        let failures = self.state.borrow().failures;
        if failures == 0 {
            return interval;
        }
        let factor = 1u32 << failures.min(16);
        interval
            .saturating_mul(factor / 2)
            .max(interval)
            .min(settings.max_backoff.max(interval))
    }

    /// The observed state changes of `group:name`, oldest first.
    pub fn history(&self, namespec: &str) -> Vec<Transition> {
        self.history
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .of(namespec)
    }

    /// Ask the poll task to poll now.
    pub fn kick(&self) {
        self.kick.notify_one();
    }

    pub(super) fn set_push(&self, push: bool) {
        self.state.send_if_modified(|s| {
            let changed = s.push != push;
            s.push = push;
            changed
        });
    }

    pub(super) fn settings(&self) -> &FleetSettings {
        &self.shared.settings
    }
}

/// One line on stderr when a node's health changes, with the reason
/// (Cesi answers 500 and logs nothing — spec D2). Never has credentials:
/// error texts come from [`classify`], which leaves URLs out.
fn log_health(name: &str, health: Health, error: Option<&str>) {
    match error {
        Some(why) => eprintln!(
            "supervisor-hub: node '{name}' is {}: {why}",
            health.as_str()
        ),
        None => eprintln!("supervisor-hub: node '{name}' is {}", health.as_str()),
    }
}

/// Whether two process lists differ in anything but the clock.
fn same_processes(a: &[ProcessInfo], b: &[ProcessInfo]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.name == y.name
                && x.group == y.group
                && x.state == y.state
                && x.pid == y.pid
                && x.start == y.start
                && x.stop == y.stop
                && x.spawnerr == y.spawnerr
                && x.exitstatus == y.exitstatus
        })
}

/// A fixed fraction of `interval` for the node `name` (FNV-1a of the
/// name): the first wait after the first poll is longer by it, so a
/// thousand nodes started together are polled spread over the interval
/// instead of all at once.
fn phase(name: &str, interval: Duration) -> Duration {
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    interval.mul_f64((hash % 1000) as f64 / 1000.0)
}

/// The background poll loop of one node; ends when the node is dropped.
async fn poll_loop(node: Weak<Node>) {
    let mut first = true;
    loop {
        let Some(n) = node.upgrade() else { return };
        n.poll().await;
        let mut delay = n.next_delay();
        if std::mem::take(&mut first) {
            delay += phase(n.name(), delay);
        }
        // Hold only the wake-up while waiting, not the node: a node
        // dropped with its fleet must be free to go (its `Drop` ends this
        // task).
        let kick = Arc::clone(&n.kick);
        drop(n);
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = kick.notified() => {}
        }
    }
}

/// The handle on every node. Cheap to clone.
#[derive(Clone)]
pub struct Fleet {
    shared: Arc<Shared>,
    nodes: Arc<RwLock<Arc<Vec<Arc<Node>>>>>,
}

impl std::fmt::Debug for Fleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet")
            .field("nodes", &self.nodes().len())
            .finish()
    }
}

impl Fleet {
    /// Start polling `specs` (in config order). Must run inside a tokio
    /// runtime: each node gets its own tasks.
    pub fn start(specs: Vec<NodeSpec>, settings: FleetSettings) -> Fleet {
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let shared = Arc::new(Shared {
            settings,
            tz: TimeZone::system(),
            events,
        });
        let fleet = Fleet {
            shared,
            nodes: Arc::new(RwLock::new(Arc::new(Vec::new()))),
        };
        fleet.replace(specs);
        fleet
    }

    /// Replace the node list (SIGHUP). Nodes whose spec is unchanged keep
    /// their cache and tasks; removed ones stop being polled.
    pub fn replace(&self, specs: Vec<NodeSpec>) {
        let old = self.nodes();
        let mut next = Vec::with_capacity(specs.len());
        for spec in specs {
            let kept = old
                .iter()
                .find(|n| n.spec == spec && !next.iter().any(|k: &Arc<Node>| Arc::ptr_eq(k, n)));
            match kept {
                Some(node) => next.push(Arc::clone(node)),
                None => next.push(self.spawn_node(spec)),
            }
        }
        for node in old.iter() {
            if !next.iter().any(|n| Arc::ptr_eq(n, node)) {
                for task in node
                    .tasks
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .drain(..)
                {
                    task.abort();
                }
            }
        }
        *self.nodes.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(next);
        let _ = self.shared.events.send(FleetEvent::Resync);
    }

    fn spawn_node(&self, spec: NodeSpec) -> Arc<Node> {
        let node = Arc::new(Node::new(spec, Arc::clone(&self.shared)));
        let mut tasks = vec![tokio::spawn(poll_loop(Arc::downgrade(&node))).abort_handle()];
        if self.shared.settings.follow_events && node.client.is_ok() {
            tasks.push(
                tokio::spawn(super::follow::follow_loop(Arc::downgrade(&node))).abort_handle(),
            );
        }
        *node.tasks.lock().unwrap_or_else(PoisonError::into_inner) = tasks;
        node
    }

    /// Stop every node's tasks (the hub is shutting down).
    pub fn shutdown(&self) {
        self.replace(Vec::new());
    }

    /// Every node, in config order.
    pub fn nodes(&self) -> Arc<Vec<Arc<Node>>> {
        Arc::clone(&self.nodes.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// The first node called `name` (Cesi does not check uniqueness and
    /// finds the first).
    pub fn node(&self, name: &str) -> Option<Arc<Node>> {
        self.nodes().iter().find(|n| n.spec.name == name).cloned()
    }

    /// Wait (at most the longest node deadline) until every node has been
    /// polled once; only matters right after start.
    pub async fn settled(&self) {
        let nodes = self.nodes();
        futures_util::future::join_all(nodes.iter().map(|n| n.settled())).await;
    }

    /// Subscribe to node changes.
    pub fn subscribe(&self) -> broadcast::Receiver<FleetEvent> {
        self.shared.events.subscribe()
    }

    /// The settings the fleet runs with.
    pub fn settings(&self) -> &FleetSettings {
        &self.shared.settings
    }

    /// The time zone `_hr` fields are written in.
    pub fn time_zone(&self) -> &TimeZone {
        &self.shared.tz
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_dead_node_is_marked_and_backs_off() {
        let dir = std::env::temp_dir().join(format!("svhub-fleet-{}", std::process::id()));
        let spec = NodeSpec::new(
            "gone",
            "prod",
            &format!("unix://{}/nosuch.sock", dir.display()),
        );
        let fleet = Fleet::start(vec![spec], FleetSettings::default());
        let node = fleet.node("gone").expect("configured");
        let snap = node.settled().await;
        assert_eq!(snap.health, Health::Unreachable);
        assert!(snap.json.contains("\"connected\":false"));
        assert!(node.next_delay() >= fleet.settings().poll_interval);
        let second = node.poll().await;
        assert!(second.failures >= 2);
        assert!(node.next_delay() >= fleet.settings().poll_interval * 2);
        assert!(fleet.node("other").is_none());
        let interval = Duration::from_secs(2);
        assert!(phase("gone", interval) < interval);
        assert_ne!(phase("node0001", interval), phase("node0002", interval));
        fleet.shutdown();
        assert!(fleet.nodes().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn dropping_the_fleet_frees_its_nodes() {
        let spec = NodeSpec::new("gone", "prod", "unix:///nonexistent/sv.sock");
        let fleet = Fleet::start(vec![spec], FleetSettings::default());
        let node = fleet.node("gone").expect("configured");
        node.settled().await;
        let weak = Arc::downgrade(&node);
        drop(node);
        drop(fleet);
        // Let the poll task reach its wait (it holds no node there).
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(weak.upgrade().is_none());
    }
}
