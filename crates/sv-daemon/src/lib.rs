//! supervisord, the imperative shell around `sv-core`.
//!
//! # Layout
//! * [`cli`]: the `supervisord` command line (Supervisor's flags, usage
//!   errors in Supervisor's format and exit status), turned into
//!   [`sv_core::config::CliOverrides`].
//! * [`host`]: [`sv_core::config::Host`] over the real machine (files, glob,
//!   passwd/group database, host name, environment).
//! * [`check`]: `--check-config` and `--dump-config`, the dry run users asked
//!   Supervisor for.
//!
//! The actor, spawner, reaper, log capture and transports arrive with the
//! lifecycle, logging and XML-RPC issues (see `docs/architecture.md`).

pub mod check;
pub mod cli;
pub mod host;

/// The Supervisor release whose behaviour this build reproduces; reported
/// by `-v` and (later) by `getSupervisorVersion`, because clients compare it.
pub const SUPERVISOR_VERSION: &str = "4.3.0";
