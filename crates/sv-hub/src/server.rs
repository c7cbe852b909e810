//! The running hub: open the store, seed the admin (or print a setup
//! token), build the router, serve HTTP, reload on SIGHUP, stop on
//! SIGTERM/SIGINT.
//!
//! The page ([`crate::page`]) is one more router merged beside the API's.
//!
//! The nodes side — the [`Fleet`] poller and the node routes — is started
//! with the store in [`Hub::open`], merged into the one router in
//! [`Hub::router`], and given the new node list in [`Hub::reload`].

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use tokio::net::TcpListener;

use crate::api::accounts::{AccountsState, accounts_router, session};
use crate::api::guard::Peer;
use crate::api::overrides::{OverridesState, overrides_router};
use crate::api::routing;
use crate::auth::activity_log::ActivityLog;
use crate::auth::{AuthSettings, HubAuth, password, token, unix_now};
use crate::config::{self, HubConfig, HubSettings};
use crate::fleet_sync::FleetSync;
use crate::nodes::{Fleet, FleetSettings, NodeSpec};
use crate::store::{Store, StoreError};

/// The store setting holding the generated server secret.
pub const SECRET_SETTING: &str = "secret";

/// Why the hub could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The store could not be opened or migrated.
    #[error("cannot open the database ({database}): {source}")]
    Store {
        /// The database, password hidden.
        database: String,
        /// The cause.
        source: StoreError,
    },
    /// The activity log file cannot be opened for appending.
    #[error("cannot open the activity log {path}: {source}")]
    ActivityLog {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Seeding the admin or the setup token failed.
    #[error("cannot prepare the accounts: {0}")]
    Accounts(String),
    /// The listen address cannot be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// host:port.
        addr: String,
        /// The cause.
        source: std::io::Error,
    },
    /// Serving failed.
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

/// An opened hub: store, authentication, activity log, current config.
#[derive(Clone)]
pub struct Hub {
    /// The configuration in force (replaced at SIGHUP).
    pub config: Arc<Mutex<HubConfig>>,
    /// The store.
    pub store: Store,
    /// The authenticator.
    pub auth: Arc<HubAuth>,
    /// The activity log.
    pub activity: Arc<ActivityLog>,
    /// The one-time setup token, when the store has no user and the
    /// config names no admin.
    pub setup_token: Option<String>,
    /// The poller of every node (config plus overrides), and its cache.
    pub fleet: Fleet,
    /// Keeps `fleet` equal to the config's nodes with the database's
    /// node overrides applied.
    pub sync: Arc<FleetSync>,
    /// The server secret: `[hub] secret`, else generated once and kept in
    /// the store, so every instance and every restart share it (Cesi drew
    /// a new key at each start, D5). For whatever needs to sign or derive
    /// (the nodes side's CSRF tokens, if any); never logged.
    pub secret: String,
}

impl Hub {
    /// Opens the store, the activity log and the accounts for `config`.
    pub async fn open(config: HubConfig) -> Result<Hub, ServeError> {
        let store = Store::open(&config.database)
            .await
            .map_err(|source| ServeError::Store {
                database: config.database.redacted(),
                source,
            })?;
        let activity = ActivityLog::new(store.clone(), config.activity_log.clone());
        activity.touch().map_err(|source| ServeError::ActivityLog {
            path: config.activity_log.clone(),
            source,
        })?;
        let auth = HubAuth::new(store.clone(), AuthSettings::from(&config.hub));
        let setup_token = match &config.admin {
            Some(seed) => {
                seed_admin(&store, &seed.username, &seed.password).await?;
                None
            }
            None => session::ensure_setup_token(&auth)
                .await
                .map_err(|e| ServeError::Accounts(e.to_string()))?,
        };
        let secret = match &config.hub.secret {
            Some(secret) => secret.clone(),
            None => {
                let fresh = token::new_token().map_err(|e| ServeError::Accounts(e.to_string()))?;
                store
                    .init_setting(SECRET_SETTING, &fresh)
                    .await
                    .map_err(|e| ServeError::Accounts(e.to_string()))?
            }
        };
        let sync = FleetSync::start(
            store.clone(),
            node_specs(&config),
            fleet_settings(&config.hub),
        )
        .await
        .map_err(|source| ServeError::Store {
            database: config.database.redacted(),
            source,
        })?;
        let sync = Arc::new(sync);
        Ok(Hub {
            fleet: sync.fleet().clone(),
            sync,
            config: Arc::new(Mutex::new(config)),
            store,
            auth,
            activity,
            setup_token,
            secret,
        })
    }

