//! Turning a [`ProcessConfig`] into a running child, as Supervisor's
//! `Subprocess.spawn` does: find the program (with its exact error
//! messages), build the environment and the pipes, then start the child in
//! a new process group without copying the daemon ([`vfork`]) and exec.
//!
//! Everything that reads the password database, allocates or can log is done
//! here in the parent; what runs between the clone and exec is
//! [`ChildSetup::run`](crate::child_setup::ChildSetup::run), which only
//! makes async-signal-safe system calls on data prepared here. The program
//! is exec'd by the path found here, with `execve`, as Supervisor does.

use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::process::{ChildStderr, ChildStdin, ChildStdout};

use nix::errno::Errno;
use sv_core::config::ProcessConfig;
use sv_core::pyfmt::py_repr_str;

use crate::child_setup::{ChildSetup, Program};
use crate::sys::{self, ChildLimits, Identity};
use crate::vfork;

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
    pub stdout: Option<ChildStdout>,
    pub stderr: Option<ChildStderr>,
}

/// Why a process could not be spawned. The Display text is Supervisor's
/// `spawnerr` (what `getProcessInfo` reports and the log says), byte for
/// byte; the variant is what decides the fault of `startProcess`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpawnError {
    #[error("can't parse command {}: {reason}", py_repr_str(.command))]
    Unparsable { command: String, reason: String },
    #[error("command is empty")]
    Empty,
    /// The only NO_FILE case of `startProcess`; every other check is
    /// NOT_EXECUTABLE.
    #[error("can't find command {}", py_repr_str(.0))]
    NotFound(String),
    #[error("command at {} is a directory", py_repr_str(.0))]
    IsDirectory(String),
    #[error("command at {} is not executable", py_repr_str(.0))]
    NotExecutable(String),
    #[error("no permission to run command {}", py_repr_str(.0))]
    NoPermission(String),
    #[error("couldn't setuid to {uid}: {reason}")]
    Setuid { uid: u32, reason: String },
    #[error("couldn't chdir to {dir}: {errno}")]
    Chdir { dir: String, errno: String },
    #[error("too many open files to spawn '{0}'")]
    TooManyFiles(String),
    #[error("Too many processes in process table to spawn '{0}'")]
    TooManyProcesses(String),
    #[error("unknown error during fork for '{name}': {errno}")]
    Fork { name: String, errno: String },
    #[error("couldn't exec {argv0}: {errno}")]
    Exec { argv0: String, errno: String },
}

