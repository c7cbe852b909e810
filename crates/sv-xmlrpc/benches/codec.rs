//! The XML-RPC codec on the messages the daemon handles most: a
//! `getAllProcessInfo` answer for 200 processes (encoded by the daemon,
//! decoded by `supervisorctl status`) and a `getProcessInfo` request.
//!
//! `cargo bench -p sv-xmlrpc`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sv_xmlrpc::{
    Limits, MethodCall, Response, Value, decode_call, decode_response, encode_call, encode_response,
};

/// Processes in the `getAllProcessInfo` answer.
const PROCESSES: usize = 200;

/// One process record with the fields and value types Supervisor sends.
fn process_info(i: usize) -> Value {
    let name = format!("worker_{i:04}");
    let group = format!("pool_{}", i % 10);
    let int = |n: i64| Value::Int(n as i32);
    Value::Struct(vec![
        ("name".into(), Value::String(name.clone())),
        ("group".into(), Value::String(group.clone())),
        (
            "description".into(),
            Value::String(format!("pid {}, uptime 1:02:03", 10_000 + i)),
        ),
        ("start".into(), int(1_764_000_000 + i as i64)),
        ("stop".into(), int(0)),
        ("now".into(), int(1_764_003_723)),
        ("state".into(), int(20)),
        ("statename".into(), Value::String("RUNNING".into())),
        ("spawnerr".into(), Value::String(String::new())),
        ("exitstatus".into(), int(0)),
        (
            "logfile".into(),
            Value::String(format!("/var/log/supervisor/{name}-stdout.log")),
        ),
        (
            "stdout_logfile".into(),
            Value::String(format!("/var/log/supervisor/{name}-stdout.log")),
        ),
        (
            "stderr_logfile".into(),
            Value::String(format!("/var/log/supervisor/{name}-stderr.log")),
        ),
        ("pid".into(), int(10_000 + i as i64)),
    ])
}

fn all_process_info() -> Response {
    Ok(Value::Array((0..PROCESSES).map(process_info).collect()))
}

fn request() -> MethodCall {
    MethodCall {
        name: "supervisor.getProcessInfo".into(),
        params: vec![Value::String("pool_3:worker_0042".into())],
    }
}

fn codec(c: &mut Criterion) {
    let limits = Limits::default();

    let response = all_process_info();
    let response_xml = encode_response(&response);
    let mut group = c.benchmark_group("getAllProcessInfo_200");
    group.throughput(Throughput::Bytes(response_xml.len() as u64));
    group.bench_function("encode", |b| {
        b.iter(|| encode_response(black_box(&response)))
    });
    group.bench_function("decode", |b| {
        b.iter(|| decode_response(black_box(&response_xml), &limits).expect("valid response"))
    });
    group.finish();

    let call = request();
    let call_xml = encode_call(&call);
    let mut group = c.benchmark_group("getProcessInfo_request");
    group.throughput(Throughput::Bytes(call_xml.len() as u64));
    group.bench_function("encode", |b| b.iter(|| encode_call(black_box(&call))));
    group.bench_function("decode", |b| {
        b.iter(|| decode_call(black_box(&call_xml), &limits).expect("valid call"))
    });
    group.finish();
}

criterion_group!(benches, codec);
criterion_main!(benches);
