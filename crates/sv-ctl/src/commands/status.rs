//! `status` (the table of processes, with colour in the shell) and `pid`.

use sv_api::{ProcessInfo, ProcessState, make_namespec, split_namespec};

use crate::controller::{CommandResult, Controller};
use crate::replies::{Call, exit};

/// `status [name…]`
pub async fn status(ctl: &mut Controller, arg: &str) -> CommandResult {
    if !ctl.upcheck().await? {
        ctl.exitstatus = exit::STATUS_UNKNOWN;
        return Ok(());
    }
    let all = ctl.client()?.get_all_process_info().await?;
    let names: Vec<&str> = arg.split_whitespace().collect();
    let mut matching: Vec<&ProcessInfo> = Vec::new();
    if names.is_empty() || names.contains(&"all") {
        matching.extend(all.iter());
    } else {
        for name in names {
            let (group, process) = split_namespec(name);
            let mut bad = true;
            for info in &all {
                let matched =
                    info.group == group && process.as_deref().is_none_or(|p| info.name == p);
                if matched {
                    bad = false;
                    matching.push(info);
                }
            }
            if bad {
                let msg = match process {
                    None => format!("{group}: ERROR (no such group)"),
                    Some(_) => format!("{name}: ERROR (no such process)"),
                };
                ctl.output(&msg);
                ctl.exitstatus = exit::STATUS_UNKNOWN;
            }
        }
    }
    show_statuses(ctl, &matching);
    // STOPPED, EXITED, FATAL, UNKNOWN; a code Supervisor does not define
    // is none of them.
    if matching
        .iter()
        .any(|info| info.process_state().is_some_and(ProcessState::is_stopped))
    {
        ctl.exitstatus = exit::STATUS_NOT_RUNNING;
    }
    Ok(())
}

/// One line per process: name padded to the longest (at least 30) plus 3,
/// the state padded to 10, the description.
fn show_statuses(ctl: &mut Controller, infos: &[&ProcessInfo]) {
    let namespecs: Vec<String> = infos
        .iter()
        .map(|i| make_namespec(&i.group, &i.name))
        .collect();
    let width = namespecs
        .iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(0)
        .max(30)
        + 3;
    let colour = ctl.out.colour();
    let mut buf = String::with_capacity(infos.len() * 80);
    for (info, ns) in infos.iter().zip(&namespecs) {
        let state = info.statename.as_str();
        buf.push_str(ns);
        for _ in ns.chars().count()..width {
            buf.push(' ');
        }
        let code = if colour { colour_code(state) } else { "" };
        if code.is_empty() {
            buf.push_str(&format!("{state:<10}"));
        } else {
            buf.push_str(&format!("\x1b[{code}m{state}\x1b[0m"));
            for _ in state.chars().count()..10 {
                buf.push(' ');
            }
        }
        buf.push_str(&info.description);
        buf.push('\n');
    }
    ctl.out.raw(buf.as_bytes());
}

/// The ANSI colour of a state name in the shell (ours; Supervisor has
/// none): green running, yellow in between, red broken.
fn colour_code(statename: &str) -> &'static str {
    match statename {
        "RUNNING" => "32",
        "STARTING" | "STOPPING" | "BACKOFF" => "33",
        "FATAL" | "UNKNOWN" => "31",
        _ => "",
    }
}

/// `pid`, `pid all`, `pid <name>…`
pub async fn pid(ctl: &mut Controller, arg: &str) -> CommandResult {
    if !ctl.upcheck().await? {
        return Ok(());
    }
    let client = ctl.client()?;
    let names: Vec<&str> = arg.split_whitespace().collect();
    if names.is_empty() {
        let pid = client.get_pid().await?;
        ctl.output(&pid.to_string());
    } else if names.contains(&"all") {
        for info in client.get_all_process_info().await? {
            ctl.output(&info.pid.to_string());
        }
    } else {
        for name in names {
            match client.get_process_info(name).await {
                Ok(info) => {
                    ctl.output(&info.pid.to_string());
                    if info.pid == 0 {
                        ctl.exitstatus = exit::NOT_RUNNING;
                    }
                }
                Err(e) => ctl.answer(Call::Pid { name }, e)?,
            }
        }
    }
    Ok(())
}
