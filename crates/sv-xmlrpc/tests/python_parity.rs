//! Byte-for-byte parity with Python 3's `xmlrpc.client`, which is what
//! Supervisor's server and every Python client use.
//!
//! One long-lived `python3` runs `tests/python_xmlrpc_oracle.py`; each
//! proptest case is one JSON request to it. For every generated value we
//! check that
//!   (a) `encode_response` equals `dumps((v,), methodresponse=True,
//!       allow_none=True)`,
//!   (b) `encode_call` equals `dumps(tuple(params), name, allow_none=True)`,
//!   (c) a fault equals `dumps(Fault(code, string))`,
//!   (d) Python's `loads` reads our output back as the same value,
//!   (e) our decoder reads Python's output back as the same value.
//! Python's side gets the value after the encoder's one deliberate change
//! (characters XML 1.0 forbids become U+FFFD); "the same value" allows for
//! the `\r` → `\n` normalisation every XML parser performs.
//!
//! Without `python3` these tests fail: they are the proof of compatibility.

mod common;

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};

use common::{read_back, same, sanitise_text, sanitised};
use proptest::prelude::*;
use serde_json::{Value as Json, json};
use sv_xmlrpc::{
    Fault, Limits, MethodCall, Value, decode_call, decode_response, encode_call, encode_response,
};

struct Oracle {
    _child: Child,
    input: BufWriter<ChildStdin>,
    output: BufReader<ChildStdout>,
}

impl Oracle {
    fn start() -> Oracle {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python_xmlrpc_oracle.py");
        let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
        let mut child = Command::new(&python)
            .arg("-u")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run `{python}` ({e}); the Python parity tests need python3 on PATH (or PYTHON=...)")
            });
        let input = BufWriter::new(child.stdin.take().expect("piped stdin"));
        let output = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut oracle = Oracle {
            _child: child,
            input,
            output,
        };
        let version = oracle.ask(vec![json!({"op": "version"})]);
        eprintln!("python oracle: Python {}", version[0]["version"]);
        oracle
    }

    /// Runs a batch of ops and returns their results.
    fn ask(&mut self, ops: Vec<Json>) -> Vec<Json> {
        let request = json!({ "ops": ops });
        writeln!(self.input, "{request}").expect("write to python oracle");
        self.input.flush().expect("flush python oracle");
        let mut line = String::new();
        let n = self
            .output
            .read_line(&mut line)
            .expect("read python oracle");
        assert!(n > 0, "python oracle exited");
        let mut answer: Json = serde_json::from_str(&line).expect("oracle answers JSON");
        if let Some(error) = answer.get("error") {
            panic!("python oracle failed: {error}");
        }
        match answer["results"].take() {
            Json::Array(results) => results,
            other => panic!("oracle answered {other}"),
        }
    }
}

/// The shared oracle; a panic in one case must not wedge the others.
fn oracle() -> MutexGuard<'static, Oracle> {
    static ORACLE: OnceLock<Mutex<Oracle>> = OnceLock::new();
    ORACLE
        .get_or_init(|| Mutex::new(Oracle::start()))
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

fn to_json(v: &Value) -> Json {
    match v {
        Value::Int(n) => json!({"t": "int", "v": n}),
        Value::I8(n) => json!({"t": "i8", "v": n}),
        Value::Bool(b) => json!({"t": "bool", "v": b}),
        Value::String(s) => json!({"t": "str", "v": s}),
        Value::Double(d) => json!({"t": "double", "v": format!("{:016x}", d.to_bits())}),
        Value::DateTime(s) => json!({"t": "dt", "v": s}),
        Value::Base64(bytes) => json!({"t": "b64", "v": hex(bytes)}),
        Value::Struct(members) => json!({
            "t": "struct",
            "v": members.iter().map(|(k, v)| json!([k, to_json(v)])).collect::<Vec<_>>(),
        }),
        Value::Array(items) => {
            json!({"t": "array", "v": items.iter().map(to_json).collect::<Vec<_>>()})
        }
        Value::Nil => json!({"t": "nil"}),
    }
}

fn from_json(j: &Json) -> Value {
    let v = &j["v"];
    match j["t"].as_str().expect("tag") {
        "int" => Value::Int(v.as_i64().and_then(|n| i32::try_from(n).ok()).expect("int")),
        "i8" => Value::I8(v.as_i64().expect("i8 fits i64")),
        "bool" => Value::Bool(v.as_bool().expect("bool")),
        "str" => Value::String(v.as_str().expect("str").to_owned()),
        "double" => Value::Double(f64::from_bits(
            u64::from_str_radix(v.as_str().expect("bits"), 16).expect("hex bits"),
        )),
        "dt" => Value::DateTime(v.as_str().expect("dt").to_owned()),
        "b64" => Value::Base64(unhex(v.as_str().expect("hex"))),
        "struct" => Value::Struct(
            v.as_array()
                .expect("members")
                .iter()
                .map(|m| (m[0].as_str().expect("name").to_owned(), from_json(&m[1])))
                .collect(),
        ),
        "array" => Value::Array(v.as_array().expect("items").iter().map(from_json).collect()),
        "nil" => Value::Nil,
        other => panic!("unknown tag {other}"),
    }
}

