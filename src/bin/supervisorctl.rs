//! `supervisorctl`: the client. Not built yet; says so instead of pretending.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!(
        "supervisorctl (supervisor-rs {}) is not built yet; use Supervisor's own supervisorctl meanwhile.",
        env!("CARGO_PKG_VERSION")
    );
    ExitCode::from(2)
}
