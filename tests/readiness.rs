//! `ready_when`, `depends_on`, `ready_timeout`, `watchdog_secs` and the
//! notify protocol on real processes (docs/readiness.md). The children are
//! small Python programs that append `start NAME` / `stop NAME` to one file,
//! so the order is observed by the children themselves; the database
//! becomes ready only when the test opens its gate (a file), so "not ready
//! yet" is observed without any timing.

mod support;

use std::fs;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};

use support::bin::{self, SUPERVISORCTL, SUPERVISORD, run, texts};
use support::daemon::{DEADLINE, TestDaemon};

/// The child every test runs: `child.py NAME MODE [ARG]`. It records its
/// start, waits for `gate-NAME` when it must not be ready yet, becomes ready
/// the way MODE says, and records its stop on SIGTERM.
const CHILD: &str = r#"
import os, signal, socket, sys, time
name, mode = sys.argv[1], sys.argv[2]
arg = sys.argv[3] if len(sys.argv) > 3 else ""
here = os.path.dirname(os.path.abspath(__file__))
def record(what):
    with open(os.path.join(here, "order"), "a") as f:
        f.write(what + " " + name + "\n")
def on_term(*_):
    record("stop")
    sys.exit(0)
signal.signal(signal.SIGTERM, on_term)
record("start")
print("started " + name, flush=True)
def notify(msg):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.sendto(msg.encode(), os.environ["NOTIFY_SOCKET"])
if "NOTIFY_SOCKET" in os.environ:
    with open(os.path.join(here, "notify-socket-" + name), "w") as f:
        f.write(os.environ["NOTIFY_SOCKET"])
    notify("STATUS=warming up")
gate = os.path.join(here, "gate-" + name)
while mode != "plain" and not os.path.exists(gate):
    time.sleep(0.02)
keep = None
if mode == "tcp" or mode == "http":
    keep = socket.socket()
    keep.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    keep.bind(("127.0.0.1", int(arg)))
    keep.listen(16)
elif mode == "notify":
    notify("READY=1\nSTATUS=serving")
elif mode == "log":
    print("database system is ready to accept connections", flush=True)
elif mode == "exec":
    open(os.path.join(here, "ready-" + name), "w").close()
while True:
    if mode == "http":
        c, _ = keep.accept()
        c.recv(1024)
        c.sendall(b"HTTP/1.0 204 No Content\r\n\r\n")
        c.close()
    elif mode == "watchdog-once":
        time.sleep(3600)
    else:
        time.sleep(0.05)
"#;

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A daemon with a control socket and the child script in its directory.
struct Rig {
    d: TestDaemon,
}

impl Rig {
    fn start(programs: &str) -> Rig {
        let dir = bin::tempdir();
        let p = dir.path().display().to_string();
        fs::write(dir.path().join("child.py"), CHILD).unwrap();
        let body = programs.replace("@DIR@", &p);
        let text = support::daemon::config_text(
            dir.path(),
            "",
            &format!(
                "[unix_http_server]\nfile={p}/sv.sock\n[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n[supervisorctl]\nserverurl=unix://{p}/sv.sock\n{body}"
            ),
        );
        fs::write(dir.path().join("supervisord.conf"), text).unwrap();
        let child = support::daemon::supervisord_in(dir.path())
            .spawn()
            .expect("start supervisord");
        Rig {
            d: TestDaemon::adopt(dir, child),
        }
    }

    fn dir(&self) -> &Path {
        self.d.dir.path()
    }

    fn ctl(&self, args: &[&str]) -> String {
        let conf = self.d.conf.display().to_string();
        let mut all = vec!["-c", conf.as_str()];
        all.extend_from_slice(args);
        let out = run(SUPERVISORCTL, &all, self.dir());
        let (stdout, stderr) = texts(&out);
        format!("{stdout}{stderr}")
    }

    /// `supervisorctl status NAME`'s line, once it contains `want`.
    fn wait_status(&self, name: &str, want: &str) -> String {
        let mut last = String::new();
        let ok = bin::wait_until(DEADLINE, || {
            last = self.ctl(&["status", name]);
            last.contains(want)
        });
        assert!(
            ok,
            "{name} never showed {want:?}; last: {last}\n{}",
            self.d.log_text()
        );
        last
    }

