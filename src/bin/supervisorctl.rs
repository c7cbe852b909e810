//! `supervisorctl`: the client; everything lives in `sv_ctl`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let code = sv_ctl::main(std::env::args().collect());
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
