//! Issue 18: supervisord under systemd. The test plays systemd's part: it
//! binds the notification socket (a path, or an abstract `@name`), starts
//! `supervisord` WITHOUT `-n` and with `NOTIFY_SOCKET`/`WATCHDOG_USEC` set,
//! and checks what arrives, in order: READY=1 only once the autostart
//! programs are up (or have failed), STATUS= with the counts, RELOADING=1
//! with MONOTONIC_USEC= on SIGHUP and READY=1 again, WATCHDOG=1
//! keepalives, STOPPING=1 on SIGTERM. supervisord stays in the foreground
//! (the process systemd started is the daemon).

mod support;

use std::fs;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::path::Path;
use std::time::Instant;

use support::daemon::{DEADLINE, TestDaemon, supervisord_in};
use support::rpc::call;

/// systemd's side: every datagram received, in order.
struct FakeSystemd {
    socket: UnixDatagram,
    got: Vec<String>,
}

impl FakeSystemd {
    fn new(socket: UnixDatagram) -> Self {
        FakeSystemd {
            socket,
            got: Vec::new(),
        }
    }

    /// Receive until a message satisfies `want`; returns it. Fails the
    /// test after [`DEADLINE`].
    fn wait_for(&mut self, what: &str, want: impl Fn(&str) -> bool) -> String {
        let end = Instant::now() + DEADLINE;
        let mut buf = vec![0u8; 4096];
        loop {
            let left = end.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "no {what} from supervisord; got {:?}",
                self.got
            );
            self.socket
                .set_read_timeout(Some(left))
                .expect("read timeout");
            if let Ok(n) = self.socket.recv(&mut buf) {
                let message = String::from_utf8_lossy(&buf[..n]).into_owned();
                self.got.push(message.clone());
                if want(&message) {
                    return message;
                }
            }
        }
    }

    /// The messages other than keepalives, first lines only.
    fn story(&self) -> Vec<String> {
        self.got
            .iter()
            .filter(|m| *m != "WATCHDOG=1")
            .filter_map(|m| m.lines().next().map(str::to_string))
            .filter(|first| !first.starts_with("STATUS="))
            .collect()
    }
}

fn assignment<'a>(message: &'a str, key: &str) -> Option<&'a str> {
    message
        .lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix('='))
}

fn state_of(sock: &Path, name: &str) -> String {
    let info = call(sock, "supervisor.getProcessInfo", &[name]);
    let tail = info
        .split("<name>statename</name>")
        .nth(1)
        .unwrap_or_default();
    tail.split("<string>")
        .nth(1)
        .and_then(|s| s.split("</string>").next())
        .unwrap_or_default()
        .to_string()
}

/// A daemon NOT in the foreground by configuration (no `nodaemon`, no
/// `-n`): only NOTIFY_SOCKET keeps it there. `slow` takes `startsecs`;
/// `broken` fails for good; `quiet` is not autostarted.
fn write_config(dir: &Path) {
    let d = dir.display();
    fs::write(
        dir.join("supervisord.conf"),
        format!(
            "[supervisord]\nlogfile={d}/supervisord.log\npidfile={d}/supervisord.pid\nchildlogdir={d}\nloglevel=debug\n\
             [unix_http_server]\nfile={d}/s.sock\n\
             [rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\
             [program:fast]\ncommand=/bin/sleep 1000\nstartsecs=0\n\
             [program:slow]\ncommand=/bin/sh -c 'echo \"$NOTIFY_SOCKET\" > {d}/child-env; exec /bin/sleep 1000'\nstartsecs=1\n\
             [program:broken]\ncommand=/bin/false\nstartsecs=1\nstartretries=0\n\
             [program:quiet]\ncommand=/bin/sleep 1000\nautostart=false\n"
        ),
    )
    .expect("write config");
}

fn start(dir: tempfile::TempDir, notify_socket: &str, watchdog_usec: &str) -> TestDaemon {
    let child = supervisord_in(dir.path())
        .env("NOTIFY_SOCKET", notify_socket)
        .env("WATCHDOG_USEC", watchdog_usec)
        .env_remove("WATCHDOG_PID")
        .spawn()
        .expect("cannot start supervisord");
    TestDaemon::adopt(dir, child)
}

