#!/bin/sh
# The long fuzz runs (docs/reliability.md, "Fuzzing"): each target in turn,
# one at a time, at the lowest priority, for SECONDS each (default 600).
#   fuzz/long-run.sh [SECONDS] [TARGET...]
# cargo-fuzz wants a nightly compiler; RUSTC_BOOTSTRAP=1 lets the stable
# one accept its -Z flags. No sanitizer (the targets are safe Rust; ASan
# would only slow them) but debug assertions on, so an arithmetic overflow
# is a crash. Each run's log is fuzz/logs/TARGET.log; the corpus grows in
# fuzz/corpus/TARGET, seeded from tests/corpus; crashes go to
# fuzz/artifacts/TARGET.
set -u
cd "$(dirname "$0")/.."
seconds=${1:-600}
[ $# -gt 0 ] && shift
targets=${*:-ini config xmlrpc http listener capture ctl_args}
mkdir -p fuzz/logs
for t in $targets; do
    seeds=tests/corpus/fuzz/$t
    case $t in ini | config) seeds="$seeds tests/corpus tests/corpus/fuzz/config" ;; esac
    mkdir -p fuzz/corpus/$t tests/corpus/fuzz/$t
    RUSTC_BOOTSTRAP=1 nice -n 19 cargo fuzz run -s none -a "$t" fuzz/corpus/$t $seeds -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        >fuzz/logs/$t.log 2>&1
    echo "$t: exit $? ($(grep -c 'Test unit written' fuzz/logs/$t.log) artifacts)"
done
