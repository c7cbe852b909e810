//! The resolved configuration as JSON (`supervisord --dump-config`).
//!
//! The shape is the one `tests/oracle/dump_config.py` prints from
//! Supervisor 4.3.0's own `ServerOptions`, so the two can be compared field
//! by field; it doubles as a debugging aid for users ("what did my include
//! and my `%(ENV_X)s` actually resolve to?").

use serde_json::{Map, Value, json};

use super::*;

fn pairs(items: &[(String, String)]) -> Value {
    Value::Object(
        items
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect::<Map<_, _>>(),
    )
}

fn logfile(f: &LogFile) -> Value {
    match f {
        LogFile::Auto => json!("AUTO"),
        LogFile::None => Value::Null,
        LogFile::Path(p) => json!(p),
    }
}

fn process(p: &ProcessConfig) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(p.name));
    m.insert("command".into(), json!(p.command));
    m.insert("directory".into(), json!(p.directory));
    m.insert("umask".into(), json!(p.umask));
    m.insert("priority".into(), json!(p.priority));
    m.insert("autostart".into(), json!(p.autostart));
    m.insert(
        "autorestart".into(),
        match p.autorestart {
            AutoRestart::Never => json!(false),
            AutoRestart::Always => json!(true),
            AutoRestart::Unexpected => json!("unexpected"),
        },
    );
    m.insert("startsecs".into(), json!(p.startsecs));
    m.insert("startretries".into(), json!(p.startretries));
    m.insert("uid".into(), json!(p.uid));
    for (name, s) in [("stdout", &p.stdout), ("stderr", &p.stderr)] {
        m.insert(format!("{name}_logfile"), logfile(&s.logfile));
        m.insert(
            format!("{name}_capture_maxbytes"),
            json!(s.capture_maxbytes),
        );
        m.insert(format!("{name}_events_enabled"), json!(s.events_enabled));
        m.insert(format!("{name}_syslog"), json!(s.syslog));
        m.insert(format!("{name}_logfile_backups"), json!(s.logfile_backups));
        m.insert(
            format!("{name}_logfile_maxbytes"),
            json!(s.logfile_maxbytes),
        );
    }
    m.insert("stopsignal".into(), json!(p.stopsignal));
    m.insert("stopwaitsecs".into(), json!(p.stopwaitsecs));
    m.insert("stopasgroup".into(), json!(p.stopasgroup));
    m.insert("killasgroup".into(), json!(p.killasgroup));
    m.insert("exitcodes".into(), json!(p.exitcodes));
    m.insert("redirect_stderr".into(), json!(p.redirect_stderr));
    m.insert("environment".into(), pairs(&p.environment));
    m.insert("serverurl".into(), json!(p.serverurl));
    // Ours (docs/readiness.md), only when the section uses it, so a config
    // without it dumps exactly what Supervisor's would.
    if let Some(r) = &p.readiness {
        m.insert(
            "readiness".into(),
            json!({
                "depends_on": r.depends_on,
                "ready_when": r.ready_when.as_ref().map(|w| w.describe()),
                "ready_timeout": r.ready_timeout,
                "watchdog_secs": r.watchdog_secs,
                "stop_with_dependencies": r.stop_with_dependencies,
            }),
        );
    }
    Value::Object(m)
}

fn group(g: &GroupConfig) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(g.name));
    m.insert("priority".into(), json!(g.priority));
    match &g.kind {
        GroupKind::Process => {
            m.insert("kind".into(), json!("process"));
        }
        GroupKind::EventListener {
            buffer_size,
            events,
            result_handler,
        } => {
            m.insert("kind".into(), json!("eventlistener"));
            m.insert("buffer_size".into(), json!(buffer_size));
            m.insert("events".into(), json!(events));
            m.insert("result_handler".into(), json!(result_handler));
        }
        GroupKind::FastCgi { socket } => {
            m.insert("kind".into(), json!("fcgi"));
            m.insert("socket".into(), json!(socket.url()));
            let (backlog, owner, mode) = match socket {
                FcgiSocket::Tcp { backlog, .. } => (*backlog, None, None),
                FcgiSocket::Unix {
                    owner,
                    mode,
                    backlog,
                    ..
                } => (*backlog, *owner, *mode),
            };
            m.insert("socket_backlog".into(), json!(backlog));
            m.insert("socket_owner".into(), json!(owner.map(|(u, g)| [u, g])));
            m.insert("socket_mode".into(), json!(mode));
        }
    }
    m.insert(
        "processes".into(),
        Value::Array(g.processes.iter().map(process).collect()),
    );
    Value::Object(m)
}

fn server(s: &ServerConfig) -> Value {
    let mut m = Map::new();
    m.insert("section".into(), json!(s.section));
    m.insert("name".into(), json!(s.name));
    match &s.listen {
        Listen::Inet { host, port } => {
            m.insert("family".into(), json!("inet"));
            m.insert("host".into(), json!(host));
            m.insert("port".into(), json!(port));
        }
        Listen::Unix { file, chmod, chown } => {
            m.insert("family".into(), json!("unix"));
            m.insert("file".into(), json!(file));
            m.insert("chmod".into(), json!(chmod));
            m.insert("chown".into(), json!([chown.0, chown.1]));
        }
    }
    m.insert("username".into(), json!(s.username));
    m.insert("password".into(), json!(s.password));
    // Ours only: shown when set, so a config Supervisor can read dumps
    // the same as there.
    if let Some(max) = s.max_connections {
        m.insert("max_connections".into(), json!(max));
    }
    Value::Object(m)
}

/// The whole configuration as a JSON value.
pub fn to_json(config: &Config) -> Value {
    let s = &config.supervisord;
    json!({
        "supervisord": {
            "logfile": s.logfile,
            "logfile_maxbytes": s.logfile_maxbytes,
            "logfile_backups": s.logfile_backups,
            "loglevel": s.loglevel.name(),
            "pidfile": s.pidfile,
            "umask": s.umask,
            "nodaemon": s.nodaemon,
            "silent": s.silent,
            "minfds": s.minfds,
            "minprocs": s.minprocs,
            "nocleanup": s.nocleanup,
            "childlogdir": s.childlogdir,
            "user": s.user,
            "uid": s.uid,
            "directory": s.directory,
            "strip_ansi": s.strip_ansi,
            "identifier": s.identifier,
            "environment": pairs(&s.environment),
        },
        "serverurl": config.serverurl,
        "servers": config.servers.iter().map(server).collect::<Vec<_>>(),
        "rpcinterfaces": config.rpcinterfaces.iter().map(|r| json!({
            "name": r.name,
            "factory": r.factory,
            "kwargs": pairs(&r.kwargs),
        })).collect::<Vec<_>>(),
        "groups": config.groups.iter().map(group).collect::<Vec<_>>(),
        "warnings": config.warnings,
        "infos": config.infos,
    })
}
