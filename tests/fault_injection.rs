//! Issue 15, fault injection: the daemon meets a hostile machine — it is
//! SIGKILLed with children running, runs out of descriptors, writes to a
//! full disk, loses its `childlogdir`, and supervises children that close
//! their output or fork away — and keeps supervising, without duplicates,
//! panics or busy loops. By section, in the order of the issue.

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Stdio};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use support::bin::{SUPERVISORD, wait_until};
use support::daemon::{DEADLINE, TestDaemon, alive, config_text, supervisord_in};
use support::rpc::call;

/// Pids of live (non-zombie) processes running a script of `dir` (their
/// command line names it; supervisord's own names only its config). A
/// script's shell forking for `sleep` shows the script's command line in
/// the fork until it execs: such a child of a match is the same program,
/// not another copy, and is left out (counting it made the 20-copy check
/// of the SIGKILL test flaky).
fn processes_with(dir: &str) -> Vec<u32> {
    let mut found: Vec<(u32, Option<u32>)> = Vec::new();
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
            continue;
        };
        let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline);
        if cmdline.contains(dir) && cmdline.contains(".sh") && alive(pid) {
            found.push((pid, parent_of(pid)));
        }
    }
    let matched: Vec<u32> = found.iter().map(|(pid, _)| *pid).collect();
    let mut pids: Vec<u32> = found
        .into_iter()
        .filter(|(_, parent)| !parent.is_some_and(|p| matched.contains(&p)))
        .map(|(pid, _)| pid)
        .collect();
    pids.sort_unstable();
    pids
}

/// The parent pid of `pid` (the field after the parenthesised command in
/// `/proc/<pid>/stat`), if it can be read.
fn parent_of(pid: u32) -> Option<u32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(1)?.parse().ok()
}

/// A second supervisord on an existing daemon's directory and config;
/// asked to stop (SIGTERM) when dropped.
struct Successor(Child);

impl Successor {
    fn start(dir: &Path) -> Self {
        let child = supervisord_in(dir)
            .spawn()
            .expect("cannot start supervisord");
        Successor(child)
    }

