//! Turning a [`ProcessConfig`] into a running child, as Supervisor's
//! `Subprocess.spawn` does: find the program (with its exact error
//! messages), build the environment, then fork and exec with
//! `std::process::Command` in a new process group.
//!
//! Everything that reads the password database, allocates or can log is done
//! here in the parent; the `pre_exec` hook only makes async-signal-safe
//! system calls (rlimit, setgroups/setgid/setuid, umask, chdir), in
//! Supervisor's order: privileges are dropped before the chdir, so a
//! directory only root can enter fails the spawn as it does there.

use std::ffi::CString;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, Stdio};

use nix::errno::Errno;
use sv_core::config::ProcessConfig;

use crate::sys::{self, ChildLimits, Identity};

/// What the daemon knows that every spawn needs.
#[derive(Debug, Clone)]
pub struct SpawnContext {
    /// supervisord's own environment, captured at start.
    pub base_env: Vec<(String, String)>,
    /// `SUPERVISOR_SERVER_URL` when the process has no `serverurl` of its own.
    pub server_url: Option<String>,
    pub limits: ChildLimits,
}

/// A child that was forked and exec'd.
#[derive(Debug)]
pub struct Spawned {
    pub pid: u32,
    /// Kept open: programs such as `cat` exit on end of input.
    pub stdin: Option<ChildStdin>,
    pub stdout: Option<std::process::ChildStdout>,
    pub stderr: Option<std::process::ChildStderr>,
}

fn errno_name(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => format!("{:?}", Errno::from_raw(code)),
        None => e.to_string(),
    }
}

/// Supervisor's `get_execv_args` + `check_execv_args`: the file to exec and
/// the argv, or the spawn error.
pub fn resolve_command(
    config: &ProcessConfig,
    base_env: &[(String, String)],
) -> Result<(String, Vec<String>), String> {
    let argv = sv_core::shlex::split(&config.command).map_err(|e| {
        format!(
            "can't parse command {}: {e}",
            sv_core::pyfmt::py_repr_str(&config.command)
        )
    })?;
    let Some(program) = argv.first() else {
        return Err("command is empty".to_string());
    };
    let (filename, meta) = if program.contains('/') {
        (program.clone(), std::fs::metadata(program).ok())
    } else {
        let path = config
            .environment
            .iter()
            .find(|(k, _)| k == "PATH")
            .or_else(|| base_env.iter().find(|(k, _)| k == "PATH"))
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| "/bin:/usr/bin:/usr/local/bin".to_string());
        path.split(':')
            .map(|dir| sv_core::pypath::join(dir, program))
            .find_map(|candidate| {
                std::fs::metadata(&candidate)
                    .ok()
                    .map(|m| (candidate, Some(m)))
            })
            .unwrap_or_else(|| (program.clone(), None))
    };
    let quoted = sv_core::pyfmt::py_repr_str(&filename);
    let Some(meta) = meta else {
        return Err(format!("can't find command {quoted}"));
    };
    if meta.is_dir() {
        return Err(format!("command at {quoted} is a directory"));
    }
    if meta.permissions().mode() & 0o111 == 0 {
        return Err(format!("command at {quoted} is not executable"));
    }
    if nix::unistd::access(filename.as_str(), nix::unistd::AccessFlags::X_OK).is_err() {
        return Err(format!("no permission to run command {quoted}"));
    }
    Ok((filename, argv))
}

/// The child's environment in Supervisor's order: supervisord's, then the
/// `SUPERVISOR_*` variables, then the configured `environment`.
pub fn environment(
    ctx: &SpawnContext,
    group: &str,
    config: &ProcessConfig,
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = ctx.base_env.clone();
    let mut set = |k: &str, v: String| match env.iter_mut().find(|(key, _)| key == k) {
        Some(slot) => slot.1 = v,
        None => env.push((k.to_string(), v)),
    };
    set("SUPERVISOR_ENABLED", "1".to_string());
    if let Some(url) = config.serverurl.clone().or_else(|| ctx.server_url.clone()) {
        set("SUPERVISOR_SERVER_URL", url);
    }
    set("SUPERVISOR_PROCESS_NAME", config.name.clone());
    set("SUPERVISOR_GROUP_NAME", group.to_string());
    for (k, v) in &config.environment {
        set(k, v.clone());
    }
    env
}

