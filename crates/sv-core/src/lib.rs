//! The pure core of supervisor-rs: everything about Supervisor's behaviour
//! that can be decided without touching the operating system.
//!
//! # Layout
//! * [`config`]: the typed model of `supervisord.conf`, its datatypes, and
//!   the loader that turns an [`sv_ini::Document`] into it, reading files,
//!   users and the environment only through the [`config::Host`] trait.
//! * [`pyfmt`]: Python's `%`-operator applied to a mapping, which is how
//!   Supervisor expands `%(name)s` in every option.
//! * [`shlex`]: Python's `shlex` tokenizer, used to split `command=` and to
//!   read `KEY=value,…` environment lists.
//! * [`events`]: event types and payloads, the listener envelope, pools
//!   with their serials and buffers, the listener protocol, capture mode
//!   and TICK slices, one file each.
//! * [`process`]: the process state machine (states, transitions, backoff,
//!   stop escalation) as a pure function returning effects.
//! * [`notify`]: systemd's `sd_notify` datagrams as a child sends them
//!   (`READY=1`, `STATUS=…`, `WATCHDOG=1`, …), parsed.
//! * [`reread`]: `reloadConfig`'s comparison of re-read groups with the
//!   active ones.
//! * [`logtext`]: read/tail windows of log files, `strip_ansi`, and the
//!   main-log echo of child output.
//! * [`pypath`]: the few `os.path` functions whose exact behaviour shows in
//!   resolved paths (`abspath`, `normpath`, `expanduser`).
//!
//! Everything here follows the same rule: no tokio, no nix, no sockets;
//! time and I/O come in as inputs.

#![warn(missing_docs)]
// The pure core decides; the daemon and supervisorctl say it. Nothing here
// prints.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod config;
pub mod events;
pub mod logtext;
pub mod notify;
pub mod process;
pub mod pyfmt;
pub mod pypath;
pub mod reread;
pub mod shlex;