    fn stop(&mut self) {
        let _ = kill(Pid::from_raw(self.0.id() as i32), Signal::SIGTERM);
        let done = wait_until(DEADLINE, || self.0.try_wait().ok().flatten().is_some());
        if !done {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

impl Drop for Successor {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            self.stop();
        }
    }
}

// ---------------------------------------------------------------------------
// A SIGKILLed daemon's children are stopped by the next daemon
// ---------------------------------------------------------------------------

/// 18 children that stop only on their `stopsignal` (SIGINT; they ignore
/// SIGTERM) and 2 that ignore SIGTERM, their stop signal (SIGKILL after
/// `stopwaitsecs`); each runs a script in the temp dir, whose path marks its
/// command line.
const TWENTY: &str = "[program:good]\ncommand=/bin/sh %(here)s/polite.sh\nnumprocs=18\nprocess_name=%(program_name)s_%(process_num)02d\nstartsecs=0\nstopsignal=INT\nstopasgroup=true\nstdout_logfile=NONE\nstderr_logfile=NONE\n\n\
[program:stubborn]\ncommand=/bin/sh %(here)s/stubborn.sh\nnumprocs=2\nprocess_name=%(program_name)s_%(process_num)02d\nstartsecs=0\nstopwaitsecs=1\nkillasgroup=true\nstdout_logfile=NONE\nstderr_logfile=NONE\n";

fn write_scripts(dir: &Path) {
    fs::write(dir.join("child.sh"), "while :; do sleep 1; done\n").unwrap();
    fs::write(
        dir.join("polite.sh"),
        "trap 'exit 0' INT\ntrap '' TERM\nwhile :; do sleep 1; done\n",
    )
    .unwrap();
    fs::write(
        dir.join("stubborn.sh"),
        "trap '' TERM\nwhile :; do sleep 1; done\n",
    )
    .unwrap();
}

/// Kills, when dropped, whatever still runs a script of a temp dir: if the
/// test fails between the SIGKILL and the successor, the children would
/// otherwise loop forever.
struct Orphans(String);

impl Drop for Orphans {
    fn drop(&mut self) {
        for pid in processes_with(&self.0) {
            let _ = kill(Pid::from_raw(-(pid as i32)), Signal::SIGKILL);
        }
    }
}

fn recorded_children(d: &TestDaemon) -> usize {
    fs::read_to_string(d.path("supervisord.pid.children"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("child "))
        .count()
}

#[test]
fn sigkill_of_the_daemon_then_a_restart_leaves_no_duplicate_children() {
    let dir = support::bin::tempdir();
    write_scripts(dir.path());
    let conf = dir.path().join("supervisord.conf");
    fs::write(&conf, config_text(dir.path(), "", TWENTY)).unwrap();
    let child = supervisord_in(dir.path())
        .spawn()
        .expect("cannot start supervisord");
    let mut first = TestDaemon::adopt(dir, child);
    let marker = first.dir.path().display().to_string();
    let _orphans = Orphans(marker.clone());
    first.wait_count("entered RUNNING state", 20);
    assert!(
        wait_until(DEADLINE, || recorded_children(&first) == 20),
        "the state file does not record 20 children:\n{}",
        fs::read_to_string(first.path("supervisord.pid.children")).unwrap_or_default()
    );
    let old = processes_with(&marker);
    assert_eq!(old.len(), 20, "{old:?}");

    first.signal("KILL");
    first.wait_exit();
    assert!(
        old.iter().all(|&pid| alive(pid)),
        "children died with the daemon"
    );

    let mut second = Successor::start(first.dir.path());
    first.wait_count("supervisord started with pid", 2);
    first.wait_count("entered RUNNING state", 40);
    for &pid in &old {
        assert!(!alive(pid), "old child {pid} is still running");
    }
    let new = processes_with(&marker);
    assert_eq!(new.len(), 20, "expected exactly 20 copies, found {new:?}");
    assert!(new.iter().all(|pid| !old.contains(pid)));
    assert_eq!(first.count("from a previous supervisord"), 20);
    assert_eq!(first.count("INFO stopping leftover good:good_"), 18);
    // The recorded stop signal was used: the polite ones needed no SIGKILL.
    assert_eq!(first.count("WARN killing leftover stubborn:stubborn_"), 2);
    assert_eq!(first.count("WARN killing leftover"), 2);
    assert_eq!(first.count("INFO stopped leftover"), 20);
    // Every leftover was stopped before the first new spawn.
    let log = first.log_text();
    let last_stop = log.rfind("INFO stopped leftover").unwrap();
    let second_start = log.rfind("supervisord started with pid").unwrap();
    assert!(log[second_start..].find("spawned:").unwrap() + second_start > last_stop);

    // A clean shutdown leaves no state file behind.
    second.stop();
    assert!(!first.path("supervisord.pid.children").exists());
    assert!(processes_with(&marker).is_empty());
}

#[test]
fn a_reused_pid_is_never_mistaken_for_a_leftover() {
    let dir = support::bin::tempdir();
    // A stranger holds a pid the state file names, with another start time.
    let mut stranger = support::command::new("sleep").arg("30").spawn().unwrap();
    let pid = stranger.id();
    let start: u64 = {
        let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let rest = &stat[stat.rfind(')').unwrap() + 1..];
        rest.split_whitespace().nth(19).unwrap().parse().unwrap()
    };
    let state = dir.path().join("supervisord.pid.children");
    fs::write(&state, format!("child {pid} {} 15 10 0 0 x:x\n", start + 1)).unwrap();
    fs::set_permissions(&state, fs::Permissions::from_mode(0o600)).unwrap();
    let conf = dir.path().join("supervisord.conf");
    fs::write(&conf, config_text(dir.path(), "", "")).unwrap();
    let child = supervisord_in(dir.path()).spawn().unwrap();
    let mut d = TestDaemon::adopt(dir, child);
    d.wait_log("supervisord started with pid");
    // The file is consumed before the actor starts.
    assert!(wait_until(DEADLINE, || !d
        .path("supervisord.pid.children")
        .exists()));
    assert!(alive(pid), "a stranger with a reused pid was signalled");
    assert_eq!(d.count("leftover"), 0);
    d.shutdown();
    let _ = stranger.kill();
    let _ = stranger.wait();
}

/// A live process's start time (field 22 of `/proc/<pid>/stat`).
fn start_time_of(pid: u32) -> u64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let rest = &stat[stat.rfind(')').unwrap() + 1..];
    rest.split_whitespace().nth(19).unwrap().parse().unwrap()
}

#[test]
fn a_state_file_others_can_write_is_never_believed() {
    // Anyone can read a pid's start time; a file others could have written
    // must not make the daemon signal a process it names.
    let dir = support::bin::tempdir();
    let mut victim = support::command::new("sleep").arg("30").spawn().unwrap();
    let pid = victim.id();
    let state = dir.path().join("supervisord.pid.children");
    fs::write(
        &state,
        format!("child {pid} {} 15 1 0 0 x:x\n", start_time_of(pid)),
    )
    .unwrap();
    fs::set_permissions(&state, fs::Permissions::from_mode(0o666)).unwrap();
    fs::write(
        dir.path().join("supervisord.conf"),
        config_text(dir.path(), "", ""),
    )
    .unwrap();
    let mut d = TestDaemon::start_in(dir);
    d.wait_log("supervisord.pid.children: writable by others");
    assert!(
        alive(pid),
        "a process named by a forged state file was signalled"
    );
    assert_eq!(d.count("leftover"), 0);
    d.shutdown();
    let _ = victim.kill();
    let _ = victim.wait();
}

#[test]
fn a_link_planted_at_the_state_files_temporary_name_is_not_followed() {
    let dir = support::bin::tempdir();
    let precious = dir.path().join("precious");
    fs::write(&precious, "precious\n").unwrap();
    std::os::unix::fs::symlink(&precious, dir.path().join("supervisord.pid.children.tmp")).unwrap();
    fs::write(
        dir.path().join("supervisord.conf"),
        config_text(
            dir.path(),
            "",
            "[program:one]\ncommand=/bin/sleep 1000\nstartsecs=0\n",
        ),
    )
    .unwrap();
    let mut d = TestDaemon::start_in(dir);
    assert!(wait_until(DEADLINE, || recorded_children(&d) == 1));
    assert_eq!(
        fs::read_to_string(d.path("precious")).unwrap(),
        "precious\n"
    );
    d.shutdown();
}

// ---------------------------------------------------------------------------
// EMFILE at spawn
// ---------------------------------------------------------------------------

const RPC: &str = "[unix_http_server]\nfile=%(here)s/s.sock\n[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n";

/// Start `supervisord` on `body` with RLIMIT_NOFILE at `nofile` (soft and
/// hard, so it cannot raise it).
fn start_with_nofile(nofile: u32, extra_supervisord: &str, body: &str) -> TestDaemon {
    let dir = support::bin::tempdir();
    write_scripts(dir.path());
    let conf = dir.path().join("supervisord.conf");
    fs::write(&conf, config_text(dir.path(), extra_supervisord, body)).unwrap();
    let child = support::command::new("/bin/sh")
        .arg("-c")
        .arg(format!("ulimit -n {nofile} && exec \"$0\" -c \"$1\""))
        .arg(SUPERVISORD)
        .arg(&conf)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cannot start supervisord");
    TestDaemon::adopt(dir, child)
}

/// The `statename` of every process in a `getAllProcessInfo` answer.
fn states(answer: &str) -> Vec<String> {
    answer
        .split("<name>statename</name>")
        .skip(1)
        .filter_map(|tail| tail.split("<string>").nth(1))
        .filter_map(|s| s.split("</string>").next())
        .map(str::to_string)
        .collect()
}

/// The name of the first process in state `state`.
fn first_in(answer: &str, state: &str) -> Option<String> {
    // Records list `name` before `statename`; walk them in order.
    answer.split("<struct>").skip(1).find_map(|record| {
        let field = |key: &str| {
            record
                .split(&format!("<name>{key}</name>"))
                .nth(1)
                .and_then(|t| t.split("<string>").nth(1))
                .and_then(|s| s.split("</string>").next())
                .map(str::to_string)
        };
        (field("statename").as_deref() == Some(state)).then(|| field("name"))?
    })
}

#[test]
fn emfile_at_spawn_backs_off_to_fatal_and_the_daemon_recovers() {
    const N: usize = 30;
    // Each child costs the daemon three pipe ends and a spawn needs eight
    // at once: 30 of them cannot fit in 64 descriptors.
    let d = start_with_nofile(
        64,
        "minfds=32",
        &format!(
            "{RPC}[program:hog]\ncommand=/bin/sh %(here)s/child.sh\nnumprocs={N}\nprocess_name=%(program_name)s_%(process_num)02d\nstartsecs=0\nstartretries=1\nstopasgroup=true\nstdout_logfile=NONE\nstderr_logfile=NONE\n"
        ),
    );
    // Said once at start, with how many fit.
    assert!(
        d.count("WARN RLIMIT_NOFILE is 64 (hard limit 64): enough for about 10 of the 30 processes configured") == 1,
        "{}",
        d.log_text()
    );
    let settled = || d.count("entered RUNNING state") + d.count("entered FATAL state") >= N;
    assert!(wait_until(DEADLINE, settled), "{}", d.log_text());
    assert!(d.count("entered FATAL state") > 0, "{}", d.log_text());
    assert!(
        d.count("spawnerr: too many open files to spawn 'hog_") >= 2,
        "{}",
        d.log_text()
    );
    // Each FATAL process failed twice (startretries=1: BACKOFF, then one
    // more try).
    assert!(d.count("spawnerr: too many open files") >= 2 * d.count("entered FATAL state"));
    assert!(d.count("gave up: hog_") > 0);

    // The daemon is up and answers.
    let sock = d.path("s.sock");
    assert!(call(&sock, "supervisor.getState", &[]).contains("RUNNING"));
    let all = call(&sock, "supervisor.getAllProcessInfo", &[]);
    assert_eq!(states(&all).len(), N, "{all}");
    let fatal = first_in(&all, "FATAL").expect("a FATAL process");
    let info = call(
        &sock,
        "supervisor.getProcessInfo",
        &[&format!("hog:{fatal}")],
    );
    assert!(
        info.contains(&format!("too many open files to spawn '{fatal}'")),
        "{info}"
    );

    // Descriptors free up: the FATAL process starts. A stopped child's
    // output pipes close when their readers next run, just after the stop
    // is answered: wait for the daemon's count to fall.
    let daemon = d.child.id();
    let open_fds = || fs::read_dir(format!("/proc/{daemon}/fd")).map_or(0, |e| e.count());
    let before = open_fds();
    for _ in 0..2 {
        let running = first_in(&call(&sock, "supervisor.getAllProcessInfo", &[]), "RUNNING")
            .expect("a RUNNING process");
        let stopped = call(
            &sock,
            "supervisor.stopProcess",
            &[&format!("hog:{running}")],
        );
        assert!(stopped.contains("<boolean>1</boolean>"), "{stopped}");
    }
    assert!(
        wait_until(DEADLINE, || open_fds() + 6 <= before),
        "{} descriptors open, {before} before two stops",
        open_fds()
    );
    let started = call(&sock, "supervisor.startProcess", &[&format!("hog:{fatal}")]);
    assert!(
        started.contains("<boolean>1</boolean>"),
        "{started}\n{}",
        d.log_text()
    );
    let info = call(
        &sock,
        "supervisor.getProcessInfo",
        &[&format!("hog:{fatal}")],
    );
    assert_eq!(states(&info), ["RUNNING"], "{info}");
}

// ---------------------------------------------------------------------------
// Disk full: the main log and child logs on /dev/full
// ---------------------------------------------------------------------------

/// A child that writes a line to stdout and stderr every 10 ms.
const CHATTY: &str = "[program:chatty]\ncommand=/bin/sh -c 'while :; do echo out; echo err >&2; sleep 0.01; done'\nstartsecs=0\n";

/// The daemon's user + system CPU time, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let Some(close) = stat.rfind(')') else {
        return 0;
    };
    let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
    // Fields 14 and 15 (utime, stime), counted from the state (field 3).
    let get = |i: usize| fields.get(i - 3).and_then(|v| v.parse::<u64>().ok());
    get(14).unwrap_or(0) + get(15).unwrap_or(0)
}

