//! Issue 18: operating supervisor-rs like a system package.
//!
//! * The systemd units (`contrib/systemd/`) pass `systemd-analyze verify`
//!   (with ExecStart pointed at the built binaries), and a broken copy
//!   fails it, so the check is real.
//! * The Debian package: `packaging/deb/build.sh` builds it from the
//!   release binaries; `dpkg-deb --info/--contents` show the layout
//!   (Debian's supervisor layout, units, logrotate, man pages,
//!   completions, conffiles); `dpkg-deb -x` unpacks it into a temp root,
//!   and the unpacked `supervisord` runs the unpacked configuration — a
//!   copy whose absolute paths (/var/run, /var/log/supervisor,
//!   /etc/supervisor/conf.d) are redirected into the temp root, nothing
//!   else changed — picking up a program from the unpacked `conf.d`; the
//!   unpacked `supervisorctl` talks to it, and the unpacked logrotate file
//!   (same redirection) rotates the logs and makes supervisord reopen them
//!   with SIGUSR2.
//!
//! dpkg-deb is part of Debian; the test fails loudly without it.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use support::bin::{tempdir, texts, wait_until};
use support::command;
use support::daemon::{DEADLINE, alive, wait_dead};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> Output {
    let program = program.as_ref().to_owned();
    command::new(&program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program:?}: {e}"))
}

fn which(bin: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(bin))
            .find(|p| p.is_file())
    })
}

/// A unit with its /usr/bin binaries replaced by the built ones (verify
/// checks that ExecStart exists and is executable).
fn unit_for_test(name: &str, dir: &Path) -> PathBuf {
    let bindir = Path::new(support::bin::SUPERVISORD)
        .parent()
        .expect("bin dir")
        .display()
        .to_string();
    let text = fs::read_to_string(repo().join("contrib/systemd").join(name)).expect("unit");
    let path = dir.join(name);
    fs::write(&path, text.replace("/usr/bin/", &format!("{bindir}/"))).expect("write unit");
    path
}

#[test]
fn the_units_pass_systemd_analyze_verify() {
    if which("systemd-analyze").is_none() {
        command::apt_install("systemd units", &["systemd"])
            .unwrap_or_else(|e| panic!("systemd-analyze is missing and cannot be installed: {e}"));
    }
    let dir = tempdir();
    for name in ["supervisord.service", "supervisor-hub.service"] {
        let unit = unit_for_test(name, dir.path());
        let out = run(
            "systemd-analyze",
            &["verify", "--man=no", &unit.display().to_string()],
        );
        let (stdout, stderr) = texts(&out);
        assert!(
            out.status.success() && stderr.trim().is_empty(),
            "{name}: {stdout}{stderr}"
        );
    }
    // The check is real: a unit with a bad setting fails it.
    let broken = dir.path().join("broken.service");
    let text = fs::read_to_string(unit_for_test("supervisord.service", dir.path())).unwrap();
    fs::write(&broken, text.replace("Type=notify", "Type=notifyy")).unwrap();
    let out = run(
        "systemd-analyze",
        &["verify", "--man=no", &broken.display().to_string()],
    );
    let (stdout, stderr) = texts(&out);
    assert!(
        !out.status.success() || !stderr.trim().is_empty(),
        "a broken unit passed: {stdout}{stderr}"
    );
    // What the unit promises about stopping and notifying.
    let unit = fs::read_to_string(repo().join("contrib/systemd/supervisord.service")).unwrap();
    for line in [
        "Type=notify",
        "NotifyAccess=main",
        "KillMode=mixed",
        "ExecReload=/bin/kill -HUP $MAINPID",
    ] {
        assert!(unit.lines().any(|l| l == line), "no {line}");
    }
    let hub = fs::read_to_string(repo().join("contrib/systemd/supervisor-hub.service")).unwrap();
    for line in [
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "StateDirectory=supervisor-hub",
        "User=supervisor-hub",
    ] {
        assert!(hub.lines().any(|l| l == line), "no {line}");
    }
}

/// Builds the package into `out` and returns its path.
fn build_deb(out: &Path) -> PathBuf {
    assert!(
        which("dpkg-deb").is_some(),
        "dpkg-deb is missing: the package cannot be built (apt-get install dpkg)"
    );
    let bindir = Path::new(support::bin::SUPERVISORD)
        .parent()
        .expect("bin dir");
    let output = command::new(repo().join("packaging/deb/build.sh"))
        .arg(bindir)
        .arg(out)
        .env("DEB_COMPRESSION", "gzip")
        .stdin(Stdio::null())
        .output()
        .expect("run packaging/deb/build.sh");
    let (stdout, stderr) = texts(&output);
    assert!(output.status.success(), "build.sh failed: {stdout}{stderr}");
    let deb = PathBuf::from(stdout.trim());
    assert!(deb.is_file(), "no package at {deb:?}");
    deb
}

