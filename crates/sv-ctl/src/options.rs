//! supervisorctl's command line (`getopt` rules, as Supervisor parses it:
//! options stop at the first non-option, long options may be abbreviated)
//! and the `[supervisorctl]` section it reads.
//!
//! Hand-written rather than clap because scripts see the difference:
//! Python's `getopt` accepts any unique prefix of a long option
//! (`--server=…`), glues short values (`-sunix:///x`), stops at the first
//! command word (so `tail -f x` keeps its `-f`), and words its refusals
//! (`option --bogus not recognized`) in a way `tests/ctl_errors.rs` and
//! `tests/compat_ctl.rs` compare byte for byte.

use sv_core::config::{CtlConfig, Host, load_ctl, search_paths};

/// Everything the controller needs from the command line and config.
#[derive(Debug, Clone)]
pub struct Options {
    pub serverurl: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub prompt: String,
    pub history_file: Option<String>,
    /// `-i`, or no command given.
    pub interactive: bool,
    /// `-i` given explicitly (with a command: run it, then the shell).
    pub interactive_flag: bool,
    /// The command words, joined with spaces into one command line.
    pub args: Vec<String>,
}

/// Why the command line was refused; printed as `Error: <msg>` plus the
/// `For help` line, exit 2.
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    #[error("{0}")]
    Message(String),
    /// `-h`: print the usage text and exit 0.
    #[error("help")]
    Help,
}

const LONG: &[(&str, bool)] = &[
    ("configuration", true),
    ("help", false),
    ("interactive", false),
    ("serverurl", true),
    ("username", true),
    ("password", true),
    ("history_file", true),
    // The spelling Supervisor's help text documents (spec §9 item 10).
    ("history-file", true),
];

/// Parse `args` (without argv[0]) and read the config file.
pub fn parse(argv0: &str, args: &[String], host: &dyn Host) -> Result<Options, UsageError> {
    let mut config_file: Option<String> = None;
    let mut cli: Vec<(char, String)> = Vec::new();
    let mut interactive = false;
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        if arg == "--" {
            i += 1;
            break;
        }
        if let Some(long) = arg.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let exact = LONG.iter().find(|(n, _)| *n == name);
            let candidates: Vec<&(&str, bool)> = match exact {
                Some(e) => vec![e],
                None => LONG.iter().filter(|(n, _)| n.starts_with(name)).collect(),
            };
            let &(full, takes) = match candidates.as_slice() {
                [one] => one,
                [] => {
                    return Err(UsageError::Message(format!(
                        "option --{name} not recognized"
                    )));
                }
                many => {
                    // history_file / history-file are one option.
                    if many.iter().all(|(n, _)| n.starts_with("history")) {
                        many[0]
                    } else {
                        return Err(UsageError::Message(format!(
                            "option --{name} not a unique prefix"
                        )));
                    }
                }
            };
            let value = if takes {
                match inline {
                    Some(v) => Some(v),
                    None => {
                        i += 1;
                        match args.get(i) {
                            Some(v) => Some(v.clone()),
                            None => {
                                return Err(UsageError::Message(format!(
                                    "option --{full} requires argument"
                                )));
                            }
                        }
                    }
                }
            } else {
                if inline.is_some() {
                    return Err(UsageError::Message(format!(
                        "option --{full} must not have an argument"
                    )));
                }
                None
            };
            let short = match full {
                "configuration" => 'c',
                "help" => 'h',
                "interactive" => 'i',
                "serverurl" => 's',
                "username" => 'u',
                "password" => 'p',
                _ => 'r',
            };
            apply(short, value, &mut config_file, &mut cli, &mut interactive)?;
            i += 1;
            continue;
        }
        if arg.len() > 1 && arg.starts_with('-') {
            let chars: Vec<char> = arg[1..].chars().collect();
            let mut j = 0;
            while j < chars.len() {
                let c = chars[j];
                match c {
                    'c' | 's' | 'u' | 'p' | 'r' => {
                        let rest: String = chars[j + 1..].iter().collect();
                        let value = if !rest.is_empty() {
                            rest
                        } else {
                            i += 1;
                            match args.get(i) {
                                Some(v) => v.clone(),
                                None => {
                                    return Err(UsageError::Message(format!(
                                        "option -{c} requires argument"
                                    )));
                                }
                            }
                        };
                        apply(c, Some(value), &mut config_file, &mut cli, &mut interactive)?;
                        break;
                    }
                    'h' | '?' | 'i' => {
                        apply(c, None, &mut config_file, &mut cli, &mut interactive)?;
                    }
                    other => {
                        return Err(UsageError::Message(format!(
                            "option -{other} not recognized"
                        )));
                    }
                }
                j += 1;
            }
            i += 1;
            continue;
        }
        break;
    }
    let rest: Vec<String> = args[i..].to_vec();

    let config = match &config_file {
        Some(path) => load(host, path)?,
        None => match search_paths(argv0).into_iter().find(|p| host.exists(p)) {
            Some(path) => load(host, &path)?,
            None => CtlConfig::default(),
        },
    };
    let mut options = Options {
        serverurl: config.serverurl,
        username: config.username,
        password: config.password,
        prompt: config.prompt,
        history_file: config.history_file,
        interactive,
        interactive_flag: interactive,
        args: rest,
    };
    for (c, v) in cli {
        match c {
            's' => options.serverurl = v,
            'u' => options.username = Some(v),
            'p' => options.password = Some(v),
            'r' => options.history_file = Some(sv_core::pypath::abspath(&host.cwd(), &v)),
            _ => {}
        }
    }
    if options.args.is_empty() {
        options.interactive = true;
    }
    Ok(options)
}

