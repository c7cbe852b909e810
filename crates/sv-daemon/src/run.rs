//! The daemon in-process, in the shape of mini-redis's `server::run`:
//! [`run`] takes a loaded configuration, the already-bound servers
//! ([`http::bind_all`](crate::http::bind_all)'s output) and a shutdown
//! future, serves RPC and the web page, supervises the programs, and
//! returns once everything is stopped. Restarts (SIGHUP,
//! `supervisor.restart`) happen inside: the servers keep serving while the
//! actor starts again with the new configuration.
//!
//! The binary ([`boot`](crate::boot)) calls [`serve`] with supervisord's
//! start-up state (the main log it already opened, the command line to
//! re-read the file with, its signals); tests and embedders call [`run`].

use std::future::Future;
use std::rc::Rc;

use futures_util::FutureExt;
use sv_core::config::{CliOverrides, Config};
use tokio::sync::{mpsc, oneshot};

use crate::capture;
use crate::http::Server;
use crate::mainlog::MainLog;
use crate::rpc::Dispatcher;
use crate::sdnotify::{self, Notifier};
use crate::spawn::SpawnContext;
use crate::supervisor::{Bus, Kept, Op, Outcome, Seams, Supervisor};
use crate::sys::{self, ChildLimits};
use sv_host::SystemHost;

/// Why the daemon could not run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The main log named by `[supervisord] logfile` cannot be opened.
    #[error(transparent)]
    MainLog(#[from] crate::mainlog::OpenError),
    #[error("cannot read resource limits: {0}")]
    Limits(#[from] sys::SysError),
}

/// Everything [`serve`] needs besides the configuration and the servers.
pub struct Setup {
    /// supervisord's own log, already open.
    pub log: MainLog,
    /// The command-line overrides to re-read `config.config_file` with.
    pub overrides: CliOverrides,
    /// The environment children inherit.
    pub base_env: Vec<(String, String)>,
    /// The limits children get back (the daemon raises its own).
    pub limits: ChildLimits,
    /// Whether `[rpcinterface:supervisor]` is configured.
    pub main_interface: bool,
    /// Real or fake children, signals, clock; built afresh for each
    /// (re)start of the actor.
    pub seams: Box<dyn Fn() -> Seams>,
    /// systemd's notification socket, when systemd started us
    /// (`NOTIFY_SOCKET`; see [`crate::sdnotify`]).
    pub notify: Option<Rc<Notifier>>,
}

impl Setup {
    /// An embedded daemon's setup: the main log as configured, no command
    /// line, this process's environment and limits, real children, and no
    /// signal handlers (it stops when its shutdown future completes).
    pub fn embedded(config: &Config) -> Result<Setup, RunError> {
        Ok(Setup {
            log: MainLog::open(&config.supervisord)?,
            overrides: CliOverrides::default(),
            base_env: environment(),
            limits: sys::child_limits()?,
            main_interface: !config.rpcinterfaces.is_empty(),
            seams: Box::new(|| Seams {
                os_signals: false,
                ..Seams::default()
            }),
            notify: None,
        })
    }
}

/// This process's environment, as children inherit it.
pub fn environment() -> Vec<(String, String)> {
    std::env::vars_os()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        })
        .collect()
}

/// Run a daemon for `config` on the bound `servers` until `shutdown`
/// completes (or a client calls `supervisor.shutdown`), then stop every
/// process and return.
pub async fn run(
    config: Config,
    servers: &[Server],
    shutdown: impl Future<Output = ()>,
) -> Result<(), RunError> {
    let setup = Setup::embedded(&config)?;
    serve(config, servers, shutdown, setup).await;
    Ok(())
}

/// [`run`] with an explicit [`Setup`]; gives back the main log.
pub async fn serve(
    config: Config,
    servers: &[Server],
    shutdown: impl Future<Output = ()>,
    setup: Setup,
) -> MainLog {
    // The actor and its pipe readers share `Rc`s: they live on one thread.
    let local = tokio::task::LocalSet::new();
    local
        .run_until(serve_locally(config, servers, shutdown, setup))
        .await
}

