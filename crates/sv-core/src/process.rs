//! The process state machine: Supervisor's `Subprocess` life cycle as a
//! pure function of (state, input, time) → effects.
//!
//! The daemon owns the processes and carries out the [`Effect`]s: it spawns,
//! signals, arms the one deadline each process may have, writes the log
//! lines and publishes the state changes. It feeds back what happened as
//! [`Input`]s (the spawn's pid or error, the exit status from `waitpid`, a
//! deadline firing). Nothing here sleeps, reads a clock or touches a pid.
//!
//! The rules are Supervisor 4.3's (`process.py`: `spawn`, `transition`,
//! `finish`, `kill`, `give_up`, `change_state`), with one deliberate
//! difference in timing only: what Supervisor checks once per second in its
//! main loop happens here at the exact deadline, and an exit is handled as
//! soon as it is reaped.

use std::sync::Arc;
use std::time::Duration;

use crate::config::datatypes::signal_name;
use crate::config::{AutoRestart, LogLevel, ProcessConfig};

/// Monotonic time, measured from an origin the daemon chooses.
pub type Mono = Duration;

/// The moment an input happens: monotonic for deadlines, wall clock (Unix
/// seconds) for what the wire reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    /// Monotonic time, for deadlines.
    pub mono: Mono,
    /// Unix seconds, for `start`/`stop`/`now` on the wire.
    pub wall: i64,
}

/// Supervisor's process states. The machine's state is the wire's
/// [`sv_api::ProcessState`] itself — codes, names and the RUNNING / STOPPED /
/// SIGNALLABLE sets are defined once, there — while the data a state carries
/// (pid, deadline, backoff, the stop in progress) lives in [`Process`].
pub use sv_api::ProcessState as State;

/// How a child ended, as `waitpid` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// It called `exit` with this code.
    Exited(i32),
    /// A signal ended it.
    Signaled {
        /// The signal's number.
        signal: i32,
        /// Whether it left a core file.
        core_dumped: bool,
    },
}

impl ExitStatus {
    /// Supervisor's `decode_wait_status`: the exit status (`-1` for a
    /// signal) and the text of its log lines.
    pub fn decode(self) -> (i32, String) {
        match self {
            ExitStatus::Exited(code) => (code, format!("exit status {code}")),
            ExitStatus::Signaled {
                signal,
                core_dumped,
            } => {
                let core = if core_dumped { " (core dumped)" } else { "" };
                (
                    -1,
                    format!("terminated by {}{core}", signal_display(signal)),
                )
            }
        }
    }
}

/// `SIGTERM`, or `signal 40` for numbers without a name, as Supervisor
/// writes them.
pub fn signal_display(signal: i32) -> String {
    match signal_name(signal) {
        Some(name) => format!("SIG{name}"),
        None => format!("signal {signal}"),
    }
}

/// What happens to a process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Start it (an operator's start, autostart, or autorestart).
    Start,
    /// The spawn asked for by [`Effect::Spawn`] succeeded.
    Spawned {
        /// The child's pid.
        pid: u32,
    },
    /// The spawn failed before a child existed; the message is
    /// Supervisor's `spawnerr`.
    SpawnFailed {
        /// Why, as Supervisor words it.
        error: String,
    },
    /// The child was reaped.
    Exited {
        /// How it ended.
        status: ExitStatus,
    },
    /// The process's deadline (see [`Process::deadline`]) has passed.
    Deadline,
    /// An operator's stop.
    Stop,
    /// Shutdown found it in BACKOFF: give up (→ FATAL).
    GiveUp,
    /// Send a signal without changing state (`signalProcess`).
    Signal {
        /// The signal's number.
        signal: i32,
    },
    /// A signal could not be delivered for a reason other than "no such
    /// process" (e.g. EPERM). Logged; the state does not change.
    SignalFailed {
        /// `kill`'s error text.
        error: String,
    },
    /// A held process's dependencies are all ready: spawn it now
    /// (see [`Process::hold`]).
    Release,
    /// A held process's dependency failed (FATAL): it does not start.
    DependencyFailed {
        /// Why, shown as its `spawnerr` (and so its description).
        error: String,
    },
    /// The readiness probe succeeded (`ready_when`), or the child sent
    /// `READY=1`.
    Ready,
    /// The child sent `WATCHDOG=1`: it is alive.
    Watchdog,
    /// The child sent `STATUS=…` (shown in its description).
    Status {
        /// The text, already bounded by the daemon.
        text: String,
    },
}

