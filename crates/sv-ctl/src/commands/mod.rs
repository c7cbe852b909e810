//! The commands (spec §5.4), one file per family like pueue's
//! `client/commands/`: each prints what Supervisor 4.3.0's supervisorctl
//! prints and sets the same exit status. Words for faults come from
//! [`crate::replies`]; these files only decide what to call and in which
//! order.

mod config;
mod daemon;
mod fg;
mod logs;
mod process;
mod status;
mod tailf;

use crate::controller::{CommandResult, Controller};
use crate::help;

/// Run command `cmd` with its argument text; `None` when there is no such
/// command (the shell's `quit`/`exit`/`EOF` are the controller's).
pub async fn run(ctl: &mut Controller, cmd: &str, arg: &str) -> Option<CommandResult> {
    Some(match cmd {
        "help" => {
            show_help(ctl, arg);
            Ok(())
        }
        "status" => status::status(ctl, arg).await,
        "pid" => status::pid(ctl, arg).await,
        "start" => process::start(ctl, arg).await,
        "stop" => process::stop(ctl, arg).await,
        "restart" => process::restart(ctl, arg).await,
        "signal" => process::signal(ctl, arg).await,
        "clear" => process::clear(ctl, arg).await,
        "tail" => logs::tail(ctl, arg).await,
        "maintail" => logs::maintail(ctl, arg).await,
        "avail" => config::avail(ctl, arg).await,
        "reread" => config::reread(ctl, arg).await,
        "update" => config::update(ctl, arg).await,
        "add" => config::add(ctl, arg).await,
        "remove" => config::remove(ctl, arg).await,
        "shutdown" => daemon::shutdown(ctl, arg).await,
        "reload" => daemon::reload(ctl, arg).await,
        "version" => daemon::version(ctl, arg).await,
        "open" => daemon::open(ctl, arg).await,
        "fg" => fg::fg(ctl, arg).await,
        _ => return None,
    })
}

/// `help` and `help <topic>`.
fn show_help(ctl: &mut Controller, arg: &str) {
    let arg = arg.trim();
    if arg.is_empty() {
        ctl.out.raw(help::TOPICS.as_bytes());
        return;
    }
    let topic = arg.split_whitespace().next().unwrap_or(arg);
    match help::text(topic) {
        Some(_) => ctl.help(topic),
        None => ctl.output(&format!("*** No help on {arg}")),
    }
}

/// Python's `int()` on a command argument.
fn py_int(s: &str) -> Option<i64> {
    sv_core::config::datatypes::py_int(s)
}

/// A byte count asked for as `-N`, as the negative offset the log methods
/// take, clamped to the 32-bit `<int>` supervisorctl sends.
fn tail_offset(bytes: i64) -> i64 {
    i64::from(i32::try_from(-bytes).unwrap_or(i32::MIN))
}