fn running(sock: &Path, name: &str) -> bool {
    states(&call(sock, "supervisor.getProcessInfo", &[name])) == ["RUNNING"]
}

#[test]
fn a_main_log_on_a_full_disk_is_reported_once_and_the_daemon_keeps_supervising() {
    let dir = support::bin::tempdir();
    let d = dir.path().display().to_string();
    let conf = dir.path().join("supervisord.conf");
    fs::write(
        &conf,
        format!(
            "[supervisord]\nlogfile=/dev/full\npidfile={d}/supervisord.pid\nchildlogdir={d}\nloglevel=debug\nnodaemon=true\nsilent=true\n{RPC}{CHATTY}stdout_logfile={d}/chatty.log\n"
        ),
    )
    .unwrap();
    let stderr = fs::File::create(dir.path().join("stderr")).unwrap();
    let child = supervisord_in(dir.path()).stderr(stderr).spawn().unwrap();
    let _daemon = Successor(child);
    let daemon_pid = _daemon.0.id();
    let sock = dir.path().join("s.sock");
    assert!(wait_until(DEADLINE, || sock.exists() && running(&sock, "chatty")));
    // The child's output keeps flowing to its own log.
    let out = dir.path().join("chatty.log");
    let size = || fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    let before = size();
    assert!(wait_until(DEADLINE, || size() > before + 100));

    // Every line of the main log fails; the loss is said once (per 10 s),
    // on stderr, and costs next to no CPU.
    let ticks = cpu_ticks(daemon_pid);
    let grew = size();
    assert!(wait_until(DEADLINE, || size() > grew + 2000));
    let spent = cpu_ticks(daemon_pid) - ticks;
    let report = fs::read_to_string(dir.path().join("stderr")).unwrap();
    let reports = report
        .matches("ERRO could not write the main log to /dev/full: No space left on device")
        .count();
    assert!(reports >= 1, "stderr: {report}");
    assert!(reports <= 3, "not throttled: {report}");
    // 2000 bytes are 400 lines of output, each a debug line that fails.
    assert!(spent < 100, "{spent} ticks of CPU for 400 lines");

    // Stop and start still work.
    let stopped = call(&sock, "supervisor.stopProcess", &["chatty"]);
    assert!(stopped.contains("<boolean>1</boolean>"), "{stopped}");
    let started = call(&sock, "supervisor.startProcess", &["chatty"]);
    assert!(started.contains("<boolean>1</boolean>"), "{started}");
}

