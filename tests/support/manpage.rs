//! The man page generator: `man/src/*.in` are roff sources in which a
//! directive line pulls text from the binaries themselves, so a page
//! cannot drift from `--help`:
//!
//! * `.\" @help BIN ARGS…` — `BIN ARGS…`'s output (run with argv0 `BIN`),
//!   as roff: `Heading:` lines become `.SS`, option and command lines
//!   (`-c/--configuration FILE -- text`, `  -p, --port <PORT>  text`,
//!   `  add     text`) become `.TP` entries, indented lines continue them;
//! * `.\" @ctl-commands` — every `supervisorctl` command with its `help`
//!   text;
//! * `.\" @sample` — `echo_supervisord_conf`'s output, verbatim.
//!
//! `tests/manpages.rs` checks `man/*` equals what this makes from
//! `man/src/`, and rewrites `man/` when `SV_REGENERATE_MAN=1`.
#![allow(dead_code)]

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Stdio;

/// The binaries a directive may name, by the name users know.
fn binary(name: &str) -> &'static str {
    match name {
        "supervisord" => env!("CARGO_BIN_EXE_supervisord"),
        "supervisorctl" => env!("CARGO_BIN_EXE_supervisorctl"),
        "echo_supervisord_conf" => env!("CARGO_BIN_EXE_echo_supervisord_conf"),
        "pidproxy" => env!("CARGO_BIN_EXE_pidproxy"),
        "supervisor-hub" => env!("CARGO_BIN_EXE_supervisor-hub"),
        other => panic!("man source names an unknown binary {other:?}"),
    }
}

/// `name args…`'s stdout, run as `name` in `cwd`.
pub fn output_of(name: &str, args: &[&str], cwd: &Path) -> String {
    let out = super::command::new(binary(name))
        .arg0(name)
        .args(args)
        .current_dir(cwd)
        .env("COLUMNS", "80")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {name}: {e}"));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Text safe in roff: backslashes, hyphens (so they stay ASCII minus
/// signs in option names), and a leading control character.
pub fn escape(text: &str) -> String {
    let mut body = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => body.push_str("\\e"),
            '-' => body.push_str("\\-"),
            // groff reads Latin-1: anything else is named by code point.
            c if !c.is_ascii() => body.push_str(&format!("\\[u{:04X}]", c as u32)),
            c => body.push(c),
        }
    }
    if body.starts_with('.') || body.starts_with('\'') {
        format!("\\&{body}")
    } else {
        body
    }
}

/// Text in bold, escaped.
fn bold(text: &str) -> String {
    format!("\\fB{}\\fR", escape(text))
}

/// Split an entry line into its term and text: `term -- text`, or
/// `term` then two or more spaces then `text`.
fn split_entry(line: &str) -> Option<(&str, &str)> {
    let trimmed = line.trim_start();
    if let Some((term, text)) = trimmed.split_once(" -- ") {
        return Some((term.trim_end(), text.trim()));
    }
    let gap = trimmed.find("  ")?;
    let (term, text) = trimmed.split_at(gap);
    let text = text.trim();
    (!term.is_empty() && !text.is_empty()).then_some((term, text))
}

/// `--help` text as roff. The title and usage lines before the first
/// heading are left out when there is one (the page has its own NAME and
/// SYNOPSIS).
pub fn help_to_roff(help: &str) -> String {
    let is_heading =
        |line: &str| !line.starts_with(' ') && line.ends_with(':') && !line.starts_with('-');
    let skip = help.lines().position(is_heading).unwrap_or(0);
    let mut out = String::new();
    // The indentation of the entry being written, if one is.
    let mut entry: Option<usize> = None;
    let mut under_heading = false;
    for line in help.lines().skip(skip) {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            entry = None;
            continue;
        }
        if is_heading(line) {
            out.push_str(&format!(".SS {}\n", escape(trimmed.trim_end_matches(':'))));
            entry = None;
            under_heading = true;
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let continues = entry.is_some_and(|at| indent > at);
        let candidate = trimmed.starts_with('-') || indent > 0 || under_heading;
        if !continues
            && candidate
            && let Some((term, text)) = split_entry(line)
        {
            out.push_str(&format!(".TP\n{}\n{}\n", bold(term), escape(text)));
            entry = Some(indent);
            continue;
        }
        if entry.is_none() {
            out.push_str(".PP\n");
            entry = Some(usize::MAX);
        }
        out.push_str(&escape(trimmed));
        out.push('\n');
    }
    out
}

/// Text shown as is (`.nf`), escaped.
pub fn verbatim(text: &str) -> String {
    let mut out = String::from(".nf\n");
    for line in text.lines() {
        out.push_str(&escape(&expand_tabs(line)));
        out.push('\n');
    }
    out.push_str(".fi\n");
    out
}

/// Tabs as a terminal shows them (stops every 8 columns).
fn expand_tabs(line: &str) -> String {
    let mut out = String::new();
    for c in line.chars() {
        if c == '\t' {
            let n = 8 - out.chars().count() % 8;
            out.push_str(&" ".repeat(n));
        } else {
            out.push(c);
        }
    }
    out
}

/// supervisorctl's commands, as its `help` lists them.
pub fn ctl_commands(cwd: &Path) -> Vec<String> {
    let conf = cwd.join("ctl-man.conf");
    std::fs::write(
        &conf,
        "[supervisorctl]\nserverurl=unix:///nonexistent.sock\n",
    )
    .expect("write a supervisorctl config");
    let conf = conf.display().to_string();
    let topics = output_of("supervisorctl", &["-c", &conf, "help"], cwd);
    let mut commands: Vec<String> = topics
        .lines()
        .filter(|l| !l.contains("default commands") && !l.starts_with('='))
        .flat_map(|l| l.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .collect();
    commands.sort();
    commands.dedup();
    commands
}

/// Every supervisorctl command with its help text.
fn ctl_commands_roff(cwd: &Path) -> String {
    let conf = cwd.join("ctl-man.conf").display().to_string();
    let mut out = String::new();
    for command in ctl_commands(cwd) {
        let help = output_of("supervisorctl", &["-c", &conf, "help", &command], cwd);
        out.push_str(&format!(".SS {}\n", escape(&command)));
        out.push_str(&verbatim(help.trim_end()));
    }
    out
}

/// One page from its source.
pub fn render(source: &str, cwd: &Path) -> String {
    let mut out = String::new();
    for line in source.lines() {
        if let Some(command) = line.strip_prefix(".\\\" @help ") {
            let mut words = command.split_whitespace();
            let name = words.next().expect("@help names a binary");
            let args: Vec<&str> = words.collect();
            out.push_str(&help_to_roff(&output_of(name, &args, cwd)));
        } else if line == ".\\\" @ctl-commands" {
            out.push_str(&ctl_commands_roff(cwd));
        } else if line == ".\\\" @sample" {
            out.push_str(&verbatim(&output_of("echo_supervisord_conf", &[], cwd)));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}
