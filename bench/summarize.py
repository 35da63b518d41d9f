#!/usr/bin/env python3
"""Result handling for the bench scripts: annotates raw runs, prints one line per run and median tables.

    summarize.py annotate TARGET RUN RSS_FILE JVM_OPTS < client.json   -> one JSON line (fan-out run)
    summarize.py fanout-row < run.json                                -> one human line
    summarize.py fanout RUNS.jsonl                                    -> markdown tables, medians per target
    summarize.py sampler-run CASE RUN T0 T1 ON0 ON1 OFF0 OFF1 CLK_TCK "SUM0 COUNT0" "SUM1 COUNT1" EST JVM_OPTS
    summarize.py sampler-row < run.json
    summarize.py sampler RUNS.jsonl
"""
import json
import os
import re
import statistics
import subprocess
import sys

FANOUT_TARGETS = {"p99_ms": 100.0, "cpu_us": 10.0, "rss_mib": 512.0}
SAMPLER_TARGET_PCT = 0.3


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value, digits=2):
    if value is None:
        return "–"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


GC_LINE = re.compile(r"^\[(\d+)ms\].*\bPause (.*?) (\d+(?:\.\d+)?)ms$")


def gc_pauses(path, start_ms, end_ms):
    """Pauses a -Xlog:gc:file=...:timemillis,uptime log shows between two epoch-millisecond instants."""
    pauses = []
    try:
        for line in open(path):
            m = GC_LINE.match(line.strip())
            if m and start_ms <= int(m.group(1)) <= end_ms:
                pauses.append(float(m.group(3)))
    except OSError:
        return None
    return {"count": len(pauses), "total_ms": round(sum(pauses), 1), "max_ms": round(max(pauses), 1) if pauses else 0}


def annotate(target, run, rss_file, jvm_opts, gc_log=""):
    result = json.loads(sys.stdin.read())
    if gc_log and "window_start_epoch_ms" in result:
        result["server_gc_in_window"] = gc_pauses(gc_log, result["window_start_epoch_ms"], result["window_end_epoch_ms"])
    try:
        kib = [int(x) for x in open(rss_file).read().split() if x.isdigit()]
    except OSError:
        kib = []
    if target == "pulse":
        server = "java " + jvm_opts
    else:
        server = "node " + subprocess.run(["node", "-v"], capture_output=True, text=True).stdout.strip()
    result.update(target=target, run=int(run), server=server, scheduling=os.environ.get("BENCH_SCHED_USED"),
                  server_rss_max_run_mib=round(max(kib) / 1024, 1) if kib else None)
    print(json.dumps(result))


def fanout_fields(r):
    lat = r.get("latency_ms", {})
    return {
        "connected": r.get("subscribers_connected"),
        "frames": r.get("frames_received"),
        "expected": r.get("frames_expected"),
        "lost": r.get("frames_lost"),
        "skipped": r.get("skipped"),
        "p50": lat.get("p50"), "p90": lat.get("p90"), "p99": lat.get("p99"),
        "p99_9": lat.get("p99_9"), "max": lat.get("max"),
        "cpu_us": r.get("server_cpu_us_per_delivery"),
        "cpu_pct": r.get("server_cpu_percent_of_core"),
        "rss": r.get("server_rss_max_mib"),
        "rss_run": r.get("server_rss_max_run_mib"),
        "client_pct": r.get("client_cpu_percent_of_core"),
        "client_us": r.get("client_cpu_us_per_frame"),
        "client_gc": (r.get("client_gc_in_window") or {}).get("count"),
        "server_gc": (r.get("server_gc_in_window") or {}).get("count"),
        "server_gc_max": (r.get("server_gc_in_window") or {}).get("max_ms"),
        "others": (r.get("host") or {}).get("other_processes_cpu_percent_of_core"),
        "softirq": (r.get("host") or {}).get("softirq_percent_of_core"),
        "steal": (r.get("host") or {}).get("steal_percent_of_core"),
        "span": (r.get("bursts") or {}).get("span_ms_median"),
        "client_busy": (r.get("bursts") or {}).get("client_busy_percent_of_span"),
        "server_busy": (r.get("bursts") or {}).get("server_busy_percent_of_span"),
    }


