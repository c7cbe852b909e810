//! Request decoding: round trips for every variant, arity agreeing with the
//! published table, and each fault as the daemon gave it before typed
//! requests existed.

use super::*;
use crate::methods::{ALIASES, METHODS};

fn s(text: &str) -> Value {
    Value::String(text.to_owned())
}

/// A fault as (code, detail).
type Fault = (i32, Option<String>);

fn fault(result: Result<Request, RpcError>) -> Fault {
    let err = result.expect_err("a fault");
    (err.code.code(), err.detail)
}

const INCORRECT: Fault = (2, None);

/// One request per variant (and per log stream); the exhaustive match
/// below fails to compile when a variant is added without a sample.
fn samples() -> Vec<Request> {
    use Request as R;
    let samples = vec![
        R::ListMethods,
        R::MethodHelp {
            name: "supervisor.getPID".into(),
        },
        R::MethodSignature { name: "x".into() },
        R::Multicall {
            calls: vec![
                MulticallEntry::Call(R::GetPid.to_call()),
                MulticallEntry::NoMethodName,
                MulticallEntry::Call(
                    R::StartProcess {
                        name: "a".into(),
                        wait: false,
                    }
                    .to_call(),
                ),
            ],
        },
        R::GetApiVersion,
        R::GetSupervisorVersion,
        R::GetIdentification,
        R::GetState,
        R::GetPid,
        R::Shutdown,
        R::Restart,
        R::ReloadConfig,
        R::AddProcessGroup { name: "g".into() },
        R::RemoveProcessGroup { name: "g".into() },
        R::GetAllConfigInfo,
        R::GetProcessInfo { name: "g:p".into() },
        R::GetAllProcessInfo,
        R::StartProcess {
            name: "g:*".into(),
            wait: true,
        },
        R::StartProcessGroup {
            name: "g".into(),
            wait: false,
        },
        R::StartAllProcesses { wait: false },
        R::StopProcess {
            name: "p".into(),
            wait: false,
        },
        R::StopProcessGroup {
            name: "g".into(),
            wait: true,
        },
        R::StopAllProcesses { wait: true },
        R::SignalProcess {
            name: "p".into(),
            signal: SignalArg::named("HUP"),
        },
        R::SignalProcessGroup {
            name: "g".into(),
            signal: SignalArg::WrongType("1.5".into()),
        },
        R::SignalAllProcesses {
            signal: SignalArg::named("9"),
        },
        R::ReadLog {
            offset: -100,
            length: 0,
        },
        R::ClearLog,
        R::ReadProcessLog {
            name: "p".into(),
            stream: LogStream::Stdout,
            offset: 1 << 40,
            length: 5,
        },
        R::ReadProcessLog {
            name: "p".into(),
            stream: LogStream::Stderr,
            offset: 0,
            length: 0,
        },
        R::TailProcessLog {
            name: "p".into(),
            stream: LogStream::Stdout,
            offset: 0,
            length: 1600,
        },
        R::TailProcessLog {
            name: "p".into(),
            stream: LogStream::Stderr,
            offset: 7,
            length: 1,
        },
        R::ClearProcessLogs { name: "p".into() },
        R::ClearAllProcessLogs,
        R::SendProcessStdin {
            name: "p".into(),
            chars: b"hi\n".to_vec(),
        },
        R::SendProcessStdin {
            name: "p".into(),
            chars: vec![0xff, 0x00],
        },
        R::SendRemoteCommEvent {
            kind: "t".into(),
            data: "d".into(),
        },
    ];
    for request in &samples {
        match request {
            R::ListMethods
            | R::MethodHelp { .. }
            | R::MethodSignature { .. }
            | R::Multicall { .. }
            | R::GetApiVersion
            | R::GetSupervisorVersion
            | R::GetIdentification
            | R::GetState
            | R::GetPid
            | R::Shutdown
            | R::Restart
            | R::ReloadConfig
            | R::AddProcessGroup { .. }
            | R::RemoveProcessGroup { .. }
            | R::GetAllConfigInfo
            | R::GetProcessInfo { .. }
            | R::GetAllProcessInfo
            | R::StartProcess { .. }
            | R::StartProcessGroup { .. }
            | R::StartAllProcesses { .. }
            | R::StopProcess { .. }
            | R::StopProcessGroup { .. }
            | R::StopAllProcesses { .. }
            | R::SignalProcess { .. }
            | R::SignalProcessGroup { .. }
            | R::SignalAllProcesses { .. }
            | R::ReadLog { .. }
            | R::ClearLog
            | R::ReadProcessLog { .. }
            | R::TailProcessLog { .. }
            | R::ClearProcessLogs { .. }
            | R::ClearAllProcessLogs
            | R::SendProcessStdin { .. }
            | R::SendRemoteCommEvent { .. } => {}
        }
    }
    samples
}

