//! Child output (`stdout_logfile*`, `stderr_logfile*`, `redirect_stderr`,
//! `[supervisord] strip_ansi`): capture into rotating files with no byte lost
//! or duplicated, non-seekable targets, reopen and deletion, a full disk —
//! and in every case the child keeps running, never blocked by us.

mod support;

use std::fs;
use std::io::Read;
use std::path::Path;

use support::bin::wait_until;
use support::daemon::{DEADLINE, TestDaemon, alive};

fn read(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_default()
}

/// The expected output of `seq 1 n`.
fn seq(n: u32) -> Vec<u8> {
    (1..=n)
        .map(|i| format!("{i}\n"))
        .collect::<String>()
        .into_bytes()
}

#[test]
fn rotation_loses_and_duplicates_nothing() {
    // ~690 KB through 64 KB files: many rotations, all backups kept.
    let mut d = TestDaemon::start(
        "[program:counter]\ncommand=/bin/sh -c 'seq 1 100000; exec sleep 1000'\nstartsecs=0\n\
         stdout_logfile=%(here)s/c.log\nstdout_logfile_maxbytes=64KB\nstdout_logfile_backups=50\n",
    );
    let expected = seq(100_000);
    let gather = |d: &TestDaemon| {
        let mut all = Vec::new();
        for i in (1..=50).rev() {
            all.extend(read(&d.path(&format!("c.log.{i}"))));
        }
        all.extend(read(&d.path("c.log")));
        all
    };
    assert!(wait_until(DEADLINE, || gather(&d).len() >= expected.len()));
    assert!(
        gather(&d) == expected,
        "rotated logs differ from the child's output"
    );
    for i in 1..=5 {
        let size = fs::metadata(d.path(&format!("c.log.{i}"))).unwrap().len();
        assert!(size >= 64 * 1024, "backup {i} rotated early: {size} bytes");
    }
    d.shutdown();
}

#[test]
fn backups_zero_truncates_and_maxbytes_zero_never_rotates() {
    let mut d = TestDaemon::start(
        "[program:trunc]\ncommand=/bin/sh -c 'seq 1 20000; exec sleep 1000'\nstartsecs=0\n\
         stdout_logfile=%(here)s/t.log\nstdout_logfile_maxbytes=10KB\nstdout_logfile_backups=0\n\
         [program:grow]\ncommand=/bin/sh -c 'seq 1 20000; exec sleep 1000'\nstartsecs=0\n\
         stdout_logfile=%(here)s/g.log\nstdout_logfile_maxbytes=0\n",
    );
    let full = seq(20_000);
    assert!(wait_until(DEADLINE, || read(&d.path("g.log")) == full));
    // Both got the same output; the truncated one holds at most its tail
    // (empty if the last write crossed maxbytes).
    assert!(
        wait_until(DEADLINE, || full.ends_with(&read(&d.path("t.log")))),
        "t.log is not a tail of the output"
    );
    assert!(!d.path("t.log.1").exists());
    assert!(!d.path("g.log.1").exists());
    d.shutdown();
}

#[test]
fn strip_ansi_and_the_debug_echo() {
    let mut d = TestDaemon::start_with(
        "strip_ansi=true",
        "[program:colour]\ncommand=/bin/sh -c 'printf \"\\033[31mred\\033[0m plain\\n\"; exec sleep 1000'\nstartsecs=0\nstdout_logfile=%(here)s/colour.log\n",
    );
    let path = d.path("colour.log");
    assert!(wait_until(DEADLINE, || read(&path) == b"red plain\n"));
    d.wait_log("'colour' stdout output:");
    assert!(
        d.log_text()
            .contains("'colour' stdout output:\nred plain\n")
    );
    d.shutdown();
}

#[test]
fn invalid_utf8_is_echoed_like_supervisor() {
    let mut d = TestDaemon::start(
        "[program:bin]\ncommand=/bin/sh -c 'printf \"\\210\\n\"; exec sleep 1000'\nstartsecs=0\nstdout_logfile=%(here)s/bin.log\n",
    );
    d.wait_log("'bin' stdout output:");
    assert!(
        d.log_text()
            .contains("'bin' stdout output:\nUndecodable: b'\\x88\\n'"),
        "{}",
        d.log_text()
    );
    assert!(wait_until(DEADLINE, || read(&d.path("bin.log")) == b"\x88\n"));
    d.shutdown();
}

