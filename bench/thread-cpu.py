#!/usr/bin/env python3
"""CPU time per thread group of running processes over a window, from /proc/<pid>/task/*/stat.

    python3 bench/thread-cpu.py SECONDS PID [PID ...]

Reads utime+stime of every thread of each PID, waits SECONDS, reads again, and prints per process the CPU seconds
each group of threads used (threads grouped by name with trailing numbers removed: "vert.x-worker-thread-7" ->
"vert.x-worker-thread-"), largest first. Threads that started during the window count from zero; threads that ended
during it are missed (their time shows in the process total, which is printed too). Used to see where a JVM's CPU
goes, e.g. which part of the sampler ON/OFF difference is the probe (worker threads) and which the consumers of its
samples (event loops).
"""
import os
import re
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def stat_ticks(path):
    with open(path) as f:
        text = f.read()
    name = text[text.index("(") + 1:text.rindex(")")]
    fields = text[text.rindex(")") + 2:].split()
    return name, int(fields[11]) + int(fields[12])


def threads(pid):
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            out[tid] = stat_ticks(f"/proc/{pid}/task/{tid}/stat")
        except (OSError, ValueError):
            pass
    return out


def main():
    seconds = float(sys.argv[1])
    pids = sys.argv[2:]
    before = {pid: (threads(pid), stat_ticks(f"/proc/{pid}/stat")[1]) for pid in pids}
    t0 = time.monotonic()
    time.sleep(seconds)
    after = {pid: (threads(pid), stat_ticks(f"/proc/{pid}/stat")[1]) for pid in pids}
    elapsed = time.monotonic() - t0
    for pid in pids:
        (t_before, total0), (t_after, total1) = before[pid], after[pid]
        groups = {}
        for tid, (name, ticks) in t_after.items():
            group = re.sub(r"\d+$", "", name)
            groups[group] = groups.get(group, 0) + ticks - t_before.get(tid, (name, 0))[1]
        print(f"pid {pid}: {(total1 - total0) / CLK_TCK:.2f} CPU-s in {elapsed:.1f} s")
        for group, ticks in sorted(groups.items(), key=lambda kv: -kv[1]):
            if ticks:
                print(f"  {ticks / CLK_TCK:7.2f} s  {group}")


if __name__ == "__main__":
    main()