#[test]
fn supervisord_reports_ready_reloading_stopping_and_keepalives_to_systemd() {
    let dir = support::bin::tempdir();
    write_config(dir.path());
    let notify = dir.path().join("notify");
    let socket = UnixDatagram::bind(&notify).expect("bind the notify socket");
    let mut systemd = FakeSystemd::new(socket);
    let mut daemon = start(dir, &notify.display().to_string(), "200000");
    let sock = daemon.path("s.sock");

    // READY comes once nothing is on its way up, with the counts.
    let ready = systemd.wait_for("READY=1", |m| m.starts_with("READY=1"));
    assert_eq!(
        assignment(&ready, "STATUS"),
        Some("2 running, 0 starting, 0 backoff, 1 fatal, 1 stopped"),
        "{ready:?}"
    );
    // ... and only then: by now `slow` has passed its startsecs and
    // `broken` has given up.
    assert!(
        daemon.count("success: slow entered RUNNING state") == 1,
        "READY before slow was up:\n{}",
        daemon.log_text()
    );
    assert!(
        daemon.count("gave up: broken entered FATAL state") == 1,
        "READY before broken had failed:\n{}",
        daemon.log_text()
    );
    assert_eq!(state_of(&sock, "slow"), "RUNNING");

    // Not daemonized: the process we started is supervisord itself.
    assert!(
        daemon.child.try_wait().expect("try_wait").is_none(),
        "supervisord forked away"
    );
    let pidfile = fs::read_to_string(&daemon.pidfile).expect("pidfile");
    assert_eq!(pidfile.trim(), daemon.child.id().to_string());
    daemon.wait_log("NOTIFY_SOCKET is set: staying in the foreground for systemd");
    // Children keep supervisord's environment, as under Supervisor.
    assert!(support::bin::wait_until(DEADLINE, || {
        fs::read_to_string(daemon.path("child-env"))
            .is_ok_and(|text| text.trim() == notify.display().to_string())
    }));

    // Keepalives: WATCHDOG_USEC=200000 asks for one every 100 ms.
    systemd.wait_for("WATCHDOG=1", |m| m == "WATCHDOG=1");
    systemd.wait_for("a second WATCHDOG=1", |m| m == "WATCHDOG=1");

    // A later change shows in STATUS=.
    let started = call(&sock, "supervisor.startProcess", &["quiet"]);
    assert!(started.contains("<boolean>1</boolean>"), "{started}");
    systemd.wait_for("STATUS with quiet running", |m| {
        m == "STATUS=3 running, 0 starting, 0 backoff, 1 fatal, 0 stopped"
    });

    // SIGHUP: RELOADING with systemd's clock, then READY again once the
    // new actor has settled.
    let before = monotonic_usec();
    daemon.signal("HUP");
    let reloading = systemd.wait_for("RELOADING=1", |m| m.starts_with("RELOADING=1"));
    let stamp: u64 = assignment(&reloading, "MONOTONIC_USEC")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no MONOTONIC_USEC in {reloading:?}"));
    assert!(
        stamp >= before && stamp <= monotonic_usec(),
        "MONOTONIC_USEC={stamp} is not CLOCK_MONOTONIC"
    );
    let again = systemd.wait_for("READY=1 after the reload", |m| m.starts_with("READY=1"));
    assert_eq!(
        assignment(&again, "STATUS"),
        Some("2 running, 0 starting, 0 backoff, 1 fatal, 1 stopped"),
        "{again:?}"
    );
    assert_eq!(daemon.count("success: slow entered RUNNING state"), 2);

    // SIGTERM: STOPPING, and a clean exit.
    daemon.signal("TERM");
    systemd.wait_for("STOPPING=1", |m| m.starts_with("STOPPING=1"));
    let status = daemon.wait_exit();
    assert!(status.success(), "{status:?}");

    assert_eq!(
        systemd.story(),
        ["READY=1", "RELOADING=1", "READY=1", "STOPPING=1"],
        "all messages: {:?}",
        systemd.got
    );
}

