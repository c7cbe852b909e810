//! Records: wire shapes against Python's, round trips, and errors naming the field.

use super::*;
use crate::faults::{FaultCode, RpcError};
use crate::states::{ProcessState, SupervisorState};
use crate::test_support::run_python;

fn keys(value: &Value) -> Vec<&str> {
    match value {
        Value::Struct(members) => members.iter().map(|(k, _)| k.as_str()).collect(),
        other => panic!("not a struct: {other:?}"),
    }
}

fn field<'a>(value: &'a Value, key: &str) -> &'a Value {
    match value {
        Value::Struct(members) => members
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
            .unwrap_or_else(|| panic!("no key {key}")),
        other => panic!("not a struct: {other:?}"),
    }
}

fn s(text: &str) -> Value {
    Value::String(text.to_owned())
}

fn no_clock(_: i64) -> String {
    panic!("local time must not be consulted")
}

#[test]
fn capped_int_clamps() {
    assert_eq!(capped_int(0), 0);
    assert_eq!(capped_int(-5), -5);
    assert_eq!(capped_int(i64::from(i32::MAX)), i32::MAX);
    assert_eq!(capped_int(i64::from(i32::MAX) + 1), i32::MAX);
    assert_eq!(capped_int(4_102_444_800), i32::MAX); // year 2100
    assert_eq!(capped_int(i64::from(i32::MIN) - 1), i32::MIN);
    assert_eq!(capped_int(i64::MIN), i32::MIN);
    assert_eq!(capped_int(i64::MAX), i32::MAX);
}

#[test]
fn timedelta_examples() {
    for (n, text) in [
        (0, "0:00:00"),
        (6, "0:00:06"),
        (59, "0:00:59"),
        (60, "0:01:00"),
        (3599, "0:59:59"),
        (3600, "1:00:00"),
        (43_384, "12:03:04"),
        (86_399, "23:59:59"),
        (86_400, "1 day, 0:00:00"),
        (93_784, "1 day, 2:03:04"),
        (172_800, "2 days, 0:00:00"),
        (259_201, "3 days, 0:00:01"),
        (-1, "-1 day, 23:59:59"),
        (-86_400, "-1 day, 0:00:00"),
        (-86_401, "-2 days, 23:59:59"),
    ] {
        assert_eq!(format_timedelta(n), text, "{n}");
    }
}

/// Compare against Python itself; the formatting rules (plural, floor
/// division for negatives, unpadded hours) are easy to get subtly wrong.
#[test]
fn timedelta_matches_python() {
    let mut samples: Vec<i64> = vec![0, 1, 9, 10, 59, 60, 61, 599, 600, 3599, 3600, 3601];
    samples.extend([35_999, 36_000, 86_399, 86_400, 86_401, 172_799, 172_800]);
    samples.extend([i64::from(i32::MAX), i64::from(i32::MAX) * 2 + 1]);
    samples.extend([-1, -59, -3600, -86_399, -86_400, -86_401, -172_801]);
    samples.extend([-i64::from(i32::MAX), i64::from(i32::MIN)]);
    // A deterministic spread over several magnitudes.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..300 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let magnitude = [100u64, 10_000, 1_000_000, 100_000_000, 10_000_000_000][(x % 5) as usize];
        let n = (x >> 8) % magnitude;
        let n = i64::try_from(n).expect("below 1e10");
        samples.push(if x & 1 == 0 { n } else { -n });
    }

    let script = "import sys, datetime\n\
                  for line in sys.stdin:\n    \
                  print(str(datetime.timedelta(seconds=int(line))))\n";
    let input: String = samples.iter().map(|n| format!("{n}\n")).collect();
    let output = run_python(script, &input);
    let expected: Vec<&str> = output.lines().collect();
    assert_eq!(expected.len(), samples.len());
    for (n, want) in samples.iter().zip(expected) {
        assert_eq!(format_timedelta(*n), want, "seconds={n}");
    }
}

