//! Issue 18: the man pages (`man/`) are generated from `man/src/*.in` and
//! the binaries' own `--help`/`help` output (tests/support/manpage.rs), so
//! they cannot drift: this test regenerates each one and compares
//! (`SV_REGENERATE_MAN=1` rewrites them instead), then renders each with
//! groff (no warnings) and `man -l`. The supervisorctl completion scripts
//! the package installs (`supervisorctl completion bash|zsh`) are checked
//! for syntax (`bash -n`, `zsh -n`), for naming every action supervisorctl
//! has, and, for bash, by completing against a real daemon.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use support::command;
use support::daemon::TestDaemon;
use support::manpage;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every page: its source and the generated file.
fn pages() -> Vec<(PathBuf, PathBuf)> {
    let src = repo().join("man/src");
    let mut pages: Vec<(PathBuf, PathBuf)> = fs::read_dir(&src)
        .expect("man/src")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "in"))
        .map(|p| {
            let name = p.file_stem().expect("page name").to_owned();
            (p.clone(), repo().join("man").join(name))
        })
        .collect();
    pages.sort();
    pages
}

#[test]
fn every_binary_and_the_config_format_have_a_page() {
    let names: Vec<String> = pages()
        .iter()
        .map(|(_, out)| out.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for want in [
        "echo_supervisord_conf.1",
        "pidproxy.1",
        "supervisor-hub.1",
        "supervisorctl.1",
        "supervisord.1",
        "supervisord.conf.5",
    ] {
        assert!(names.iter().any(|n| n == want), "no {want}: {names:?}");
    }
}

#[test]
fn man_pages_are_regenerated_identically_from_their_sources() {
    let regenerate = std::env::var_os("SV_REGENERATE_MAN").is_some_and(|v| v == "1");
    let work = support::bin::tempdir();
    let mut stale = Vec::new();
    for (src, out) in pages() {
        let source = fs::read_to_string(&src).expect("read source");
        let page = manpage::render(&source, work.path());
        if regenerate {
            fs::write(&out, &page).expect("write page");
            continue;
        }
        if fs::read_to_string(&out).ok().as_deref() != Some(page.as_str()) {
            stale.push(out.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "man pages out of date with their sources or --help: {stale:?}\n\
         regenerate with: SV_REGENERATE_MAN=1 cargo test --release --test man_and_completions"
    );
}

fn ensure_tools(tools: &[(&str, &str)]) {
    let missing: Vec<&str> = tools
        .iter()
        .filter(|(bin, _)| which(bin).is_none())
        .map(|(_, package)| *package)
        .collect();
    if !missing.is_empty() {
        command::apt_install("man pages and completions", &missing)
            .unwrap_or_else(|e| panic!("cannot install {missing:?}: {e}"));
    }
}

fn which(bin: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(bin))
            .find(|p| p.is_file())
    })
}

#[test]
fn man_pages_render_without_warnings() {
    ensure_tools(&[("groff", "groff-base"), ("man", "man-db")]);
    for (_, page) in pages() {
        let out = command::new("groff")
            .args(["-man", "-ww", "-z", "-Tutf8"])
            .arg(&page)
            .stdin(Stdio::null())
            .output()
            .expect("run groff");
        let warnings = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && warnings.trim().is_empty(),
            "{}: {warnings}",
            page.display()
        );
        let out = command::new("man")
            .arg("-l")
            .arg(&page)
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "80")
            .stdin(Stdio::null())
            .output()
            .expect("run man -l");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("NAME") && text.contains("SEE ALSO"),
            "{}: man -l gave {text}",
            page.display()
        );
    }
}

