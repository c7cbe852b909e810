//! `ready_when` in the actor (docs/readiness.md): a notify child's socket
//! before its spawn, its probe after, what probes and sockets report
//! (turned into the state machine's `Ready`, `Watchdog`, `Status` inputs),
//! and the clean-up when a child leaves STARTING or ends. The probes
//! themselves live in [`crate::readiness`], off the actor.

use std::sync::Arc;

use sv_core::config::{ProcessConfig, ReadyWhen};
use sv_core::process::{Input, State};

use super::Supervisor;
use super::table::ProcKey;
use crate::readiness::{Message, Report};

impl Supervisor {
    /// The config to spawn `key` with: for a notify child, its own socket in
    /// `NOTIFY_SOCKET` (and `WATCHDOG_USEC` with `watchdog_secs`, as systemd
    /// sets it). `Err` is the spawn error when the socket cannot be made.
    pub(super) fn spawn_config(
        &mut self,
        key: ProcKey,
        config: &Arc<ProcessConfig>,
    ) -> Result<Arc<ProcessConfig>, String> {
        let Some(readiness) = &config.readiness else {
            return Ok(config.clone());
        };
        if readiness.ready_when != Some(ReadyWhen::Notify) {
            return Ok(config.clone());
        }
        let path = self
            .readiness
            .open_socket(key, config.uid)
            .map_err(|e| format!("cannot make its NOTIFY_SOCKET: {e}"))?;
        let mut with_socket = (**config).clone();
        with_socket
            .environment
            .push(("NOTIFY_SOCKET".into(), path.display().to_string()));
        if let Some(secs) = readiness.watchdog_secs {
            with_socket
                .environment
                .push(("WATCHDOG_USEC".into(), (secs * 1_000_000).to_string()));
        }
        Ok(Arc::new(with_socket))
    }

    /// `key`'s child was spawned with `pid`: start what tells when it is ready.
    pub(super) fn start_readiness(&mut self, key: ProcKey, pid: u32) {
        let Some(m) = self.table.get(key) else {
            return;
        };
        let Some(how) = m
            .process
            .config
            .readiness
            .as_ref()
            .and_then(|r| r.ready_when.clone())
        else {
            return;
        };
        let env = match how {
            ReadyWhen::Exec { .. } => {
                crate::spawn::environment(&self.spawn_ctx, &m.process.group, &m.process.config)
            }
            _ => Vec::new(),
        };
        let logs = [false, true]
            .into_iter()
            .filter_map(|stderr| m.log_path(stderr))
            .collect();
        self.readiness.start(key, pid, &how, env, logs);
    }

    /// After a state change: a probe is needed only in STARTING, a socket
    /// only while a child lives.
    pub(super) fn readiness_changed(&mut self, key: ProcKey, from: State, to: State) {
        if matches!(
            to,
            State::Stopped | State::Exited | State::Backoff | State::Fatal
        ) {
            self.readiness.forget(key);
        } else if from == State::Starting {
            self.readiness.stop_probe(key);
        }
    }

    /// What a probe or a child's notify socket said.
    pub(super) fn readiness_report(&mut self, message: Message) {
        let Message { key, pid, report } = message;
        let Some(p) = self.table.process(key) else {
            return;
        };
        // About an earlier child of this process: too late to matter.
        if p.pid() != pid || pid == 0 {
            return;
        }
        let name = p.name().to_string();
        match report {
            Report::Ready => {
                self.log.debug(&format!("{name} is ready"));
                let _ = self.step(key, Input::Ready);
            }
            Report::Watchdog => {
                let _ = self.step(key, Input::Watchdog);
            }
            Report::Status(text) => {
                self.log.debug(&format!("{name} status: {text}"));
                let _ = self.step(key, Input::Status { text });
            }
            Report::Stopping => self.log.info(&format!("{name} notified STOPPING=1")),
            Report::MainPid(main) => self.log.info(&format!(
                "{name} notified MAINPID={main}; supervisord keeps watching pid {pid}, the process it started"
            )),
            Report::Foreign(sender) => self.log.warn(&format!(
                "ignored a notify message for {name} from pid {sender}, which is not in its process tree"
            )),
        }
    }
}
