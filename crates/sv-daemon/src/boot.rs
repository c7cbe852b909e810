//! Bringing supervisord up and down (Supervisor's start-up sequence, spec
//! §3.1): privileges, resource limits, the main log, AUTO log clean-up,
//! daemonizing — all before the runtime exists, since forking a threaded
//! process is unsafe — then the pidfile, the actor on a single-threaded
//! runtime, and the clean-up at exit. SIGHUP restarts come back here with
//! the new configuration and run the actor again, without re-daemonizing.

use std::process::ExitCode;

use sv_core::config::{CliOverrides, Config};

use crate::capture;
use crate::mainlog::MainLog;
use crate::run::{ROOT_WARNING, Setup, log_parse_messages, log_server_lines, serve};
use crate::supervisor::Seams;
use crate::sys;

/// A start-up failure: printed like a usage error, exit status 2. Each
/// message is Supervisor's.
#[derive(Debug, thiserror::Error)]
pub enum BootError {
    /// Privileges or resource limits could not be set.
    #[error(transparent)]
    System(#[from] sys::SysError),
    /// A FastCGI group's socket cannot be created.
    #[error("Could not create FastCGI socket {url}: {error}")]
    FastCgi {
        /// The socket as configured (`tcp://…`, `unix://…`).
        url: String,
        /// Why it failed.
        error: std::io::Error,
    },
    /// An HTTP server's socket cannot be bound.
    #[error(transparent)]
    Bind(#[from] crate::http::BindError),
    /// The main log cannot be opened.
    #[error(transparent)]
    MainLog(#[from] crate::mainlog::OpenError),
    /// The async runtime cannot be built.
    #[error("cannot start the runtime: {0}")]
    Runtime(std::io::Error),
}

/// Run supervisord with a loaded configuration until it is told to stop.
/// `overrides` are kept to re-read the file (`config.config_file`) on SIGHUP.
pub fn run(config: Config, overrides: CliOverrides) -> Result<ExitCode, BootError> {
    sys::mark_inherited_fds_cloexec();
    let mut infos: Vec<String> = Vec::new();
    let running_as_root = sys::euid() == 0;
    if let Some(uid) = config.supervisord.uid {
        match sys::drop_privileges(uid) {
            Ok(true) => infos.push(format!("Set uid to user {uid} succeeded")),
            Ok(false) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let (limit_infos, limits) =
        sys::raise_rlimits(config.supervisord.minfds, config.supervisord.minprocs)?;
    infos.extend(limit_infos);

    // Supervisor creates and closes each FastCGI socket once at start-up, so
    // a bad address is a start-up error rather than a FATAL group later.
    for group in &config.groups {
        if let sv_core::config::GroupKind::FastCgi { socket } = &group.kind {
            let fd = crate::fcgi::open(socket).map_err(|error| BootError::FastCgi {
                url: socket.url(),
                error,
            })?;
            crate::fcgi::close(socket, fd);
        }
    }

    let servers = crate::http::bind_all(&config.servers)?;

    let mut log = match MainLog::open(&config.supervisord) {
        Ok(log) => log,
        Err(e) => {
            crate::http::remove_sockets(&servers);
            return Err(e.into());
        }
    };
    if running_as_root && config.supervisord.uid.is_none() {
        log.critical(ROOT_WARNING);
    }
    log_parse_messages(&mut log, &config, &infos);
    if let Ok((soft, hard)) = sys::own_nofile()
        && let Some(warning) = crate::fd_budget::warning(&config.groups, soft, hard)
    {
        log.warn(&warning);
    }
    let main_interface = !config.rpcinterfaces.is_empty();
    log_server_lines(&log, &config, &servers, main_interface);
    if !config.supervisord.nocleanup {
        for warning in capture::clean_auto_logs(
            &config.supervisord.childlogdir,
            &config.supervisord.identifier,
        ) {
            log.warn(&warning);
        }
    }

    if !config.supervisord.nodaemon {
        log.info("daemonizing the supervisord process");
        let umask = config.supervisord.umask;
        if let Some((ok, message)) = sys::daemonize(config.supervisord.directory.as_deref(), umask)
        {
            if ok {
                log.info(&message);
            } else {
                log.critical(&message);
            }
        }
    }

    let pidfile = config.supervisord.pidfile.clone();
    let wrote_pidfile = match std::fs::write(&pidfile, format!("{}\n", std::process::id())) {
        Ok(()) => {
            log.info(&format!(
                "supervisord started with pid {}",
                std::process::id()
            ));
            true
        }
        Err(_) => {
            log.critical(&format!("could not write pidfile {pidfile}"));
            false
        }
    };

    // Children a killed predecessor left running are stopped before we
    // start our own copies (see `leftovers`).
    let children_file = crate::leftovers::state_path(&pidfile);
    crate::leftovers::stop_leftovers(&children_file, &log);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(BootError::Runtime)?;
    let setup = Setup {
        log,
        overrides,
        base_env: crate::run::environment(),
        limits,
        main_interface,
        seams: Box::new(move || Seams {
            children_file: Some(children_file.clone()),
            ..Seams::default()
        }),
    };
    // The binary stops on SIGTERM/SIGINT/SIGQUIT (the actor watches them)
    // or `supervisor.shutdown`; it needs no other shutdown future.
    let _log = runtime.block_on(serve(config, &servers, std::future::pending(), setup));
    drop(runtime);
    crate::http::remove_sockets(&servers);
    if wrote_pidfile {
        let _ = std::fs::remove_file(&pidfile);
    }
    // Every child is stopped: nothing is left for a next daemon to stop.
    let _ = std::fs::remove_file(crate::leftovers::state_path(&pidfile));
    Ok(ExitCode::SUCCESS)
}