#[test]
fn every_variant_round_trips() {
    for request in samples() {
        let call = request.to_call();
        assert_eq!(Request::from_call(&call), Ok(request.clone()), "{call:?}");
    }
}

#[test]
fn samples_cover_every_canonical_method() {
    let mut covered: Vec<&str> = samples().iter().map(Request::method_name).collect();
    covered.sort_unstable();
    covered.dedup();
    let mut canonical: Vec<&str> = METHODS
        .iter()
        .map(|m| m.name)
        .filter(|name| !ALIASES.iter().any(|(alias, _)| alias == name))
        .collect();
    canonical.sort_unstable();
    assert_eq!(covered, canonical);
}

#[test]
fn aliases_decode_to_their_target() {
    for (alias, target) in ALIASES {
        let info = crate::lookup(target).expect("target");
        let params: Vec<Value> = info.param_types().iter().map(|t| sample_of(t)).collect();
        let via_alias = Request::decode(alias, &params).expect("alias decodes");
        assert_eq!(via_alias.method_name(), *target);
        assert_eq!(Request::decode(target, &params), Ok(via_alias));
    }
}

/// A well-typed argument for a signature type name.
fn sample_of(type_name: &str) -> Value {
    match type_name {
        "string" => s("x"),
        "int" => Value::Int(1),
        "boolean" => Value::Bool(true),
        "array" => Value::Array(Vec::new()),
        other => panic!("no sample for {other}"),
    }
}

/// The arity each decoder declares agrees with the published signature:
/// all parameters are required, except a trailing `wait`.
#[test]
fn declared_arity_matches_the_published_table() {
    for method in METHODS {
        let mut params: Vec<Value> = method.param_types().iter().map(|t| sample_of(t)).collect();
        let full = Request::decode(method.name, &params);
        assert!(full.is_ok(), "{}: {full:?}", method.name);
        let has_wait = method.help.contains("@param boolean wait");
        if let Some(last) = params.pop() {
            let short = Request::decode(method.name, &params);
            assert_eq!(short.is_ok(), has_wait, "{} short: {short:?}", method.name);
            params.push(last);
        }
        params.push(Value::Int(0));
        assert_eq!(
            fault(Request::decode(method.name, &params)),
            INCORRECT,
            "{} long",
            method.name
        );
    }
}

#[test]
fn names_outside_the_table_are_unknown() {
    for name in [
        "",
        "supervisor",
        "supervisor.",
        "supervisor.nosuch",
        "supervisor._dispatch",
        "supervisor.getPID.x",
        "system.multiCall",
        "system._listMethods",
        "zzz.getPID",
        ".getPID",
        "getPID",
    ] {
        assert_eq!(fault(Request::decode(name, &[])), (1, None), "{name:?}");
    }
}

#[test]
fn arity_is_checked_before_types() {
    // A bad int with a missing argument: the count fails first, so no detail.
    assert_eq!(
        fault(Request::decode("supervisor.readLog", &[s("abc")])),
        INCORRECT
    );
    assert_eq!(
        fault(Request::decode(
            "supervisor.startProcess",
            &[Value::Int(1), Value::Bool(true), Value::Nil]
        )),
        INCORRECT
    );
}