fn text(result: &Json) -> &str {
    result["xml"]
        .as_str()
        .unwrap_or_else(|| panic!("no xml in {result}"))
}

fn utf8(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).expect("encoder writes UTF-8")
}

/// (a), (d), (e) for one response value.
fn check_response(v: &Value) -> Result<(), TestCaseError> {
    let ours = encode_response(&Ok(v.clone()));
    let ours = utf8(&ours);
    let results = oracle().ask(vec![
        json!({"op": "dumps_response", "value": to_json(&sanitised(v))}),
        json!({"op": "loads", "xml": ours}),
    ]);
    let python = text(&results[0]);
    prop_assert_eq!(ours, python, "(a) encode_response differs from dumps");

    let expected = read_back(v);
    let params = results[1]["params"]
        .as_array()
        .unwrap_or_else(|| panic!("(d) Python cannot load our output: {}", results[1]));
    prop_assert_eq!(params.len(), 1);
    let loaded = from_json(&params[0]);
    prop_assert!(
        same(&loaded, &expected, true),
        "(d) Python loads {:?}, expected {:?}",
        loaded,
        expected
    );

    let decoded = decode_response(python.as_bytes(), &Limits::default());
    match decoded {
        Ok(Ok(decoded)) => prop_assert!(
            same(&decoded, &expected, false),
            "(e) we decode Python's output as {:?}, expected {:?}",
            decoded,
            expected
        ),
        other => prop_assert!(false, "(e) cannot decode Python's output: {:?}", other),
    }
    Ok(())
}

/// (b), (d), (e) for one call.
fn check_call(call: &MethodCall) -> Result<(), TestCaseError> {
    let ours = encode_call(call);
    let ours = utf8(&ours);
    let params: Vec<Json> = call.params.iter().map(|p| to_json(&sanitised(p))).collect();
    let results = oracle().ask(vec![
        json!({"op": "dumps_call", "name": sanitise_text(&call.name), "params": params}),
        json!({"op": "loads", "xml": ours}),
    ]);
    let python = text(&results[0]);
    prop_assert_eq!(ours, python, "(b) encode_call differs from dumps");

    let expected_name = common::normalise_text(&sanitise_text(&call.name));
    let expected: Vec<Value> = call.params.iter().map(read_back).collect();
    prop_assert_eq!(results[1]["method"].as_str(), Some(expected_name.as_str()));
    let loaded: Vec<Value> = results[1]["params"]
        .as_array()
        .unwrap_or_else(|| panic!("(d) Python cannot load our call: {}", results[1]))
        .iter()
        .map(from_json)
        .collect();
    prop_assert!(
        same(
            &Value::Array(loaded.clone()),
            &Value::Array(expected.clone()),
            true
        ),
        "(d) Python loads {:?}, expected {:?}",
        loaded,
        expected
    );

    match decode_call(python.as_bytes(), &Limits::default()) {
        Ok(decoded) => {
            prop_assert_eq!(&decoded.name, &expected_name);
            prop_assert!(
                same(
                    &Value::Array(decoded.params.clone()),
                    &Value::Array(expected.clone()),
                    false
                ),
                "(e) we decode {:?}, expected {:?}",
                decoded.params,
                expected
            );
        }
        Err(e) => prop_assert!(false, "(e) cannot decode Python's call: {}", e),
    }
    Ok(())
}

/// (c), (d), (e) for one fault.
fn check_fault(fault: &Fault) -> Result<(), TestCaseError> {
    let ours = encode_response(&Err(fault.clone()));
    let ours = utf8(&ours);
    let results = oracle().ask(vec![
        json!({"op": "dumps_fault", "code": fault.code, "string": sanitise_text(&fault.string)}),
        json!({"op": "loads", "xml": ours}),
    ]);
    let python = text(&results[0]);
    prop_assert_eq!(ours, python, "(c) fault differs from dumps(Fault(...))");

    let expected = Fault {
        code: fault.code,
        string: common::normalise_text(&sanitise_text(&fault.string)),
    };
    let loaded = &results[1]["fault"];
    prop_assert_eq!(
        loaded["code"].as_i64(),
        Some(i64::from(expected.code)),
        "(d)"
    );
    prop_assert_eq!(
        loaded["string"].as_str(),
        Some(expected.string.as_str()),
        "(d)"
    );

    match decode_response(python.as_bytes(), &Limits::default()) {
        Ok(Err(decoded)) => prop_assert_eq!(decoded, expected, "(e)"),
        other => prop_assert!(false, "(e) expected a fault, got {:?}", other),
    }
    Ok(())
}