#[test]
fn reopen_after_a_logrotate_rename_and_recreate_after_deletion() {
    let script = "i=0; while :; do i=$((i+1)); echo line $i; if [ -e %(here)s/go ]; then rm %(here)s/go; fi; sleep 0.05; done";
    let mut d = TestDaemon::start(&format!(
        "[program:talk]\ncommand=/bin/sh -c '{script}'\nstartsecs=0\nstdout_logfile=%(here)s/talk.log\n"
    ));
    let live = d.path("talk.log");
    assert!(wait_until(DEADLINE, || !read(&live).is_empty()));
    // logrotate without copytruncate: rename, then SIGUSR2.
    fs::rename(&live, d.path("talk.log.rotated")).unwrap();
    d.signal("USR2");
    d.wait_log("supervisord logreopen");
    assert!(wait_until(DEADLINE, || !read(&live).is_empty()));
    let rotated_len = read(&d.path("talk.log.rotated")).len();
    assert!(wait_until(DEADLINE, || read(&live).len() > 20));
    assert_eq!(
        read(&d.path("talk.log.rotated")).len(),
        rotated_len,
        "nothing more goes to the moved file"
    );
    // Deleted underneath us: recreated on the next write.
    fs::remove_file(&live).unwrap();
    assert!(wait_until(DEADLINE, || live.exists() && !read(&live).is_empty()));
    d.shutdown();
}

#[test]
fn a_full_disk_never_blocks_the_child() {
    let mnt = support::bin::tempdir();
    let status = support::command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(mnt.path())
        .status()
        .expect("cannot run mount");
    assert!(
        status.success(),
        "this test mounts a 64 KiB tmpfs to fill a disk for real; it needs root and mount permission"
    );
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = support::command::new("umount").arg(self.0).status();
        }
    }
    let _unmount = Unmount(mnt.path());
    let log = mnt.path().join("full.log");
    let mut d = TestDaemon::start(&format!(
        "[program:writer]\ncommand=/bin/sh -c 'i=0; while [ $i -lt 400 ]; do i=$((i+1)); head -c 4096 /dev/zero | tr \"\\\\000\" x; echo $i > %(here)s/progress; done; exec sleep 1000'\nstartsecs=0\nstdout_logfile={}\nstdout_logfile_maxbytes=0\n\
         [program:nospace]\ncommand=/bin/sh -c 'for i in $(seq 1 500); do echo lost; sleep 0.01; done; exec sleep 1000'\nstartsecs=0\nstdout_logfile=/dev/full\n",
        log.display()
    ));
    let progress = d.path("progress");
    let count = || -> u64 {
        fs::read_to_string(&progress)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0)
    };
    // 400 × 4 KiB = 1.6 MB through a 64 KiB disk: the pipe is drained anyway.
    assert!(
        wait_until(DEADLINE, || count() == 400),
        "the writer is stuck at {}",
        count()
    );
    let pid = d.pid_of("writer");
    assert!(alive(pid));
    d.wait_log("could not write");
    d.wait_log("No space left on device");
    assert!(fs::metadata(&log).unwrap().len() <= 64 * 1024);
    d.shutdown();
}

#[test]
fn a_stalled_fifo_reader_never_blocks_the_daemon() {
    let dir = support::bin::tempdir();
    let fifo = dir.path().join("fifo");
    assert!(
        support::command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    // Open the reading end, then never read: the FIFO fills after 64 KiB.
    let fifo_path = fifo.clone();
    let reader = std::thread::spawn(move || fs::File::open(fifo_path).unwrap());
    let mut d = TestDaemon::start(&format!(
        "[program:loud]\ncommand=/bin/sh -c 'yes loud | head -c 2000000; exec sleep 1000'\nstartsecs=0\nstdout_logfile={}\nstdout_logfile_maxbytes=1KB\n\
         [program:quiet]\ncommand=/bin/cat\nstartsecs=1\n",
        fifo.display()
    ));
    let mut held = reader.join().unwrap();
    // The daemon still runs its state machine on time while the FIFO is full.
    d.wait_log("success: quiet entered RUNNING state");
    d.wait_log("could not write");
    assert!(
        !dir.path().join("fifo.1").exists(),
        "a FIFO is never rotated"
    );
    let mut some = [0u8; 16];
    assert_eq!(held.read(&mut some).unwrap(), 16);
    d.shutdown();
}

#[test]
fn stdin_is_kept_open() {
    // `cat` exits at end of input; it keeps running because its stdin stays open.
    let mut d = TestDaemon::start("[program:cat]\ncommand=/bin/cat\nstartsecs=1\n");
    d.wait_log("success: cat entered RUNNING state");
    assert_eq!(d.count("exited: cat"), 0);
    d.shutdown();
}