#[test]
fn argument_types_fault_as_before() {
    let cases: Vec<(&str, Vec<Value>, Fault)> = vec![
        ("supervisor.getProcessInfo", vec![Value::Int(5)], INCORRECT),
        ("supervisor.startProcess", vec![Value::Nil], INCORRECT),
        (
            "supervisor.startProcess",
            vec![Value::Base64(vec![0xff])],
            INCORRECT,
        ),
        (
            "supervisor.readLog",
            vec![s("abc"), Value::Int(0)],
            (2, Some("abc".into())),
        ),
        (
            "supervisor.readLog",
            vec![Value::Int(0), Value::Double(f64::NAN)],
            (2, Some("nan".into())),
        ),
        ("supervisor.readLog", vec![Value::Nil, s("abc")], INCORRECT),
        (
            "supervisor.readProcessStdoutLog",
            vec![Value::Int(1), s("x"), s("y")],
            INCORRECT,
        ),
        (
            "supervisor.tailProcessStderrLog",
            vec![s("p"), s("x"), Value::Int(0)],
            (2, Some("x".into())),
        ),
        ("system.methodHelp", vec![Value::Int(1)], INCORRECT),
        ("system.methodSignature", vec![Value::Nil], INCORRECT),
        ("system.multicall", vec![s("not an array")], INCORRECT),
        // `chars` is read before the name, and echoes its value.
        (
            "supervisor.sendProcessStdin",
            vec![Value::Int(1), Value::Int(7)],
            (2, Some("7".into())),
        ),
        (
            "supervisor.sendProcessStdin",
            vec![Value::Int(1), s("text")],
            INCORRECT,
        ),
    ];
    for (name, params, want) in cases {
        assert_eq!(
            fault(Request::decode(name, &params)),
            want,
            "{name} {params:?}"
        );
    }
}

#[test]
fn lenient_arguments_decode_as_python_reads_them() {
    assert_eq!(
        Request::decode(
            "supervisor.readProcessLog",
            &[Value::Base64(b"web".to_vec()), s(" 5 "), Value::Bool(true)]
        ),
        Ok(Request::ReadProcessLog {
            name: "web".into(),
            stream: LogStream::Stdout,
            offset: 5,
            length: 1,
        })
    );
    assert_eq!(
        Request::decode("supervisor.stopAllProcesses", &[s("")]),
        Ok(Request::StopAllProcesses { wait: false })
    );
    assert_eq!(
        Request::decode("supervisor.startProcess", &[s("p"), Value::I8(0)]),
        Ok(Request::StartProcess {
            name: "p".into(),
            wait: true,
        })
    );
    assert_eq!(
        Request::decode(
            "supervisor.sendRemoteCommEvent",
            &[Value::Int(3), Value::Array(vec![Value::Nil])]
        ),
        Ok(Request::SendRemoteCommEvent {
            kind: "3".into(),
            data: "[None]".into(),
        })
    );
    assert_eq!(
        Request::decode(
            "supervisor.sendProcessStdin",
            &[s("p"), Value::Base64(vec![0xff])]
        ),
        Ok(Request::SendProcessStdin {
            name: "p".into(),
            chars: vec![0xff],
        })
    );
}

#[test]
fn signals_stay_as_given() {
    let signal = |value: Value| match Request::decode("supervisor.signalAllProcesses", &[value]) {
        Ok(Request::SignalAllProcesses { signal }) => signal,
        other => panic!("{other:?}"),
    };
    assert_eq!(signal(s("HUP")), SignalArg::Given("HUP".into()));
    assert_eq!(signal(s("nosuch")), SignalArg::Given("nosuch".into()));
    assert_eq!(signal(Value::Int(15)), SignalArg::Given("15".into()));
    assert_eq!(signal(Value::I8(15)), SignalArg::Given("15".into()));
    // Only ints and strings name signals upstream, whatever their text.
    assert_eq!(
        signal(Value::Base64(b"HUP".to_vec())),
        SignalArg::WrongType("HUP".into())
    );
    assert_eq!(
        signal(Value::Bool(true)),
        SignalArg::WrongType("True".into())
    );
    assert_eq!(signal(Value::Nil).given(), "None");
}