#[test]
fn describe_running() {
    let d = |now, start| describe(20, 4242, now, start, 0, "", "x", &no_clock);
    assert_eq!(d(1006, 1000), "pid 4242, uptime 0:00:06");
    assert_eq!(d(1000 + 93_784, 1000), "pid 4242, uptime 1 day, 2:03:04");
    assert_eq!(d(1000 + 259_201, 1000), "pid 4242, uptime 3 days, 0:00:01");
    // Never started (start 0): uptime counts from the epoch.
    assert_eq!(
        d(i64::from(i32::MAX), 0),
        "pid 4242, uptime 24855 days, 3:14:07"
    );
    // Clock set back: never negative.
    assert_eq!(d(900, 1000), "pid 4242, uptime 0:00:00");
    // Both ends are clamped before subtracting, like upstream.
    assert_eq!(
        d(i64::from(i32::MAX) + 500, i64::from(i32::MAX) - 6),
        "pid 4242, uptime 0:00:06"
    );
}

#[test]
fn describe_backoff_and_fatal() {
    for state in [30, 200] {
        assert_eq!(
            describe(
                state,
                0,
                5,
                1,
                2,
                "Exited too quickly (process log may have details)",
                "web",
                &no_clock
            ),
            "Exited too quickly (process log may have details)"
        );
        assert_eq!(
            describe(state, 0, 5, 1, 2, "", "grp:web", &no_clock),
            "unknown error (try \"tail grp:web\")"
        );
    }
}

#[test]
fn describe_stopped_and_exited() {
    let clock = |t: i64| format!("local({t})");
    for state in [0, 100] {
        assert_eq!(describe(state, 0, 50, 10, 20, "", "x", &clock), "local(20)");
        assert_eq!(
            describe(state, 0, 50, 0, 20, "", "x", &clock),
            "Not started"
        );
        // Started but stopped out of BACKOFF before any exit: epoch.
        assert_eq!(describe(state, 0, 50, 10, 0, "", "x", &clock), "local(0)");
        // The stop time handed to the formatter is clamped too.
        assert_eq!(
            describe(state, 0, 50, 10, i64::MAX, "", "x", &clock),
            format!("local({})", i32::MAX)
        );
    }
}

#[test]
fn describe_other_states() {
    for state in [10, 40, 1000, 7, -3] {
        assert_eq!(describe(state, 1, 50, 10, 20, "err", "x", &no_clock), "");
    }
}

#[test]
fn process_info_struct() {
    let info = ProcessInfo {
        name: "web".into(),
        group: "site".into(),
        start: 1_700_000_000,
        stop: 0,
        now: 1_700_000_006,
        state: ProcessState::Running.code(),
        statename: "RUNNING".into(),
        spawnerr: String::new(),
        exitstatus: 0,
        stdout_logfile: "/tmp/web.out".into(),
        stderr_logfile: String::new(),
        pid: 4242,
        description: String::new(),
    }
    .with_description(&no_clock);
    assert_eq!(info.description, "pid 4242, uptime 0:00:06");
    let value = info.to_value();
    assert_eq!(
        keys(&value),
        [
            "name",
            "group",
            "start",
            "stop",
            "now",
            "state",
            "statename",
            "spawnerr",
            "exitstatus",
            "logfile",
            "stdout_logfile",
            "stderr_logfile",
            "pid",
            "description"
        ]
    );
    assert_eq!(field(&value, "name"), &s("web"));
    assert_eq!(field(&value, "group"), &s("site"));
    assert_eq!(field(&value, "start"), &Value::Int(1_700_000_000));
    assert_eq!(field(&value, "stop"), &Value::Int(0));
    assert_eq!(field(&value, "now"), &Value::Int(1_700_000_006));
    assert_eq!(field(&value, "state"), &Value::Int(20));
    assert_eq!(field(&value, "statename"), &s("RUNNING"));
    assert_eq!(field(&value, "spawnerr"), &s(""));
    assert_eq!(field(&value, "exitstatus"), &Value::Int(0));
    assert_eq!(field(&value, "logfile"), &s("/tmp/web.out"));
    assert_eq!(field(&value, "stdout_logfile"), &s("/tmp/web.out"));
    assert_eq!(field(&value, "stderr_logfile"), &s(""));
    assert_eq!(field(&value, "pid"), &Value::Int(4242));
    assert_eq!(field(&value, "description"), &s("pid 4242, uptime 0:00:06"));
}

