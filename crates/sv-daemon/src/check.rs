//! `supervisord --check-config` and `--dump-config`: load the configuration
//! exactly as the daemon would, then report instead of running.

use std::fmt::Write as _;

use sv_core::config::{Config, GroupKind, Listen, LogFile};

/// The human summary printed by `--check-config`.
pub fn summary(config: &Config) -> String {
    let mut out = String::new();
    let count = |kind: fn(&GroupKind) -> bool| -> (usize, usize) {
        let groups: Vec<_> = config.groups.iter().filter(|g| kind(&g.kind)).collect();
        (groups.len(), groups.iter().map(|g| g.processes.len()).sum())
    };
    let (program_groups, programs) = count(|k| matches!(k, GroupKind::Process));
    let (pools, listeners) = count(|k| matches!(k, GroupKind::EventListener { .. }));
    let (fcgi_groups, fcgi) = count(|k| matches!(k, GroupKind::FastCgi { .. }));
    let _ = writeln!(out, "{}: configuration is valid", config.config_file);
    for file in &config.included_files {
        let _ = writeln!(out, "  included: {file}");
    }
    let _ = writeln!(
        out,
        "  processes: {programs} in {program_groups} group(s); event listeners: {listeners} in {pools} pool(s); fcgi processes: {fcgi} in {fcgi_groups} group(s)"
    );
    for group in &config.groups {
        let kind = match &group.kind {
            GroupKind::Process => "group".to_string(),
            GroupKind::EventListener { events, .. } => {
                format!("eventlistener pool [{}]", events.join(","))
            }
            GroupKind::FastCgi { socket } => format!("fcgi group {}", socket.url()),
        };
        let names: Vec<&str> = group.processes.iter().map(|p| p.name.as_str()).collect();
        let _ = writeln!(
            out,
            "  {kind} {} (priority {}): {}",
            group.name,
            group.priority,
            if names.is_empty() {
                "(no processes)".to_string()
            } else {
                names.join(", ")
            }
        );
    }
    if config.servers.is_empty() {
        let _ = writeln!(out, "  servers: none (supervisorctl cannot connect)");
    }
    for server in &config.servers {
        let auth = if server.username.is_some() {
            ", with authentication"
        } else {
            ""
        };
        match &server.listen {
            Listen::Inet { host, port } => {
                let host = if host.is_empty() { "*" } else { host };
                let _ = writeln!(out, "  [{}] http://{host}:{port}{auth}", server.section);
            }
            Listen::Unix { file, chmod, .. } => {
                let _ = writeln!(
                    out,
                    "  [{}] unix://{file} (mode {chmod:o}){auth}",
                    server.section
                );
            }
        }
    }
    let s = &config.supervisord;
    let _ = writeln!(
        out,
        "  logfile: {} (level {})",
        s.logfile,
        s.loglevel.name()
    );
    let _ = writeln!(out, "  pidfile: {}", s.pidfile);
    let auto_logs = config
        .groups
        .iter()
        .flat_map(|g| &g.processes)
        .any(|p| p.stdout.logfile == LogFile::Auto || p.stderr.logfile == LogFile::Auto);
    if auto_logs {
        let _ = writeln!(out, "  childlogdir: {}", s.childlogdir);
    }
    for warning in &config.warnings {
        let _ = writeln!(out, "  warning: {warning}");
    }
    out
}

/// The resolved configuration as pretty JSON (`--dump-config`).
pub fn dump(config: &Config) -> String {
    let value = sv_core::config::dump::to_json(config);
    let mut text =
        serde_json::to_string_pretty(&value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}