#[test]
fn child_logs_on_a_full_disk_are_reported_throttled_and_the_child_keeps_running() {
    let mut d = TestDaemon::start(&format!(
        "{RPC}{CHATTY}stdout_logfile=/dev/full\nstderr_logfile=/dev/full\n"
    ));
    let sock = d.path("s.sock");
    d.wait_log("could not write");
    let lost = "bytes of chatty stdout output to /dev/full: No space left on device";
    d.wait_log(lost);
    d.wait_log("bytes of chatty stderr output to /dev/full: No space left on device");
    assert!(running(&sock, "chatty"));
    // The log reads answer (nothing to read on a device), without a fault.
    let tail = support::rpc::post(
        &sock,
        "<?xml version='1.0'?><methodCall><methodName>supervisor.tailProcessStdoutLog</methodName><params><param><value><string>chatty</string></value></param><param><value><int>0</int></value></param><param><value><int>100</int></value></param></params></methodCall>",
    );
    assert!(
        tail.contains("200 OK") && !tail.contains("<fault>"),
        "{tail}"
    );
    // Throttled: one report per stream per 10 s, not one per write.
    assert!(d.count(lost) <= 3, "{}", d.log_text());
    let stopped = call(&sock, "supervisor.stopProcess", &["chatty"]);
    assert!(stopped.contains("<boolean>1</boolean>"), "{stopped}");
    d.shutdown();
}