#[test]
fn process_info_clamps() {
    let info = ProcessInfo {
        start: i64::from(i32::MAX) + 10,
        stop: i64::MIN,
        now: i64::MAX,
        pid: u32::MAX,
        ..ProcessInfo::default()
    };
    let value = info.to_value();
    assert_eq!(field(&value, "start"), &Value::Int(i32::MAX));
    assert_eq!(field(&value, "stop"), &Value::Int(i32::MIN));
    assert_eq!(field(&value, "now"), &Value::Int(i32::MAX));
    assert_eq!(field(&value, "pid"), &Value::Int(i32::MAX));
}

#[test]
fn state_info_struct() {
    let value = StateInfo::from(SupervisorState::Running).to_value();
    assert_eq!(
        value,
        Value::Struct(vec![
            ("statecode".into(), Value::Int(1)),
            ("statename".into(), s("RUNNING")),
        ])
    );
}

#[test]
fn process_result_structs() {
    let ok = ProcessResult::ok("web", "site").to_value();
    assert_eq!(
        ok,
        Value::Struct(vec![
            ("name".into(), s("web")),
            ("group".into(), s("site")),
            ("status".into(), Value::Int(80)),
            ("description".into(), s("OK")),
        ])
    );
    let err = RpcError::with_detail(FaultCode::NotRunning, "site:web");
    let failed = ProcessResult::from_error("web", "site", &err);
    assert_eq!(failed.status, 70);
    assert_eq!(failed.description, "NOT_RUNNING: site:web");
    let bare = ProcessResult::from_outcome("a", "b", &Err(RpcError::new(FaultCode::BadSignal)));
    assert_eq!((bare.status, bare.description.as_str()), (11, "BAD_SIGNAL"));
    assert_eq!(
        ProcessResult::from_outcome("a", "b", &Ok(())),
        ProcessResult::ok("a", "b")
    );
}

fn sample_config() -> ConfigInfo {
    ConfigInfo {
        name: "slow".into(),
        group: "slow".into(),
        inuse: true,
        autostart: false,
        directory: None,
        uid: None,
        serverurl: None,
        command: "/bin/sleep 1000".into(),
        exitcodes: vec![0],
        group_prio: 999,
        process_prio: 999,
        killasgroup: false,
        redirect_stderr: false,
        startretries: 3,
        startsecs: 3,
        stopwaitsecs: 10,
        stopsignal: 15,
        stdout_logfile: LogFile::Path("/tmp/slow-stdout.log".into()),
        stdout_logfile_backups: 10,
        stdout_logfile_maxbytes: 52_428_800,
        stdout_capture_maxbytes: 0,
        stdout_events_enabled: false,
        stdout_syslog: false,
        stderr_logfile: LogFile::Auto,
        stderr_logfile_backups: 10,
        stderr_logfile_maxbytes: 52_428_800,
        stderr_capture_maxbytes: 0,
        stderr_events_enabled: false,
        stderr_syslog: false,
    }
}

#[test]
fn config_info_struct() {
    let value = sample_config().to_value();
    // Observed from the 4.3.0 reference.
    assert_eq!(
        keys(&value),
        [
            "autostart",
            "directory",
            "uid",
            "command",
            "exitcodes",
            "group",
            "group_prio",
            "inuse",
            "killasgroup",
            "name",
            "process_prio",
            "redirect_stderr",
            "startretries",
            "startsecs",
            "stdout_capture_maxbytes",
            "stdout_events_enabled",
            "stdout_logfile",
            "stdout_logfile_backups",
            "stdout_logfile_maxbytes",
            "stdout_syslog",
            "stopsignal",
            "stopwaitsecs",
            "stderr_capture_maxbytes",
            "stderr_events_enabled",
            "stderr_logfile",
            "stderr_logfile_backups",
            "stderr_logfile_maxbytes",
            "stderr_syslog",
            "serverurl",
        ]
    );
    assert_eq!(field(&value, "autostart"), &Value::Bool(false));
    assert_eq!(field(&value, "directory"), &s("none"));
    assert_eq!(field(&value, "uid"), &s("none"));
    assert_eq!(field(&value, "serverurl"), &s("none"));
    assert_eq!(field(&value, "command"), &s("/bin/sleep 1000"));
    assert_eq!(
        field(&value, "exitcodes"),
        &Value::Array(vec![Value::Int(0)])
    );
    assert_eq!(field(&value, "group_prio"), &Value::Int(999));
    assert_eq!(field(&value, "inuse"), &Value::Bool(true));
    assert_eq!(field(&value, "stopsignal"), &Value::Int(15));
    assert_eq!(field(&value, "stdout_logfile"), &s("/tmp/slow-stdout.log"));
    assert_eq!(field(&value, "stderr_logfile"), &s("auto"));
    assert_eq!(
        field(&value, "stdout_logfile_maxbytes"),
        &Value::Int(52_428_800)
    );
}

