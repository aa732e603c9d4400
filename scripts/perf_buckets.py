#!/usr/bin/env python3
"""Group the samples of a broker `perf record -g` by where the time goes.

usage: perf script -i perf.data | scripts/perf_buckets.py SECONDS MSGS_PER_SEC [HZ]

SECONDS is the length of the recording, MSGS_PER_SEC the message rate during
it and HZ the sampling frequency (-F, default 2999): each sample is then
1/HZ s of broker CPU, and every bucket is shown in microseconds per message.
Kernel samples are bucketed by the syscall (or interrupt) they ran under,
user samples by the symbol they landed in. Used by docs/benchmarks.md
("Where the CPU per message goes"); see scripts/cpu_per_msg.sh.
"""
import collections
import re
import sys

BUCKETS = {
    "A": "TCP receive (recv)",
    "B": "TCP send (send)",
    "C": "glommio reactor syscalls (io_uring_enter, membarrier)",
    "D": "io_uring poll completions (task_work, IPIs)",
    "E": "glommio executor, user space",
    "F": "broker code, user space",
    "G": "other",
}


def samples(lines):
    cur = None
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            if cur is not None:
                yield cur
            cur = None
            continue
        if not line.startswith(("\t", " ")):
            cur = []
            continue
        parts = line.strip().split(None, 1)
        if cur is not None and len(parts) == 2:
            cur.append(re.sub(r"\+0x[0-9a-f]+", "", parts[1]))
    if cur:
        yield cur


def name(frame):
    return frame.split(" (")[0]


def classify(stack):
    kern = [name(f) for f in stack if "[kernel.kallsyms]" in f]
    user = " ".join(name(f) for f in stack if "[kernel.kallsyms]" not in f)
    if not kern:
        leaf = name(stack[0]) if stack else "?"
        if "clock_gettime" in leaf:
            return "F clock_gettime (vdso; glommio's and ours)"
        if re.search(r"\bmi_|_mi_|malloc|free", leaf):
            return "F allocator"
        if "hdrhistogram" in leaf:
            return "F hdrhistogram"
        if re.search(r"mem(move|cpy|set|cmp)", leaf):
            return "F libc mem*"
        if "glommio" in leaf or "io_uring" in leaf or "scoped_tls" in leaf:
            return "E glommio executor and reactor"
        if leaf in ("syscall", "__libc_recv", "__send"):
            return "E libc syscall wrappers"
        return "F decode, route, encode, connection task"
    ks = " ".join(kern)
    if any(k in ks for k in ("asm_sysvec_reschedule_ipi", "task_work_run", "tctx_task_work",
                             "io_run_task_work", "arch_do_signal_or_restart")):
        return "D io_uring poll completions (task_work, IPIs)"
    if "asm_sysvec" in ks or "asm_common_interrupt" in ks:
        return "G other interrupts"
    if "recv" in user or "__x64_sys_recvfrom" in ks:
        if "net_rx_action" in ks:
            return "A ACK delivered to the publisher's socket (loopback softirq)"
        if "__tcp_transmit_skb" in ks or "tcp_send_ack" in ks:
            return "A ACK transmit"
        if "copy" in ks:
            return "A copy to user"
        return "A syscall, tcp_recvmsg"
    if "__send" in user or "__x64_sys_sendto" in ks:
        if "net_rx_action" in ks:
            return "B segment delivered to the subscriber's socket (loopback softirq)"
        return "B syscall, TCP transmit"
    if "membarrier" in ks:
        return "C membarrier (before parking)"
    if "io_uring" in ks or "io_uring" in user:
        if "io_async_cancel" in ks:
            return "C ASYNC_CANCEL (preemption timers)"
        if "io_timeout" in ks:
            return "C TIMEOUT (preemption timers)"
        if "io_poll_add" in ks:
            return "C POLL_ADD (re-arming read polls)"
        if "io_cqring_wait" in ks or "schedule" in ks:
            return "C sleep and wake"
        return "C entry and submission, rest"
    return "G kernel, other"


def main():
    secs, rate = float(sys.argv[1]), float(sys.argv[2])
    hz = float(sys.argv[3]) if len(sys.argv) > 3 else 2999.0
    per = 1e6 / hz / (rate * secs)  # us of CPU per message per sample
    counts = collections.Counter(classify(s) for s in samples(sys.stdin))
    n = sum(counts.values())
    print(f"{n} samples = {n * per:.2f} us/msg")
    groups = collections.Counter()
    for label, c in counts.items():
        groups[label[0]] += c
    for g in sorted(groups):
        print(f"{g} {BUCKETS[g]:58s} {groups[g] * per:5.2f} us/msg {100 * groups[g] / n:5.1f} %")
        for label, c in sorted(counts.items(), key=lambda kv: -kv[1]):
            if label[0] == g:
                print(f"    {label[2:]:60s} {c * per:5.2f} us/msg {100 * c / n:5.1f} %")


if __name__ == "__main__":
    main()
