#!/usr/bin/env bash
# Broker CPU per message at a fixed fan-in rate, measured over a steady
# window (connection set-up and drain excluded), split into user and kernel.
#
# usage: scripts/cpu_per_msg.sh [MODE]
#   MODE: cpu (default) | record (perf record -g) | syscalls (perf stat of
#         every syscall) | uring (io_uring, IPI and scheduler tracepoints)
# environment (defaults in brackets):
#   PORT [18931]  PUBS [10] publishers  RATE [2000] msg/s per publisher
#   DUR [20] s of traffic  SKIP [5] s before the window  WIN [10] s window
#   SERVER [target/release/shardmq]: any broker binary; a name ending in
#     "floorfwd" is started as `floorfwd ADDR` (scripts/floorfwd), others as
#     `shardmq --listen ADDR --shards 1`. Extra arguments go in SERVER_ARGS.
#   OUT [/tmp/cpu_per_msg]: where perf data goes
# Quote CPU figures from the plain `cpu` mode: tracing moves them.
# Broker pinned to CPU 1, the tool to CPU 0, loopback, QoS 0, 24-byte payload.
# Summarise a `record` with: perf script -i $OUT/perf.data | scripts/perf_buckets.py WIN TOTAL_RATE 2999
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-cpu}
port=${PORT:-18931}
pubs=${PUBS:-10}
rate=${RATE:-2000}
dur=${DUR:-20}
skip=${SKIP:-5}
win=${WIN:-10}
server=${SERVER:-./target/release/shardmq}
out=${OUT:-/tmp/cpu_per_msg}
mkdir -p "$out"
bench=./target/release/shardmq-bench
[ -x "$bench" ] || cargo build --release -q -p shardmq -p shardmq-bench

if [[ $server == *floorfwd ]]; then
    taskset -c 1 "$server" 127.0.0.1:$port >"$out/server.log" 2>&1 &
else
    # shellcheck disable=SC2086
    taskset -c 1 "$server" --listen 127.0.0.1:$port --shards 1 ${SERVER_ARGS:-} >"$out/server.log" 2>&1 &
fi
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
sleep 1
$bench fanin --port $port --cpus 0 --publishers "$pubs" --rate "$rate" --qos 0 --payload 24 \
    --duration "$dur" -q >"$out/bench.txt" 2>&1 &
bench_pid=$!
sleep "$skip"

ticks() { awk '{print $14, $15}' "/proc/$pid/stat"; }
cpu1() { awk '/^cpu1 /{print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat; }
read -r u0 s0 < <(ticks)
read -r b0 i0 < <(cpu1)
t0=$(date +%s.%N)
case $mode in
cpu) sleep "$win" ;;
record) perf record -F 2999 -g -p $pid -o "$out/perf.data" -- sleep "$win" 2>&1 | tail -1 ;;
syscalls) perf stat -e 'syscalls:sys_enter_*' -p $pid -o "$out/syscalls.txt" -- sleep "$win" ;;
uring) perf record -e io_uring:io_uring_submit_req -e io_uring:io_uring_complete \
    -e io_uring:io_uring_task_add -e irq_vectors:reschedule_entry -e sched:sched_switch \
    -e syscalls:sys_exit_recvfrom -e syscalls:sys_enter_sendto -e syscalls:sys_enter_membarrier \
    -e syscalls:sys_enter_io_uring_enter -p $pid -o "$out/uring.data" -- sleep "$win" 2>&1 | tail -1 ;;
*) echo "unknown mode $mode" >&2; exit 2 ;;
esac
read -r u1 s1 < <(ticks)
read -r b1 i1 < <(cpu1)
t1=$(date +%s.%N)
wait $bench_pid || true
awk -v u=$((u1 - u0)) -v s=$((s1 - s0)) -v hz="$(getconf CLK_TCK)" -v t0="$t0" -v t1="$t1" \
    -v msgs=$((pubs * rate)) -v b=$((b1 - b0)) -v i=$((i1 - i0)) 'BEGIN {
    dt = t1 - t0; cu = u / hz / dt; cs = s / hz / dt
    printf "broker CPU user %.1f%% + kernel %.1f%% = %.1f%% at %d msg/s => %.2f us/msg (user %.2f, kernel %.2f); CPU 1 busy %.0f%%\n",
        100 * cu, 100 * cs, 100 * (cu + cs), msgs, (cu + cs) / msgs * 1e6, cu / msgs * 1e6, cs / msgs * 1e6, 100 * b / (b + i)
}'
grep -E "throughput|latency" "$out/bench.txt"
