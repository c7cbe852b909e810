//! The `supervisor-hub` command line: Cesi's options (`-c/--config-file/
//! --config`, `--host`, `-p/--port`, `--version`), `--check-config`, and
//! the operators' subcommands `user add|passwd|del|list` and
//! `token add|revoke|list`.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use crate::auth::{password, token, unix_now};
use crate::config::{self, HubConfig};
use crate::server;
use crate::store::{Store, StoreError};

#[derive(Debug, Parser)]
#[command(
    name = "supervisor-hub",
    about = "One service for many supervisord hosts: Cesi's config and REST API",
    disable_version_flag = true
)]
struct Args {
    /// Cesi's TOML configuration file.
    #[arg(
        short = 'c',
        long = "config-file",
        visible_alias = "config",
        global = true
    )]
    config_file: Option<PathBuf>,
    /// Listen address (Cesi's default; a warning when not loopback), or
    /// `unix:/path/hub.sock` for a unix socket.
    #[arg(long, default_value = "0.0.0.0")]
    host: String,
    /// Listen port.
    #[arg(short = 'p', long, default_value_t = 5000)]
    port: u16,
    /// Print the version and exit.
    #[arg(long)]
    version: bool,
    /// Validate the config file, print a summary (no secrets) and exit.
    #[arg(long)]
    check_config: bool,
    /// Cesi's Flask debug mode: accepted so Cesi's command lines work;
    /// the hub has no debugger and prints compact JSON regardless.
    #[arg(long, hide = true)]
    debug: bool,
    /// Cesi's re-exec on source change: accepted and ignored.
    #[arg(long, hide = true)]
    auto_reload: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens (`Authorization: Bearer …`).
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add a user; the password is read from the terminal or stdin.
    Add {
        /// User name (1 to 16 characters).
        name: String,
        /// admin, operator or viewer (or Cesi's 0, 1, 2).
        #[arg(long, default_value = "operator")]
        role: String,
        /// Limit the user to these environments (comma-separated).
        #[arg(long, value_delimiter = ',')]
        env: Vec<String>,
    },
    /// Set a user's password (their sessions end).
    Passwd {
        /// User name.
        name: String,
    },
    /// Delete a user, their sessions and tokens.
    Del {
        /// User name.
        name: String,
    },
    /// List users.
    List,
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create a token acting as a user; it is printed once.
    Add {
        /// Token name.
        name: String,
        /// The user it acts as.
        #[arg(long)]
        user: String,
    },
    /// Revoke a token.
    Revoke {
        /// Token name.
        name: String,
    },
    /// List tokens (names only).
    List,
}

/// Why a subcommand failed.
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Usage(String),
}

/// Runs the program; returns its exit status.
pub fn main() -> ExitCode {
    let args = Args::parse();
    if args.version {
        println!(
            "supervisor-hub {} (Cesi 2.7.1 API)",
            env!("CARGO_PKG_VERSION")
        );
        return ExitCode::SUCCESS;
    }
    if args.debug || args.auto_reload {
        eprintln!(
            "supervisor-hub: --debug and --auto-reload are Cesi development options; ignored"
        );
    }
    // Cesi's WSGI entry point took the file from CESI_CONFIG_PATH.
    let from_env = std::env::var_os("CESI_CONFIG_PATH").map(PathBuf::from);
    let Some(path) = args.config_file.clone().or(from_env) else {
        Args::command()
            .error(
                clap::error::ErrorKind::MissingRequiredArgument,
                "the following required arguments were not provided:\n  --config-file <CONFIG_FILE>",
            )
            .exit();
    };
    if args.command.is_none() {
        println!("Loading config file...");
    }
    let config = match config::load(&path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    if args.check_config {
        print!("{}", config.summary());
        return ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("supervisor-hub: cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    match args.command {
        None => match runtime.block_on(server::run(config, &args.host, args.port)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("supervisor-hub: {e}");
                ExitCode::from(1)
            }
        },
        Some(command) => match runtime.block_on(subcommand(config, command)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("supervisor-hub: {e}");
                ExitCode::from(1)
            }
        },
    }
}

