//! `fg <process>`: show the process's stdout and stderr and send each
//! line typed to its stdin, until Ctrl-C or end of input (spec §5.4).

use tokio::io::AsyncBufReadExt;

use crate::controller::{Controller, Unhandled};
use sv_xmlrpc::Value;

const RUNNING: i64 = 20;

fn state(info: &Value) -> i64 {
    match info.get("state") {
        Some(Value::Int(n)) => i64::from(*n),
        _ => -1,
    }
}

pub async fn do_fg(ctl: &mut Controller, arg: &str) -> Result<(), Unhandled> {
    if !ctl.upcheck().await? {
        return Ok(());
    }
    let names: Vec<&str> = arg.split_whitespace().collect();
    if names.is_empty() {
        ctl.out.line("ERROR: no process name supplied");
        ctl.exitstatus = 1;
        for l in crate::help::text("fg").unwrap_or(&[]) {
            ctl.out.line(l);
        }
        return Ok(());
    }
    if names.len() > 1 {
        ctl.out.line("ERROR: too many process names supplied");
        ctl.exitstatus = 1;
        return Ok(());
    }
    let name = names[0].to_string();
    let client = sv_client::Client::new(
        &ctl.options.serverurl,
        ctl.options.username.as_deref(),
        ctl.options.password.as_deref(),
    )?;
    let info = match client
        .call(
            "supervisor.getProcessInfo",
            vec![Value::from(name.as_str())],
        )
        .await
    {
        Ok(i) => i,
        Err(e) if e.fault().map(|f| f.code) == Some(10) => {
            ctl.out.line("ERROR: bad process name supplied");
            ctl.exitstatus = 1;
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    if state(&info) != RUNNING {
        ctl.out.line("ERROR: process not running");
        ctl.exitstatus = 1;
        return Ok(());
    }
    ctl.out.line("==> Press Ctrl-C to exit <==");
    ctl.flush();
    let follow = |channel: &'static str| {
        let client = client.clone();
        let path = format!("/logtail/{name}/{channel}");
        async move {
            if let Ok((200, _, mut body)) = client.get_stream(&path).await {
                use std::io::Write;
                while let Ok(Some(data)) = sv_client::next_chunk(&mut body).await {
                    let mut out = std::io::stdout();
                    let _ = out.write_all(&data);
                    let _ = out.flush();
                }
            }
            std::future::pending::<()>().await;
        }
    };
    let out_task = tokio::task::spawn_local(follow("stdout"));
    let err_task = tokio::task::spawn_local(follow("stderr"));
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let input = async {
        loop {
            let Ok(Some(line)) = lines.next_line().await else {
                return false;
            };
            let sent = client
                .call(
                    "supervisor.sendProcessStdin",
                    vec![Value::from(name.as_str()), Value::from(line + "\n")],
                )
                .await;
            if let Err(e) = sent {
                return e.fault().map(|f| f.code) == Some(70);
            }
            match client
                .call(
                    "supervisor.getProcessInfo",
                    vec![Value::from(name.as_str())],
                )
                .await
            {
                Ok(i) if state(&i) == RUNNING => {}
                _ => return true,
            }
        }
    };
    let killed = tokio::select! {
        k = input => k,
        _ = tokio::signal::ctrl_c() => false,
    };
    out_task.abort();
    err_task.abort();
    if killed {
        ctl.out.line("Process got killed");
    }
    ctl.out.line("Exiting foreground");
    Ok(())
}