#[test]
fn multicall_entries_fault_in_place() {
    let calls = Value::Array(vec![
        Value::Struct(vec![("methodName".into(), s("supervisor.getPID"))]),
        Value::Struct(vec![("params".into(), Value::Array(vec![]))]),
        Value::Struct(vec![("methodName".into(), Value::Int(3))]),
        Value::Int(3),
        Value::Struct(vec![
            ("methodName".into(), s("system.multicall")),
            ("params".into(), s("junk")),
        ]),
        Value::Struct(vec![
            ("methodName".into(), s("supervisor.getProcessInfo")),
            ("params".into(), s("not an array")),
        ]),
    ]);
    let Ok(Request::Multicall { calls }) = Request::decode("system.multicall", &[calls]) else {
        panic!("multicall decodes");
    };
    let outcomes: Vec<Result<&MethodCall, Fault>> = calls
        .iter()
        .map(|entry| entry.call().map_err(|e| (e.code.code(), e.detail)))
        .collect();
    let no_name = Err((2, Some("No methodName".to_owned())));
    assert_eq!(
        outcomes,
        [
            Ok(&MethodCall {
                name: "supervisor.getPID".into(),
                params: vec![],
            }),
            no_name.clone(),
            no_name.clone(),
            no_name,
            Err((2, Some("Recursive system.multicall forbidden".to_owned()))),
            Ok(&MethodCall {
                name: "supervisor.getProcessInfo".into(),
                params: vec![],
            }),
        ]
    );
}

#[test]
fn clients_keep_their_bytes() {
    // supervisorctl sends start/stop with the name only.
    let start = Request::StartProcess {
        name: "web".into(),
        wait: true,
    };
    assert_eq!(start.to_call().params, vec![s("web")]);
    assert_eq!(
        Request::StopAllProcesses { wait: true }.to_call().params,
        Vec::<Value>::new()
    );
    assert_eq!(
        Request::ReadLog {
            offset: -1600,
            length: 0
        }
        .to_call()
        .params,
        vec![Value::Int(-1600), Value::Int(0)]
    );
}

#[test]
fn only_a_trailing_wait_may_be_left_out() {
    let defaulted: Vec<&str> = METHODS
        .iter()
        .filter(|m| {
            let mut params: Vec<Value> = m.param_types().iter().map(|t| sample_of(t)).collect();
            params.pop().is_some() && Request::decode(m.name, &params).is_ok()
        })
        .map(|m| m.name)
        .collect();
    assert_eq!(
        defaulted,
        [
            "supervisor.startAllProcesses",
            "supervisor.startProcess",
            "supervisor.startProcessGroup",
            "supervisor.stopAllProcesses",
            "supervisor.stopProcess",
            "supervisor.stopProcessGroup",
        ]
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Any XML-RPC value, nested a little. Doubles are finite so that
    /// decoded requests compare equal to themselves.
    fn any_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            any::<i32>().prop_map(Value::Int),
            any::<i64>().prop_map(Value::I8),
            any::<bool>().prop_map(Value::Bool),
            ".{0,8}".prop_map(Value::String),
            "-?[0-9_ ]{1,6}".prop_map(Value::String),
            prop::sample::select(vec!["HUP", "SIGTERM", "9", "web", "g:*"])
                .prop_map(|s| Value::String(s.to_owned())),
            (-1e6f64..1e6).prop_map(Value::Double),
            prop::collection::vec(any::<u8>(), 0..6).prop_map(Value::Base64),
            Just(Value::Nil),
            Just(Value::DateTime("20240102T03:04:05".into())),
        ];
        leaf.prop_recursive(2, 12, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec(
                    (
                        prop::sample::select(vec!["methodName", "params", "x"]),
                        inner
                    ),
                    0..3
                )
                .prop_map(|members| Value::Struct(
                    members
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect()
                )),
            ]
        })
    }

    fn any_method() -> impl Strategy<Value = &'static str> {
        prop::sample::select(METHODS.iter().map(|m| m.name).collect::<Vec<_>>())
    }

    proptest! {
        /// Whatever a client sends, decoding answers (a request or a
        /// fault) without panicking, and what it decodes re-encodes to a
        /// call that decodes to the same request.
        #[test]
        fn whatever_decodes_round_trips(
            name in any_method(),
            params in prop::collection::vec(any_value(), 0..4),
        ) {
            if let Ok(request) = Request::decode(name, &params) {
                prop_assert_eq!(Request::from_call(&request.to_call()), Ok(request));
            }
        }
    }
}
