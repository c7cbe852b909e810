//! Events and the event-listener protocol, as pure data and pure functions.
//!
//! Supervisor's event system (`events.py`, the `EventListenerPool` of
//! `process.py`, the output dispatchers of `dispatchers.py`) split into the
//! parts that decide and the parts that do:
//!
//! * `event.rs`: [`EventType`], the type hierarchy listeners subscribe to
//!   (subscribing to a type subscribes to its subtypes), with Supervisor's
//!   names; [`Event`], one event and its payload, byte for byte
//!   Supervisor's; [`envelope`], the header a listener reads before it.
//! * `pool.rs`: [`Hub`] and [`Pool`]: subscriptions, the global and per-pool
//!   serials, each pool's bounded buffer and its dispatch to the first free
//!   listener.
//! * `listener.rs`: [`Listener`], the READY / BUSY / ACKNOWLEDGED protocol a
//!   listener speaks on its stdout. Its state is the wire's
//!   [`sv_api::EventListenerState`]: there is one vocabulary, not two.
//! * `capture.rs`: [`CaptureSplitter`], capture mode, which turns output
//!   between `<!--XSUPERVISOR:BEGIN-->` and `<!--XSUPERVISOR:END-->` into
//!   PROCESS_COMMUNICATION events.
//! * `tick.rs`: [`Ticks`], when TICK_5 / TICK_60 / TICK_3600 are due.
//!
//! Nothing here reads a clock, writes a pipe or logs: the daemon passes the
//! time in, supplies a writer for envelopes, and writes the returned log
//! lines.

mod capture;
mod event;
mod listener;
mod pool;
#[cfg(test)]
mod testkit;
mod tick;

pub use capture::{CaptureSplitter, Segment};
pub use event::{Channel, Event, EventType, envelope};
pub use listener::{Listener, ListenerAction};
pub use pool::{Hub, Pool, Queued, Stamped};
pub use tick::{TICK_PERIODS, Ticks, timeslice};

use crate::config::LogLevel;

/// Main-log lines produced by the event machinery, in order.
pub type LogLines = Vec<(LogLevel, String)>;
