//! `[fcgi-program:x]`: supervisord owns the listening socket and every
//! process of the group gets it as stdin.

mod support;

use std::io::Read;
use std::os::unix::net::UnixStream;

use support::daemon::{DEADLINE, TestDaemon};

#[test]
fn processes_accept_on_the_socket_supervisord_created() {
    let mut d = TestDaemon::start(
        "[fcgi-program:echo]\n\
         command=python3 -c \"import os, socket; s = socket.socket(fileno=0); [(lambda c: (c.sendall(os.environ['SUPERVISOR_PROCESS_NAME'].encode()), c.close()))(s.accept()[0]) for _ in iter(int, 1)]\"\n\
         socket=unix://%(here)s/echo.sock\nsocket_mode=0660\nprocess_name=%(program_name)s_%(process_num)d\nnumprocs=2\nstartsecs=0\n",
    );
    d.wait_log("Creating socket unix://");
    d.wait_count("entered RUNNING state", 2);
    let path = d.path("echo.sock");
    let mut answers = Vec::new();
    assert!(support::bin::wait_until(DEADLINE, || {
        let Ok(mut stream) = UnixStream::connect(&path) else {
            return false;
        };
        // A worker that is not accepting must not hang the test.
        let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(2)));
        let mut text = String::new();
        if stream.read_to_string(&mut text).is_ok() && !text.is_empty() {
            answers.push(text);
        }
        !answers.is_empty()
    }));
    assert!(answers[0].starts_with("echo_"), "{answers:?}");
    d.shutdown();
    d.wait_log("Closing socket unix://");
    assert!(!path.exists(), "the socket file is removed at exit");
}

#[test]
fn a_bad_socket_is_a_start_up_error() {
    let dir = support::bin::tempdir();
    let conf = dir.path().join("f.conf");
    std::fs::write(
        &conf,
        support::daemon::config_text(
            dir.path(),
            "",
            "[fcgi-program:x]\ncommand=/bin/cat\nsocket=unix:///nonexistent-dir/x.sock\n",
        ),
    )
    .unwrap();
    let out = support::command::new(support::bin::SUPERVISORD)
        .arg("-c")
        .arg(&conf)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("Could not create FastCGI socket unix:///nonexistent-dir/x.sock"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
