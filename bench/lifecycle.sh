#!/usr/bin/env bash
# Side-by-side lifecycle figures for supervisor-rs and Supervisor 4.3.0:
#   - time for N programs (startsecs=0) to all reach RUNNING,
#   - idle CPU (% of one core) and RSS of the daemon over IDLE seconds,
#   - respawn latency of a crashing program (exit → next spawn, from the log),
#   - shutdown time with M programs that honour SIGTERM.
# Usage: bench/lifecycle.sh [ours|reference|both] [N] [IDLE] [M]
# Needs a release build (cargo build --release) and, for the reference,
# target/reference-venv (created by `cargo test --release`).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
which=${1:-both}; n=${2:-1000}; idle=${3:-60}; m=${4:-100}
hz=$(getconf CLK_TCK)

daemon_cmd() {
  case $1 in
    ours) echo "$root/target/release/supervisord" ;;
    reference) echo "$root/target/reference-venv/bin/supervisord" ;;
  esac
}

conf() { # dir count extra
  local dir=$1 count=$2
  printf '[supervisord]\nlogfile=%s/sd.log\npidfile=%s/sd.pid\nchildlogdir=%s\nnodaemon=true\nsilent=true\nminfds=8192\n' "$dir" "$dir" "$dir"
  for i in $(seq 1 "$count"); do
    printf '[program:p%04d]\ncommand=/bin/cat\nstartsecs=0\nstdout_logfile=NONE\nstderr_logfile=NONE\n' "$i"
  done
  printf '%s' "${3:-}"
}

now_ms() { date +%s%3N; }

wait_count() { # file needle count timeout_s
  local end=$(( $(date +%s) + $4 ))
  local seen
  while seen=$(grep -c -- "$2" "$1" 2>/dev/null || true); [ "${seen:-0}" -lt "$3" ]; do
    [ "$(date +%s)" -lt "$end" ] || { echo "timeout waiting for $3 x $2" >&2; return 1; }
    sleep 0.05
  done
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

run() {
  local impl=$1 dir; dir=$(mktemp -d /tmp/svbench.XXXX)
  conf "$dir" "$n" > "$dir/sd.conf"
  local t0; t0=$(now_ms)
  "$(daemon_cmd "$impl")" -c "$dir/sd.conf" >/dev/null 2>&1 &
  local pid=$!
  wait_count "$dir/sd.log" "entered RUNNING state" "$n" 600
  local t1; t1=$(now_ms)
  sleep 2  # let start-up settle before measuring idle
  local c0; c0=$(cpu_ticks $pid)
  sleep "$idle"
  local c1; c1=$(cpu_ticks $pid)
  local rss; rss=$(rss_kb $pid)
  kill -TERM $pid; wait $pid || true
  rm -rf "$dir"

  # shutdown with M programs
  dir=$(mktemp -d /tmp/svbench.XXXX)
  conf "$dir" "$m" > "$dir/sd.conf"
  "$(daemon_cmd "$impl")" -c "$dir/sd.conf" >/dev/null 2>&1 &
  pid=$!
  wait_count "$dir/sd.log" "entered RUNNING state" "$m" 600
  local s0; s0=$(now_ms)
  kill -TERM $pid; wait $pid || true
  local s1; s1=$(now_ms)
  rm -rf "$dir"

  # respawn latency: a program that runs 0.2 s then exits 1, autorestart
  dir=$(mktemp -d /tmp/svbench.XXXX)
  conf "$dir" 0 "$(printf '[program:crash]\ncommand=/bin/sh -c "sleep 0.2; exit 1"\nstartsecs=0\nautorestart=true\n')" > "$dir/sd.conf"
  "$(daemon_cmd "$impl")" -c "$dir/sd.conf" >/dev/null 2>&1 &
  pid=$!
  wait_count "$dir/sd.log" "spawned: 'crash'" 6 120
  kill -TERM $pid; wait $pid || true
  local latency
  latency=$(python3 - "$dir/sd.log" <<'PY'
import sys, datetime
def ts(line):
    d = datetime.datetime.strptime(line[:19], "%Y-%m-%d %H:%M:%S")
    return d.timestamp() + int(line[20:23]) / 1000
exits, gaps = None, []
for line in open(sys.argv[1]):
    if "exited: crash" in line: exits = ts(line)
    elif "spawned: 'crash'" in line and exits is not None:
        gaps.append(ts(line) - exits); exits = None
print("%.1f ms (median of %d)" % (sorted(gaps)[len(gaps)//2] * 1000, len(gaps)) if gaps else "n/a")
PY
)
  rm -rf "$dir"
  awk -v impl="$impl" -v n="$n" -v st=$((t1 - t0)) -v c=$((c1 - c0)) -v hz="$hz" -v idle="$idle" \
      -v rss="$rss" -v m="$m" -v sd=$((s1 - s0)) -v lat="$latency" 'BEGIN {
    printf "%-9s start %d programs: %6d ms | idle CPU over %ds: %.3f%% | RSS: %.1f MB | shutdown %d programs: %5d ms | respawn latency: %s\n",
      impl, n, st, idle, 100 * c / hz / idle, rss / 1024, m, sd, lat }'
}

case $which in
  both) run ours; run reference ;;
  *) run "$which" ;;
esac