fn method_name() -> impl Strategy<Value = String> {
    // Python writes the method name unescaped, so markup characters would
    // make its own output malformed; and an empty name makes dumps drop
    // the <methodCall> wrapper. Neither is compared here.
    prop_oneof![
        "[a-zA-Z_][a-zA-Z0-9_]{0,12}\\.[a-zA-Z_][a-zA-Z0-9_]{0,16}",
        common::tricky_string().prop_filter("markup or empty", |s| {
            !s.is_empty() && !s.contains(['&', '<', '>'])
        }),
    ]
}

proptest! {
    #![proptest_config(common::config())]

    #[test]
    fn responses_match_python(v in common::value()) {
        check_response(&v)?;
    }

    #[test]
    fn calls_match_python(
        name in method_name(),
        params in proptest::collection::vec(common::value(), 0..4),
    ) {
        check_call(&MethodCall { name, params })?;
    }

    #[test]
    fn faults_match_python(code in common::int(), string in common::tricky_string()) {
        check_fault(&Fault { code, string })?;
    }
}

/// Fixed cases worth seeing by name when they break.
#[test]
fn known_cases_match_python() {
    let process_info = Value::Struct(vec![
        ("name".into(), "cat".into()),
        ("group".into(), "cat".into()),
        ("start".into(), Value::Int(1_700_000_000)),
        ("stop".into(), Value::Int(0)),
        ("now".into(), Value::Int(1_700_000_100)),
        ("state".into(), Value::Int(20)),
        ("statename".into(), "RUNNING".into()),
        ("spawnerr".into(), "".into()),
        ("exitstatus".into(), Value::Int(0)),
        ("logfile".into(), "/tmp/cat.log".into()),
        ("stdout_logfile".into(), "/tmp/cat.log".into()),
        ("stderr_logfile".into(), "".into()),
        ("pid".into(), Value::Int(4242)),
        ("description".into(), "pid 4242, uptime 0:01:40".into()),
    ]);
    let cases = [
        process_info.clone(),
        Value::Array(vec![
            process_info,
            Value::Array(Vec::new()),
            Value::Struct(Vec::new()),
        ]),
        Value::from("\u{1b}[31mred\u{1b}[0m\u{0}\r\n<&>"),
        Value::Array(vec![Value::Nil, Value::Nil, Value::Int(1), Value::Nil]),
        Value::Double(-0.0),
        Value::Double(1e16),
        Value::Double(1e-5),
        Value::Double(f64::NAN),
        // Exactly ...276.25: a tie between two shortest strings.
        Value::Double(-(2079017833692276.0 + 0.25)),
        Value::Base64((0..=255).collect()),
        Value::I8(i64::MIN),
        Value::DateTime("20261122T01:02:03".into()),
        Value::Bool(true),
    ];
    for v in &cases {
        check_response(v).unwrap_or_else(|e| panic!("{v:?}: {e}"));
    }
    check_call(&MethodCall {
        name: "supervisor.readProcessStdoutLog".into(),
        params: vec!["cat".into(), Value::Int(-100), Value::Int(0)],
    })
    .unwrap_or_else(|e| panic!("{e}"));
    check_call(&MethodCall {
        name: "system.listMethods".into(),
        params: Vec::new(),
    })
    .unwrap_or_else(|e| panic!("{e}"));
    check_fault(&Fault {
        code: 10,
        string: "BAD_NAME: nosuch".into(),
    })
    .unwrap_or_else(|e| panic!("{e}"));
}

/// `repr(float)` over many doubles at once, weighted towards the cases
/// where shortest-digit algorithms disagree: ties between two shortest
/// strings (k + 0.25 near 2^51, halves near 2^53), powers of two and ten,
/// subnormals, and raw random bit patterns.
#[test]
fn double_repr_matches_python_in_bulk() {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut doubles = Vec::new();
    for _ in 0..4000 {
        let r = next();
        doubles.push(f64::from_bits(r));
        let big = (r >> 13) as f64; // up to 2^51
        doubles.push(big + 0.25);
        doubles.push(-(big + 0.75));
        doubles.push(((r >> 11) as f64) * 0.5);
        doubles.push(f64::from_bits(r & 0x000F_FFFF_FFFF_FFFF)); // subnormal
        let exponent = (r % 600) as i32 - 300;
        doubles.push(2f64.powi(exponent));
        doubles.push(10f64.powi(exponent) * ((r >> 40) as f64));
    }
    for chunk in doubles.chunks(4000) {
        let v = Value::Array(chunk.iter().copied().map(Value::Double).collect());
        let ours = encode_response(&Ok(v.clone()));
        let results = oracle().ask(vec![json!({"op": "dumps_response", "value": to_json(&v)})]);
        let python = text(&results[0]);
        // Report the first differing double rather than two huge documents.
        for (i, (a, b)) in utf8(&ours).lines().zip(python.lines()).enumerate() {
            assert_eq!(a, b, "line {i} differs");
        }
        assert_eq!(utf8(&ours), python);
    }
}
