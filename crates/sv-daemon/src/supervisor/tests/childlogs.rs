//! When child log files come into being (`supervisor/childlogs.rs`): as in
//! Supervisor, an explicit log at the process's first spawn, an AUTO log
//! soon after its group is added — and never on the actor's first turn.

use tokio::sync::{mpsc, oneshot};

use super::{Harness, Op, Outcome, SIGTERM};

const N: usize = 3000;

/// `n` programs, not autostarted, each with its own stdout log in `logs/`
/// and an AUTO stderr log.
fn programs(dir: &std::path::Path, n: usize) -> String {
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).expect("logs dir");
    (0..n)
        .map(|i| {
            format!(
                "[program:p{i:04}]\ncommand=fake-p{i:04}\nautostart=false\n\
                 stdout_logfile={}/p{i:04}.log\n\n",
                logs.display()
            )
        })
        .collect()
}

fn count_files(dir: &std::path::Path, suffix: &str) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().ends_with(suffix))
                .count()
        })
        .unwrap_or(0)
}

fn auto_logs(dir: &std::path::Path) -> usize {
    count_files(dir, ".log") // the childlogdir holds only AUTO logs and the main log
        - usize::from(dir.join("supervisord.log").exists())
}

/// Issue 19: the daemon opened every program's log file before its first
/// turn — 84 % of launch → first answer at 6000 programs was `open(2)`.
/// Now the first request is answered before any child log file exists;
/// explicit logs come at the first spawn (as Supervisor's dispatchers do)
/// and AUTO logs on the following idle turns.
#[tokio::test(start_paused = true)]
async fn regression_log_files_opened_before_first_turn() {
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            let scratch = tempfile::tempdir().expect("tempdir");
            let h = Harness::unbooted(&programs(scratch.path(), N));
            h.kids.die_on(SIGTERM);
            let Harness {
                mut sup,
                kids: _kids,
                output,
                dir,
            } = h;
            let logs = scratch.path().join("logs");
            sup.output_rx = Some(output);
            let (tx, mut rx) = mpsc::channel(8);
            // Sent before the actor's first turn: answered on it.
            let (reply, answered) = oneshot::channel();
            tx.send(Op::AllProcessInfo(reply)).await.expect("channel");
            let actor = tokio::task::spawn_local(async move { sup.run(&mut rx).await });
            let infos = answered.await.expect("answer").expect("records");
            assert_eq!(infos.len(), N);
            assert_eq!(count_files(&logs, ".log"), 0, "no explicit log opened");
            assert_eq!(auto_logs(dir.path()), 0, "no AUTO log created yet");
            let p7 = infos.iter().find(|i| i.name == "p0007").expect("p0007");
            assert_eq!(p7.stdout_logfile, format!("{}/p0007.log", logs.display()));
            assert!(p7.stderr_logfile.contains("p0007-stderr---supervisor-"));

            // The AUTO logs follow on the idle turns (bounded: a batch per turn).
            for _ in 0..N {
                if auto_logs(dir.path()) == N {
                    break;
                }
                tokio::task::yield_now().await;
            }
            assert_eq!(auto_logs(dir.path()), N, "every AUTO log created");
            assert_eq!(count_files(&logs, ".log"), 0, "still no explicit log");

            // A never-started program's log is where it will be, not a file.
            let ask_path = |name: &str| {
                let (reply, rx) = oneshot::channel();
                let op = Op::LogPath {
                    spec: name.to_string(),
                    stderr: false,
                    reply,
                };
                (op, rx)
            };
            let (op, rx) = ask_path("p0002");
            tx.send(op).await.expect("actor alive");
            let path = rx
                .await
                .expect("answer")
                .expect("a process")
                .expect("a log");
            assert!(!path.exists(), "not created by asking for it");

            // Starting one opens its log, and only its log.
            let (reply, started) = oneshot::channel();
            let spec = "p0001".to_string();
            tx.send(Op::Start {
                spec,
                wait: false,
                reply,
            })
            .await
            .expect("actor alive");
            assert_eq!(started.await.expect("answer"), Ok(()));
            assert!(logs.join("p0001.log").exists());
            assert_eq!(count_files(&logs, ".log"), 1);

            let (reply, answered) = oneshot::channel();
            tx.send(Op::Shutdown(reply)).await.expect("actor alive");
            assert_eq!(answered.await.expect("answer"), Ok(()));
            let ended = tokio::time::timeout(std::time::Duration::from_secs(3600), actor).await;
            let (outcome, _kept) = ended.expect("actor ends").expect("actor task");
            assert!(matches!(outcome, Outcome::Shutdown));
        })
        .await;
}

