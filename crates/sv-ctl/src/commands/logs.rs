//! `tail` and `maintail`: the last bytes of a process's or the daemon's
//! log, or (`-f`) a continuous follow through [`super::tailf`].

use sv_api::LogStream;

use super::{py_int, tail_offset, tailf};
use crate::controller::{CommandResult, Controller};
use crate::replies::Call;

/// `tail [-f|-N] <name> [stdout|stderr]`
pub async fn tail(ctl: &mut Controller, arg: &str) -> CommandResult {
    if !ctl.upcheck().await? {
        return Ok(());
    }
    let mut args: Vec<&str> = arg.split_whitespace().collect();
    if args.is_empty() {
        ctl.fail("Error: too few arguments");
        ctl.help("tail");
        return Ok(());
    }
    if args.len() > 3 {
        ctl.fail("Error: too many arguments");
        ctl.help("tail");
        return Ok(());
    }
    let modifier = if args[0].starts_with('-') {
        Some(args.remove(0))
    } else {
        None
    };
    let (name, stream) = match args.as_slice() {
        [name] => (name.to_string(), LogStream::Stdout),
        [name, .., last] => {
            let channel = last.to_lowercase();
            let stream = match channel.as_str() {
                "stdout" => LogStream::Stdout,
                "stderr" => LogStream::Stderr,
                _ => {
                    ctl.fail(&format!(
                        "Error: bad channel {}",
                        sv_core::pyfmt::py_repr_str(&channel)
                    ));
                    return Ok(());
                }
            };
            (name.to_string(), stream)
        }
        [] => {
            ctl.fail("Error: tail requires process name");
            return Ok(());
        }
    };
    let mut bytes = 1600;
    if let Some(m) = modifier {
        let what = &m[1..];
        if what == "f" {
            let channel = match stream {
                LogStream::Stdout => "stdout",
                LogStream::Stderr => "stderr",
            };
            return tailf::follow(ctl, &format!("/logtail/{name}/{channel}")).await;
        }
        match py_int(what) {
            Some(n) => bytes = n,
            None => {
                ctl.fail(&format!("Error: bad argument {m}"));
                return Ok(());
            }
        }
    }
    let client = ctl.client()?;
    match client
        .read_process_log(&name, stream, tail_offset(bytes), 0)
        .await
    {
        Ok(text) => ctl.output(&text),
        Err(e) => ctl.answer(Call::Tail { name: &name }, e)?,
    }
    Ok(())
}

/// `maintail [-f|-N]`
pub async fn maintail(ctl: &mut Controller, arg: &str) -> CommandResult {
    if !ctl.upcheck().await? {
        return Ok(());
    }
    let args: Vec<&str> = arg.split_whitespace().collect();
    let bytes = match args.as_slice() {
        [] => 1600,
        [a] => {
            let Some(what) = a.strip_prefix('-') else {
                ctl.fail(&format!("Error: bad argument {a}"));
                return Ok(());
            };
            if what == "f" {
                return tailf::follow(ctl, "/mainlogtail").await;
            }
            match py_int(what) {
                Some(n) => n,
                None => {
                    ctl.fail(&format!("Error: bad argument {a}"));
                    return Ok(());
                }
            }
        }
        _ => {
            ctl.fail("Error: too many arguments");
            ctl.help("maintail");
            return Ok(());
        }
    };
    let client = ctl.client()?;
    match client.read_log(tail_offset(bytes), 0).await {
        Ok(text) => ctl.output(&text),
        Err(e) => ctl.answer(Call::Maintail, e)?,
    }
    Ok(())
}