#[test]
fn config_info_optional_values() {
    let mut config = sample_config();
    config.directory = Some("/srv".into());
    config.uid = Some(1000);
    config.serverurl = Some("unix:///tmp/s.sock".into());
    config.stdout_logfile = LogFile::None;
    config.stdout_logfile_maxbytes = 5 * 1024 * 1024 * 1024;
    let value = config.to_value();
    assert_eq!(field(&value, "directory"), &s("/srv"));
    assert_eq!(field(&value, "uid"), &Value::Int(1000));
    assert_eq!(field(&value, "serverurl"), &s("unix:///tmp/s.sock"));
    assert_eq!(field(&value, "stdout_logfile"), &s("none"));
    assert_eq!(
        field(&value, "stdout_logfile_maxbytes"),
        &Value::Int(i32::MAX)
    );
}

#[test]
fn config_info_array_sorts_stably_by_name() {
    let mk = |name: &str, group: &str| ConfigInfo {
        name: name.into(),
        group: group.into(),
        ..sample_config()
    };
    let value = config_info_array(vec![
        mk("b", "g1"),
        mk("a", "g2"),
        mk("b", "g0"),
        mk("B", "g3"),
    ]);
    let Value::Array(items) = value else {
        panic!("not an array")
    };
    let got: Vec<(&Value, &Value)> = items
        .iter()
        .map(|v| (field(v, "name"), field(v, "group")))
        .collect();
    let want = [("B", "g3"), ("a", "g2"), ("b", "g1"), ("b", "g0")];
    assert_eq!(got.len(), want.len());
    for ((name, group), (wn, wg)) in got.into_iter().zip(want) {
        assert_eq!((name, group), (&s(wn), &s(wg)));
    }
}

fn sample_info() -> ProcessInfo {
    ProcessInfo {
        name: "web".into(),
        group: "site".into(),
        start: 1_700_000_000,
        stop: 1_699_000_000,
        now: 1_700_000_006,
        state: ProcessState::Running.code(),
        statename: "RUNNING".into(),
        spawnerr: "".into(),
        exitstatus: -1,
        stdout_logfile: "/tmp/web.out".into(),
        stderr_logfile: "/tmp/web.err".into(),
        pid: 4242,
        description: "pid 4242, uptime 0:00:06".into(),
    }
}

#[test]
fn process_info_round_trip() {
    let info = sample_info();
    let back = ProcessInfo::from_value(&info.to_value()).unwrap();
    assert_eq!(back, info);
    assert_eq!(back.process_state(), Some(ProcessState::Running));
    // A foreign state code survives as a number.
    let odd = ProcessInfo {
        state: 7,
        ..sample_info()
    };
    let back = ProcessInfo::from_value(&odd.to_value()).unwrap();
    assert_eq!((back.state, back.process_state()), (7, None));
}