// ---------------------------------------------------------------------------
// A deleted childlogdir
// ---------------------------------------------------------------------------

/// Start a daemon on a config whose `[supervisord]` section is written
/// here (`logfile` is the temp dir's `supervisord.log`).
fn start_with_childlogdir(sub: &str, body: &str) -> TestDaemon {
    let dir = support::bin::tempdir();
    let d = dir.path().display().to_string();
    fs::create_dir(dir.path().join(sub)).unwrap();
    let conf = dir.path().join("supervisord.conf");
    fs::write(
        &conf,
        format!(
            "[supervisord]\nlogfile={d}/supervisord.log\npidfile={d}/supervisord.pid\nchildlogdir={d}/{sub}\nloglevel=info\nnodaemon=true\nsilent=true\n{body}"
        ),
    )
    .unwrap();
    let child = supervisord_in(dir.path()).spawn().unwrap();
    TestDaemon::adopt(dir, child)
}

#[test]
fn a_deleted_childlogdir_loses_output_but_never_a_spawn() {
    let mut d = start_with_childlogdir("logs", &format!("{RPC}{CHATTY}"));
    let sock = d.path("s.sock");
    assert!(wait_until(DEADLINE, || running(&sock, "chatty")));
    let first = d.pid_of("chatty");
    fs::remove_dir_all(d.path("logs")).unwrap();

    // While running: the loss is reported, the child keeps running.
    d.wait_log("bytes of chatty stdout output to");
    assert!(d.lines("bytes of chatty stdout output to")[0].contains("No such file or directory"));
    assert!(running(&sock, "chatty"));

    // Before a spawn: the process still starts (Supervisor answers
    // SPAWN_ERROR, "unknown error making dispatchers for 'chatty': ENOENT").
    let restarted = call(&sock, "supervisor.stopProcess", &["chatty"]);
    assert!(restarted.contains("<boolean>1</boolean>"), "{restarted}");
    let started = call(&sock, "supervisor.startProcess", &["chatty"]);
    assert!(started.contains("<boolean>1</boolean>"), "{started}");
    assert_ne!(d.pid_of("chatty"), first);
    // Log calls answer (the file is gone), clearing it too.
    let tail = support::rpc::post(
        &sock,
        "<?xml version='1.0'?><methodCall><methodName>supervisor.tailProcessStdoutLog</methodName><params><param><value><string>chatty</string></value></param><param><value><int>0</int></value></param><param><value><int>100</int></value></param></params></methodCall>",
    );
    assert!(tail.contains("200 OK"), "{tail}");
    let cleared = call(&sock, "supervisor.clearProcessLogs", &["chatty"]);
    assert!(cleared.contains("200 OK"), "{cleared}");

    assert!(running(&sock, "chatty"));
    d.shutdown();
}