/// `text` with every absolute path the packaged files use moved under
/// `root`.
fn redirect(text: &str, root: &Path) -> String {
    let r = root.display();
    text.replace("/var/run/", &format!("{r}/var/run/"))
        .replace("/var/log/supervisor", &format!("{r}/var/log/supervisor"))
        .replace("/etc/supervisor/", &format!("{r}/etc/supervisor/"))
}

/// Every absolute path outside comments, in a configuration file.
fn absolute_paths(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with([';', '#']))
        .map(|l| l.split(" ;").next().unwrap_or(l))
        .flat_map(|l| {
            l.split(['=', ' ', '\t'])
                .map(|w| w.trim_start_matches("unix://"))
                .filter(|w| w.starts_with('/'))
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// SIGTERMs the unpacked daemon if the test ends early.
struct Daemon(Option<u32>);

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::SIGTERM,
            );
        }
    }
}

#[test]
fn the_debian_package_unpacks_and_runs() {
    let work = tempdir();
    let deb = build_deb(work.path());
    let deb_arg = deb.display().to_string();

    let info = run("dpkg-deb", &["--info", &deb_arg]);
    let (info, _) = texts(&info);
    for want in [
        "Package: supervisor-rs",
        "Conflicts: supervisor",
        "postinst",
        "conffiles",
    ] {
        assert!(info.contains(want), "--info lacks {want}:\n{info}");
    }

    let contents = run("dpkg-deb", &["--contents", &deb_arg]);
    let (contents, _) = texts(&contents);
    for path in [
        "./usr/bin/supervisord",
        "./usr/bin/supervisorctl",
        "./usr/bin/echo_supervisord_conf",
        "./usr/bin/pidproxy",
        "./usr/bin/supervisor-hub",
        "./etc/supervisor/supervisord.conf",
        "./etc/supervisor/conf.d/",
        "./var/log/supervisor/",
        "./etc/logrotate.d/supervisor",
        "./etc/supervisor-hub/cesi.conf.toml",
        "./lib/systemd/system/supervisord.service",
        "./lib/systemd/system/supervisor-hub.service",
        "./usr/lib/sysusers.d/supervisor-hub.conf",
        "./usr/share/man/man1/supervisord.1.gz",
        "./usr/share/man/man1/supervisorctl.1.gz",
        "./usr/share/man/man1/echo_supervisord_conf.1.gz",
        "./usr/share/man/man1/pidproxy.1.gz",
        "./usr/share/man/man1/supervisor-hub.1.gz",
        "./usr/share/man/man5/supervisord.conf.5.gz",
        "./usr/share/bash-completion/completions/supervisorctl",
        "./usr/share/zsh/vendor-completions/_supervisorctl",
        "./usr/share/fish/vendor_completions.d/supervisorctl.fish",
        "./usr/share/doc/supervisor-rs/copyright",
    ] {
        assert!(
            contents.lines().any(|l| l.ends_with(&format!(" {path}"))),
            "the package lacks {path}:\n{contents}"
        );
    }

    let root = work.path().join("root");
    let out = run("dpkg-deb", &["-x", &deb_arg, &root.display().to_string()]);
    assert!(out.status.success(), "{:?}", texts(&out));
    let control = work.path().join("control");
    let out = run(
        "dpkg-deb",
        &["-e", &deb_arg, &control.display().to_string()],
    );
    assert!(out.status.success(), "{:?}", texts(&out));
    let conffiles = fs::read_to_string(control.join("conffiles")).expect("conffiles");
    assert_eq!(
        conffiles.lines().collect::<Vec<_>>(),
        [
            "/etc/logrotate.d/supervisor",
            "/etc/supervisor-hub/cesi.conf.toml",
            "/etc/supervisor/supervisord.conf",
        ]
    );

    // The packaged configuration, Debian's layout.
    let shipped = fs::read_to_string(root.join("etc/supervisor/supervisord.conf")).unwrap();
    for line in [
        "file=/var/run/supervisor.sock",
        "chmod=0700",
        "logfile=/var/log/supervisor/supervisord.log",
        "pidfile=/var/run/supervisord.pid",
        "childlogdir=/var/log/supervisor",
        "serverurl=unix:///var/run/supervisor.sock",
        "files = /etc/supervisor/conf.d/*.conf",
    ] {
        assert!(
            shipped.lines().any(|l| l.starts_with(line)),
            "the packaged supervisord.conf lacks {line}:\n{shipped}"
        );
    }
    let conf_text = redirect(&shipped, &root);
    let stray: Vec<String> = absolute_paths(&conf_text)
        .into_iter()
        .filter(|p| !p.starts_with(&root.display().to_string()))
        .collect();
    assert!(stray.is_empty(), "paths left outside the root: {stray:?}");
    fs::create_dir_all(root.join("var/run")).unwrap();
    let conf = work.path().join("supervisord.conf");
    fs::write(&conf, conf_text).unwrap();
    let conf_arg = conf.display().to_string();
    fs::write(
        root.join("etc/supervisor/conf.d/hello.conf"),
        "[program:hello]\ncommand=/bin/sh -c 'echo hello from conf.d; exec /bin/sleep 1000'\nstartsecs=0\n",
    )
    .unwrap();

    let supervisord = root.join("usr/bin/supervisord");
    let supervisorctl = root.join("usr/bin/supervisorctl");
    let check = run(&supervisord, &["--check-config", "-c", &conf_arg]);
    let (stdout, stderr) = texts(&check);
    assert!(check.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("hello"), "conf.d not included:\n{stdout}");

    // The unpacked daemon, daemonizing as the packaged file says.
    let started = run(&supervisord, &["-c", &conf_arg]);
    assert!(started.status.success(), "{:?}", texts(&started));
    let pidfile = root.join("var/run/supervisord.pid");
    assert!(
        wait_until(DEADLINE, || fs::read_to_string(&pidfile)
            .is_ok_and(|t| t.trim().parse::<u32>().is_ok())),
        "no pidfile"
    );
    let pid: u32 = fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let mut guard = Daemon(Some(pid));
    let socket = root.join("var/run/supervisor.sock");
    let mode = {
        use std::os::unix::fs::PermissionsExt;
        assert!(wait_until(DEADLINE, || socket.exists()), "no socket");
        fs::metadata(&socket).unwrap().permissions().mode() & 0o777
    };
    assert_eq!(mode, 0o700, "the socket's chmod");

    let mut status = String::new();
    let running = wait_until(DEADLINE, || {
        let out = run(&supervisorctl, &["-c", &conf_arg, "status", "hello"]);
        status = texts(&out).0;
        status.contains("RUNNING")
    });
    assert!(running, "supervisorctl status: {status}");

    // logrotate with the packaged file: the logs move, supervisord
    // reopens them on SIGUSR2.
    if which("logrotate").is_none() {
        command::apt_install("logrotate", &["logrotate"])
            .unwrap_or_else(|e| panic!("logrotate is missing and cannot be installed: {e}"));
    }
    let logs = root.join("var/log/supervisor");
    assert!(wait_until(DEADLINE, || child_log(&logs, "hello-stdout")
        .is_some_and(|p| fs::read_to_string(p)
            .unwrap_or_default()
            .contains("hello"))));
    let rotate = redirect(
        &fs::read_to_string(root.join("etc/logrotate.d/supervisor")).unwrap(),
        &root,
    );
    assert!(
        !rotate.lines().any(|l| l.trim() == "copytruncate"),
        "copytruncate loses lines; supervisord reopens on SIGUSR2"
    );
    let rotate_conf = work.path().join("logrotate.conf");
    fs::write(&rotate_conf, rotate).unwrap();
    let state = work.path().join("logrotate.state");
    let out = run(
        "logrotate",
        &[
            "-f",
            "-s",
            &state.display().to_string(),
            &rotate_conf.display().to_string(),
        ],
    );
    assert!(out.status.success(), "logrotate: {:?}", texts(&out));
    let main_log = logs.join("supervisord.log");
    assert!(
        wait_until(DEADLINE, || fs::read_to_string(&main_log)
            .is_ok_and(|t| t.contains("supervisord logreopen"))),
        "supervisord did not reopen its log"
    );
    let rotated: Vec<String> = fs::read_dir(&logs)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".log-"))
        .collect();
    assert!(
        rotated.iter().any(|n| n.starts_with("supervisord.log-"))
            && rotated.iter().any(|n| n.starts_with("hello-stdout")),
        "rotated: {rotated:?}"
    );

    let out = run(&supervisorctl, &["-c", &conf_arg, "shutdown"]);
    assert!(out.status.success(), "{:?}", texts(&out));
    wait_dead(pid);
    guard.0 = None;
    assert!(!alive(pid));
}

/// The AUTO log of a process stream (`hello-stdout---supervisor-XXXX.log`).
fn child_log(dir: &Path, prefix: &str) -> Option<PathBuf> {
    fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
                && p.extension().is_some_and(|x| x == "log")
        })
}