/// What the daemon must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Fork and exec the process now, then feed back `Spawned` or
    /// `SpawnFailed`.
    Spawn,
    /// `kill(pid, signal)`; `pid` is negative to signal the process group.
    Signal {
        /// The pid, or minus the process group.
        pid: i32,
        /// The signal's number.
        signal: i32,
    },
    /// Wake this process with [`Input::Deadline`] at this time (replacing
    /// any earlier deadline).
    ArmDeadline(Mono),
    /// A main-log line.
    Log {
        /// The line's level.
        level: LogLevel,
        /// The line's text.
        message: String,
    },
    /// The state changed; listeners, the web page and metrics hear of it.
    StateChanged {
        /// The state it left.
        from: State,
        /// The state it entered.
        to: State,
        /// For EXITED: whether the exit code was expected.
        expected: bool,
        /// The backoff counter at the change (events' `tries`).
        tries: u32,
        /// The pid at the change (events' `pid`): an exit's STOPPED or
        /// EXITED still carries the pid of the child that just ended.
        pid: u32,
    },
}

/// Why an input was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// The input makes no sense in this state; nothing was changed.
    #[error("{process}: cannot {input} in state {state}")]
    IllegalTransition {
        /// The process's name.
        process: String,
        /// The state it is in.
        state: &'static str,
        /// What was asked of it.
        input: &'static str,
    },
    /// `kill()` on a process without a pid (Supervisor's message).
    #[error("{0}")]
    NotRunning(String),
}

/// One supervised process: its configuration and its life so far.
#[derive(Debug, Clone)]
pub struct Process {
    /// Shared with the daemon's record of the configuration (for reread's
    /// comparison and `getAllConfigInfo`), never copied per process.
    pub config: Arc<ProcessConfig>,
    /// The group it belongs to (its namespec is `group:name`); one
    /// allocation shared by the group's processes and the daemon's index of
    /// groups.
    pub group: Arc<str>,
    state: State,
    pid: u32,
    /// Monotonic time of the last spawn; `None` until the first.
    laststart: Option<Mono>,
    /// Wall-clock seconds of the last spawn (0 = never).
    pub laststart_wall: i64,
    /// Wall-clock seconds of the last exit (0 = never).
    pub laststop_wall: i64,
    /// Consecutive failed starts (Supervisor's `backoff`).
    backoff: u32,
    /// The one pending deadline: startsecs in STARTING, the retry time in
    /// BACKOFF, the SIGKILL time in STOPPING.
    deadline: Option<Mono>,
    /// A stop signal was sent; the next exit is a stop, not a crash.
    killing: bool,
    exitstatus: Option<i32>,
    /// Boxed text (no spare capacity): a `Process` is kept per program.
    spawnerr: Option<Box<str>>,
    /// Stopped by an operator (not by itself or by giving up).
    pub administrative_stop: bool,
    /// Readiness and dependencies (docs/readiness.md); all `false`/`None`
    /// for a process without our options.
    readiness: readiness::ReadinessState,
}

impl Process {
    /// A process of `group` that has never run (STOPPED).
    pub fn new(group: impl Into<Arc<str>>, config: impl Into<Arc<ProcessConfig>>) -> Self {
        Process {
            config: config.into(),
            group: group.into(),
            state: State::Stopped,
            pid: 0,
            laststart: None,
            laststart_wall: 0,
            laststop_wall: 0,
            backoff: 0,
            deadline: None,
            killing: false,
            exitstatus: None,
            spawnerr: None,
            administrative_stop: false,
            readiness: readiness::ReadinessState::default(),
        }
    }

    /// The process's name in its group.
    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// `group:name`, or `name` when the group has the process's name.
    pub fn namespec(&self) -> String {
        sv_api::make_namespec(&self.group, &self.config.name)
    }

    /// Where it is in its life cycle.
    pub fn state(&self) -> State {
        self.state
    }

    /// The child's pid, 0 when there is none.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The one pending deadline, if any (see [`Input::Deadline`]).
    pub fn deadline(&self) -> Option<Mono> {
        self.deadline
    }

    /// Consecutive failed starts so far.
    pub fn backoff(&self) -> u32 {
        self.backoff
    }

    /// The last exit status (`-1` for a signal), if it has exited.
    pub fn exitstatus(&self) -> Option<i32> {
        self.exitstatus
    }