// ---------------------------------------------------------------------------
// A child that closes its output and keeps running
// ---------------------------------------------------------------------------

#[test]
fn a_child_that_closes_stdout_stays_running_without_a_busy_loop() {
    let mut d = TestDaemon::start(&format!(
        "{RPC}[program:mute]\ncommand=/bin/sh -c 'echo bye; exec >&- 2>&-; exec sleep 1000'\nstartsecs=0\nstdout_logfile=%(here)s/mute.out\n"
    ));
    let sock = d.path("s.sock");
    assert!(wait_until(DEADLINE, || running(&sock, "mute")));
    let out = d.path("mute.out");
    assert!(wait_until(DEADLINE, || fs::read_to_string(&out)
        .is_ok_and(|s| s.contains("bye"))));
    // A resource bound, not a duration: over a fixed window, a daemon whose
    // child's pipes are at end-of-file spends (next to) no CPU.
    let daemon = d.child.id();
    let before = cpu_ticks(daemon);
    std::thread::sleep(std::time::Duration::from_secs(1));
    let spent = cpu_ticks(daemon) - before;
    assert!(spent < 10, "{spent} ticks in one idle second");
    assert!(running(&sock, "mute"));
    let stopped = call(&sock, "supervisor.stopProcess", &["mute"]);
    assert!(stopped.contains("<boolean>1</boolean>"), "{stopped}");
    d.wait_log("stopped: mute (terminated by SIGTERM)");
    d.shutdown();
}

// ---------------------------------------------------------------------------
// A double-forking child
// ---------------------------------------------------------------------------