async fn serve_locally(
    config: Config,
    servers: &[Server],
    shutdown: impl Future<Output = ()>,
    setup: Setup,
) -> MainLog {
    let Setup {
        mut log,
        overrides,
        base_env,
        limits,
        main_interface,
        seams,
        notify,
    } = setup;
    let bus = Bus::new();
    // One request channel for the daemon's life: the servers keep serving
    // across restarts.
    let (requests_tx, mut requests_rx) = mpsc::channel(256);
    let dispatcher = Dispatcher::new(requests_tx.clone(), main_interface);
    let mut drain = crate::http::Drain::default();
    for server in servers {
        if let Err(e) = crate::http::spawn(server, dispatcher.clone(), bus.clone(), &drain) {
            log.critical(&format!("cannot serve [{}]: {e}", server.section));
        }
    }
    // supervisord's report to systemd: subscribed before the first actor
    // runs, so it sees every boot.
    let booted_tx = notify.as_ref().map(|notifier| {
        let (booted_tx, booted_rx) = mpsc::unbounded_channel();
        tokio::task::spawn_local(sdnotify::reporter::run(
            notifier.clone(),
            bus.subscribe(),
            requests_tx.clone(),
            booted_rx,
        ));
        booted_tx
    });
    let shutdown = async move {
        shutdown.await;
        let (reply, answered) = oneshot::channel();
        if requests_tx.send(Op::Shutdown(reply)).await.is_ok() {
            let _ = answered.await;
        }
    };
    // Fused: once spent it stays pending while the actor finishes.
    let mut shutdown = std::pin::pin!(shutdown.fuse());
    let mut shutdown_asked = false;
    let mut config = config;
    let mut event_serial = None;
    loop {
        let spawn_ctx = SpawnContext {
            base_env: base_env.clone(),
            server_url: config.serverurl.clone(),
            limits,
        };
        let file = config.config_file.clone();
        let cli = overrides.clone();
        let reload = Box::new(move || sv_core::config::load(&SystemHost, &file, &cli));
        let kept = Kept { log, event_serial };
        let mut seams = seams();
        seams.booted = booted_tx.clone();
        let supervisor =
            Supervisor::with_seams(config, kept, spawn_ctx, bus.clone(), reload, seams);
        let (outcome, kept) = {
            // On shutdown the actor answers until the servers have drained.
            let actor = supervisor.run_draining(&mut requests_rx, drain.finish());
            let mut actor = std::pin::pin!(actor);
            loop {
                tokio::select! {
                    done = &mut actor => break done,
                    // Once asked, the shutdown future is spent: only the
                    // actor is left to finish.
                    () = &mut shutdown => shutdown_asked = true,
                }
            }
        };
        log = kept.log;
        event_serial = kept.event_serial;
        // The reporter says these as soon as the bus does; when the actor
        // had nothing to stop it may not have run yet (each is said once).
        if let Some(notifier) = &notify {
            match &outcome {
                Outcome::Restart(_) if !shutdown_asked => notifier.reloading(),
                _ => notifier.stopping(),
            }
        }
        let new_config = match outcome {
            Outcome::Restart(new_config) if !shutdown_asked => new_config,
            // Shutdown, or asked to stop while restarting (the actor
            // refused the shutdown then): do not start again. Answers under
            // way (`supervisor.shutdown`'s own among them) reach their
            // clients before the runtime goes.
            Outcome::Restart(_) | Outcome::Shutdown => {
                drain.finish().await;
                return log;
            }
        };
        // The new configuration's log settings apply from here on.
        if let Ok(new_log) = MainLog::open(&new_config.supervisord) {
            log = new_log;
        }
        // Supervisor runs its whole start-up again on a restart (the log,
        // the servers, the pidfile), so its lines come again: a log
        // reader sees each restart begin as the first start did.
        if sys::euid() == 0 && new_config.supervisord.uid.is_none() {
            log.critical(ROOT_WARNING);
        }
        log_parse_messages(&mut log, &new_config, &[]);
        if !new_config.supervisord.nocleanup {
            for warning in capture::clean_auto_logs(
                &new_config.supervisord.childlogdir,
                &new_config.supervisord.identifier,
            ) {
                log.warn(&warning);
            }
        }
        log_server_lines(&log, &new_config, servers, main_interface);
        log.info(&format!(
            "supervisord started with pid {}",
            std::process::id()
        ));
        config = *new_config;
    }
}

/// Supervisor's start-up complaint about running as root without `user=`.
pub(crate) const ROOT_WARNING: &str = "Supervisor is running as root.  Privileges were not dropped because no user is specified in the config file.  If you intend to run as root, you can set user=root in the config file to avoid this message.";

/// The start-up lines about the servers: Supervisor's "RPC interface …
/// initialized" and "running without any HTTP authentication checking"
/// for each, then our warning for an inet server reachable beyond the
/// loopback.
pub(crate) fn log_server_lines(
    log: &MainLog,
    config: &Config,
    servers: &[Server],
    main_interface: bool,
) {
    for server in servers {
        if main_interface {
            log.info("RPC interface 'supervisor' initialized");
        }
        if server.credentials.is_none() {
            log.critical(&format!(
                "Server '{}' running without any HTTP authentication checking",
                server.section
            ));
        }
    }
    for warning in config
        .servers
        .iter()
        .filter_map(crate::http::exposure_warning)
    {
        log.warn(&warning);
    }
}

/// The configuration's own warnings and infos, then `extra_infos`.
pub(crate) fn log_parse_messages(log: &mut MainLog, config: &Config, extra_infos: &[String]) {
    for warning in &config.warnings {
        log.warn(warning);
    }
    for info in config.infos.iter().chain(extra_infos) {
        log.info(info);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sv_core::config::CliOverrides;

    use sv_host::SystemHost;

    /// The in-process daemon with a real child: it starts the program,
    /// and when the shutdown future completes it stops it and returns.
    #[test]
    fn run_supervises_until_its_shutdown_future_completes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let conf = dir.path().join("supervisord.conf");
        let d = dir.path().display();
        std::fs::write(
            &conf,
            format!(
                "[supervisord]\nlogfile={d}/main.log\npidfile={d}/s.pid\nchildlogdir={d}\n\n\
                 [program:sleeper]\ncommand=/bin/sleep 30\nstartsecs=0\nstdout_logfile=NONE\nstderr_logfile=NONE\n"
            ),
        )
        .expect("write config");
        let config = sv_core::config::load(
            &SystemHost,
            &conf.display().to_string(),
            &CliOverrides::default(),
        )
        .expect("config");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime
            .block_on(async {
                let shutdown = tokio::time::sleep(Duration::from_millis(300));
                super::run(config, &[], shutdown).await
            })
            .expect("run");
        let log = std::fs::read_to_string(dir.path().join("main.log")).unwrap_or_default();
        assert!(log.contains("spawned: 'sleeper' with pid"), "{log}");
        assert!(
            log.contains("success: sleeper entered RUNNING state"),
            "{log}"
        );
        assert!(
            log.contains("stopped: sleeper (terminated by SIGTERM)"),
            "{log}"
        );
    }
}
