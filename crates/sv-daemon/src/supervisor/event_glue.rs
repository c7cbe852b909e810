//! Event glue: every [`BusEvent`] goes out on the bus and to the event
//! listener pools that subscribe to it; pools are dispatched to their free
//! listeners; what pipe readers report (output chunks, listener answers,
//! exits) comes back here; TICK events are armed only while some pool wants
//! them.

use std::time::Duration;

use sv_core::events::{self as ev, Listener, ListenerAction, Ticks};
use sv_core::process::{Input, State};

use super::table::ProcKey;
use super::{BusEvent, Supervisor};
use crate::capture::ChildOutput;
use crate::stdin::{StdinPipe, StdinQueue};

/// The event machinery: every bus event also goes to the listener pools.
impl Supervisor {
    /// Publish on the bus and offer the event to every subscribed pool,
    /// then dispatch those pools.
    pub(crate) fn emit(&mut self, event: BusEvent) {
        // The payload of an output chunk moves into the pool's event as is,
        // never copied.
        let core = if event.is_broadcast() {
            let core = event.clone().into_event();
            self.bus.publish(event);
            core
        } else {
            event.into_event()
        };
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

    pub(super) fn write_logs(&self, log: ev::LogLines) {
        for (level, message) in log {
            self.log.log(level, &message);
        }
    }

    /// Hand a pool's buffered events to its free listeners.
    pub(super) fn dispatch_pool(&mut self, name: &str) {
        let Some(group) = self.group_of(name) else {
            return;
        };
        if self.hub.pool(name).is_none_or(|p| p.buffered() == 0) {
            return;
        }
        let keys = group.members.clone();
        // Take the listeners out of the table for the duration.
        let mut taken: Vec<(ProcKey, bool, Box<Listener>)> = Vec::with_capacity(keys.len());
        for key in &keys {
            if let Some(m) = self.table.get_mut(*key)
                && let Some(listener) = m.listener.take()
            {
                let running = m.process.state() == State::Running;
                taken.push((*key, running, listener));
            }
        }
        let stdins: Vec<Option<StdinQueue>> = taken
            .iter()
            .map(|(key, _, _)| {
                self.table
                    .get_mut(*key)
                    .and_then(|m| m.stdin.as_mut().and_then(StdinPipe::sender))
            })
            .collect();
        let server = self.config.supervisord.identifier.clone();
        let mut log = Vec::new();
        if let Some(pool) = self.hub.pool_mut(name) {
            let mut slots: Vec<(bool, &mut Listener)> = taken
                .iter_mut()
                .map(|(_, running, l)| (*running, &mut **l))
                .collect();
            pool.dispatch(
                &server,
                &mut slots,
                |i, bytes| {
                    stdins
                        .get(i)
                        .and_then(Option::as_ref)
                        .is_some_and(|tx| tx.send_event(bytes).is_ok())
                },
                &mut log,
            );
        }
        for (key, _, listener) in taken {
            if let Some(m) = self.table.get_mut(key) {
                m.listener = Some(listener);
            }
        }
        self.write_logs(log);
    }

    /// A listener process ended: the event it had not answered goes back
    /// to the head of its pool.
    pub(super) fn requeue(&mut self, key: ProcKey, queued: ev::Queued) {
        let Some(m) = self.table.get(key) else {
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
    pub(super) fn child_output(&mut self, output: ChildOutput) {
        match output {
            ChildOutput::Reaped { key, status } => {
                let _ = self.step(key, Input::Exited { status });
                self.advance_stop();
            }
            ChildOutput::ListenerBytes { key, data } => {
                let Some(m) = self.table.get_mut(key) else {
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
        if let Some(m) = self.table.get(key) {
            let event = make(m.process.group.to_string(), m.process.name().to_string());
            self.emit(event);
        }
    }

    /// Arm (or disarm) the TICK deadline: only while some pool subscribes
    /// to a TICK type. The first evaluation records the current slices.
    pub(super) fn arm_ticks(&mut self) {
        if !self.hub.wants_ticks() {
            self.ticks.clear();
            self.next_tick = None;
            return;
        }
        if self.next_tick.is_none() {
            let wall = self.wall_now();
            let _ = self.ticks.evaluate(wall);
            self.schedule_tick(wall);
        }
    }

    fn schedule_tick(&mut self, wall: f64) {
        let delay = (Ticks::next_due(wall) - wall).max(0.0);
        self.next_tick = Some(self.now().mono + Duration::from_secs_f64(delay));
    }

    /// The TICK deadline passed: emit what is due and arm the next one.
    pub(super) fn tick(&mut self) {
        self.next_tick = None;
        if !self.hub.wants_ticks() {
            self.ticks.clear();
            return;
        }
        let wall = self.wall_now();
        for event in self.ticks.evaluate(wall) {
            if let ev::Event::Tick { period, when } = event {
                self.emit(BusEvent::Tick { period, when });
            }
        }
        self.schedule_tick(wall);
    }
}