impl SpawnError {
    /// Whether Supervisor has opened the process's log files when this
    /// failure happens: it opens them once the command is resolved and
    /// the pipes are made, so a fork that fails, or a chdir, setuid or
    /// exec that fails in the child, leaves them in place (the child's
    /// complaint goes to the stderr log there).
    pub fn after_logs_opened(&self) -> bool {
        matches!(
            self,
            SpawnError::Setuid { .. }
                | SpawnError::Chdir { .. }
                | SpawnError::TooManyProcesses(_)
                | SpawnError::Fork { .. }
                | SpawnError::Exec { .. }
        )
    }
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
) -> Result<(String, Vec<String>), SpawnError> {
    let argv = sv_core::shlex::split(&config.command).map_err(|e| SpawnError::Unparsable {
        command: config.command.clone(),
        reason: e.to_string(),
    })?;
    let Some(program) = argv.first() else {
        return Err(SpawnError::Empty);
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
    let Some(meta) = meta else {
        return Err(SpawnError::NotFound(filename));
    };
    if meta.is_dir() {
        return Err(SpawnError::IsDirectory(filename));
    }
    if meta.permissions().mode() & 0o111 == 0 {
        return Err(SpawnError::NotExecutable(filename));
    }
    if nix::unistd::access(filename.as_str(), nix::unistd::AccessFlags::X_OK).is_err() {
        return Err(SpawnError::NoPermission(filename));
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

/// Start `config`'s command for a process of `group`. `socket` is
/// an fcgi group's listening socket, given to the child as its stdin.
pub fn spawn(
    ctx: &SpawnContext,
    group: &str,
    config: &ProcessConfig,
    socket: Option<&std::os::fd::OwnedFd>,
) -> Result<Spawned, SpawnError> {
    let (filename, argv) = resolve_command(config, &ctx.base_env)?;
    let setuid_error = |uid: u32, e: sys::SysError| SpawnError::Setuid {
        uid,
        reason: e.to_string(),
    };
    let identity: Option<Identity> = match config.uid {
        Some(uid) if sys::needs_switch(uid).map_err(|e| setuid_error(uid, e))? => {
            Some(sys::identity(uid).map_err(|e| setuid_error(uid, e))?)
        }
        _ => None,
    };
    let directory = match &config.directory {
        Some(dir) => {
            if identity.is_none() && !std::path::Path::new(dir).is_dir() {
                let errno = std::fs::metadata(dir)
                    .err()
                    .map(|e| errno_name(&e))
                    .unwrap_or_else(|| "ENOTDIR".to_string());
                return Err(SpawnError::Chdir {
                    dir: dir.clone(),
                    errno,
                });
            }
            Some(CString::new(dir.as_str()).map_err(|_| SpawnError::Chdir {
                dir: dir.clone(),
                errno: "EINVAL".to_string(),
            })?)
        }
        None => None,
    };
    let exec_failed = |e: std::io::Error| exec_error(&config.name, &argv[0], &e);
    let fork_error = |e: std::io::Error| spawn_error(&config.name, &e);
    let program =
        program(&filename, &argv, environment(ctx, group, config)).map_err(exec_failed)?;

    // The child's ends of its three descriptors, and ours. Every one is
    // close-on-exec: the child gets its copies through `dup2`, which clears
    // the flag on 0, 1 and 2 only.
    let (stdin_child, stdin_ours) = match socket {
        Some(fd) => (fd.try_clone().map_err(fork_error)?, None),
        None => {
            let (reader, writer) = std::io::pipe().map_err(fork_error)?;
            (
                above_stdio(reader.into()).map_err(fork_error)?,
                Some(writer),
            )
        }
    };
    let (stdout_ours, stdout_child) = std::io::pipe().map_err(fork_error)?;
    let stdout_child = above_stdio(stdout_child.into()).map_err(fork_error)?;
    let stderr_pipe = if config.redirect_stderr {
        None
    } else {
        let (ours, child) = std::io::pipe().map_err(fork_error)?;
        Some((ours, above_stdio(child.into()).map_err(fork_error)?))
    };
    let stderr_child = stderr_pipe
        .as_ref()
        .map_or(stdout_child.as_raw_fd(), |(_, child)| child.as_raw_fd());

    // Everything the child needs after the clone is built here, before it.
    let setup = ChildSetup::new(
        program,
        [
            stdin_child.as_raw_fd(),
            stdout_child.as_raw_fd(),
            stderr_child,
        ],
        &ctx.limits,
        identity.as_ref(),
        config.umask,
        directory,
    );
    let pid = vfork::spawn(&setup).map_err(exec_failed)?;
    // Our copies of the child's ends close now, or the readers would never
    // see end-of-file.
    drop((stdin_child, stdout_child));
    let (stderr, stderr_child) = match stderr_pipe {
        Some((ours, child)) => (Some(ChildStderr::from(OwnedFd::from(ours))), Some(child)),
        None => (None, None),
    };
    drop(stderr_child);
    Ok(Spawned {
        pid,
        stdin: stdin_ours.map(|w| ChildStdin::from(OwnedFd::from(w))),
        stdout: Some(ChildStdout::from(OwnedFd::from(stdout_ours))),
        stderr,
    })
}

/// argv and the environment as C strings. The environment is sorted by
/// name, as `std::process::Command` passed it (a config cannot tell the
/// difference, a test that prints `env` could). A NUL byte fails the spawn
/// with std's error.
fn program(
    filename: &str,
    argv: &[String],
    mut env: Vec<(String, String)>,
) -> std::io::Result<Program> {
    let c = |s: String| {
        CString::new(s).map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "nul byte found in provided data",
            )
        })
    };
    env.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Program {
        filename: c(filename.to_string())?,
        argv: argv
            .iter()
            .map(|a| c(a.clone()))
            .collect::<Result<_, _>>()?,
        env: env
            .into_iter()
            .map(|(k, v)| c(format!("{k}={v}")))
            .collect::<Result<_, _>>()?,
    })
}

/// A descriptor that can be `dup2`'d onto 0, 1 or 2 without being
/// overwritten by an earlier `dup2`: moved to 3 or above if the daemon's own
/// standard descriptors were closed when it opened it.
fn above_stdio(fd: OwnedFd) -> std::io::Result<OwnedFd> {
    if fd.as_raw_fd() > 2 {
        Ok(fd)
    } else {
        // std duplicates with F_DUPFD_CLOEXEC from 3.
        fd.try_clone()
    }
}

fn spawn_error(name: &str, e: &std::io::Error) -> SpawnError {
    let name = name.to_string();
    match e.raw_os_error() {
        Some(libc::EMFILE) | Some(libc::ENFILE) => SpawnError::TooManyFiles(name),
        Some(libc::EAGAIN) => SpawnError::TooManyProcesses(name),
        _ => SpawnError::Fork {
            name,
            errno: errno_name(e),
        },
    }
}

/// A failure of the clone, of a step in the child or of exec: the mapping
/// `std::process::Command::spawn`'s errors had.
fn exec_error(name: &str, argv0: &str, e: &std::io::Error) -> SpawnError {
    match e.raw_os_error() {
        Some(libc::EMFILE) | Some(libc::ENFILE) | Some(libc::EAGAIN) => spawn_error(name, e),
        _ => SpawnError::Exec {
            argv0: argv0.to_string(),
            errno: errno_name(e),
        },
    }
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
            SpawnError::NotFound("no-such-program-xyz".into())
        );
        assert_eq!(
            resolve_command(&cfg("no-such-program-xyz"), &env)
                .unwrap_err()
                .to_string(),
            "can't find command 'no-such-program-xyz'"
        );
        assert_eq!(
            resolve_command(&cfg("/tmp"), &env).unwrap_err().to_string(),
            "command at '/tmp' is a directory"
        );
        assert_eq!(
            resolve_command(&cfg("  "), &env).unwrap_err().to_string(),
            "command is empty"
        );
        assert!(
            resolve_command(&cfg("'unclosed"), &env)
                .unwrap_err()
                .to_string()
                .starts_with("can't parse command \"'unclosed\": No closing quotation")
        );
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain");
        std::fs::write(&plain, "x").unwrap();
        let plain = plain.to_str().unwrap();
        assert_eq!(
            resolve_command(&cfg(plain), &env).unwrap_err().to_string(),
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
