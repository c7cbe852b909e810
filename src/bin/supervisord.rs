//! `supervisord`: parse the command line, load the configuration, run.

use std::io::Write;
use std::process::ExitCode;

use sv_daemon::cli::{self, Action, Mode};
use sv_host::SystemHost;

fn usage_error(argv0: &str, message: &str) -> ExitCode {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "Error: {message}");
    let _ = writeln!(stderr, "For help, use {argv0} -h");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut args = std::env::args();
    let argv0 = args.next().unwrap_or_else(|| "supervisord".to_string());
    let args: Vec<String> = args.collect();
    let host = SystemHost;
    let invocation = match cli::parse(&host, &args) {
        Ok(Action::Help) => {
            print!("{}", cli::help_text(&argv0));
            return ExitCode::SUCCESS;
        }
        Ok(Action::Version) => {
            println!("{}", sv_daemon::SUPERVISOR_VERSION);
            return ExitCode::SUCCESS;
        }
        Ok(Action::Run(invocation)) => invocation,
        Err(e) => return usage_error(&argv0, &e.0),
    };
    let config_file = match cli::find_config(&host, &argv0, invocation.configfile.as_deref()) {
        Ok(path) => path,
        Err(e) => return usage_error(&argv0, &e.0),
    };
    let config = match sv_core::config::load(&host, &config_file, &invocation.overrides) {
        Ok(config) => config,
        Err(e) => {
            let lines: Vec<String> = e.errors.iter().map(ToString::to_string).collect();
            return usage_error(&argv0, &lines.join("\nError: "));
        }
    };
    match invocation.mode {
        Mode::Dump => print!("{}", sv_daemon::check::dump(&config)),
        Mode::Check => print!("{}", sv_daemon::check::summary(&config)),
        Mode::Run => {
            return match sv_daemon::boot::run(config, invocation.overrides) {
                Ok(code) => code,
                Err(e) => usage_error(&argv0, &e.to_string()),
            };
        }
    }
    ExitCode::SUCCESS
}