/// Fork and exec `config`'s command for a process of `group`. `socket` is
/// an fcgi group's listening socket, given to the child as its stdin.
pub fn spawn(
    ctx: &SpawnContext,
    group: &str,
    config: &ProcessConfig,
    socket: Option<&std::os::fd::OwnedFd>,
) -> Result<Spawned, String> {
    let (filename, argv) = resolve_command(config, &ctx.base_env)?;
    let identity: Option<Identity> = match config.uid {
        Some(uid) => {
            let needed =
                sys::needs_switch(uid).map_err(|e| format!("couldn't setuid to {uid}: {e}"))?;
            if needed {
                Some(sys::identity(uid).map_err(|e| format!("couldn't setuid to {uid}: {e}"))?)
            } else {
                None
            }
        }
        None => None,
    };
    let directory = match &config.directory {
        Some(dir) => {
            if identity.is_none() && !std::path::Path::new(dir).is_dir() {
                let err = std::fs::metadata(dir)
                    .err()
                    .map(|e| errno_name(&e))
                    .unwrap_or_else(|| "ENOTDIR".to_string());
                return Err(format!("couldn't chdir to {dir}: {err}"));
            }
            Some(
                CString::new(dir.as_str())
                    .map_err(|_| format!("couldn't chdir to {dir}: EINVAL"))?,
            )
        }
        None => None,
    };
    let umask = config.umask;
    let limits = ctx.limits;

    let mut command = Command::new(&filename);
    command
        .arg0(&argv[0])
        .args(&argv[1..])
        .env_clear()
        .envs(environment(ctx, group, config))
        .process_group(0);
    match socket {
        Some(fd) => {
            let dup = fd.try_clone().map_err(|e| spawn_error(&config.name, &e))?;
            command.stdin(Stdio::from(dup));
        }
        None => {
            command.stdin(Stdio::piped());
        }
    }
    if config.redirect_stderr {
        let (reader, writer) = std::io::pipe().map_err(|e| spawn_error(&config.name, &e))?;
        let writer2 = writer
            .try_clone()
            .map_err(|e| spawn_error(&config.name, &e))?;
        command
            .stdout(Stdio::from(writer))
            .stderr(Stdio::from(writer2));
        let child = exec(
            &mut command,
            identity,
            directory,
            umask,
            limits,
            &config.name,
            &argv[0],
        )?;
        drop(command);
        return Ok(Spawned {
            pid: child.id(),
            stdin: child.stdin,
            stdout: Some(std::process::ChildStdout::from(std::os::fd::OwnedFd::from(
                reader,
            ))),
            stderr: None,
        });
    }
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = exec(
        &mut command,
        identity,
        directory,
        umask,
        limits,
        &config.name,
        &argv[0],
    )?;
    Ok(Spawned {
        pid: child.id(),
        stdin: child.stdin,
        stdout: child.stdout,
        stderr: child.stderr,
    })
}

fn spawn_error(name: &str, e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::EMFILE) | Some(libc::ENFILE) => format!("too many open files to spawn '{name}'"),
        Some(libc::EAGAIN) => format!("Too many processes in process table to spawn '{name}'"),
        _ => format!("unknown error during fork for '{name}': {}", errno_name(e)),
    }
}

fn exec(
    command: &mut Command,
    identity: Option<Identity>,
    directory: Option<CString>,
    umask: Option<u32>,
    limits: ChildLimits,
    name: &str,
    argv0: &str,
) -> Result<Child, String> {
    // SAFETY: the hook makes only async-signal-safe system calls on data
    // prepared before the fork; it allocates nothing and takes no lock.
    unsafe {
        command.pre_exec(move || {
            sys::restore_child_nofile(&limits)?;
            if let Some(id) = &identity {
                sys::switch_identity(id)?;
            }
            if let Some(mask) = umask {
                libc::umask(mask as libc::mode_t);
            }
            if let Some(dir) = &directory
                && libc::chdir(dir.as_ptr()) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command.spawn().map_err(|e| match e.raw_os_error() {
        Some(libc::EMFILE) | Some(libc::ENFILE) | Some(libc::EAGAIN) => spawn_error(name, &e),
        _ => format!("couldn't exec {argv0}: {}", errno_name(&e)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(command: &str) -> ProcessConfig {
        ProcessConfig::with_defaults("p", command)
    }

    #[test]
    fn resolve_finds_programs_on_path_with_supervisors_messages() {
        let env = vec![("PATH".to_string(), "/nonexistent:/bin:/usr/bin".to_string())];
        let (file, argv) = resolve_command(&cfg("sh -c 'echo hi'"), &env).unwrap();
        assert!(file.ends_with("/sh"), "{file}");
        assert_eq!(argv, ["sh", "-c", "echo hi"]);
        assert_eq!(
            resolve_command(&cfg("no-such-program-xyz"), &env).unwrap_err(),
            "can't find command 'no-such-program-xyz'"
        );
        assert_eq!(
            resolve_command(&cfg("/tmp"), &env).unwrap_err(),
            "command at '/tmp' is a directory"
        );
        assert_eq!(
            resolve_command(&cfg("  "), &env).unwrap_err(),
            "command is empty"
        );
        assert!(
            resolve_command(&cfg("'unclosed"), &env)
                .unwrap_err()
                .starts_with("can't parse command \"'unclosed\": No closing quotation")
        );
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain");
        std::fs::write(&plain, "x").unwrap();
        let plain = plain.to_str().unwrap();
        assert_eq!(
            resolve_command(&cfg(plain), &env).unwrap_err(),
            format!("command at '{plain}' is not executable")
        );
    }

    #[test]
    fn environment_order_is_supervisors() {
        let ctx = SpawnContext {
            base_env: vec![
                ("HOME".into(), "/root".into()),
                ("SUPERVISOR_ENABLED".into(), "0".into()),
            ],
            server_url: Some("unix:///tmp/s.sock".into()),
            limits: ChildLimits {
                nofile_soft: 1024,
                nofile_hard: 1024,
            },
        };
        let mut c = cfg("x");
        c.environment = vec![
            ("HOME".into(), "/srv".into()),
            ("SUPERVISOR_GROUP_NAME".into(), "mine".into()),
        ];
        let env = environment(&ctx, "grp", &c);
        let get = |k: &str| {
            env.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("SUPERVISOR_ENABLED"), Some("1"));
        assert_eq!(get("SUPERVISOR_SERVER_URL"), Some("unix:///tmp/s.sock"));
        assert_eq!(get("SUPERVISOR_PROCESS_NAME"), Some("p"));
        assert_eq!(
            get("SUPERVISOR_GROUP_NAME"),
            Some("mine"),
            "configured environment wins (spec §2.2)"
        );
        assert_eq!(get("HOME"), Some("/srv"));
    }
}