#[test]
fn process_info_errors_name_the_field() {
    let Value::Struct(mut members) = sample_info().to_value() else {
        panic!("not a struct")
    };
    members.retain(|(k, _)| k != "statename");
    assert_eq!(
        ProcessInfo::from_value(&Value::Struct(members.clone())),
        Err(RecordError::Missing {
            record: "ProcessInfo",
            field: "statename"
        })
    );
    members.retain(|(k, _)| k != "pid");
    members.insert(0, ("pid".into(), s("12")));
    members.push(("statename".into(), s("RUNNING")));
    let err = ProcessInfo::from_value(&Value::Struct(members)).unwrap_err();
    assert_eq!(
        err,
        RecordError::Mistyped {
            record: "ProcessInfo",
            field: "pid",
            expected: "int",
            got: "string"
        }
    );
    assert_eq!(
        err.to_string(),
        "ProcessInfo: field \"pid\" should be int, got string"
    );
    assert_eq!(
        ProcessInfo::from_value(&Value::Int(1)),
        Err(RecordError::WrongShape {
            record: "ProcessInfo",
            expected: "struct",
            got: "int"
        })
    );
}

#[test]
fn process_info_accepts_i8_integers() {
    let Value::Struct(mut members) = sample_info().to_value() else {
        panic!("not a struct")
    };
    for (key, value) in &mut members {
        if key == "start" {
            *value = Value::I8(1_700_000_000);
        }
    }
    let back = ProcessInfo::from_value(&Value::Struct(members)).unwrap();
    assert_eq!(back.start, 1_700_000_000);
}

#[test]
fn state_info_round_trip() {
    for state in SupervisorState::ALL {
        let info = StateInfo::from(state);
        let back = StateInfo::from_value(&info.to_value()).unwrap();
        assert_eq!(back, info);
        assert_eq!(back.supervisor_state(), Some(state));
    }
}

#[test]
fn process_result_round_trip() {
    let err = RpcError::with_detail(FaultCode::NotRunning, "site:web");
    for result in [
        ProcessResult::ok("web", "site"),
        ProcessResult::from_error("web", "site", &err),
    ] {
        assert_eq!(ProcessResult::from_value(&result.to_value()), Ok(result));
    }
    let failed = ProcessResult::from_error("web", "site", &err);
    assert_eq!(failed.status_code(), FaultCode::NotRunning);
    let list = Value::Array(vec![ProcessResult::ok("a", "b").to_value()]);
    assert_eq!(
        array_from_value("results", &list, ProcessResult::from_value),
        Ok(vec![ProcessResult::ok("a", "b")])
    );
    assert!(array_from_value("results", &s("x"), ProcessResult::from_value).is_err());
}

#[test]
fn config_info_round_trip() {
    let plain = sample_config();
    assert_eq!(ConfigInfo::from_value(&plain.to_value()), Ok(plain));
    let mut full = sample_config();
    full.directory = Some("/srv".into());
    full.uid = Some(1000);
    full.serverurl = Some("unix:///tmp/s.sock".into());
    full.stdout_logfile = LogFile::None;
    full.exitcodes = vec![0, 2];
    full.killasgroup = true;
    assert_eq!(ConfigInfo::from_value(&full.to_value()), Ok(full));
    for logfile in [
        LogFile::Auto,
        LogFile::None,
        LogFile::Path("/var/log/x".into()),
    ] {
        assert_eq!(LogFile::from_value(&logfile.to_value()), Ok(logfile));
    }
}

#[test]
fn config_changes_round_trip() {
    let changes = ConfigChanges {
        added: vec!["new".into()],
        changed: vec!["a".into(), "b".into()],
        removed: vec![],
    };
    let value = changes.to_value();
    assert_eq!(
        value,
        Value::Array(vec![Value::Array(vec![
            Value::Array(vec![s("new")]),
            Value::Array(vec![s("a"), s("b")]),
            Value::Array(vec![]),
        ])])
    );
    assert_eq!(ConfigChanges::from_value(&value), Ok(changes));
    assert!(ConfigChanges::from_value(&Value::Array(vec![])).is_err());
    let bad = Value::Array(vec![Value::Array(vec![
        Value::Array(vec![Value::Int(1)]),
        Value::Array(vec![]),
        Value::Array(vec![]),
    ])]);
    assert_eq!(
        ConfigChanges::from_value(&bad),
        Err(RecordError::Mistyped {
            record: "ConfigChanges",
            field: "added",
            expected: "array of string",
            got: "int"
        })
    );
}