    fn current(&self) -> HubConfig {
        self.config
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The whole HTTP surface.
    pub fn router(&self) -> Router {
        let config = self.current();
        let mut protected = vec!["admin".to_string()];
        if let Some(seed) = &config.admin {
            protected.push(seed.username.clone());
        }
        let accounts_state = AccountsState {
            auth: self.auth.clone(),
            activity: self.activity.clone(),
            protected_users: Arc::new(protected),
        };
        let accounts = accounts_router(accounts_state.clone());
        let page = crate::page::router(crate::page::PageState {
            auth: self.auth.clone(),
            accounts: accounts_state,
            fleet: self.fleet.clone(),
        });
        let nodes = crate::nodes::routes::router(
            self.fleet.clone(),
            self.auth.clone(),
            self.activity.clone(),
        );
        let overrides = overrides_router(OverridesState {
            auth: self.auth.clone(),
            activity: self.activity.clone(),
            sync: self.sync.clone(),
        });
        let app = accounts.merge(nodes).merge(overrides).merge(page);
        routing::finish(app).layer(middleware::from_fn(peer_from_connect_info))
    }

    /// Re-reads the config file (SIGHUP). Nodes and the activity log path
    /// change; a different `database` is refused with a log line (moving a
    /// live store is a restart); a bad file keeps the old configuration
    /// (Cesi died: D13). Sessions are in the store and are untouched.
    pub fn reload(&self) -> Result<(), config::ConfigError> {
        let path = self.current().file;
        let new = config::load(&path)?;
        let mut current = self.config.lock().unwrap_or_else(|p| p.into_inner());
        if new.database != current.database {
            eprintln!(
                "supervisor-hub: reload: 'database' changed to {}; a restart applies it, still using {}",
                new.database.redacted(),
                current.database.redacted()
            );
        }
        if new.activity_log != current.activity_log {
            self.activity.set_path(new.activity_log.clone());
        }
        self.auth.set_settings(AuthSettings::from(&new.hub));
        // Unchanged nodes keep their cache and connections; the poll
        // interval and deadlines of the running fleet stay until a restart.
        // The overrides last read are applied; the SIGHUP task re-reads them.
        self.sync.set_config(node_specs(&new));
        let mut next = new;
        next.database = current.database.clone();
        *current = next;
        println!(
            "supervisor-hub: configuration reloaded: {} node(s)",
            current.nodes.len()
        );
        Ok(())
    }
}

/// The fleet's view of the configured nodes.
fn node_specs(config: &HubConfig) -> Vec<NodeSpec> {
    config
        .nodes
        .iter()
        .map(|node| {
            let mut spec = NodeSpec::new(&node.name, &node.environment, &node.endpoint)
                .with_credentials(&node.username, &node.password);
            spec.timeout = node.timeout;
            spec
        })
        .collect()
}

/// How the fleet polls, from `[hub]`.
fn fleet_settings(hub: &HubSettings) -> FleetSettings {
    let defaults = FleetSettings::default();
    FleetSettings {
        poll_interval: hub.poll_interval,
        timeout: hub.node_timeout,
        slow_after: hub.node_timeout / 2,
        ..defaults
    }
}

/// Creates the configured admin when absent; an existing account keeps its
/// password (as in Cesi).
async fn seed_admin(store: &Store, username: &str, pass: &str) -> Result<(), ServeError> {
    let fail = |e: String| ServeError::Accounts(e);
    if store
        .user(username)
        .await
        .map_err(|e| fail(e.to_string()))?
        .is_some()
    {
        return Ok(());
    }
    if pass == "admin" {
        eprintln!(
            "supervisor-hub: WARNING: creating user '{username}' with the password 'admin' from the config file. Change it now: supervisor-hub -c FILE user passwd {username}"
        );
    }
    let hash = password::hash_async(pass.to_string())
        .await
        .map_err(|e| fail(e.to_string()))?;
    match store.add_user(username, &hash, 0).await {
        // Another hub instance on the same database was quicker.
        Ok(()) | Err(StoreError::Conflict) => Ok(()),
        Err(e) => Err(fail(e.to_string())),
    }
}

/// Puts the TCP peer into the request as [`Peer`] for the guard and the
/// login throttle.
async fn peer_from_connect_info(mut req: Request, next: Next) -> Response {
    if let Some(ConnectInfo(addr)) = req.extensions().get::<ConnectInfo<SocketAddr>>().copied() {
        req.extensions_mut().insert(Peer(addr));
    }
    next.run(req).await
}

/// Whether `host` is a loopback address (no warning needed).
pub fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Serves `router` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    Ok(())
}

