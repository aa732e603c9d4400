#!/usr/bin/env bash
# Broker CPU time per delivered message at a fixed offered rate, build A
# against build B: a check that a noisy machine cannot blur as much as it blurs
# saturation throughput. Time the hypervisor steals from the guest is not
# counted as the process's run time (/proc/PID/task/*/schedstat), and below
# saturation both builds deliver the same messages, so the ratio says which
# one spends more CPU per message. Rounds alternate A and B. Loopback only;
# every run is bounded.
#
# usage: scripts/ab_cpu.sh A_BINARY B_BINARY [ROUNDS]   (default 5)
# env:   SCENARIO shardmq-bench arguments (default: fan-in, 10 publishers
#        at 100,000 msg/s each, QoS 0, 16-byte payload), DURATION seconds per
#        run (default 5), PORT (default 18870), BROKER_CPU (default 1),
#        TOOL_CPU (default 0), BENCH (default target/release/shardmq-bench)
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { sed -n '2,15p' "$0"; exit 2; }
a=$1 b=$2 rounds=${3:-5}
dur=${DURATION:-5}
port=${PORT:-18870}
bcpu=${BROKER_CPU:-1}
tcpu=${TOOL_CPU:-0}
bench=${BENCH:-target/release/shardmq-bench}
read -r -a scenario <<<"${SCENARIO:-fanin --qos 0 --publishers 10 --rate 100000 --payload 16}"
[ -x "$bench" ] || cargo build --release -q -p shardmq-bench

# Nanoseconds the broker's threads have run, over all of them.
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {print s}'; }

# One run: prints "ns_per_msg delivered".
one() { # binary
    taskset -c "$bcpu" "$1" --listen "127.0.0.1:$port" --shards 1 >/dev/null 2>&1 &
    local pid=$! json
    for _ in $(seq 50); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        sleep 0.1
    done
    local before after
    before=$(cpu_ns "$pid")
    json=$(timeout $((dur + 30)) "$bench" "${scenario[@]}" --port "$port" --cpus "$tcpu" \
        --duration "$dur" -q --json 2>/dev/null | tail -1) || true
    after=$(cpu_ns "$pid")
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    python3 -c '
import json, sys
d = json.loads(sys.argv[1] or "{}")
n = d.get("messages", {}).get("delivered", 0)
cpu = float(sys.argv[3]) - float(sys.argv[2])
print("%.1f %d" % (cpu / n if n else float("nan"), n))
' "$json" "$before" "$after"
}

ratios=()
printf '| round | A ns/msg | B ns/msg | B/A |\n|---|---|---|---|\n'
for ((i = 1; i <= rounds; i++)); do
    if ((i % 2)); then ra=$(one "$a"); rb=$(one "$b"); else rb=$(one "$b"); ra=$(one "$a"); fi
    r=$(python3 -c 'import sys; print("%.3f" % (float(sys.argv[2]) / float(sys.argv[1])))' "${ra%% *}" "${rb%% *}")
    ratios+=("$r")
    printf '| %d | %s | %s | %s |\n' "$i" "${ra%% *}" "${rb%% *}" "$r"
done
python3 -c '
import statistics, sys
r = sorted(float(x) for x in sys.argv[1:])
print("median B/A %.3f (range %.3f-%.3f, %d rounds)" % (statistics.median(r), r[0], r[-1], len(r)))
' "${ratios[@]}"
