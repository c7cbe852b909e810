//! Start-up: the groups are added, SUPERVISOR_STATE_CHANGE_RUNNING goes
//! out, then every autostart process is started in [`Supervisor::start_order`]
//! — in batches of [`BOOT_BATCH`], the actor's loop answering requests and
//! signals in between, so that a daemon with thousands of programs answers
//! RPC within milliseconds of starting instead of after the last spawn.
//!
//! While the wave is under way the loop takes no child exits, pipe output
//! or deadlines: Supervisor spawns every autostart process in one pass of
//! its loop before it handles any of those, and so the main log and the
//! events come in the same order as Supervisor's (every `spawned:` line
//! before the first exit or `success:`).

use sv_api::SupervisorState;
use sv_core::process::{Input, Process};

use super::table::ProcKey;
use super::{BusEvent, Supervisor};
use crate::sys;

/// How many autostart processes one turn of the actor's loop starts before
/// it looks at requests again (a spawn costs a fork: ~1–2 ms when the
/// daemon is large, so a request waits a few ms at most).
pub(super) const BOOT_BATCH: usize = 8;

/// How many of the wave's processes have their log files opened per turn,
/// ahead of their spawns (see [`Supervisor::boot_step`]).
const LOG_BATCH: usize = 32;

/// The autostart processes not started yet, in start order.
pub(super) struct BootWave {
    keys: Vec<ProcKey>,
    /// The next one to start.
    next: usize,
    /// The next one whose log files to open (runs ahead of `next`).
    logs_next: usize,
}

impl Supervisor {
    /// Supervisor's start: the groups by priority,
    /// SUPERVISOR_STATE_CHANGE_RUNNING, then the autostart wave (started by
    /// [`Supervisor::boot_step`]).
    pub(super) fn boot(&mut self) {
        self.add_groups();
        self.emit(BusEvent::SupervisorState(SupervisorState::Running));
        let keys = self.start_order();
        self.boot_wave = Some(BootWave {
            keys,
            next: 0,
            logs_next: 0,
        });
    }

    /// Whether the autostart wave is still under way.
    pub(super) fn booting(&self) -> bool {
        self.boot_wave.is_some()
    }

    /// Start the next [`BOOT_BATCH`] autostart processes; `false` once the
    /// wave is over.
    pub(super) fn boot_step(&mut self) -> bool {
        // The wave's log files are opened [`LOG_BATCH`] a turn, ahead of
        // the spawns, so they hold the lowest descriptors together instead
        // of alternating with the children's pipes: every spawn copies the
        // daemon's descriptor table up to its highest open descriptor, and
        // after a stopAllProcesses closes the pipes, logs spread up to
        // 3·N would keep that copy as large as with everything running
        // (startAll at 6000 took 1.3× longer so).
        // Only for a process that will spawn: Supervisor creates no log
        // for a command it cannot find.
        if let Some(wave) = self.boot_wave.as_mut() {
            let end = (wave.logs_next + LOG_BATCH).min(wave.keys.len());
            let keys = wave.keys[wave.logs_next..end].to_vec();
            wave.logs_next = end;
            for key in keys {
                let spawnable = self.table.process(key).is_some_and(|p| {
                    p.wants_autostart()
                        && self
                            .spawner
                            .check(&p.config, &self.spawn_ctx.base_env)
                            .is_ok()
                });
                if spawnable {
                    self.open_logs(key);
                }
            }
        }
        let mut started = 0;
        while started < BOOT_BATCH {
            let Some(wave) = self.boot_wave.as_mut() else {
                return false;
            };
            let Some(&key) = wave.keys.get(wave.next) else {
                self.boot_wave = None;
                // The one hook for supervisord's sd_notify report
                // (`Seams::booted`): the wave is out.
                if let Some(booted) = self.booted.take() {
                    let _ = booted.send(());
                }
                // Starting many programs leaves freed transient memory
                // (argv, environment copies) in the allocator; give it back
                // so the resident size reflects what the daemon keeps.
                sys::release_free_memory();
                return false;
            };
            wave.next += 1;
            // A request may have started (or stopped) it in the meantime,
            // or removed its group: only a process still waiting for its
            // autostart is started.
            if self.mood == SupervisorState::Running
                && self
                    .table
                    .process(key)
                    .is_some_and(Process::wants_autostart)
            {
                let _ = self.step(key, Input::Start);
                started += 1;
            }
        }
        true
    }

    /// Run the whole boot wave at once (tests that do not look at it).
    #[cfg(test)]
    pub(super) fn boot_all(&mut self) {
        self.boot();
        while self.boot_step() {}
        while self.auto_logs_step() {}
    }
}
