//! The records the actor reports: `getProcessInfo` / `getAllProcessInfo`
//! and `getAllConfigInfo`, built from the process table and the configured
//! groups.

use sv_api::records::{ConfigInfo, LogFile as ApiLogFile, ProcessInfo};
use sv_core::config::LogFile;

use super::Supervisor;
use super::table::{Managed, ProcKey};

/// `Nov 22 01:58 AM` in local time, for process descriptions.
pub fn local_time(epoch: i64) -> String {
    match jiff::Timestamp::from_second(epoch) {
        Ok(ts) => ts
            .to_zoned(jiff::tz::TimeZone::system())
            .strftime("%b %d %I:%M %p")
            .to_string(),
        Err(_) => String::new(),
    }
}

/// Supervisor's description, with what a STARTING process waits for
/// (`waiting for tcp:127.0.0.1:5432`, `waiting for db`) and a notify
/// child's `STATUS=` added. Without our options it is Supervisor's, unchanged.
fn readiness_description(p: &sv_core::process::Process, described: String) -> String {
    use sv_core::process::State;
    let mut parts = Vec::new();
    if !described.is_empty() {
        parts.push(described);
    }
    if p.state() == State::Starting
        && let Some(what) = p.waiting_for()
    {
        parts.push(format!("waiting for {what}"));
    }
    if p.pid() != 0
        && let Some(status) = p.status_text()
    {
        parts.push(format!("status: {status}"));
    }
    parts.join(", ")
}

impl Supervisor {
    /// A process's record; `None` if the key is gone.
    pub(super) fn process_info(&self, key: ProcKey) -> Option<ProcessInfo> {
        let m = self.table.get(key)?;
        let p = &m.process;
        let path = |stderr: bool| {
            m.log_path(stderr)
                .map(|path| path.display().to_string())
                .unwrap_or_default()
        };
        let mut info = ProcessInfo {
            name: p.name().to_string(),
            group: p.group.to_string(),
            start: p.laststart_wall,
            stop: p.laststop_wall,
            now: self.now().wall,
            state: p.state().code(),
            statename: p.state().name().to_string(),
            spawnerr: p.spawnerr().unwrap_or_default().to_string(),
            exitstatus: p.exitstatus().unwrap_or(0),
            stdout_logfile: path(false),
            stderr_logfile: path(true),
            pid: p.pid(),
            description: String::new(),
        }
        .with_description(&local_time);
        info.description = readiness_description(p, info.description);
        Some(info)
    }

    pub(super) fn config_infos(&self) -> Vec<ConfigInfo> {
        let mut infos = Vec::new();
        for def in &self.configured {
            let active = self.group_of(&def.name);
            for pc in &def.processes {
                // An instantiated AUTO log reports its real path, as
                // Supervisor's configs do once their group exists.
                let live: Option<&Managed> = active.and_then(|g| {
                    g.members
                        .iter()
                        .filter_map(|k| self.table.get(*k))
                        .find(|m| std::sync::Arc::ptr_eq(&m.process.config, pc))
                });
                let log = |configured: &LogFile, stderr: bool| -> ApiLogFile {
                    let live_path = live
                        .and_then(|m| m.log_path(stderr))
                        .map(|path| path.display().to_string());
                    match (configured, live_path) {
                        (LogFile::None, _) => ApiLogFile::None,
                        (_, Some(path)) => ApiLogFile::Path(path),
                        (LogFile::Auto, None) => ApiLogFile::Auto,
                        (LogFile::Path(p), None) => ApiLogFile::Path(p.clone()),
                    }
                };
                let stderr_log = if pc.redirect_stderr {
                    ApiLogFile::None
                } else {
                    log(&pc.stderr.logfile, true)
                };
                infos.push(ConfigInfo {
                    name: pc.name.clone(),
                    group: def.name.to_string(),
                    inuse: active.is_some(),
                    autostart: pc.autostart,
                    directory: pc.directory.clone(),
                    uid: pc.uid,
                    serverurl: pc.serverurl.clone(),
                    command: pc.command.clone(),
                    exitcodes: pc.exitcodes.iter().map(|&c| i64::from(c)).collect(),
                    group_prio: def.priority,
                    process_prio: pc.priority,
                    killasgroup: pc.killasgroup,
                    redirect_stderr: pc.redirect_stderr,
                    startretries: pc.startretries,
                    startsecs: pc.startsecs,
                    stopwaitsecs: pc.stopwaitsecs,
                    stopsignal: pc.stopsignal,
                    stdout_logfile: log(&pc.stdout.logfile, false),
                    stdout_logfile_backups: pc.stdout.logfile_backups,
                    stdout_logfile_maxbytes: pc.stdout.logfile_maxbytes,
                    stdout_capture_maxbytes: pc.stdout.capture_maxbytes,
                    stdout_events_enabled: pc.stdout.events_enabled,
                    stdout_syslog: pc.stdout.syslog,
                    stderr_logfile: stderr_log,
                    stderr_logfile_backups: pc.stderr.logfile_backups,
                    stderr_logfile_maxbytes: pc.stderr.logfile_maxbytes,
                    stderr_capture_maxbytes: pc.stderr.capture_maxbytes,
                    stderr_events_enabled: pc.stderr.events_enabled,
                    stderr_syslog: pc.stderr.syslog,
                });
            }
        }
        infos
    }
}
