//! The nodes: what the hub knows about every configured supervisord and
//! how it talks to them.
//!
//! # Layout
//! * [`spec`]: [`NodeSpec`] (a configured node) and [`FleetSettings`];
//! * [`fleet`]: the [`Fleet`] — one poll task per node, the cached
//!   [`Snapshot`] with its age and [`Health`], backoff, reload;
//! * `follow`: push for our own nodes (their live `/events` stream);
//! * [`health`]: the health states and how a failed call maps to one;
//! * [`history`]: the observed state changes of each node's processes;
//! * [`logs`]: a process's log in line windows, followed, searched,
//!   downloaded — through the node's own log calls;
//! * [`overrides`]: the effective fleet — config nodes with the
//!   database's node overrides applied (pure);
//! * [`process`]: Cesi's process object and log lines (pure);
//! * [`render`]: Cesi's JSON assembled from cached pieces;
//! * [`view`]: environments and groups (pure);
//! * [`actions`]: start/stop/restart/signal/clear/log/all-processes on a
//!   node, with Cesi's semantics;
//! * [`routes`]: the HTTP routes ([`routes::router`]).

pub mod actions;
pub mod fleet;
mod follow;
pub mod health;
pub mod history;
pub mod logs;
pub mod overrides;
pub mod process;
pub mod render;
pub mod routes;
pub mod spec;
pub mod view;

pub use fleet::{Fleet, FleetEvent, Node, Snapshot};
pub use health::Health;
pub use spec::{FleetSettings, NodeSpec, cesi_url};