fn apply(
    c: char,
    value: Option<String>,
    config_file: &mut Option<String>,
    cli: &mut Vec<(char, String)>,
    interactive: &mut bool,
) -> Result<(), UsageError> {
    match (c, value) {
        ('h' | '?', _) => return Err(UsageError::Help),
        ('i', _) => *interactive = true,
        ('c', Some(v)) => *config_file = Some(v),
        (c, Some(v)) => cli.push((c, v)),
        _ => {}
    }
    Ok(())
}

fn load(host: &dyn Host, path: &str) -> Result<CtlConfig, UsageError> {
    load_ctl(host, path).map_err(|e| {
        let text = e
            .errors
            .first()
            .map(|e| e.message.clone())
            .unwrap_or_else(|| e.to_string());
        UsageError::Message(text)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Options, UsageError> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        // No config file on the search path of a made-up argv0 in tests
        // is not guaranteed; -c /dev/null-like files are avoided by using
        // -s only.
        parse(
            "/nonexistent/bin/supervisorctl",
            &args,
            &sv_host::SystemHost,
        )
    }

    #[test]
    fn options_stop_at_the_first_command_word() {
        let o = p(&["-s", "unix:///x", "tail", "-f", "foo"]).unwrap();
        assert_eq!(o.serverurl, "unix:///x");
        assert_eq!(o.args, ["tail", "-f", "foo"]);
        assert!(!o.interactive);
    }

    #[test]
    fn both_history_spellings_and_prefixes() {
        let o = p(&["--history-file=/h1", "-s", "http://h:1"]).unwrap();
        assert_eq!(o.history_file.as_deref(), Some("/h1"));
        let o = p(&["--history_file", "/h2", "--server=http://x:2"]).unwrap();
        assert_eq!(o.history_file.as_deref(), Some("/h2"));
        assert_eq!(o.serverurl, "http://x:2");
        assert!(o.interactive);
    }

    #[test]
    fn usage_errors() {
        assert!(
            matches!(p(&["--bogus"]), Err(UsageError::Message(m)) if m == "option --bogus not recognized")
        );
        assert!(
            matches!(p(&["-x"]), Err(UsageError::Message(m)) if m == "option -x not recognized")
        );
        assert!(matches!(p(&["-h"]), Err(UsageError::Help)));
        assert!(
            matches!(p(&["-s"]), Err(UsageError::Message(m)) if m == "option -s requires argument")
        );
    }
}