def fanout_row():
    r = json.loads(sys.stdin.read())
    f = fanout_fields(r)
    print(f"  {r.get('target')} run {r.get('run')}: {f['connected']} subscribers, {f['frames']} frames "
          f"(expected {f['expected']}), lost {f['lost']}, skipped {f['skipped']}; latency ms p50 {f['p50']} "
          f"p90 {f['p90']} p99 {f['p99']} p99.9 {f['p99_9']} max {f['max']}; server {f['cpu_us']} us CPU/delivery "
          f"({f['cpu_pct']}% of a core), RSS max {f['rss']} MiB (whole run {f['rss_run']}); "
          f"client {f['client_pct']}% of a core; GC pauses in window: server {f['server_gc']} (max "
          f"{f['server_gc_max']} ms), client {f['client_gc']}; softirq {f['softirq']}%, steal {f['steal']}%, "
          f"other processes {f['others']}% of a core; a tick's frames arrive over {f['span']} ms (median), "
          f"server on CPU {f['server_busy']}% and client {f['client_busy']}% of that span")


FANOUT_COLUMNS = [
    ("connected", "subscribers", 0), ("frames", "frames recv.", 0), ("expected", "expected", 0),
    ("lost", "lost", 0), ("skipped", "skipped", 0),
    ("p50", "p50 ms", 1), ("p90", "p90 ms", 1), ("p99", "p99 ms", 1), ("p99_9", "p99.9 ms", 1), ("max", "max ms", 1),
    ("cpu_us", "server CPU µs/delivery", 2), ("rss", "server RSS max MiB", 0),
]
FANOUT_DIAGNOSTICS = [
    ("cpu_pct", "server CPU % core", 1), ("rss_run", "RSS max MiB incl. connect", 0),
    ("server_gc", "server GC pauses", 0), ("server_gc_max", "longest GC pause ms", 1),
    ("client_pct", "client CPU % core", 1), ("client_us", "client CPU µs/frame", 2), ("client_gc", "client GCs", 0),
    ("span", "tick arrival span ms", 1), ("server_busy", "server on-CPU % of span", 0),
    ("client_busy", "client on-CPU % of span", 0),
    ("softirq", "softirq % core", 1), ("steal", "steal % core", 1), ("others", "other processes % core", 1),
]


def cell(value, digits):
    if value is None:
        return "–"
    if digits == 0:
        return f"{round(value):,}"
    return f"{value:,.{digits}f}"


def table(runs, group_key, columns, extract):
    groups = []
    for r in runs:
        if r[group_key] not in groups:
            groups.append(r[group_key])
    print(f"| {group_key} | run | " + " | ".join(c[1] for c in columns) + " |")
    print("|" + "---|" * (len(columns) + 2))
    for group in groups:
        members = [r for r in runs if r[group_key] == group]
        rows = [extract(r) for r in members]
        meds = {k: median([row[k] for row in rows]) for k, _, _ in columns}
        print(f"| **{group}** | **median of {len(rows)}** | "
              + " | ".join(f"**{cell(meds[k], d)}**" for k, _, d in columns) + " |")
        for r, row in zip(members, rows):
            print(f"| {group} | {r['run']} | " + " | ".join(cell(row[k], d) for k, _, d in columns) + " |")
    print()
    return groups


def fanout(path):
    runs = [json.loads(line) for line in open(path) if line.strip()]
    print("Results (latency = receipt wall clock − data.timestamp; CPU per delivery = server utime+stime in the window"
          " / frames received in it):\n")
    targets = table(runs, "target", FANOUT_COLUMNS, fanout_fields)
    print("Diagnostics (same runs, same window):\n")
    table(runs, "target", FANOUT_DIAGNOSTICS, fanout_fields)
    for target in targets:
        rows = [fanout_fields(r) for r in runs if r["target"] == target]
        p99 = median([r["p99"] for r in rows])
        cpu = median([r["cpu_us"] for r in rows])
        rss = median([r["rss"] for r in rows])
        lost = sum((r["lost"] or 0) + (r["skipped"] or 0) + max(0, (r["expected"] or 0) - (r["frames"] or 0))
                   for r in rows)
        print(f"{target}: p99 {fmt(p99, 1)} ms (target ≤ {FANOUT_TARGETS['p99_ms']:.0f}: "
              f"{'met' if p99 is not None and p99 <= FANOUT_TARGETS['p99_ms'] else 'MISSED'}); "
              f"{fmt(cpu)} µs CPU/delivery (target ≤ {FANOUT_TARGETS['cpu_us']:.0f}: "
              f"{'met' if cpu is not None and cpu <= FANOUT_TARGETS['cpu_us'] else 'MISSED'}); "
              f"RSS {fmt(rss, 0)} MiB (target ≤ {FANOUT_TARGETS['rss_mib']:.0f}: "
              f"{'met' if rss is not None and rss <= FANOUT_TARGETS['rss_mib'] else 'MISSED'}); "
              f"frames lost/skipped/missing over all runs {lost} (target 0: {'met' if lost == 0 else 'MISSED'})")