    /// Why the last spawn failed, if it did.
    pub fn spawnerr(&self) -> Option<&str> {
        self.spawnerr.as_deref()
    }

    /// Supervisor's text for a signal `kill` refused with `error`: a stop's
    /// ("unknown problem killing …") or another signal's ("… sending sig …").
    /// The log line and the FAILED fault both carry it.
    pub fn signal_problem(&self, error: &str) -> String {
        let what = if self.killing {
            "killing"
        } else {
            "sending sig"
        };
        format!(
            "unknown problem {what} {} ({}):{error}",
            self.name(),
            self.pid
        )
    }

    /// Whether the daemon may start it automatically now: never started and
    /// `autostart` (Supervisor: STOPPED and `laststart == 0`).
    pub fn wants_autostart(&self) -> bool {
        self.state == State::Stopped && self.laststart.is_none() && self.config.autostart
    }

    /// Apply one input. `autospawn` is false while the daemon shuts down or
    /// restarts: then nothing is started automatically (operators' starts
    /// are refused by the daemon before they get here).
    pub fn step(
        &mut self,
        input: Input,
        now: Now,
        autospawn: bool,
    ) -> Result<Vec<Effect>, Refused> {
        let mut fx = Vec::new();
        match input {
            Input::Start => self.start(now, &mut fx)?,
            Input::Spawned { pid } => {
                self.expect(&[State::Starting], "record a spawn")?;
                if self.pid != 0 {
                    return Err(Refused::IllegalTransition {
                        process: self.namespec(),
                        state: self.state.name(),
                        input: "record a second spawn",
                    });
                }
                self.pid = pid;
                self.log(
                    &mut fx,
                    LogLevel::Info,
                    format!("spawned: '{}' with pid {pid}", self.name()),
                );
                self.readiness.waiting_for = self.ready_when().map(Into::into);
                let startsecs = Duration::from_secs(self.config.startsecs.max(0) as u64);
                self.arm(now.mono + startsecs, &mut fx);
            }
            Input::SpawnFailed { error } => {
                self.expect(&[State::Starting], "record a spawn error")?;
                if self.pid != 0 {
                    return Err(Refused::IllegalTransition {
                        process: self.namespec(),
                        state: self.state.name(),
                        input: "record a spawn error after a spawn",
                    });
                }
                self.log(&mut fx, LogLevel::Info, format!("spawnerr: {error}"));
                self.spawnerr = Some(error.into());
                self.enter_backoff(now, &mut fx);
            }
            Input::Exited { status } => self.finish(status, now, autospawn, &mut fx)?,
            Input::Deadline => self.deadline_passed(now, autospawn, &mut fx),
            Input::Stop => self.stop(now, &mut fx)?,
            Input::GiveUp => {
                self.expect(&[State::Backoff], "give up")?;
                self.give_up(&mut fx);
            }
            Input::Signal { signal } => {
                if self.pid == 0 || !self.state.is_signallable() {
                    return Err(Refused::NotRunning(format!(
                        "attempted to send {} sig {} but it wasn't running",
                        self.name(),
                        signal_display(signal)
                    )));
                }
                self.log(
                    &mut fx,
                    LogLevel::Debug,
                    format!(
                        "sending {} (pid {}) sig {}",
                        self.name(),
                        self.pid,
                        signal_display(signal)
                    ),
                );
                fx.push(Effect::Signal {
                    pid: self.pid as i32,
                    signal,
                });
            }
            Input::Release => self.release(now, &mut fx),
            Input::DependencyFailed { error } => self.dependency_failed(error, &mut fx),
            Input::Ready => self.ready(now, &mut fx),
            Input::Watchdog => self.watchdog(now, &mut fx),
            Input::Status { text } => self.readiness.status = Some(text.into()),
            Input::SignalFailed { error } => {
                // Supervisor moves the process to UNKNOWN and forgets its
                // pid, which orphans a live child and breaks stop and start.
                // We only report it: the state, the pid and a stop's SIGKILL
                // deadline stand, so the daemon keeps trying to end it.
                let message = self.signal_problem(&error);
                self.log(&mut fx, LogLevel::Critical, message);
            }
        }
        Ok(fx)
    }

    fn expect(&self, states: &[State], input: &'static str) -> Result<(), Refused> {
        if states.contains(&self.state) {
            Ok(())
        } else {
            Err(Refused::IllegalTransition {
                process: self.namespec(),
                state: self.state.name(),
                input,
            })
        }
    }