/// `(ppid, state)` of a process, from `/proc/<pid>/stat`.
fn parent_and_state(pid: u32) -> Option<(u32, String)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut rest = stat[stat.rfind(')')? + 1..].split_whitespace();
    let state = rest.next()?.to_string();
    Some((rest.next()?.parse().ok()?, state))
}

/// Zombies whose parent is `parent`.
fn zombies_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| parent_and_state(pid).is_some_and(|(pp, st)| pp == parent && st == "Z"))
        .collect()
}

/// Kills, when dropped, every grandchild `forked N` lines in a file name.
struct Grandchildren(std::path::PathBuf);

impl Drop for Grandchildren {
    fn drop(&mut self) {
        let text = fs::read_to_string(&self.0).unwrap_or_default();
        for pid in text
            .lines()
            .filter_map(|l| l.strip_prefix("forked ")?.parse::<u32>().ok())
        {
            let _ = kill(Pid::from_raw(pid as i32), Signal::SIGTERM);
        }
    }
}

#[test]
fn a_double_forking_child_counts_as_exited_and_leaves_no_zombie() {
    let mut d = TestDaemon::start(&format!(
        "{RPC}[program:forker]\ncommand=/bin/sh -c 'sleep 1000 & echo forked $!'\nstartsecs=0\nautorestart=false\nstdout_logfile=%(here)s/forker.out\n"
    ));
    let sock = d.path("s.sock");
    d.wait_log("exited: forker (exit status 0; expected)");
    let info = call(&sock, "supervisor.getProcessInfo", &["forker"]);
    assert_eq!(states(&info), ["EXITED"], "{info}");
    let out = d.path("forker.out");
    // The grandchildren are nobody's to stop but ours, pass or fail.
    let _grandchildren = Grandchildren(out.clone());
    let mut grandchild = 0;
    assert!(wait_until(DEADLINE, || {
        grandchild = fs::read_to_string(&out)
            .unwrap_or_default()
            .trim()
            .strip_prefix("forked ")
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        grandchild != 0
    }));
    // The grandchild lives on (holding the output pipe open), reparented
    // away from the daemon (which is not a subreaper), and the daemon holds
    // no zombie.
    let daemon = d.child.id();
    let (parent, _) = parent_and_state(grandchild).expect("the grandchild runs");
    assert_ne!(parent, daemon);
    assert!(zombies_of(daemon).is_empty(), "{:?}", zombies_of(daemon));
    // Started again, the same: one more grandchild, still no zombie. Not
    // waiting (wait=false): with startsecs=0 the program may exit before
    // it is seen RUNNING, and then a waiting start answers
    // ABNORMAL_TERMINATION, as in Supervisor.
    let started = support::rpc::post(
        &sock,
        "<?xml version='1.0'?><methodCall><methodName>supervisor.startProcess</methodName><params><param><value><string>forker</string></value></param><param><value><boolean>0</boolean></value></param></params></methodCall>",
    );
    assert!(started.contains("<boolean>1</boolean>"), "{started}");
    d.wait_count("exited: forker (exit status 0; expected)", 2);
    assert!(zombies_of(daemon).is_empty(), "{:?}", zombies_of(daemon));
    d.shutdown();
}

#[test]
fn with_every_descriptor_taken_by_log_files_the_daemon_still_answers() {
    // 40 programs with two AUTO log files each cannot fit in 64
    // descriptors: opening the logs as they start (as Supervisor does, at
    // spawn) takes every one the daemon has.
    let mut d = start_with_nofile(
        64,
        "minfds=32",
        &format!(
            "{RPC}[program:hog]\ncommand=/bin/sh %(here)s/child.sh\nnumprocs=40\nprocess_name=%(program_name)s_%(process_num)02d\nstartsecs=0\nstartretries=1\nstopasgroup=true\n"
        ),
    );
    d.wait_log("could not open log file");
    let sock = d.path("s.sock");
    // Several calls, each on its own connection: the reserve comes back
    // after each.
    for _ in 0..3 {
        let state = call(&sock, "supervisor.getState", &[]);
        assert!(state.contains("RUNNING"), "{state}");
    }
    let all = call(&sock, "supervisor.getAllProcessInfo", &[]);
    assert_eq!(states(&all).len(), 40, "{all}");
    d.shutdown();
}