/// Runs the hub for `config` on `host:port` until SIGTERM or SIGINT.
pub async fn run(config: HubConfig, host: &str, port: u16) -> Result<(), ServeError> {
    let hub = Hub::open(config).await?;
    if let Some(token) = &hub.setup_token {
        let target = match host.strip_prefix("unix:") {
            Some(path) => format!("--unix-socket {path} http://localhost"),
            None => format!("http://{host}:{port}"),
        };
        println!(
            "supervisor-hub: no user exists and the config names no admin. Create the first admin with this one-time setup token:\n  curl -X POST -H 'Content-Type: application/json' -d '{{\"token\":\"{token}\",\"username\":\"admin\",\"password\":\"…\"}}' {target}/api/v2/setup/\nor run: supervisor-hub -c FILE user add NAME --role admin"
        );
    }
    let listener = bind(host, port).await?;
    let reloader = hub.clone();
    tokio::spawn(async move {
        let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            eprintln!("supervisor-hub: cannot watch SIGHUP; reload by restarting");
            return;
        };
        while hup.recv().await.is_some() {
            if let Err(e) = reloader.reload() {
                eprintln!(
                    "{e}\nsupervisor-hub: reload refused; keeping the previous configuration"
                );
            }
            if let Err(e) = reloader.sync.reload_overrides().await {
                eprintln!("supervisor-hub: reload: cannot read the node overrides: {e}");
            }
        }
    });
    // Other instances' override changes arrive at the next check.
    let sync = hub.sync.clone();
    let every = hub.current().hub.poll_interval;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            sync.refresh().await;
        }
    });
    let purger = hub.store.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            if let Err(e) = purger.purge_sessions(unix_now()).await {
                eprintln!("supervisor-hub: cannot purge expired sessions: {e}");
            }
        }
    });
    // Answers under way finish, but a connection that never ends — a
    // page's live stream — is not waited for beyond SHUTDOWN_GRACE.
    let (stopping, stopped) = tokio::sync::watch::channel(false);
    let signal = async move {
        shutdown_signal().await;
        let _ = stopping.send(true);
    };
    let grace = async move {
        let mut stopped = stopped;
        let _ = stopped.wait_for(|s| *s).await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    match listener {
        Bound::Tcp(listener) => tokio::select! {
            served = serve(listener, hub.router(), signal) => served,
            () = grace => Ok(()),
        },
        Bound::Unix(listener, path) => {
            let served = axum::serve(listener, hub.router().into_make_service())
                .with_graceful_shutdown(signal);
            let result = tokio::select! {
                served = served => served.map_err(ServeError::from),
                () = grace => Ok(()),
            };
            let _ = std::fs::remove_file(path);
            result
        }
    }
}

/// How long, after SIGTERM, connections still open (live streams) are
/// given before the hub exits anyway.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// A bound listening socket.
enum Bound {
    Tcp(TcpListener),
    Unix(tokio::net::UnixListener, PathBuf),
}

/// Binds `host:port`, or the unix socket of `--host unix:/path` (the
/// port is then ignored; a stale socket file nobody answers on is
/// replaced, a live one is an error).
async fn bind(host: &str, port: u16) -> Result<Bound, ServeError> {
    if let Some(path) = host.strip_prefix("unix:") {
        let path = PathBuf::from(path);
        let fail = |source| ServeError::Bind {
            addr: host.to_string(),
            source,
        };
        if path.exists() {
            if std::os::unix::net::UnixStream::connect(&path).is_ok() {
                return Err(fail(std::io::Error::new(
                    std::io::ErrorKind::AddrInUse,
                    "another process answers on this socket",
                )));
            }
            std::fs::remove_file(&path).map_err(fail)?;
        }
        let listener = tokio::net::UnixListener::bind(&path).map_err(fail)?;
        println!("supervisor-hub: serving on unix:{}", path.display());
        return Ok(Bound::Unix(listener, path));
    }
    if !is_loopback(host) {
        eprintln!(
            "supervisor-hub: WARNING: listening on {host}, beyond this machine; put TLS in front (a reverse proxy) and set cookie_secure = true in [hub]"
        );
    }
    let addr = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let listener = TcpListener::bind(&addr)
        .await
        .map_err(|source| ServeError::Bind {
            addr: addr.clone(),
            source,
        })?;
    let local = listener.local_addr()?;
    println!("supervisor-hub: serving on http://{local}");
    Ok(Bound::Tcp(listener))
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        // Without handlers the default dispositions still stop the process.
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    println!("supervisor-hub: shutting down");
}
