#!/bin/sh
# The hub page with a thousand rows in headless Chromium (never pass/fail):
# simulated nodes (crates/sv-hub/examples/node_sim.rs) behind the
# supervisor-hub binary; prints the page's load figures and the time one
# filter pass takes in the browser (median and p95 per query, with and
# without the layout it causes). Results: docs/hub.md ("Performance").
#   bench/hub_page_bench.sh [--nodes 50] [--processes 20] [--runs 25]
set -e
cd "$(dirname "$0")/.."
cargo build --release -p sv-hub --example node_sim
exec cargo bench --bench hub_page -- "$@"