def sampler_run(case, run, t0, t1, on0, on1, off0, off1, clk_tck, meter0, meter1, established, jvm_opts):
    window = float(t1) - float(t0)
    tck = float(clk_tck)
    on = (int(on1) - int(on0)) / tck
    off = (int(off1) - int(off0)) / tck
    sum0, count0 = (float(x) for x in meter0.split())
    sum1, count1 = (float(x) for x in meter1.split())
    samples = count1 - count0
    print(json.dumps({
        "case": case, "run": int(run), "window_seconds": round(window, 3),
        "on_cpu_seconds": round(on, 2), "off_cpu_seconds": round(off, 2),
        "on_cpu_s_per_min": round(on / window * 60, 3), "off_cpu_s_per_min": round(off / window * 60, 3),
        "diff_cpu_s_per_min": round((on - off) / window * 60, 3),
        "diff_percent_of_core": round((on - off) / window * 100, 3),
        "samples_in_window": int(samples),
        "sampler_ms_per_sample": round((sum1 - sum0) / samples * 1000, 3) if samples > 0 else None,
        "sampler_percent_of_core_by_meter": round((sum1 - sum0) / window * 100, 3),
        "established_tcp_at_end": int(established), "jvm": jvm_opts,
    }))


def sampler_row():
    r = json.loads(sys.stdin.read())
    print(f"  {r['case']} run {r['run']}: on {r['on_cpu_s_per_min']} / off {r['off_cpu_s_per_min']} CPU-s/min over "
          f"{r['window_seconds']} s -> sampler {r['diff_cpu_s_per_min']} CPU-s/min = {r['diff_percent_of_core']}% of "
          f"a core; meter {r['sampler_ms_per_sample']} ms/sample x {r['samples_in_window']}; "
          f"{r['established_tcp_at_end']} established TCP")


SAMPLER_COLUMNS = [
    ("on_cpu_s_per_min", "ON CPU-s/min", 3), ("off_cpu_s_per_min", "OFF CPU-s/min", 3),
    ("diff_cpu_s_per_min", "ON−OFF CPU-s/min", 3), ("diff_percent_of_core", "ON−OFF % of one core", 3),
    ("samples_in_window", "samples", 0), ("sampler_ms_per_sample", "meter ms/sample", 3),
    ("sampler_percent_of_core_by_meter", "meter % of one core (wall)", 3),
    ("established_tcp_at_end", "established TCP", 0),
]


def sampler(path):
    runs = [json.loads(line) for line in open(path) if line.strip()]
    cases = table(runs, "case", SAMPLER_COLUMNS, lambda r: r)
    for case in cases:
        pct = median([r["diff_percent_of_core"] for r in runs if r["case"] == case])
        print(f"{case}: sampler costs {fmt(pct, 3)}% of one core (median ON−OFF; target ≤ {SAMPLER_TARGET_PCT}: "
              f"{'met' if pct is not None and pct <= SAMPLER_TARGET_PCT else 'MISSED'})")


def main(argv):
    command, args = argv[1], argv[2:]
    if command == "annotate":
        annotate(*args)
    elif command == "fanout-row":
        fanout_row()
    elif command == "fanout":
        fanout(*args)
    elif command == "sampler-run":
        sampler_run(*args)
    elif command == "sampler-row":
        sampler_row()
    elif command == "sampler":
        sampler(*args)
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main(sys.argv)
