//! The reference implementation (Python Supervisor 4.3.0) for compatibility tests.
//!
//! [`python()`] makes sure a virtualenv with `supervisor==4.3.0` and
//! `superlance==2.0.0` exists next to `CARGO_TARGET_TMPDIR`
//! (`<target>/tmp/../reference-venv`) and returns its interpreter.
//! Creating it needs `python3` with the `venv` module and access to PyPI. It
//! is created once and shared by every test binary; an exclusive file lock
//! serialises concurrent set-ups and a marker file, written only after a
//! verified install, tells later runs that the venv is complete.
//!
//! Failures panic with the installer's output: the compatibility tests are
//! never skipped silently.
//!
//! `SV_REFERENCE_PYTHON3` may name the interpreter used to create the venv
//! (default: `python3` from `PATH`).
#![allow(dead_code)]

use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Version of Supervisor the Rust implementation is compared against.
pub const SUPERVISOR_VERSION: &str = "4.3.0";
/// Version of superlance (event listener helpers) installed alongside.
pub const SUPERLANCE_VERSION: &str = "2.0.0";

/// Directory of the shared reference virtualenv.
pub fn venv_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).join("reference-venv")
}

/// Python interpreter of the reference venv (created on first use).
pub fn python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(ensure_venv).clone()
}

/// `bin/` directory of the reference venv (holds `supervisord`,
/// `supervisorctl`, `echo_supervisord_conf`, `pidproxy`, superlance tools).
pub fn venv_bin() -> PathBuf {
    python()
        .parent()
        .expect("venv python has a parent directory")
        .to_path_buf()
}

/// `tests/oracle/dump_config.py`: prints the configuration the reference
/// derives from `supervisord` command-line arguments, as JSON.
pub fn dump_config_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("oracle")
        .join("dump_config.py")
}

fn marker_name() -> String {
    format!(".installed-supervisor-{SUPERVISOR_VERSION}-superlance-{SUPERLANCE_VERSION}")
}

fn ensure_venv() -> PathBuf {
    let venv = venv_dir();
    let python = venv.join("bin").join("python");
    let marker = venv.join(marker_name());
    let parent = venv
        .parent()
        .expect("reference venv path has a parent")
        .to_path_buf();

    if let Err(err) = fs::create_dir_all(&parent) {
        setup_failed(
            &venv,
            "create the directory for the reference venv",
            &format!("{}: {err}", parent.display()),
        );
    }
    let lock_path = parent.join("reference-venv.lock");
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&lock_path)
        .unwrap_or_else(|err| {
            setup_failed(
                &venv,
                "open the venv lock file",
                &format!("{}: {err}", lock_path.display()),
            )
        });
    // Blocks while another test binary is installing; released on drop.
    if let Err(err) = lock.lock() {
        setup_failed(
            &venv,
            "lock the venv lock file",
            &format!("{}: {err}", lock_path.display()),
        );
    }

    if marker.is_file() && python.is_file() {
        return python;
    }

    // Missing or half-made venv (an earlier attempt failed): start over.
    if venv.exists()
        && let Err(err) = fs::remove_dir_all(&venv)
    {
        setup_failed(
            &venv,
            "remove the incomplete reference venv",
            &format!("{}: {err}", venv.display()),
        );
    }

    let python3 = std::env::var_os("SV_REFERENCE_PYTHON3").unwrap_or_else(|| "python3".into());
    let mut create = super::command::new(&python3);
    create.arg("-m").arg("venv").arg(&venv);
    run_step(&venv, "create the venv (python3 -m venv)", create);

    let mut install = super::command::new(venv.join("bin").join("pip"));
    install
        .arg("install")
        .arg("--disable-pip-version-check")
        .arg("-q")
        .arg(format!("supervisor=={SUPERVISOR_VERSION}"))
        .arg(format!("superlance=={SUPERLANCE_VERSION}"));
    run_step(&venv, "install supervisor and superlance with pip", install);

    let mut verify = super::command::new(&python);
    verify.arg("-c").arg(
        "import importlib.metadata as m, supervisor.options, superlance; \
         print(m.version('supervisor'), m.version('superlance'))",
    );
    let stdout = run_step(&venv, "verify the installed versions", verify);
    let expected = format!("{SUPERVISOR_VERSION} {SUPERLANCE_VERSION}");
    if stdout.trim() != expected {
        setup_failed(
            &venv,
            "verify the installed versions",
            &format!(
                "expected `{expected}`, the venv reports `{}`",
                stdout.trim()
            ),
        );
    }

    if let Err(err) = fs::write(&marker, format!("{expected}\n")) {
        setup_failed(
            &venv,
            "write the install marker",
            &format!("{}: {err}", marker.display()),
        );
    }
    drop(lock);
    python
}

/// Runs one set-up command; returns its stdout, panics (with all output) on failure.
fn run_step(venv: &Path, step: &str, mut cmd: Command) -> String {
    let shown = format!("{cmd:?}");
    match cmd.output() {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).into_owned(),
        Ok(out) => setup_failed(
            venv,
            step,
            &format!(
                "command: {shown}\nexit status: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
                out.status,
                String::from_utf8_lossy(&out.stdout).trim_end(),
                String::from_utf8_lossy(&out.stderr).trim_end(),
            ),
        ),
        Err(err) => setup_failed(
            venv,
            step,
            &format!("command: {shown}\ncould not be started: {err}"),
        ),
    }
}

fn setup_failed(venv: &Path, step: &str, details: &str) -> ! {
    panic!(
        "\n\n==== REFERENCE SUPERVISOR SET-UP FAILED ====\n\
         Could not {step}.\n\
         {details}\n\n\
         The compatibility tests compare this project against the real Python \
         Supervisor {SUPERVISOR_VERSION} and cannot run without it; they are never skipped.\n\
         To fix:\n\
         \x20 * install python3 with the venv module and pip \
         (Debian/Ubuntu: `apt-get install python3 python3-venv`),\n\
         \x20   or point SV_REFERENCE_PYTHON3 at a suitable interpreter;\n\
         \x20 * make sure PyPI is reachable (pip installs supervisor=={SUPERVISOR_VERSION} \
         and superlance=={SUPERLANCE_VERSION});\n\
         \x20 * then re-run the tests. The venv lives at {venv}; delete that directory \
         to force a clean reinstall.\n\
         ============================================\n",
        venv = venv.display(),
    )
}
