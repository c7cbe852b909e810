#!/usr/bin/env bash
# Child-output capture, side by side with Supervisor 4.3.0 and with `cat`:
#   1. one child writes 256 MiB as fast as it can into a rotating log
#      (maxbytes 50MB, backups 3): wall time and daemon CPU seconds, next to
#      the same writer piped through `cat` into a file;
#   2. fifty children print short lines for 10 s: daemon CPU seconds.
# Usage: bench/capture.sh [ours|reference|both] [all|big|chatty]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
which=${1:-both}
part=${2:-all}
hz=$(getconf CLK_TCK)
bytes=$((256 * 1024 * 1024))

daemon_cmd() {
  case $1 in
    ours) echo "${OURS_PREFIX:-}$root/target/release/supervisord" ;;
    reference) echo "$root/target/reference-venv/bin/supervisord" ;;
  esac
}
cpu_s() { awk -v hz="$hz" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat"; }
now() { date +%s.%N; }
total_size() { du -cb "$1"/big.log* 2>/dev/null | tail -1 | cut -f1; }

baseline() {
  local dir; dir=$(mktemp -d /tmp/svcap.XXXX)
  local t0; t0=$(now)
  /usr/bin/time -f "%e" -o "$dir/wtime" sh -c "head -c $bytes /dev/zero | cat > $dir/out"
  /usr/bin/time -f "%U %S" -o "$dir/ctime" sh -c "cat < /dev/zero | head -c $bytes > /dev/null" 2>/dev/null || true
  awk -v w="$(cat "$dir/wtime")" 'BEGIN { printf "baseline  256 MiB through cat into a file: %.2f s wall\n", w }'

  rm -rf "$dir"
}

big() {
  local impl=$1 dir; dir=$(mktemp -d /tmp/svcap.XXXX)
  # The writer times itself: it can only go as fast as the daemon drains it.
  cat > "$dir/sd.conf" <<CONF
[supervisord]
logfile=$dir/sd.log
pidfile=$dir/sd.pid
childlogdir=$dir
nodaemon=true
silent=true
[program:big]
command=/bin/sh -c 'sleep 1; /usr/bin/time -f %%e -o $dir/wtime head -c $bytes /dev/zero; exec sleep 1000'
startsecs=0
stdout_logfile=$dir/big.log
stdout_logfile_maxbytes=50MB
stdout_logfile_backups=3
CONF
  "$(daemon_cmd "$impl")" -c "$dir/sd.conf" >/dev/null 2>&1 &
  local pid=$!
  until grep -q "spawned: 'big'" "$dir/sd.log" 2>/dev/null; do sleep 0.05; done
  local c0; c0=$(cpu_s $pid)
  until [ -s "$dir/wtime" ]; do sleep 0.05; done
  sleep 0.2
  local c1; c1=$(cpu_s $pid)
  kill -TERM $pid; wait $pid 2>/dev/null || true
  awk -v impl="$impl" -v w="$(cat "$dir/wtime")" -v c0="$c0" -v c1="$c1" 'BEGIN {
    printf "%-9s 256 MiB captured into a rotating log (50MB x 3): %.2f s wall, %.2f s daemon CPU\n", impl, w, c1 - c0 }'
  rm -rf "$dir"
}

chatty() {
  local impl=$1 count=${2:-50} dir; dir=$(mktemp -d /tmp/svcap.XXXX)
  {
    printf '[supervisord]\nlogfile=%s/sd.log\npidfile=%s/sd.pid\nchildlogdir=%s\nnodaemon=true\nsilent=true\n' "$dir" "$dir" "$dir"
    printf '[unix_http_server]\nfile=%s/s.sock\n[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n' "$dir"
    for i in $(seq 1 "$count"); do
      printf '[program:c%02d]\ncommand=/bin/sh -c '"'"'while :; do echo "a short line from child %02d"; done'"'"'\nstartsecs=0\nstdout_logfile=%s/c%02d.log\nstdout_logfile_maxbytes=5MB\nstdout_logfile_backups=1\n' "$i" "$i" "$dir" "$i"
    done
  } > "$dir/sd.conf"
  $(daemon_cmd "$impl") -c "$dir/sd.conf" >/dev/null 2>&1 &
  local pid=$!
  local seen
  while seen=$(grep -c "spawned:" "$dir/sd.log" 2>/dev/null || true); [ "${seen:-0}" -lt "$count" ]; do
    kill -0 $pid 2>/dev/null || { echo "$impl: supervisord exited" >&2; return 1; }
    sleep 0.05
  done
  local c0; c0=$(cpu_s $pid)
  # getAllProcessInfo round trips during the storm (100 calls over ~6 s).
  # The probe runs with a real-time priority, above the storm
  # (as an operator's shell effectively does), so it measures the daemon,
  # not its own wait for a CPU among 100 busy children.
  local latency; latency=$(chrt -f 10 "$root/target/reference-venv/bin/python" "$root/bench/latency.py" "unix://$dir/s.sock" 100)
  sleep 4
  local c1; c1=$(cpu_s $pid)
  local captured; captured=$(find "$dir" -name 'c*.log*' -printf '%s\n' 2>/dev/null | awk '{s += $1} END {print s + 0}')
  kill -TERM $pid; wait $pid 2>/dev/null || true
  awk -v impl="$impl" -v n="$count" -v c0="$c0" -v c1="$c1" -v b="$captured" -v lat="$latency" 'BEGIN {
    printf "%-9s %d chatty children for ~10 s: %.2f s daemon CPU, %.1f MB captured (%.2f CPU-s per 100 MB); getAllProcessInfo %s\n", impl, n, c1 - c0, b / 1e6, (c1 - c0) / (b / 1e8), lat }'
  rm -rf "$dir"
}

impls=$which
[ "$which" = both ] && impls="ours reference"
if [ "$part" != chatty ]; then
  baseline
  for impl in $impls; do big "$impl"; done
fi
if [ "$part" != big ]; then
  for impl in $impls; do chatty "$impl" 50; done
  for impl in $impls; do chatty "$impl" 100; done
fi