fn role_code(role: &str) -> Option<i64> {
    match role {
        "admin" | "0" => Some(0),
        "operator" | "1" => Some(1),
        "viewer" | "2" => Some(2),
        _ => None,
    }
}

fn role_name(usertype: i64) -> &'static str {
    match usertype {
        0 => "admin",
        1 => "operator",
        2 => "viewer",
        _ => "restricted",
    }
}

/// A password from the terminal (asked twice) or the first line of stdin.
fn read_password() -> Result<String, CliError> {
    let unreadable = |e: std::io::Error| CliError::Usage(format!("cannot read the password: {e}"));
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ").map_err(unreadable)?;
        let again = rpassword::prompt_password("Password again: ").map_err(unreadable)?;
        if first != again {
            return Err(CliError::Usage("the passwords differ".into()));
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(unreadable)?;
        line.trim_end_matches(['\n', '\r']).to_string()
    };
    if password.is_empty() {
        return Err(CliError::Usage("the password must not be empty".into()));
    }
    Ok(password)
}

async fn hash(password: String) -> Result<String, CliError> {
    password::hash_async(password)
        .await
        .map_err(|e| CliError::Usage(e.to_string()))
}

async fn subcommand(config: HubConfig, command: Command) -> Result<(), CliError> {
    let store = Store::open(&config.database).await?;
    match command {
        Command::User(UserCommand::Add { name, role, env }) => {
            let usertype = role_code(&role).ok_or_else(|| {
                CliError::Usage(format!("unknown role '{role}' (admin, operator, viewer)"))
            })?;
            crate::api::accounts::users::check_new_user(&name, "-")
                .map_err(|e| CliError::Usage(e.to_string()))?;
            let hashed = hash(read_password()?).await?;
            match store.add_user(&name, &hashed, usertype).await {
                Err(StoreError::Conflict) => {
                    return Err(CliError::Usage(format!("user '{name}' already exists")));
                }
                other => other?,
            }
            if !env.is_empty() {
                store.set_user_environments(&name, &env).await?;
            }
            println!("user '{name}' added ({})", role_name(usertype));
        }
        Command::User(UserCommand::Passwd { name }) => {
            if store.user(&name).await?.is_none() {
                return Err(CliError::Usage(format!("no user '{name}'")));
            }
            let hashed = hash(read_password()?).await?;
            store.set_password(&name, &hashed).await?;
            store.delete_sessions_of(&name, None).await?;
            println!("password of '{name}' changed; their sessions ended");
        }
        Command::User(UserCommand::Del { name }) => {
            if !store.delete_user(&name).await? {
                return Err(CliError::Usage(format!("no user '{name}'")));
            }
            println!("user '{name}' deleted");
        }
        Command::User(UserCommand::List) => {
            for (name, usertype) in store.list_users().await? {
                let envs = store
                    .user(&name)
                    .await?
                    .and_then(|u| u.environments)
                    .map(|e| e.join(","))
                    .unwrap_or_else(|| "*".into());
                println!("{name}\t{}\t{envs}", role_name(usertype));
            }
        }
        Command::Token(TokenCommand::Add { name, user }) => {
            if store.user(&user).await?.is_none() {
                return Err(CliError::Usage(format!("no user '{user}'")));
            }
            let value = token::new_token().map_err(|e| CliError::Usage(e.to_string()))?;
            match store
                .add_token(&name, &token::token_hash(&value), &user, unix_now())
                .await
            {
                Err(StoreError::Conflict) => {
                    return Err(CliError::Usage(format!("token '{name}' already exists")));
                }
                other => other?,
            }
            // The only time the token is shown: the store keeps its hash.
            println!("{value}");
        }
        Command::Token(TokenCommand::Revoke { name }) => {
            if !store.revoke_token(&name).await? {
                return Err(CliError::Usage(format!("no token '{name}'")));
            }
            println!("token '{name}' revoked");
        }
        Command::Token(TokenCommand::List) => {
            for t in store.list_tokens().await? {
                println!("{}\t{}\t{}", t.name, t.username, t.created);
            }
        }
    }
    Ok(())
}
