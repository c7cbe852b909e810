//! `supervisor-hub`: one service for many supervisord hosts, a drop-in
//! for Cesi 2.7.1 (see docs/hub.md). All of it lives in `sv_hub::cli`.

fn main() -> std::process::ExitCode {
    sv_hub::cli::main()
}