/// `NOTIFY_SOCKET=@name` is a Linux abstract socket; WATCHDOG_PID naming
/// another process means the watchdog is not ours to feed.
#[test]
fn abstract_notify_socket_and_someone_elses_watchdog() {
    let dir = support::bin::tempdir();
    write_config(dir.path());
    let name = format!(
        "sv-notify-test-{}-{}",
        std::process::id(),
        dir.path().display().to_string().replace('/', "_")
    );
    let addr = {
        use std::os::linux::net::SocketAddrExt;
        SocketAddr::from_abstract_name(name.as_bytes()).expect("abstract address")
    };
    let socket = UnixDatagram::bind_addr(&addr).expect("bind the abstract socket");
    let mut systemd = FakeSystemd::new(socket);
    let child = supervisord_in(dir.path())
        .env("NOTIFY_SOCKET", format!("@{name}"))
        .env("WATCHDOG_USEC", "200000")
        .env("WATCHDOG_PID", "1")
        .spawn()
        .expect("cannot start supervisord");
    let mut daemon = TestDaemon::adopt(dir, child);
    systemd.wait_for("READY=1", |m| m.starts_with("READY=1"));
    daemon.signal("TERM");
    systemd.wait_for("STOPPING=1", |m| m.starts_with("STOPPING=1"));
    assert!(daemon.wait_exit().success());
    assert!(
        !systemd.got.iter().any(|m| m == "WATCHDOG=1"),
        "keepalives for WATCHDOG_PID=1: {:?}",
        systemd.got
    );
}

/// A program that got RUNNING and then exits and is restarted over and
/// over is never "up" for long, but it has started: READY=1 must not wait
/// for a quiet moment that never comes (systemd would kill the service).
#[test]
fn a_program_restarting_forever_does_not_hold_ready_back() {
    let dir = support::bin::tempdir();
    let d = dir.path().display();
    fs::write(
        dir.path().join("supervisord.conf"),
        format!(
            "[supervisord]\nlogfile={d}/supervisord.log\npidfile={d}/supervisord.pid\nchildlogdir={d}\n\
             [program:flappy]\ncommand=/bin/sh -c 'exit 0'\nstartsecs=0\nautorestart=true\n\
             stdout_logfile=NONE\nstderr_logfile=NONE\n\
             [program:steady]\ncommand=/bin/sleep 1000\nstartsecs=0\n"
        ),
    )
    .expect("write config");
    let notify = dir.path().join("notify");
    let mut systemd = FakeSystemd::new(UnixDatagram::bind(&notify).expect("bind"));
    let mut daemon = start(dir, &notify.display().to_string(), "0");
    systemd.wait_for("READY=1", |m| m.starts_with("READY=1"));
    assert!(daemon.count("spawned: 'flappy'") >= 1);
    daemon.signal("TERM");
    systemd.wait_for("STOPPING=1", |m| m.starts_with("STOPPING=1"));
    assert!(daemon.wait_exit().success());
    assert!(
        !systemd.got.iter().any(|m| m == "WATCHDOG=1"),
        "WATCHDOG_USEC=0 asks for no keepalives: {:?}",
        systemd.got
    );
}

/// Without NOTIFY_SOCKET nothing changes: the configuration's
/// `nodaemon=false` daemonizes as Supervisor does.
#[test]
fn without_notify_socket_supervisord_daemonizes() {
    let dir = support::bin::tempdir();
    write_config(dir.path());
    let status = supervisord_in(dir.path())
        .env_remove("NOTIFY_SOCKET")
        .status()
        .expect("run supervisord");
    assert!(status.success(), "{status:?}");
    let pidfile = dir.path().join("supervisord.pid");
    assert!(support::bin::wait_until(DEADLINE, || pidfile.exists()));
    let pid: i32 = fs::read_to_string(&pidfile)
        .expect("pidfile")
        .trim()
        .parse()
        .expect("pid");
    let log = fs::read_to_string(dir.path().join("supervisord.log")).unwrap_or_default();
    assert!(log.contains("daemonizing the supervisord process"), "{log}");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGTERM)
        .expect("SIGTERM the daemon");
    support::daemon::wait_dead(pid as u32);
}

/// CLOCK_MONOTONIC, as systemd reads it.
fn monotonic_usec() -> u64 {
    sv_daemon::sys::monotonic_usec()
}