/// The options and actions the man page shows come from the binaries.
#[test]
fn generated_sections_carry_the_help_texts() {
    let text = |name: &str| fs::read_to_string(repo().join("man").join(name)).expect("page");
    let supervisord = text("supervisord.1");
    assert!(supervisord.contains("\\fB\\-c/\\-\\-configuration FILENAME\\fR"));
    assert!(supervisord.contains("\\-\\-check\\-config"));
    let ctl = text("supervisorctl.1");
    for action in ["start", "stop", "tail", "update", "maintail"] {
        assert!(ctl.contains(&format!(".SS {action}\n")), "{action}");
    }
    let conf = text("supervisord.conf.5");
    assert!(conf.contains("[rpcinterface:supervisor]"));
    let hub = text("supervisor-hub.1");
    assert!(hub.contains("\\-\\-check\\-config"));
    assert!(hub.contains("passwd"));
}

/// `supervisorctl completion SHELL`, written to `dir`.
fn completion_script(shell: &str, dir: &Path) -> PathBuf {
    let out = command::new(support::bin::SUPERVISORCTL)
        .args(["completion", shell])
        .stdin(Stdio::null())
        .output()
        .expect("run supervisorctl completion");
    assert!(out.status.success(), "supervisorctl completion {shell}");
    let path = dir.join(format!("completion.{shell}"));
    fs::write(&path, &out.stdout).expect("write the script");
    path
}

/// The scripts the package installs parse in their shells and offer every
/// action supervisorctl's `help` lists.
#[test]
fn completion_scripts_parse_and_name_every_action() {
    ensure_tools(&[("zsh", "zsh")]);
    let work = support::bin::tempdir();
    let actions = manpage::ctl_commands(work.path());
    for shell in ["bash", "zsh"] {
        let script = completion_script(shell, work.path());
        let out = command::new(shell)
            .arg("-n")
            .arg(&script)
            .output()
            .expect("run the shell");
        assert!(
            out.status.success(),
            "{shell} -n: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = fs::read_to_string(&script).expect("script");
        for action in &actions {
            assert!(
                text.split([' ', '(', ')', '"']).any(|w| w == action),
                "{shell} completion lacks {action}"
            );
        }
    }
}

/// Complete `words` (the last one being completed) with the bash script.
fn bash_complete(script: &Path, words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words
        .iter()
        .map(|w| format!("'{}'", w.replace('\'', "'\\''")))
        .collect();
    let program = format!(
        "source '{}'\nCOMP_WORDS=({})\nCOMP_CWORD={}\n_supervisorctl\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        script.display(),
        quoted.join(" "),
        words.len() - 1
    );
    let out = command::new("bash")
        .arg("-c")
        .arg(program)
        .stdin(Stdio::null())
        .output()
        .expect("run bash");
    let mut got: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    got.sort();
    got
}

#[test]
fn bash_completion_offers_actions_options_and_the_daemons_names() {
    let daemon = TestDaemon::start(
        "[unix_http_server]\nfile=%(here)s/s.sock\n\
         [rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\
         [supervisorctl]\nserverurl=unix://%(here)s/s.sock\n\
         [program:web]\ncommand=/bin/sleep 1000\n\
         [program:worker]\ncommand=/bin/sleep 1000\nautostart=false\n",
    );
    let script = completion_script("bash", daemon.dir.path());
    let complete = |words: &[&str]| bash_complete(&script, words);
    let ctl = support::bin::SUPERVISORCTL;
    let conf = daemon.conf.display().to_string();
    assert_eq!(complete(&[ctl, "sta"]), ["start", "status"]);
    assert_eq!(complete(&[ctl, "--s"]), ["--serverurl"]);
    assert_eq!(
        complete(&[ctl, "-c", &conf, "start", ""]),
        ["all", "web", "worker"]
    );
    assert_eq!(complete(&[ctl, "-c", &conf, "stop", "wo"]), ["worker"]);
    assert_eq!(
        complete(&[ctl, "-c", &conf, "update", "w"]),
        ["web", "worker"]
    );
    // An unreachable daemon offers no names (not its error message).
    let nowhere = daemon.dir.path().join("nowhere.sock");
    let url = format!("unix://{}", nowhere.display());
    assert_eq!(complete(&[ctl, "-s", &url, "stop", ""]), ["all"]);
}
