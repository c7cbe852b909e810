#!/usr/bin/env bash
# getAllProcessInfo throughput with N processes (default 200), side by side
# with Supervisor 4.3.0, one client then 8 concurrent clients.
# Usage: bench/rpc.sh [N] [SECONDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-200}; secs=${2:-5}
py="$root/target/reference-venv/bin/python"
for impl in ours reference; do
  case $impl in
    ours) bin="$root/target/release/supervisord" ;;
    reference) bin="$root/target/reference-venv/bin/supervisord" ;;
  esac
  dir=$(mktemp -d /tmp/svrpc.XXXX)
  {
    printf '[supervisord]\nlogfile=%s/sd.log\npidfile=%s/sd.pid\nchildlogdir=%s\nnodaemon=true\nsilent=true\nminfds=4096\n' "$dir" "$dir" "$dir"
    printf '[unix_http_server]\nfile=%s/s.sock\n[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n' "$dir"
    for i in $(seq 1 "$n"); do
      printf '[program:p%03d]\ncommand=/bin/cat\nstartsecs=0\nstdout_logfile=NONE\nstderr_logfile=NONE\n' "$i"
    done
  } > "$dir/sd.conf"
  "$bin" -c "$dir/sd.conf" >/dev/null 2>&1 &
  pid=$!
  until [ "$(grep -c 'entered RUNNING' "$dir/sd.log" 2>/dev/null || true)" -ge "$n" ] 2>/dev/null; do sleep 0.1; done
  one=$("$py" "$root/bench/rpc.py" "unix://$dir/s.sock" "$secs" 1)
  eight=$("$py" "$root/bench/rpc.py" "unix://$dir/s.sock" "$secs" 8)
  kill -TERM $pid; wait $pid 2>/dev/null || true
  rm -rf "$dir"
  printf '%-9s getAllProcessInfo with %d processes: %s calls/s (1 client), %s calls/s (8 clients)\n' "$impl" "$n" "$one" "$eight"
done
