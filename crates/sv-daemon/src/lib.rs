//! supervisord, the imperative shell around `sv-core`.
//!
//! # Layout
//! * [`cli`]: the `supervisord` command line (Supervisor's flags, usage
//!   errors in Supervisor's format and exit status), turned into
//!   [`sv_core::config::CliOverrides`].
//! * [`check`]: `--check-config` and `--dump-config`, the dry run users asked
//!   Supervisor for.
//! * [`run`](mod@run): the daemon in-process — [`run()`] takes a
//!   configuration, bound servers and a shutdown future; the binary goes
//!   through [`run::serve`] (the same loop, with its main log, command line
//!   and signals), which restarts the actor on SIGHUP.
//! * [`boot`]: the start-up sequence (privileges, rlimits, main log,
//!   daemonizing, pidfile) before the runtime exists; [`fd_budget`]: the
//!   descriptors a configuration needs, and the warning when the limit
//!   cannot hold them; [`leftovers`]: the
//!   children a killed daemon left behind (recorded beside the pidfile,
//!   stopped by the next daemon before it starts anything).
//! * [`supervisor`]: the actor that owns every process, and the event bus.
//! * [`spawner`]: the seam between the actor and real (or fake) children;
//!   [`spawn`]: starting one process; [`vfork`]: the clone that starts it
//!   without copying the daemon; [`child_setup`]: what the child does
//!   between the clone and exec (async-signal-safe); [`sys`]: every POSIX call;
//!   [`fcgi`]: the listening sockets of `[fcgi-program:x]` groups.
//! * [`capture`]: pipe readers and child log files; [`logfile`]: the
//!   rotating file; [`mainlog`]: supervisord's own log; [`logread`]: reading
//!   logs back for the RPC layer; [`stdin`]: the bounded queue to a child's
//!   stdin.
//!
//! * [`http`]: the HTTP servers (auth, `/RPC2`, log streams); [`rpc`]: the
//!   [`rpc::Dispatcher`], decoding with `sv_api::Request` and answering with
//!   typed methods (the published table is `sv_api::methods`); [`web`]: the
//!   web page.

pub mod boot;
pub mod capture;
pub mod check;
pub mod child_setup;
pub mod cli;
pub mod fcgi;
pub mod fd_budget;
pub mod http;
pub mod leftovers;
pub mod logfile;
pub mod logread;
pub mod mainlog;
pub mod rpc;
pub mod run;
pub mod spawn;
pub mod spawner;
pub mod stdin;
pub mod supervisor;
pub mod sys;
pub mod vfork;
pub mod web;

/// The Supervisor release whose behaviour this build reproduces; reported
/// by `-v` and by `getSupervisorVersion`, because clients compare it.
pub const SUPERVISOR_VERSION: &str = "4.3.0";

pub use run::run;
