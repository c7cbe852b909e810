//! The node simulator as a program: serves Supervisor's XML-RPC for many
//! fake nodes from one process, one 127.0.0.1 port each.
//!
//! `node_sim [--nodes N] [--processes P] [--hung-percent H] [--refused-percent R]`
//!
//! Prints one line per node, `<kind> <port>` (`live`, `hung`, `refused`,
//! `denied`), then `READY`, and serves until its stdin closes or it is
//! killed. Used by `examples/hub_bench.rs`.

#[path = "../tests/support/sim.rs"]
mod sim;

use std::io::Write as _;

use sim::{Kind, Sim};

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The kind of node `i` of `n`: the first `hung`% hung, the next
/// `refused`% refused, spread over the list.
pub fn kind_of(i: usize, hung: usize, refused: usize) -> Kind {
    let slot = i % 100;
    if slot < hung {
        Kind::Hung
    } else if slot < hung + refused {
        Kind::Refused
    } else {
        Kind::Live
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let nodes = arg(&args, "--nodes", 10);
    let processes = arg(&args, "--processes", 20);
    let hung = arg(&args, "--hung-percent", 5);
    let refused = arg(&args, "--refused-percent", 5);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let kinds: Vec<Kind> = (0..nodes).map(|i| kind_of(i, hung, refused)).collect();
        let sim = Sim::start(&kinds, processes).await;
        let mut out = std::io::stdout().lock();
        for node in &sim.nodes {
            let kind = match node.kind {
                Kind::Live => "live",
                Kind::Hung => "hung",
                Kind::Refused => "refused",
                Kind::AuthFail => "denied",
                Kind::Slow => "slow",
                Kind::Garbage => "garbage",
            };
            let _ = writeln!(out, "{kind} {}", node.port);
        }
        let _ = writeln!(out, "READY");
        let _ = out.flush();
        drop(out);
        // Serve until stdin closes (the parent went away).
        let _ = tokio::task::spawn_blocking(|| {
            let mut sink = Vec::new();
            let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
        })
        .await;
        drop(sim);
    });
}
