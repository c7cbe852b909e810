//! Commands about the daemon itself: `shutdown`, `reload`, `version`, and
//! `open` (switch the shell to another daemon).

use crate::controller::{CommandResult, Controller};
use crate::replies::Call;

/// `shutdown` (asks first in the shell).
pub async fn shutdown(ctl: &mut Controller, arg: &str) -> CommandResult {
    if !ctl.no_args("shutdown", arg) {
        return Ok(());
    }
    if !ctl.really("Really shut the remote supervisord process down y/N? ") {
        return Ok(());
    }
    match ctl.client()?.shutdown().await {
        Ok(_) => ctl.output("Shut down"),
        Err(e) => {
            let url = ctl.options.serverurl.clone();
            ctl.answer(Call::Shutdown { url: &url }, e)?;
        }
    }
    Ok(())
}

/// `reload`: restart the daemon (asks first in the shell).
pub async fn reload(ctl: &mut Controller, arg: &str) -> CommandResult {
    if !ctl.no_args("reload", arg) {
        return Ok(());
    }
    if !ctl.really("Really restart the remote supervisord process y/N? ") {
        return Ok(());
    }
    match ctl.client()?.restart().await {
        Ok(_) => ctl.output("Restarted supervisord"),
        Err(e) => ctl.answer(Call::Reload, e)?,
    }
    Ok(())
}

/// `version`: the daemon's Supervisor version.
pub async fn version(ctl: &mut Controller, arg: &str) -> CommandResult {
    if !ctl.no_args("version", arg) {
        return Ok(());
    }
    if !ctl.upcheck().await? {
        return Ok(());
    }
    let version = ctl.client()?.get_supervisor_version().await?;
    ctl.output(&version);
    Ok(())
}

/// `open <url>`: talk to another daemon from now on, and show its status
/// (which leaves the exit status alone).
pub async fn open(ctl: &mut Controller, arg: &str) -> CommandResult {
    let url = arg.trim().to_string();
    let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
    if scheme != "unix" && scheme != "http" {
        ctl.fail("ERROR: url must be http:// or unix://");
        return Ok(());
    }
    ctl.options.serverurl = url;
    let old = ctl.exitstatus;
    let r = super::status::status(ctl, "").await;
    ctl.exitstatus = old;
    r
}