#[test]
fn tail_chunk_round_trip() {
    let chunk = TailChunk {
        bytes: "tick\n".into(),
        offset: 1234,
        overflow: true,
    };
    let value = chunk.to_value();
    assert_eq!(
        value,
        Value::Array(vec![s("tick\n"), Value::Int(1234), Value::Bool(true)])
    );
    assert_eq!(TailChunk::from_value(&value), Ok(chunk));
    assert!(TailChunk::from_value(&Value::Array(vec![s("x")])).is_err());
}

/// `getAllProcessInfo` is written straight into the answer; its bytes must
/// be the tree path's, for every kind of field: escaping, non-ASCII,
/// characters XML forbids, values past 32 bits, empty strings.
#[test]
fn direct_encoding_is_byte_identical_to_the_value_path() {
    let texts = [
        "",
        "plain",
        "a&b<c>d\"e'f",
        "ünïcødé — 日本語 🦀",
        "ctrl\u{1b}[31mred\u{7}\r\n\ttab",
        "\u{fffe}\u{ffff}\u{10ffff}",
        "]]>&amp;",
    ];
    let mut infos = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        for state in [0, 10, 20, 30, 40, 100, 200, 1000] {
            infos.push(ProcessInfo {
                name: format!("{text}{i}"),
                group: text.to_string(),
                start: [0, 1_764_000_000, i64::MAX, i64::MIN][i % 4],
                stop: 1_764_000_100 + i as i64,
                now: [1_764_003_723, 5_000_000_000][i % 2],
                state,
                statename: text.to_string(),
                spawnerr: format!("can't find command {text:?}"),
                exitstatus: [-1, 0, 255][i % 3],
                stdout_logfile: format!("/var/log/{text}.log"),
                stderr_logfile: String::new(),
                pid: [0, 4242, u32::MAX][i % 3],
                description: text.to_string(),
            });
        }
    }
    // Each record alone (getProcessInfo) and all together.
    for info in &infos {
        let direct = sv_xmlrpc::encode_response_with(0, |w| info.write_value(w));
        assert_eq!(
            String::from_utf8(direct).unwrap(),
            String::from_utf8(sv_xmlrpc::encode_response(&Ok(info.to_value()))).unwrap()
        );
    }
    let tree = Value::Array(infos.iter().map(ProcessInfo::to_value).collect());
    assert_eq!(
        ProcessInfo::encode_all(&infos),
        sv_xmlrpc::encode_response(&Ok(tree))
    );
    assert_eq!(
        ProcessInfo::encode_all(&[]),
        sv_xmlrpc::encode_response(&Ok(Value::Array(Vec::new())))
    );
}

/// `getAllConfigInfo` written directly: the tree path's bytes and order.
#[test]
fn direct_config_info_is_byte_identical_to_the_value_path() {
    let mut infos = Vec::new();
    for (i, text) in ["zeta", "a&b<c>", "ünï 日本", "", "ctrl\u{1b}x", "zeta"]
        .iter()
        .enumerate()
    {
        let mut info = sample_config();
        info.name = text.to_string();
        info.command = format!("/bin/{text} --flag=\"{i}\"");
        info.directory = [None, Some(text.to_string())][i % 2].clone();
        info.uid = [None, Some(1000), Some(u32::MAX)][i % 3];
        info.serverurl = [None, Some(format!("unix:///{text}"))][i % 2].clone();
        info.exitcodes = vec![0, 2, i64::MAX][..i % 4].to_vec();
        info.group_prio = [999, i64::MIN][i % 2];
        info.stdout_logfile = [
            LogFile::Auto,
            LogFile::None,
            LogFile::Path(format!("/l/{text}")),
        ][i % 3]
            .clone();
        info.stderr_logfile = [LogFile::None, LogFile::Auto][i % 2].clone();
        info.stdout_logfile_maxbytes = [0, 1 << 40][i % 2];
        info.inuse = i % 2 == 0;
        info.stdout_syslog = i % 3 == 0;
        infos.push(info);
    }
    assert_eq!(
        String::from_utf8(crate::encode_config_info_array(infos.clone())).unwrap(),
        String::from_utf8(sv_xmlrpc::encode_response(&Ok(config_info_array(infos)))).unwrap()
    );
}
