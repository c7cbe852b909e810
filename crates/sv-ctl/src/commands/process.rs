//! `start`, `stop`, `restart`, `signal` and `clear`: commands over
//! process names (`all`, `group:*`, single names), printing one line per
//! process outcome.

use sv_api::{ProcessResult, make_namespec, split_namespec};
use sv_client::{Client, Error};

use crate::controller::{CommandResult, Controller};
use crate::replies::{Call, Verb, exit, result_reply};

/// `start <name>…`
pub async fn start(ctl: &mut Controller, arg: &str) -> CommandResult {
    if !ctl.upcheck().await? {
        return Ok(());
    }
    if arg.split_whitespace().next().is_none() {
        ctl.output("Error: start requires a process name");
        ctl.exitstatus = exit::INVALID_ARGS;
        ctl.help("start");
        return Ok(());
    }
    per_name(ctl, arg, ByName::Start).await
}

/// `stop <name>…`
pub async fn stop(ctl: &mut Controller, arg: &str) -> CommandResult {
    if !ctl.upcheck().await? {
        return Ok(());
    }
    if arg.split_whitespace().next().is_none() {
        ctl.fail("Error: stop requires a process name");
        ctl.help("stop");
        return Ok(());
    }
    per_name(ctl, arg, ByName::Stop).await
}

/// `restart <name>…`: stop, then start (config files are not re-read).
pub async fn restart(ctl: &mut Controller, arg: &str) -> CommandResult {
    if arg.split_whitespace().next().is_none() {
        ctl.fail("Error: restart requires a process name");
        ctl.help("restart");
        return Ok(());
    }
    stop(ctl, arg).await?;
    start(ctl, arg).await
}

/// `clear <name>…`: empty the processes' log files.
pub async fn clear(ctl: &mut Controller, arg: &str) -> CommandResult {
    if !ctl.upcheck().await? {
        return Ok(());
    }
    if arg.split_whitespace().next().is_none() {
        ctl.fail("Error: clear requires a process name");
        ctl.help("clear");
        return Ok(());
    }
    per_name(ctl, arg, ByName::Clear).await
}

/// `signal <signal> <name>…`
pub async fn signal(ctl: &mut Controller, arg: &str) -> CommandResult {
    if !ctl.upcheck().await? {
        return Ok(());
    }
    let args: Vec<&str> = arg.split_whitespace().collect();
    let [sig, names @ ..] = args.as_slice() else {
        return signal_usage(ctl);
    };
    if names.is_empty() {
        return signal_usage(ctl);
    }
    let client = ctl.client()?;
    if names.contains(&"all") {
        let results = client.signal_all_processes(sig).await?;
        return print_results(ctl, Verb::Signal, &results);
    }
    for &name in names {
        let (group, process) = split_namespec(name);
        if process.is_none() {
            match client.signal_process_group(&group, sig).await {
                Ok(results) => print_results(ctl, Verb::Signal, &results)?,
                Err(e) => ctl.answer(
                    Call::Group {
                        verb: Verb::Signal,
                        group: &group,
                    },
                    e,
                )?,
            }
        } else {
            match client.signal_process(name, sig).await {
                Ok(_) => ctl.output(&format!("{name}: signalled")),
                Err(e) => single_fault(ctl, Verb::Signal, &group, process.as_deref(), e)?,
            }
        }
    }
    Ok(())
}

fn signal_usage(ctl: &mut Controller) -> CommandResult {
    ctl.output("Error: signal requires a signal name and a process name");
    ctl.help("signal");
    ctl.exitstatus = exit::GENERIC;
    Ok(())
}

/// One line per entry of a group/all result array.
fn print_results(ctl: &mut Controller, verb: Verb, results: &[ProcessResult]) -> CommandResult {
    for r in results {
        let reply = result_reply(
            verb,
            &r.group,
            Some(&r.name),
            r.status_code(),
            &r.description,
        )?;
        ctl.show(reply);
    }
    Ok(())
}

/// A single-process call answered with a fault: shown as that process's
/// result line, as Supervisor does. Other errors end the command.
fn single_fault(
    ctl: &mut Controller,
    verb: Verb,
    group: &str,
    process: Option<&str>,
    err: Error,
) -> CommandResult {
    let Some(fault) = err.fault() else {
        return Err(err.into());
    };
    let reply = result_reply(verb, group, process, fault.code, &fault.string)?;
    ctl.show(reply);
    Ok(())
}

/// The verbs that walk process names themselves (`signal` has its
/// signal argument first and walks its own).
#[derive(Debug, Clone, Copy)]
enum ByName {
    Start,
    Stop,
    Clear,
}

impl ByName {
    fn verb(self) -> Verb {
        match self {
            ByName::Start => Verb::Start,
            ByName::Stop => Verb::Stop,
            ByName::Clear => Verb::Clear,
        }
    }

    /// The word after `name:` when a single call succeeds.
    fn done(self) -> &'static str {
        match self {
            ByName::Start => "started",
            ByName::Stop => "stopped",
            ByName::Clear => "cleared",
        }
    }

    async fn call_all(self, client: &Client) -> Result<Vec<ProcessResult>, Error> {
        match self {
            ByName::Start => client.start_all_processes(true).await,
            ByName::Stop => client.stop_all_processes(true).await,
            ByName::Clear => client.clear_all_process_logs().await,
        }
    }

    /// `None`: no group method (`clear` sends `group:*` as one name).
    async fn call_group(
        self,
        client: &Client,
        group: &str,
    ) -> Option<Result<Vec<ProcessResult>, Error>> {
        Some(match self {
            ByName::Start => client.start_process_group(group, true).await,
            ByName::Stop => client.stop_process_group(group, true).await,
            ByName::Clear => return None,
        })
    }

    async fn call_single(self, client: &Client, name: &str) -> Result<bool, Error> {
        match self {
            ByName::Start => client.start_process(name, true).await,
            ByName::Stop => client.stop_process(name, true).await,
            ByName::Clear => client.clear_process_logs(name).await,
        }
    }
}

/// start/stop/clear over names: `all`, `group:*`, single names.
async fn per_name(ctl: &mut Controller, arg: &str, by_name: ByName) -> CommandResult {
    let verb = by_name.verb();
    let client = ctl.client()?;
    let names: Vec<&str> = arg.split_whitespace().collect();
    if names.contains(&"all") {
        let results = by_name.call_all(&client).await?;
        return print_results(ctl, verb, &results);
    }
    for name in names {
        let (group, process) = split_namespec(name);
        if process.is_none()
            && let Some(outcome) = by_name.call_group(&client, &group).await
        {
            match outcome {
                Ok(results) => print_results(ctl, verb, &results)?,
                Err(e) => ctl.answer(
                    Call::Group {
                        verb,
                        group: &group,
                    },
                    e,
                )?,
            }
            continue;
        }
        match by_name.call_single(&client, name).await {
            Ok(_) => {
                let ns = make_namespec(&group, process.as_deref().unwrap_or("None"));
                ctl.output(&format!("{ns}: {}", by_name.done()));
            }
            Err(e) => single_fault(ctl, verb, &group, process.as_deref(), e)?,
        }
    }
    Ok(())
}
