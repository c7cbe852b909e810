//! Typed async XML-RPC client for supervisord over `unix://` and
//! `http://` server URLs, shared by `supervisorctl` and the hub.
//!
//! # Layout
//!
//! * [`endpoint`]: server URL → where to connect.
//! * [`client`]: the [`Client`] handle — one kept-alive HTTP/1.1
//!   connection pooled per client (reopened when the server closed it),
//!   per-call deadlines, basic auth, the raw `call`, and the streamed `GET`
//!   behind `tail -f`.
//! * [`methods`]: one async method per published method, built from
//!   sv-api's `Request` and returning sv-api's records.
//! * [`events`]: the daemon's live state stream (`GET /events`), which
//!   the hub follows to refresh a node at once.
//! * [`error`]: [`Error`], with the daemon's faults as [`Fault`] carrying a
//!   typed `AnyFaultCode`.

pub mod client;
pub mod endpoint;
pub mod error;
pub mod events;
pub mod methods;

pub use client::{Client, next_chunk};
pub use endpoint::Endpoint;
pub use error::{Error, Fault};
pub use events::{EventStream, LiveEvent};
pub use sv_api::{AnyFaultCode, FaultCode, LogStream};
