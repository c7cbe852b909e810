//! supervisorctl, on the typed `sv_client::Client`.
//!
//! # Layout
//!
//! * [`options`]: the command line (getopt rules) and `[supervisorctl]`.
//! * [`controller`]: one session — client, output, exit status — and the
//!   command-line dispatch.
//! * [`commands`]: the commands, one file per family (status, process,
//!   logs, config, daemon, fg, `tail -f`).
//! * [`replies`]: the one mapping from faults, socket errors and
//!   per-process results to output lines and exit statuses.
//! * [`help`], [`completion`], [`shell`] (the interactive loop), [`output`]
//!   (buffered stdout).

pub mod commands;
pub mod completion;
pub mod controller;
pub mod help;
pub mod options;
pub mod output;
pub mod replies;
pub mod shell;

use options::UsageError;

/// Our own words for `-h` (Supervisor's usage text is its prose).
const USAGE: &str = "supervisorctl -- control the programs run by supervisord (supervisor-rs).

Usage: {prog} [options] [action [arguments]]

Options:
-c/--configuration FILE  configuration file to read ([supervisorctl] section)
-h/--help                print this text
-i/--interactive         run the command, then start the interactive shell
-s/--serverurl URL       where supervisord listens (default http://localhost:9001)
                         unix:///path/to/socket for a UNIX domain socket
-u/--username USER       user name for authentication with the server
-p/--password PASS       password for authentication with the server
-r/--history-file FILE   keep the shell's readline history in FILE
                         (--history_file is accepted too)

action [arguments]  a command such as status, start, stop, tail; run
                    \"help\" for the list. Without one the shell starts.
";

/// Run supervisorctl with `argv` (including argv[0]); returns the exit
/// status.
pub fn main(argv: Vec<String>) -> i32 {
    let argv0 = argv
        .first()
        .cloned()
        .unwrap_or_else(|| "supervisorctl".into());
    let args = &argv[argv.len().min(1)..];
    let options = match options::parse(&argv0, args, &sv_host::SystemHost) {
        Ok(o) => o,
        Err(UsageError::Help) => {
            print!("{}", USAGE.replace("{prog}", &argv0));
            return 0;
        }
        Err(UsageError::Message(m)) => {
            eprintln!("Error: {m}");
            eprintln!("For help, use {argv0} -h");
            return 2;
        }
    };
    if options.args.first().map(String::as_str) == Some("completion") {
        return completion_command(&argv0, &options.args[1..]);
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("Error: cannot start: {e}");
            return 1;
        }
    };
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        let colour = options.interactive && output::colour_wanted();
        let mut ctl = controller::Controller::new(options, output::Out::new(colour));
        if !ctl.options.args.is_empty() {
            let line = ctl.options.args.join(" ");
            if ctl.options.interactive_flag {
                // Supervisor ignores -i with a command (spec §9 item 8);
                // we run the command and then stay in the shell.
                ctl.options.interactive = true;
                shell::run(&mut ctl, &line).await;
                ctl.flush();
                return 0;
            }
            ctl.onecmd(&line).await;
            ctl.flush();
            return ctl.exitstatus;
        }
        shell::run(&mut ctl, "status").await;
        ctl.flush();
        0
    })
}

/// `supervisorctl completion <shell>`: print the script (ours; Supervisor
/// has no such command).
fn completion_command(argv0: &str, args: &[String]) -> i32 {
    let shell = match args {
        [shell] => shell.as_str(),
        _ => {
            eprintln!("Usage: {argv0} completion bash|zsh|fish");
            return 2;
        }
    };
    match completion::script(shell) {
        Some(text) => {
            let mut out = output::Out::new(false);
            out.raw(text.as_bytes());
            out.flush();
            0
        }
        None => {
            eprintln!("Error: no completion script for {shell:?} (bash, zsh or fish)");
            2
        }
    }
}