/// An AUTO log asked for before its turn came is created first: it reads
/// as the empty file Supervisor creates when the group is added.
#[test]
fn an_auto_log_asked_for_early_is_created_first() {
    let mut h = Harness::unbooted("[program:a]\ncommand=fake-a\nautostart=false\n\n");
    h.sup.boot();
    assert_eq!(auto_logs(h.dir.path()), 0);
    let mut rx = h.ask(|reply| Op::LogPath {
        spec: "a".to_string(),
        stderr: true,
        reply,
    });
    let path = rx.try_recv().expect("answered").expect("a process");
    let path = path.expect("an AUTO log");
    assert_eq!(std::fs::read(&path).expect("exists"), b"");
    // Both of its streams, in one go; nothing left for the idle turns.
    assert_eq!(auto_logs(h.dir.path()), 2);
    assert!(!h.sup.auto_logs_step());
    assert_eq!(auto_logs(h.dir.path()), 2);
}

/// A named log that cannot be opened at a spawn (its directory is gone)
/// is tried again at the next one, as Supervisor opens its files anew at
/// every spawn; meanwhile the child runs without it, as before.
#[test]
fn a_log_that_could_not_be_opened_is_tried_again_at_the_next_spawn() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let logs = scratch.path().join("logs");
    std::fs::create_dir(&logs).expect("logs dir");
    let mut h = Harness::new(&format!(
        "[program:a]\ncommand=fake-a\nautostart=false\nstartsecs=0\nautorestart=false\n\
         stdout_logfile={}/a.log\nstderr_logfile=NONE\n\n",
        logs.display()
    ));
    std::fs::remove_dir(&logs).expect("remove logs dir");
    let mut started = h.start("a", false);
    assert_eq!(super::answer(&mut started), Some(Ok(())));
    assert!(h.log().contains("could not open log file"), "{}", h.log());
    h.exit("a", 0);
    std::fs::create_dir(&logs).expect("logs dir again");
    let mut started = h.start("a", false);
    assert_eq!(super::answer(&mut started), Some(Ok(())));
    assert!(logs.join("a.log").exists(), "opened at the second spawn");
}

/// The boot wave opens its processes' logs a batch ahead of their spawns
/// (so they sit together at the lowest descriptors), but not for a
/// command that cannot be found: Supervisor creates no log for it.
#[test]
fn the_boot_wave_opens_logs_ahead_but_not_for_a_missing_command() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let logs = scratch.path().join("logs");
    std::fs::create_dir(&logs).expect("logs dir");
    let section = |name: &str| {
        format!(
            "[program:{name}]\ncommand=fake-{name}\nstartsecs=0\n\
             stdout_logfile={}/{name}.log\nstderr_logfile=NONE\n\n",
            logs.display()
        )
    };
    let h = Harness::unbooted(&format!("{}{}", section("good"), section("missing")));
    // As the real spawner: the check fails, and so does the spawn.
    let not_found = crate::spawn::SpawnError::NotFound("fake-missing".into());
    h.kids.fail_check("missing", not_found.clone());
    h.kids.fail_next_spawn("missing", not_found);
    let mut h = h;
    h.sup.boot();
    while h.sup.boot_step() {}
    assert!(logs.join("good.log").exists());
    assert!(!logs.join("missing.log").exists(), "never spawned, no log");
}

/// Supervisor opens a process's logs once its command is resolved and its
/// pipes are made, so a start that fails later (a `directory=` it cannot
/// chdir to, a failed fork) leaves them in place; one whose command cannot
/// be found leaves none.
#[test]
fn a_spawn_that_fails_after_the_command_was_found_still_opens_its_logs() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let logs = scratch.path().join("logs");
    std::fs::create_dir(&logs).expect("logs dir");
    let section = |name: &str| {
        format!(
            "[program:{name}]\ncommand=fake-{name}\nautostart=false\nstartsecs=0\n\
             startretries=0\nstdout_logfile={}/{name}.log\nstderr_logfile=NONE\n\n",
            logs.display()
        )
    };
    let mut h = Harness::new(&format!("{}{}", section("nodir"), section("missing")));
    h.kids.fail_next_spawn(
        "nodir",
        crate::spawn::SpawnError::Chdir {
            dir: "/nonexistent".into(),
            errno: "ENOENT".into(),
        },
    );
    h.kids.fail_next_spawn(
        "missing",
        crate::spawn::SpawnError::NotFound("fake-missing".into()),
    );
    for name in ["nodir", "missing"] {
        let mut started = h.start(name, false);
        let _ = super::answer(&mut started);
    }
    assert!(
        logs.join("nodir.log").exists(),
        "chdir failed after the logs were opened"
    );
    assert!(!logs.join("missing.log").exists(), "never resolved, no log");
}
