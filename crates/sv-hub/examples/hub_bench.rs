//! The hub's benchmark (never pass/fail): a fleet of simulated nodes
//! (`node_sim`, started as a child process), the hub's node routes served
//! in this process, then
//!
//! 1. the overview (`GET /api/v2/nodes/`) answered from the cache: p50,
//!    p90, p99 over sequential requests, each on a new connection;
//! 2. this process's CPU and RSS while the fleet polls every node every
//!    `--interval` seconds, over `--window` seconds (and the simulator's
//!    CPU, for scale).
//!
//! ```text
//! cargo build --release -p sv-hub --examples
//! target/release/examples/hub_bench --nodes 1000 --processes 20 --hung-percent 5 --refused-percent 5
//! ```
//!
//! Results go to docs/hub.md ("Performance").

#[path = "../tests/support/hub.rs"]
mod hub;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sv_hub::nodes::{Fleet, FleetSettings, Health, NodeSpec};

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// utime + stime of `pid` (`self` for this process), in seconds
/// (assuming Linux's usual 100 ticks per second).
fn cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, a)| a).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After the command: state is field 3, utime 14 and stime 15.
    let ticks = |i: usize| {
        fields
            .get(i - 3)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(14) + ticks(15)) / 100.0
}

/// `VmRSS` and `VmHWM` of `pid` in MiB.
fn rss_mib(pid: &str) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn get(addr: std::net::SocketAddr, path: &str) -> (Duration, usize) {
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr).expect("connect");
    let _ = write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nx-test-user: bench:admin\r\nConnection: close\r\n\r\n"
    );
    let mut body = Vec::new();
    let _ = stream.read_to_end(&mut body);
    (started.elapsed(), body.len())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let nodes = arg(&args, "--nodes", 1000);
    let processes = arg(&args, "--processes", 20);
    let hung = arg(&args, "--hung-percent", 5);
    let refused = arg(&args, "--refused-percent", 5);
    let interval = arg(&args, "--interval", 2);
    let window = arg(&args, "--window", 30);
    let requests = arg(&args, "--requests", 200) as usize;

    let sim_path = std::env::current_exe()
        .expect("own path")
        .with_file_name("node_sim");
    let mut sim = Command::new(&sim_path)
        .args([
            "--nodes",
            &nodes.to_string(),
            "--processes",
            &processes.to_string(),
        ])
        .args([
            "--hung-percent",
            &hung.to_string(),
            "--refused-percent",
            &refused.to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start {} (build the examples first): {e}",
                sim_path.display()
            )
        });
    let sim_pid = sim.id().to_string();
    let mut specs = Vec::new();
    let stdout = sim.stdout.take().expect("sim stdout");
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("sim output");
        if line == "READY" {
            break;
        }
        let (_, port) = line.split_once(' ').expect("<kind> <port>");
        let i = specs.len();
        specs.push(NodeSpec::new(
            &format!("node{i:04}"),
            &format!("env{}", i % 10),
            &format!("http://127.0.0.1:{port}/RPC2"),
        ));
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let settings = FleetSettings {
        poll_interval: Duration::from_secs(interval),
        ..FleetSettings::default()
    };
    let started = Instant::now();
    let hub = runtime.block_on(async {
        let fleet = Fleet::start(specs, settings);
        fleet.settled().await;
        hub::Hub::serve(fleet).await
    });
    let settle = started.elapsed();
    let snaps: Vec<Health> = hub
        .fleet
        .nodes()
        .iter()
        .map(|n| n.snapshot().health)
        .collect();
    let connected = snaps.iter().filter(|h| h.connected()).count();

    // Let the first round of backoffs and connections settle.
    std::thread::sleep(Duration::from_secs(interval * 2));

    let mut times = Vec::with_capacity(requests);
    let mut size = 0;
    for _ in 0..requests {
        let (took, bytes) = get(hub.addr, "/api/v2/nodes/");
        times.push(took);
        size = bytes;
    }
    times.sort();
    let mut env_times: Vec<Duration> = (0..requests / 4)
        .map(|_| get(hub.addr, "/api/v2/environments/").0)
        .collect();
    env_times.sort();

    let (cpu0, sim0) = (cpu_seconds("self"), cpu_seconds(&sim_pid));
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs(window));
    let wall = t0.elapsed().as_secs_f64();
    let hub_cpu = (cpu_seconds("self") - cpu0) / wall * 100.0;
    let sim_cpu = (cpu_seconds(&sim_pid) - sim0) / wall * 100.0;
    let (rss, hwm) = rss_mib("self");

    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| nodes (processes each) | {nodes} ({processes}); {hung} % hung, {refused} % refused |"
    );
    println!("| connected after the first poll | {connected} |");
    println!(
        "| first poll of every node | {:.2} s |",
        settle.as_secs_f64()
    );
    println!(
        "| overview answer size | {:.1} MiB |",
        size as f64 / 1048576.0
    );
    println!(
        "| overview p50 / p90 / p99 ({requests} requests) | {:.1} / {:.1} / {:.1} ms |",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.9)),
        ms(percentile(&times, 0.99))
    );
    println!(
        "| environments p50 / p90 | {:.1} / {:.1} ms |",
        ms(percentile(&env_times, 0.5)),
        ms(percentile(&env_times, 0.9))
    );
    println!(
        "| hub CPU while polling every {interval} s ({window} s window) | {hub_cpu:.1} % of one core |"
    );
    println!("| hub RSS (peak) | {rss:.1} MiB ({hwm:.1} MiB) |");
    println!("| simulator CPU (for scale) | {sim_cpu:.1} % of one core |");

    drop(hub);
    drop(sim.stdin.take());
    let _ = sim.kill();
    let _ = sim.wait();
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
