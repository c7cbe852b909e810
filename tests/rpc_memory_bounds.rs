//! Issue 15, hole 6: what a client can make the daemon hold is bounded.
//! `sendProcessStdin` to a child that never reads queues at most 4 MiB
//! (then NO_FILE, Supervisor's fault for a write that cannot be done), and
//! the log reads of one `system.multicall` build at most 16 MiB of log text
//! (then FAILED for each further log read). Single calls are not limited.

mod support;

use std::path::Path;

use support::bin::wait_until;
use support::daemon::{DEADLINE, TestDaemon};
use support::rpc::post;

const RPC: &str = "[unix_http_server]\nfile=%(here)s/s.sock\n[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n";
const MIB: usize = 1 << 20;

fn send_stdin(sock: &Path, name: &str, chars: &str) -> String {
    post(
        sock,
        &format!(
            "<?xml version='1.0'?><methodCall><methodName>supervisor.sendProcessStdin</methodName><params><param><value><string>{name}</string></value></param><param><value><string>{chars}</string></value></param></params></methodCall>"
        ),
    )
}

fn accepted(answer: &str) -> bool {
    answer.contains("<boolean>1</boolean>") && !answer.contains("<fault>")
}

fn file_len(path: &Path) -> usize {
    std::fs::metadata(path).map_or(0, |m| m.len() as usize)
}

#[test]
fn send_process_stdin_to_a_child_that_never_reads_is_bounded() {
    let mut d = TestDaemon::start(&format!(
        "{RPC}[program:idle]\ncommand=/bin/sh -c 'exec sleep 1000'\nstartsecs=0\n\
         [program:idle2]\ncommand=/bin/sh -c 'exec sleep 1000'\nstartsecs=0\n\
         [program:reader]\ncommand=/bin/cat\nstartsecs=0\nstdout_logfile=%(here)s/reader.out\n"
    ));
    let sock = d.path("s.sock");
    d.wait_log("success: idle entered RUNNING state");
    d.wait_log("success: idle2 entered RUNNING state");
    d.wait_log("success: reader entered RUNNING state");
    let one_mib = "x".repeat(MIB);

    // A child that never reads: 1 MiB calls are taken until 4 MiB wait
    // (the pipe's own 64 KiB on top), then refused.
    let mut taken = 0;
    let mut refusal = String::new();
    for _ in 0..8 {
        let answer = send_stdin(&sock, "idle2", &one_mib);
        if accepted(&answer) {
            taken += 1;
        } else {
            refusal = answer;
            break;
        }
    }
    assert!(
        (4..=5).contains(&taken),
        "{taken} MiB queued for a child that never reads"
    );
    assert!(refusal.contains("<int>20</int>"), "NO_FILE: {refusal}");
    assert!(
        refusal.contains("NO_FILE: idle2: stdin queue full"),
        "{refusal}"
    );

    // One call into an empty queue is taken whatever its size, as in
    // Supervisor; the next one waits its turn.
    let big = "y".repeat(6 * MIB);
    assert!(accepted(&send_stdin(&sock, "idle", &big)));
    assert!(!accepted(&send_stdin(&sock, "idle", "z")));

    // A child that reads gets everything, however much in total.
    let out = d.path("reader.out");
    for i in 1..=6 {
        assert!(accepted(&send_stdin(&sock, "reader", &one_mib)));
        assert!(
            wait_until(DEADLINE, || file_len(&out) == i * MIB),
            "reader echoed {} bytes of {i} MiB",
            file_len(&out)
        );
    }
    d.shutdown();
}

#[test]
fn multicall_of_log_reads_is_bounded() {
    let mut d = TestDaemon::start(&format!(
        "{RPC}[program:big]\ncommand=/bin/sh -c 'yes | head -c 3145728; exec sleep 1000'\nstartsecs=0\nstdout_logfile=%(here)s/big.out\n"
    ));
    let sock = d.path("s.sock");
    let out = d.path("big.out");
    assert!(wait_until(DEADLINE, || file_len(&out) == 3 * MIB));

    let read = "<value><struct><member><name>methodName</name><value><string>supervisor.readProcessStdoutLog</string></value></member><member><name>params</name><value><array><data><value><string>big</string></value><value><int>0</int></value><value><int>0</int></value></data></array></value></member></struct></value>";
    let tail = "<value><struct><member><name>methodName</name><value><string>supervisor.tailProcessStdoutLog</string></value></member><member><name>params</name><value><array><data><value><string>big</string></value><value><int>0</int></value><value><int>1000</int></value></data></array></value></member></struct></value>";
    let state = "<value><struct><member><name>methodName</name><value><string>supervisor.getState</string></value></member><member><name>params</name><value><array><data></data></array></value></member></struct></value>";
    let calls = format!("{}{tail}{state}", read.repeat(10));
    let body = format!(
        "<?xml version='1.0'?><methodCall><methodName>system.multicall</methodName><params><param><value><array><data>{calls}</data></array></value></param></params></methodCall>"
    );
    let answer = post(&sock, &body);
    assert!(answer.starts_with("HTTP/1.1 200"), "{}", &answer[..200]);
    // 3 MiB per read: five reads hold 15 MiB, the sixth still runs (18 MiB),
    // the last four reads and the tail are refused; getState still answers.
    let refused = answer
        .matches("multicall reply already holds 16777216 bytes of log text")
        .count();
    assert_eq!(refused, 5, "refused log reads");
    assert_eq!(answer.matches("<int>30</int>").count(), 5, "FAILED codes");
    assert!(answer.contains("<string>RUNNING</string>"), "getState ran");
    assert!(
        answer.len() < 16 * MIB + 3 * MIB + 64 * 1024,
        "reply of {} bytes",
        answer.len()
    );

    // A single call is not limited: the whole 3 MiB log, and more calls
    // than the budget would allow, one at a time.
    for _ in 0..7 {
        let single = post(
            &sock,
            "<?xml version='1.0'?><methodCall><methodName>supervisor.readProcessStdoutLog</methodName><params><param><value><string>big</string></value></param><param><value><int>0</int></value></param><param><value><int>0</int></value></param></params></methodCall>",
        );
        assert!(!single.contains("<fault>"));
        assert!(single.len() > 3 * MIB);
    }
    d.shutdown();
}