    fn log(&self, fx: &mut Vec<Effect>, level: LogLevel, message: String) {
        fx.push(Effect::Log { level, message });
    }

    fn arm(&mut self, at: Mono, fx: &mut Vec<Effect>) {
        self.deadline = Some(at);
        fx.push(Effect::ArmDeadline(at));
    }

    fn change_state(&mut self, to: State, expected: bool, fx: &mut Vec<Effect>) {
        let from = self.state;
        if from == to {
            return;
        }
        self.state = to;
        fx.push(Effect::StateChanged {
            from,
            to,
            expected,
            tries: self.backoff,
            pid: self.pid,
        });
    }

    fn start(&mut self, now: Now, fx: &mut Vec<Effect>) -> Result<(), Refused> {
        if self.pid != 0 {
            self.log(
                fx,
                LogLevel::Warn,
                format!("process '{}' already running", self.name()),
            );
            return Ok(());
        }
        self.expect(
            &[State::Exited, State::Fatal, State::Backoff, State::Stopped],
            "start",
        )?;
        self.killing = false;
        self.spawnerr = None;
        self.exitstatus = None;
        self.administrative_stop = false;
        self.laststart = Some(now.mono);
        self.laststart_wall = now.wall;
        self.deadline = None;
        self.readiness = readiness::ReadinessState::default();
        self.change_state(State::Starting, true, fx);
        fx.push(Effect::Spawn);
        Ok(())
    }

    fn enter_backoff(&mut self, now: Now, fx: &mut Vec<Effect>) {
        self.backoff += 1;
        self.change_state(State::Backoff, true, fx);
        if self.backoff as i64 > self.config.startretries {
            // Supervisor gives up on its next loop turn; nothing can happen
            // in between, so give up now.
            self.give_up(fx);
            let message = format!(
                "gave up: {} entered FATAL state, too many start retries too quickly",
                self.name()
            );
            self.log(fx, LogLevel::Info, message);
        } else {
            // Supervisor retries once `now > delay`, delay = now + backoff.
            self.arm(now.mono + Duration::from_secs(u64::from(self.backoff)), fx);
        }
    }

    fn give_up(&mut self, fx: &mut Vec<Effect>) {
        self.deadline = None;
        self.backoff = 0;
        self.change_state(State::Fatal, true, fx);
    }

    fn stop(&mut self, now: Now, fx: &mut Vec<Effect>) -> Result<(), Refused> {
        if self.readiness.held {
            self.administrative_stop = true;
            self.unhold(State::Stopped, fx);
            return Ok(());
        }
        if self.state == State::Stopping {
            // Already on its way down; the SIGKILL deadline stands.
            return Ok(());
        }
        self.administrative_stop = true;
        self.kill(self.config.stopsignal, now, fx)
    }

    /// Supervisor's `kill(sig)`: the first stop signal or the SIGKILL.
    fn kill(&mut self, signal: i32, now: Now, fx: &mut Vec<Effect>) -> Result<(), Refused> {
        if self.state == State::Backoff {
            self.log(
                fx,
                LogLevel::Debug,
                format!(
                    "Attempted to kill {}, which is in BACKOFF state.",
                    self.name()
                ),
            );
            self.deadline = None;
            self.change_state(State::Stopped, true, fx);
            return Ok(());
        }
        if self.pid == 0 {
            let message = format!(
                "attempted to kill {} with sig {} but it wasn't running",
                self.name(),
                signal_display(signal)
            );
            self.log(fx, LogLevel::Debug, message.clone());
            return Err(Refused::NotRunning(message));
        }
        self.expect(&[State::Running, State::Starting, State::Stopping], "stop")?;
        let as_group = if self.state == State::Stopping {
            self.config.killasgroup
        } else {
            self.config.stopasgroup
        };
        self.log(
            fx,
            LogLevel::Debug,
            format!(
                "killing {} (pid {}) {}with signal {}",
                self.name(),
                self.pid,
                if as_group { "process group " } else { "" },
                signal_display(signal)
            ),
        );
        self.killing = true;
        let stopwait = Duration::from_secs(self.config.stopwaitsecs.max(0) as u64);
        self.arm(now.mono + stopwait, fx);
        self.change_state(State::Stopping, true, fx);
        let pid = self.pid as i32;
        fx.push(Effect::Signal {
            pid: if as_group { -pid } else { pid },
            signal,
        });
        Ok(())
    }

