//! The hub page with a thousand rows, in real Chromium (never pass/fail):
//! simulated nodes (`crates/sv-hub/examples/node_sim.rs`, 50 × 20
//! processes by default) behind the `supervisor-hub` binary; the fleet
//! overview loaded in headless Chromium; then, in the browser, the time
//! one filter pass takes (`performance.now()` around the page's own filter
//! function, `SvHub.overview.filter`), with and without forcing the layout
//! it causes, over several queries — median and p95 per query.
//!
//! ```text
//! bench/hub_page_bench.sh [--nodes 50] [--processes 20] [--runs 25]
//! ```
//!
//! Results: docs/hub.md ("Performance"). Target: filtering < 100 ms.

#[path = "../tests/support/mod.rs"]
#[allow(dead_code, unused_imports)]
mod support;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::browser::Browser;
use support::hub::HubProc;
use support::hub_page::fill;

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Percentile `p` (0–100) of sorted `values`.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p / 100.0 * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

const QUERIES: &[&str] = &[
    "p1",
    "state:stopped",
    "group:g3",
    "node:sim-7",
    "name:g2:p1",
    "env:even state:running",
    "running 0:01",
    "no-such-process",
    "",
];

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let nodes = arg(&args, "--nodes", 50);
    let processes = arg(&args, "--processes", 20);
    let runs = arg(&args, "--runs", 25);
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let sim_path = support::browser::target_dir().join("release/examples/node_sim");
    assert!(
        sim_path.exists(),
        "{} is missing: cargo build --release -p sv-hub --example node_sim (bench/hub_page_bench.sh does)",
        sim_path.display()
    );
    let mut sim = support::command::new(&sim_path)
        .args(["--nodes", &nodes.to_string()])
        .args(["--processes", &processes.to_string()])
        .args(["--hung-percent", "0", "--refused-percent", "0"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start node_sim");
    let mut ports = Vec::new();
    let out = sim.stdout.take().expect("node_sim stdout");
    for line in BufReader::new(out).lines() {
        let line = line.expect("node_sim output");
        if line == "READY" {
            break;
        }
        if let Some(port) = line.strip_prefix("live ") {
            ports.push(port.to_string());
        }
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = String::from(
        "[cesi]\ndatabase = \"sqlite:///users.db\"\nactivity_log = \"activity.log\"\nadmin_username = \"admin\"\nadmin_password = \"bench-admin\"\n\n[hub]\npoll_interval = 5\n\n",
    );
    for (i, port) in ports.iter().enumerate() {
        let env = if i % 2 == 0 { "even" } else { "odd" };
        config.push_str(&format!(
            "[[nodes]]\nname = \"sim-{i}\"\nenvironment = \"{env}\"\nusername = \"\"\npassword = \"\"\nhost = \"127.0.0.1\"\nport = {port}\n\n"
        ));
    }
    let hub = HubProc::start(dir.path(), &config);
    let cookie = hub.login("admin", "bench-admin");
    let expected = nodes * processes;
    let end = Instant::now() + Duration::from_secs(60);
    loop {
        let fleet = hub.get("/api/v2/fleet/", &[("Cookie", &cookie)]).json();
        let known: u64 = fleet["nodes"]
            .as_array()
            .map(|l| l.iter().filter_map(|n| n["processes"].as_u64()).sum())
            .unwrap_or(0);
        if known as usize >= expected {
            break;
        }
        assert!(
            Instant::now() < end,
            "the hub never knew {expected} processes"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let url = |p: &str| format!("http://127.0.0.1:{}{p}", hub.port);
    browser.goto(&url("/login")).await;
    fill(&browser, "#username", "admin").await;
    fill(&browser, "#password", "bench-admin").await;
    browser.click("#login-submit").await;
    browser.wait_for("#fleet", support::browser::DEADLINE).await;
    let loaded = browser
        .execute(
            "const t = performance.getEntriesByType('navigation')[0]; \
             return [t.responseEnd - t.requestStart, t.domContentLoadedEventEnd, \
             SvHub.overview.drawnMs, SvHub.overview.rows()];",
            vec![],
        )
        .await;
    println!(
        "hub page: {nodes} nodes x {processes} processes = {expected} rows; \
         [server answer ms, DOMContentLoaded ms, table drawn ms, rows] = {loaded}"
    );

    println!(
        "{:<24} {:>7} {:>9} {:>9} {:>12} {:>12}",
        "query", "shown", "median", "p95", "median+lay", "p95+layout"
    );
    let mut worst: f64 = 0.0;
    for query in QUERIES {
        let measured = browser
            .execute(
                "const q = arguments[0], runs = arguments[1]; \
                 const plain = [], laid = []; \
                 for (let i = 0; i < runs; i++) { \
                   SvHub.overview.filter(''); \
                   document.body.offsetHeight; \
                   plain.push(SvHub.overview.filter(q)); \
                   SvHub.overview.filter(''); document.body.offsetHeight; \
                   const t0 = performance.now(); SvHub.overview.filter(q); \
                   document.body.offsetHeight; laid.push(performance.now() - t0); \
                 } \
                 return [plain, laid, document.querySelectorAll('tr.proc:not([hidden])').length];",
                vec![Value::from(*query), json!(runs)],
            )
            .await;
        let list = |v: &Value| {
            let mut l: Vec<f64> = v
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_f64).collect())
                .unwrap_or_default();
            l.sort_by(f64::total_cmp);
            l
        };
        let plain = list(&measured[0]);
        let laid = list(&measured[1]);
        worst = worst.max(percentile(&laid, 95.0));
        println!(
            "{:<24} {:>7} {:>7.2}ms {:>7.2}ms {:>10.2}ms {:>10.2}ms",
            format!("{query:?}"),
            measured[2],
            percentile(&plain, 50.0),
            percentile(&plain, 95.0),
            percentile(&laid, 50.0),
            percentile(&laid, 95.0),
        );
    }
    println!("worst p95 with layout: {worst:.2} ms (target < 100 ms)");
    browser.close().await;
    drop(hub);
    drop(sim.stdin.take());
    let _ = sim.kill();
    let _ = sim.wait();
}
