//! supervisor-hub: one service in front of many supervisord hosts, in
//! the role Cesi 2.7.1 plays for Supervisor — its TOML config and its
//! `/api/v2` REST API unchanged, without its failures (one dead node
//! never delays another, roles enforced, sessions that survive restarts).
//!
//! # Rooms
//!
//! * [`api`]: the HTTP surface. [`api::json`] writes Cesi's JSON bytes,
//!   [`api::error`] is the one mapping from an error to a status and a JSON
//!   body, [`api::guard`] is the one place a request's caller is
//!   authenticated and their role checked against a [`api::guard::Permission`].
//! * [`activity`]: the activity record every action leaves (database and
//!   Cesi's log-file line).
//! * [`config`]: Cesi's TOML file read unchanged, plus the hub's additions.
//! * [`store`]: users, sessions, tokens, activity, settings, node overrides in sqlite or
//!   PostgreSQL, one schema, versioned migrations.
//! * [`auth`]: passwords, sessions, tokens, proxy sign-on, login
//!   throttling, the activity log; the real authenticator.
//! * [`server`] and [`cli`]: the running service and the command line;
//!   [`fleet_sync`] keeps the fleet equal to the config's nodes with the
//!   database's node overrides applied.
//! * [`nodes`]: the configured supervisord nodes — the [`nodes::Fleet`]
//!   poller and its cache, the actions, and the node routes
//!   ([`nodes::routes::router`]).
//! * [`page`]: the hub's own web page (login, fleet overview, actions),
//!   askama templates and plain JavaScript on the same API.
//!
//! The hub depends on `sv-client` and `sv-api`, never on the daemon.

pub mod activity;
pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod fleet_sync;
pub mod nodes;
pub mod page;
pub mod server;
pub mod store;