    fn deadline_passed(&mut self, now: Now, autospawn: bool, fx: &mut Vec<Effect>) {
        match self.deadline {
            Some(at) if at <= now.mono => {}
            // Stale or early: nothing is due.
            _ => return,
        }
        self.deadline = None;
        match self.state {
            State::Starting => {
                if self.awaits_readiness() {
                    self.readiness_deadline(now, fx);
                } else {
                    self.enter_running(now, fx);
                }
            }
            State::Running => self.watchdog_missed(now, fx),
            // BACKOFF → STARTING: the retry (never while shutting down).
            State::Backoff if autospawn => {
                let _ = self.start(now, fx);
            }
            State::Stopping => {
                self.log(
                    fx,
                    LogLevel::Warn,
                    format!("killing '{}' ({}) with SIGKILL", self.name(), self.pid),
                );
                // SIGKILL again every stopwaitsecs until it dies.
                let _ = self.kill(9, now, fx);
            }
            _ => {}
        }
    }

    /// Supervisor's `finish()`: the child was reaped.
    fn finish(
        &mut self,
        status: ExitStatus,
        now: Now,
        autospawn: bool,
        fx: &mut Vec<Effect>,
    ) -> Result<(), Refused> {
        if self.pid == 0 {
            return Err(Refused::IllegalTransition {
                process: self.namespec(),
                state: self.state.name(),
                input: "record an exit",
            });
        }
        let (es, msg) = status.decode();
        self.laststop_wall = now.wall;
        let startsecs = Duration::from_secs(self.config.startsecs.max(0) as u64);
        let too_quickly = self
            .laststart
            .is_some_and(|start| now.mono.saturating_sub(start) < startsecs);
        let exit_expected = self.config.exitcodes.contains(&es);
        let not_ready = self.awaits_readiness();
        self.deadline = None;
        // As in Supervisor, the pid is cleared only after the state-change
        // events, which report the pid of the child that just ended.
        if self.killing && self.readiness.failed_start {
            // Stopped because it was not ready in time: a failed start.
            self.killing = false;
            self.readiness.failed_start = false;
            self.pid = 0;
            self.exitstatus = None;
            self.log(
                fx,
                LogLevel::Info,
                format!("stopped: {} ({msg})", self.name()),
            );
            self.enter_backoff(now, fx);
        } else if self.killing {
            self.killing = false;
            self.exitstatus = Some(es);
            self.change_state(State::Stopped, true, fx);
            self.pid = 0;
            let level = if exit_expected {
                LogLevel::Info
            } else {
                LogLevel::Warn
            };
            self.log(fx, level, format!("stopped: {} ({msg})", self.name()));
            if std::mem::take(&mut self.readiness.watchdog_restart) && autospawn {
                self.start(now, fx)?;
            }
        } else if (too_quickly || not_ready) && self.state == State::Starting {
            self.pid = 0;
            self.exitstatus = None;
            self.spawnerr = Some(if too_quickly {
                "Exited too quickly (process log may have details)".into()
            } else {
                "Exited before it was ready (process log may have details)".into()
            });
            self.log(
                fx,
                LogLevel::Warn,
                format!("exited: {} ({msg}; not expected)", self.name()),
            );
            self.enter_backoff(now, fx);
        } else {
            self.backoff = 0;
            self.exitstatus = Some(es);
            if self.state == State::Starting {
                // Reaped after startsecs but before the RUNNING deadline ran.
                self.change_state(State::Running, true, fx);
            }
            if exit_expected {
                self.log(
                    fx,
                    LogLevel::Info,
                    format!("exited: {} ({msg}; expected)", self.name()),
                );
            } else {
                self.spawnerr = Some(format!("Bad exit code {es}").into());
                self.log(
                    fx,
                    LogLevel::Warn,
                    format!("exited: {} ({msg}; not expected)", self.name()),
                );
            }
            self.change_state(State::Exited, exit_expected, fx);
            self.pid = 0;
            let restart = match self.config.autorestart {
                AutoRestart::Always => true,
                AutoRestart::Unexpected => !exit_expected,
                AutoRestart::Never => false,
            };
            if restart && autospawn {
                // EXITED → STARTING at once: no polling tick.
                self.start(now, fx)?;
            }
        }
        Ok(())
    }
}

mod readiness;
#[cfg(test)]
mod tests;
