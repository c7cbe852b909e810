#!/bin/sh
# supervisor-hub's benchmark (never pass/fail): N simulated nodes served
# by crates/sv-hub/examples/node_sim.rs, the hub's node routes in
# hub_bench's own process; prints the overview's latency from the cache
# and the hub's CPU and RSS while polling. Results: docs/hub.md
# ("Performance"). Arguments go to hub_bench, e.g.
#   bench/hub_bench.sh --nodes 1000 --processes 20 --hung-percent 5 --refused-percent 5 --window 30
set -e
cd "$(dirname "$0")/.."
cargo build --release -p sv-hub --examples
# The hub logs each node's health change on stderr; keep the table alone.
exec target/release/examples/hub_bench "$@" 2>/dev/null
