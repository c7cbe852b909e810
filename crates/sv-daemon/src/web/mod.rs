//! The web page: Supervisor's `/`, `/index.html` and `/tail.html`, with
//! their query contract kept exactly, our own markup, and our additions
//! (live updates, log views, group and signal actions).
//!
//! What scripts rely on, and what this module therefore reproduces from
//! Supervisor 4.3.0 (spec §8.5):
//!
//! * `index.html?processname=<ns>&action=<a>` (or the same fields in a
//!   form POST) runs the action through the XML-RPC methods, **waits for its
//!   result**, and answers `301` with
//!   `Location: http://<Host>/?message=<quoted message>`; the messages are
//!   Supervisor's, word for word. An action Supervisor does not know
//!   answers `500`, as it does.
//! * `tail.html?processname=<ns>&limit=<bytes>` shows the end of the stdout
//!   log (at least 1024 bytes) with Supervisor's messages for the failures.
//!
//! What is ours: the HTML (askama templates, not Supervisor's), every value
//! HTML-escaped, a strict Content-Security-Policy, and one safety rule
//! Supervisor lacks (spec §9 item 27): an action requested by a browser on
//! behalf of another site is refused with `403`. Scripts send none of the
//! headers that tell, so `curl` keeps working.
//!
//! # Layout
//! * [`routes`]: which path is which page, and which methods it answers;
//! * [`forms`]: query and form fields as Python reads them, URL quoting;
//! * [`csrf`]: session tokens and where a request comes from;
//! * [`actions`]: start/stop/… and their messages and redirects;
//! * `pages`: the status, tail, log and confirmation pages;
//! * `respond`: the headers of every answer, the stylesheet and scripts;
//! * `calls`: the page's calls into its daemon, worded as the page uses them
//!   (the dispatcher's typed methods; sv_api records and faults, never an
//!   XML-RPC value);
//! * [`live`]: the `/events` stream; [`logview`]: log windows, the live
//!   log and downloads (following through [`crate::http::follow`]).
//!
//! This module does not own the HTTP server, authentication or the
//! `/logtail` streams; [`crate::http`] routes here after checking
//! credentials.

pub mod actions;
mod calls;
pub mod csrf;
pub mod forms;
pub mod live;
pub mod logview;
mod pages;
mod respond;
pub mod routes;

pub use routes::{Page, Route, Site, serve};

/// Our version, shown in the footer.
pub const OURS: &str = env!("CARGO_PKG_VERSION");

/// The signals the page offers to send.
pub const SIGNALS: &[&str] = &["HUP", "INT", "QUIT", "TERM", "USR1", "USR2", "KILL"];

/// The line windows the log view offers.
pub const LINE_CHOICES: &[usize] = &[100, 500, 2000, 10_000];

/// Where the request arrived, for the redirect's URL when the client sent
/// no `Host` header (Supervisor then uses its server name and port).
#[derive(Debug, Clone, Copy)]
pub struct Local {
    /// The inet server's port; `None` on the unix socket.
    pub port: Option<u16>,
}
