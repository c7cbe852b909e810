//! The configuration commands: `avail` (what is configured), `reread`
//! (what changed), `update` (apply the changes), `add` and `remove` (one
//! group at a time).

use std::collections::BTreeMap;

use sv_api::{FaultCode, make_namespec};

use crate::controller::{CommandResult, Controller};
use crate::replies::{Call, exit};

/// `avail`
pub async fn avail(ctl: &mut Controller, arg: &str) -> CommandResult {
    if !ctl.no_args("avail", arg) {
        return Ok(());
    }
    let infos = match ctl.client()?.get_all_config_info().await {
        Ok(infos) => infos,
        Err(e) => return ctl.answer(Call::Avail, e),
    };
    for c in infos {
        let name = make_namespec(&c.group, &c.name);
        let inuse = if c.inuse { "in use" } else { "avail" };
        let auto = if c.autostart { "auto" } else { "manual" };
        let prio = format!("{}:{}", c.group_prio, c.process_prio);
        ctl.output(&format!("{name:<32} {inuse:<9} {auto:<9} {prio}"));
    }
    Ok(())
}

/// `reread`: the changes, sorted by group name.
pub async fn reread(ctl: &mut Controller, arg: &str) -> CommandResult {
    if !ctl.no_args("reread", arg) {
        return Ok(());
    }
    let changes = match ctl.client()?.reload_config().await {
        Ok(changes) => changes,
        Err(e) => return ctl.answer(Call::Reread, e),
    };
    let mut all: BTreeMap<String, &str> = BTreeMap::new();
    for (names, what) in [
        (changes.added, "available"),
        (changes.changed, "changed"),
        (changes.removed, "disappeared"),
    ] {
        for n in names {
            all.insert(n, what);
        }
    }
    if all.is_empty() {
        ctl.output("No config updates to processes");
    }
    for (n, what) in all {
        ctl.output(&format!("{n}: {what}"));
    }
    Ok(())
}

/// `update [all | group…]`: remove, then re-add changed, then add new
/// groups.
pub async fn update(ctl: &mut Controller, arg: &str) -> CommandResult {
    let client = ctl.client()?;
    let changes = match client.reload_config().await {
        Ok(changes) => changes,
        Err(e) => return ctl.answer(Call::Update, e),
    };
    let (mut added, mut changed, mut removed) = (changes.added, changes.changed, changes.removed);
    let mut wanted: Vec<&str> = Vec::new();
    for n in arg.split_whitespace() {
        if !wanted.contains(&n) {
            wanted.push(n);
        }
    }
    if wanted.contains(&"all") {
        wanted.clear();
    }
    if !wanted.is_empty() {
        let mut groups: Vec<String> = client
            .get_all_process_info()
            .await?
            .into_iter()
            .map(|i| i.group)
            .collect();
        groups.extend(added.iter().cloned());
        for g in &wanted {
            if !groups.iter().any(|x| x == g) {
                ctl.fail(&format!("ERROR: no such group: {g}"));
            }
        }
        added.retain(|g| wanted.contains(&g.as_str()));
        changed.retain(|g| wanted.contains(&g.as_str()));
        removed.retain(|g| wanted.contains(&g.as_str()));
    }
    for g in removed {
        let results = client.stop_process_group(&g, true).await?;
        ctl.output(&format!("{g}: stopped"));
        if results.iter().any(|r| r.status_code() == FaultCode::Failed) {
            ctl.output(&format!("{g}: has problems; not removing"));
            ctl.exitstatus = exit::GENERIC;
            continue;
        }
        client.remove_process_group(&g).await?;
        ctl.output(&format!("{g}: removed process group"));
    }
    for g in changed {
        client.stop_process_group(&g, true).await?;
        ctl.output(&format!("{g}: stopped"));
        client.remove_process_group(&g).await?;
        client.add_process_group(&g).await?;
        ctl.output(&format!("{g}: updated process group"));
    }
    for g in added {
        client.add_process_group(&g).await?;
        ctl.output(&format!("{g}: added process group"));
    }
    Ok(())
}

/// `add <group>…`
pub async fn add(ctl: &mut Controller, arg: &str) -> CommandResult {
    let client = ctl.client()?;
    for name in arg.split_whitespace() {
        match client.add_process_group(name).await {
            Ok(_) => ctl.output(&format!("{name}: added process group")),
            Err(e) => ctl.answer(Call::Add { name }, e)?,
        }
    }
    Ok(())
}

/// `remove <group>…`
pub async fn remove(ctl: &mut Controller, arg: &str) -> CommandResult {
    let client = ctl.client()?;
    for name in arg.split_whitespace() {
        match client.remove_process_group(name).await {
            Ok(_) => ctl.output(&format!("{name}: removed process group")),
            Err(e) => ctl.answer(Call::Remove { name }, e)?,
        }
    }
    Ok(())
}