    fn open_gate(&self, name: &str) {
        fs::write(self.dir().join(format!("gate-{name}")), "").unwrap();
    }

    fn order(&self) -> Vec<String> {
        fs::read_to_string(self.dir().join("order"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn wait_order(&self, n: usize) -> Vec<String> {
        let ok = bin::wait_until(DEADLINE, || self.order().len() >= n);
        assert!(ok, "order: {:?}\n{}", self.order(), self.d.log_text());
        self.order()
    }
}

fn chain(db_ready_when: &str, db_mode: &str, port: u16) -> String {
    format!(
        "[program:worker]\ncommand=python3 @DIR@/child.py worker plain\ndepends_on=api\nready_when=log:^started\nstartsecs=0\npriority=1\n\
         [program:api]\ncommand=python3 @DIR@/child.py api plain\ndepends_on=db\nready_when=log:^started\nstartsecs=0\npriority=2\n\
         [program:db]\ncommand=python3 @DIR@/child.py db {db_mode} {port}\nready_when={db_ready_when}\nstartsecs=0\nready_timeout=60\n"
    )
}

/// The chain db <- api <- worker with db ready through `ready_when`.
fn run_chain(db_ready_when: &str, db_mode: &str, port: u16) {
    let rig = Rig::start(&chain(db_ready_when, db_mode, port));
    // db runs, but is not ready: the others wait, saying for what.
    assert_eq!(rig.wait_order(1), vec!["start db"]);
    let how = db_ready_when.replace("@DIR@", &rig.dir().display().to_string());
    rig.wait_status("db", &format!("STARTING  waiting for {how}"));
    rig.wait_status("api", "STARTING  waiting for db");
    rig.wait_status("worker", "STARTING  waiting for api");
    assert_eq!(rig.order(), vec!["start db"]);

    rig.open_gate("db");
    rig.wait_status("worker", "RUNNING");
    rig.d.wait_log(&format!(
        "success: db entered RUNNING state, process is ready ({how})"
    ));
    assert_eq!(rig.order(), vec!["start db", "start api", "start worker"]);
}

#[test]
fn chain_ready_by_tcp() {
    let port = free_port();
    run_chain(&format!("tcp:127.0.0.1:{port}"), "tcp", port);
}

#[test]
fn chain_ready_by_http() {
    let port = free_port();
    run_chain(&format!("http://127.0.0.1:{port}/health"), "http", port);
}

#[test]
fn chain_ready_by_exec() {
    run_chain("exec:/bin/test -f @DIR@/ready-db", "exec", 0);
}

#[test]
fn chain_ready_by_log() {
    run_chain("log:ready to accept connections$", "log", 0);
}

#[test]
fn chain_ready_by_notify() {
    run_chain("notify", "notify", 0);
}

#[test]
fn a_fatal_dependency_keeps_its_dependent_from_starting() {
    let rig = Rig::start(
        "[program:db]\ncommand=/bin/sh -c 'exit 3'\nstartretries=0\n\
         [program:api]\ncommand=python3 @DIR@/child.py api plain\ndepends_on=db\n",
    );
    rig.wait_status("api", "FATAL     dependency db entered FATAL");
    rig.d
        .wait_log("gave up: api entered FATAL state, dependency db entered FATAL");
    assert!(rig.order().is_empty(), "api never ran: {:?}", rig.order());
}

#[test]
fn not_ready_within_ready_timeout_is_a_failed_start() {
    let port = free_port();
    let rig = Rig::start(&format!(
        "[program:db]\ncommand=python3 @DIR@/child.py db plain\nready_when=tcp:127.0.0.1:{port}\nready_timeout=1\nstartsecs=0\nstartretries=1\n"
    ));
    rig.d
        .wait_log("not ready: db was not ready within 1 seconds (ready_timeout;");
    rig.d
        .wait_log("gave up: db entered FATAL state, too many start retries too quickly");
    assert_eq!(rig.d.count("spawned: 'db'"), 2, "startretries + 1 attempts");
    rig.wait_status("db", "FATAL     not ready within 1 seconds");
}

#[test]
fn a_silent_watchdog_restarts_the_child() {
    let rig = Rig::start(
        "[program:svc]\ncommand=python3 @DIR@/child.py svc notify\nready_when=notify\nwatchdog_secs=1\nstartsecs=0\n",
    );
    rig.open_gate("svc");
    rig.d
        .wait_log("success: svc entered RUNNING state, process is ready (notify)");
    rig.d
        .wait_log("watchdog: svc sent no WATCHDOG=1 for 1 seconds (watchdog_secs), restarting it");
    rig.d.wait_count("spawned: 'svc'", 2);
    let order = rig.wait_order(3);
    assert_eq!(order[..3], ["start svc", "stop svc", "start svc"]);
}

#[test]
fn a_notify_child_is_running_only_after_ready_and_shows_its_status() {
    let rig = Rig::start(
        "[program:svc]\ncommand=python3 @DIR@/child.py svc notify\nready_when=notify\nstartsecs=0\n",
    );
    rig.wait_status("svc", "STARTING  waiting for notify, status: warming up");
    // A datagram from a process outside the child's tree is ignored.
    let socket_file = rig.dir().join("notify-socket-svc");
    assert!(bin::wait_until(DEADLINE, || socket_file.exists()));
    let path = PathBuf::from(fs::read_to_string(&socket_file).unwrap());
    let outsider = UnixDatagram::unbound().unwrap();
    outsider.send_to(b"READY=1", &path).unwrap();
    rig.d.wait_log("ignored a notify message for svc from pid");
    assert!(rig.ctl(&["status", "svc"]).contains("STARTING"));

    rig.open_gate("svc");
    let line = rig.wait_status("svc", "RUNNING");
    assert!(line.contains(", status: serving"), "{line}");
}

#[test]
fn systemd_notify_works_unchanged() {
    let rig = Rig::start(
        "[program:svc]\ncommand=/bin/sh -c 'while [ ! -e gate-svc ]; do sleep 0.02; done; systemd-notify --ready --status=\"up and running\"; exec sleep 3600'\ndirectory=@DIR@\nready_when=notify\nstartsecs=0\n",
    );
    rig.wait_status("svc", "STARTING  waiting for notify");
    rig.open_gate("svc");
    let line = rig.wait_status("svc", "RUNNING");
    assert!(line.contains("status: up and running"), "{line}");
}

#[test]
fn update_adds_a_dependent_while_its_dependency_runs() {
    let rig = Rig::start("[program:db]\ncommand=python3 @DIR@/child.py db plain\nstartsecs=0\n");
    rig.wait_status("db", "RUNNING");
    rig.wait_order(1);
    let mut conf = fs::read_to_string(&rig.d.conf).unwrap();
    conf.push_str(
        "[program:api]\ncommand=python3 @DIR@/child.py api plain\ndepends_on=db\nstartsecs=0\n"
            .replace("@DIR@", &rig.dir().display().to_string())
            .as_str(),
    );
    fs::write(&rig.d.conf, conf).unwrap();
    let out = rig.ctl(&["update"]);
    assert!(out.contains("api: added process group"), "{out}");
    rig.wait_status("api", "RUNNING");
    assert_eq!(rig.wait_order(2), vec!["start db", "start api"]);
}

#[test]
fn stop_with_dependencies_follows_the_dependency_down() {
    let rig = Rig::start(
        "[program:db]\ncommand=python3 @DIR@/child.py db plain\nstartsecs=0\n\
         [program:api]\ncommand=python3 @DIR@/child.py api plain\ndepends_on=db\nstartsecs=0\nstop_with_dependencies=true\n\
         [program:cache]\ncommand=python3 @DIR@/child.py cache plain\ndepends_on=db\nstartsecs=0\n",
    );
    rig.wait_status("api", "RUNNING");
    rig.wait_status("cache", "RUNNING");
    rig.ctl(&["stop", "db"]);
    rig.wait_status("api", "STOPPED");
    rig.d
        .wait_log("stopping api: its dependency db stopped (stop_with_dependencies)");
    assert!(rig.ctl(&["status", "cache"]).contains("RUNNING"));
}

#[test]
fn cycles_and_unknown_names_are_refused_at_their_line() {
    let dir = bin::tempdir();
    let conf = dir.path().join("c.conf");
    fs::write(
        &conf,
        "[supervisord]\n[program:a]\ncommand=/bin/true\ndepends_on=b\n[program:b]\ncommand=/bin/true\ndepends_on=a\n[program:c]\ncommand=/bin/true\ndepends_on=ghost\n",
    )
    .unwrap();
    let out = run(
        SUPERVISORD,
        &["--check-config", "-c", conf.to_str().unwrap()],
        dir.path(),
    );
    let (_, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let c = conf.display();
    assert!(
        stderr.contains(&format!(
            "{c}:4: [program:a] depends_on: depends_on makes a cycle: a -> b -> a"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "{c}:10: [program:c] depends_on: depends_on names unknown program or group ghost"
        )),
        "{stderr}"
    );
}

/// Supervisor 4.3.0 ignores keys it does not know, so a config with ours
/// still loads there (the processes then start without waiting).
#[test]
fn supervisor_4_3_loads_a_config_with_the_new_keys() {
    let dir = bin::tempdir();
    let conf = dir.path().join("portable.conf");
    fs::write(
        &conf,
        "[supervisord]\n[program:db]\ncommand=/bin/true\nready_when=tcp:127.0.0.1:5432\nready_timeout=30\n\
         [program:api]\ncommand=/bin/true\ndepends_on=db\nready_when=notify\nwatchdog_secs=10\nstop_with_dependencies=true\n\
         [program:logs]\ncommand=/bin/true\nready_when=log:ready\n[program:x]\ncommand=/bin/true\nready_when=exec:/bin/true\n",
    )
    .unwrap();
    let script = "import sys\nfrom supervisor.options import ServerOptions\no = ServerOptions()\no.realize(['-c', sys.argv[1]])\nprint(sorted(g.name for g in o.process_group_configs))\n";
    let out = support::command::new(support::reference::python())
        .args(["-c", script, conf.to_str().unwrap()])
        .output()
        .expect("run the reference");
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stdout.trim(), "['api', 'db', 'logs', 'x']");
    // And ours reads the same file.
    let ours = run(
        SUPERVISORD,
        &["--check-config", "-c", conf.to_str().unwrap()],
        dir.path(),
    );
    assert!(ours.status.success(), "{}", texts(&ours).1);
}

/// Shutdown and `stopAllProcesses` stop dependents before their
/// dependencies, whatever the priorities say (db has the highest priority
/// number, so Supervisor's own order would stop it first).
#[test]
fn everything_stops_dependents_first() {
    let body = "[program:db]\ncommand=python3 @DIR@/child.py db plain\nstartsecs=0\npriority=900\n\
         [program:api]\ncommand=python3 @DIR@/child.py api plain\ndepends_on=db\nready_when=log:^started\nstartsecs=0\npriority=5\n\
         [program:worker]\ncommand=python3 @DIR@/child.py worker plain\ndepends_on=api\nready_when=log:^started\nstartsecs=0\npriority=1\n";
    let rig = Rig::start(body);
    rig.wait_status("worker", "RUNNING");
    rig.wait_order(3);
    let out = rig.ctl(&["stop", "all"]);
    assert!(out.contains("db: stopped"), "{out}");
    assert_eq!(
        rig.wait_order(6)[3..],
        ["stop worker", "stop api", "stop db"],
        "stopAllProcesses"
    );
    let out = rig.ctl(&["start", "all"]);
    assert!(out.contains("worker: started"), "{out}");
    rig.wait_order(9);
    let mut d = rig.d;
    d.shutdown();
    let order: Vec<String> = fs::read_to_string(d.dir.path().join("order"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(
        order[9..],
        ["stop worker", "stop api", "stop db"],
        "shutdown"
    );
}
