#!/usr/bin/env python3
"""Result handling of bench/run-optimizer-flood.sh.

    summarize-flood.py annotate MODE RUN AUDIT.json COUNTERS.txt JVM_OPTS SCHED < client.json  -> one JSON line
    summarize-flood.py row < run.json                                                     -> one human line
    summarize-flood.py table RUNS.jsonl                                                   -> markdown tables + medians
"""
import collections
import json
import statistics
import subprocess
import sys


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value, digits=1):
    if value is None:
        return "–"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def audit_summary(path):
    try:
        with open(path) as f:
            body = json.load(f)
    except (OSError, ValueError):
        return {"available": False}
    actions = body.get("actions") or []
    counts = collections.Counter()
    timeline = []
    for a in reversed(actions):  # oldest first
        key = f"{a.get('rule')}/{a.get('action')}/{a.get('state')}"
        if a.get("result"):
            key += f"/{a['result']}"
        counts[key] += 1
        if len(timeline) < 20:
            timeline.append({k: a.get(k) for k in ("timestamp", "rule", "action", "state", "result", "reason", "metrics")
                             if a.get(k) is not None})
    return {"available": True, "decisions": len(actions), "counts": dict(sorted(counts.items())), "timeline": timeline}


def counters(path):
    out = {}
    try:
        with open(path) as f:
            for line in f:
                name, _, value = line.strip().rpartition(" ")
                if name:
                    out[name] = float(value)
    except OSError:
        pass
    return out


def annotate(mode, run, audit_path, counters_path, jvm_opts, sched):
    run_json = json.loads(sys.stdin.read())
    run_json.update({
        "optimizer": mode,
        "run": int(run),
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip(),
        "server_jvm_opts": jvm_opts,
        "scheduling": sched,
        "audit": audit_summary(audit_path),
        "server_counters": counters(counters_path),
    })
    base, flood = run_json["phases"]["baseline"], run_json["phases"]["flood"]
    run_json["ratio"] = {
        kind: (round(flood[kind]["p99"] / base[kind]["p99"], 2)
               if base[kind].get("p99") and flood[kind].get("p99") is not None else None)
        for kind in ("chat", "stream")
    }
    print(json.dumps(run_json))


def p(run, phase, kind, q):
    return run["phases"][phase][kind].get(q)


def closed(run, code):
    return sum(v for k, v in run.get("flood_closed_by_server", {}).items() if k.endswith(":" + code))


def refused_handshake(run):
    return sum(run.get("flood_refused_at_handshake", {}).values())


def row(run):
    return (f"optimizer {run['optimizer']} run {run['run']}: chat p50/p99 {fmt(p(run, 'baseline', 'chat', 'p50'))}/"
            f"{fmt(p(run, 'baseline', 'chat', 'p99'))} -> {fmt(p(run, 'flood', 'chat', 'p50'))}/"
            f"{fmt(p(run, 'flood', 'chat', 'p99'))} ms (x{fmt(run['ratio']['chat'], 2)}); stream "
            f"{fmt(p(run, 'baseline', 'stream', 'p50'))}/{fmt(p(run, 'baseline', 'stream', 'p99'))} -> "
            f"{fmt(p(run, 'flood', 'stream', 'p50'))}/{fmt(p(run, 'flood', 'stream', 'p99'))} ms "
            f"(x{fmt(run['ratio']['stream'], 2)}); RSS max {fmt(run['phases']['flood']['server_rss_max_mib'])} MiB; "
            f"server CPU {fmt(run['phases']['baseline']['server_cpu_percent_of_core'])} -> "
            f"{fmt(run['phases']['flood']['server_cpu_percent_of_core'])} %; flood accepted {run['flood_accepted']}, "
            f"closed 4001 {closed(run, '4001')}, 1013 {closed(run, '1013')}, still open {run['flood_still_open']}; "
            f"audit {run['audit'].get('counts')}")


def ratio(r, kind):
    base, late = p(r, "baseline", kind, "p99"), p(r, "flood_late", kind, "p99")
    return round(late / base, 2) if base and late is not None else None


COLUMNS = [
    ("chat p50 base", lambda r: p(r, "baseline", "chat", "p50")),
    ("chat p99 base", lambda r: p(r, "baseline", "chat", "p99")),
    ("chat p50 flood", lambda r: p(r, "flood", "chat", "p50")),
    ("chat p99 flood", lambda r: p(r, "flood", "chat", "p99")),
    ("chat p99 ratio", lambda r: r["ratio"]["chat"]),
    ("chat p99 flood 20 s+", lambda r: p(r, "flood_late", "chat", "p99")),
    ("chat ratio 20 s+", lambda r: ratio(r, "chat")),
    ("stream p50 base", lambda r: p(r, "baseline", "stream", "p50")),
    ("stream p99 base", lambda r: p(r, "baseline", "stream", "p99")),
    ("stream p50 flood", lambda r: p(r, "flood", "stream", "p50")),
    ("stream p99 flood", lambda r: p(r, "flood", "stream", "p99")),
    ("stream p99 ratio", lambda r: r["ratio"]["stream"]),
    ("stream p99 flood 20 s+", lambda r: p(r, "flood_late", "stream", "p99")),
    ("stream ratio 20 s+", lambda r: ratio(r, "stream")),
    ("RSS max base MiB", lambda r: r["phases"]["baseline"]["server_rss_max_mib"]),
    ("RSS max flood MiB", lambda r: max(r["phases"]["flood"]["server_rss_max_mib"],
                                        r["phases"]["flood_opening"]["server_rss_max_mib"])),
    ("server CPU base %", lambda r: r["phases"]["baseline"]["server_cpu_percent_of_core"]),
    ("server CPU flood %", lambda r: r["phases"]["flood"]["server_cpu_percent_of_core"]),
    ("flood accepted", lambda r: r["flood_accepted"]),
    ("closed 4001", lambda r: closed(r, "4001")),
    ("closed/refused 1013", lambda r: closed(r, "1013") + refused_handshake(r)),
    ("flood open at end", lambda r: r["flood_still_open"]),
    ("others % core (flood)", lambda r: r["phases"]["flood"]["host"].get("other_processes_cpu_percent_of_core")),
    ("loadavg (flood end)", lambda r: float(r["phases"]["flood"]["host"].get("loadavg", "0").split()[0])),
]


def table(path):
    with open(path) as f:
        runs = [json.loads(line) for line in f if line.strip()]
    print("| optimizer | run | " + " | ".join(c[0] for c in COLUMNS) + " |")
    print("|---|---|" + "---|" * len(COLUMNS))
    for mode in ("off", "on"):
        mine = [r for r in runs if r["optimizer"] == mode]
        for r in sorted(mine, key=lambda r: r["run"]):
            print(f"| {mode} | {r['run']} | " + " | ".join(fmt(c[1](r), 2 if 'ratio' in c[0] else 1)
                                                         for c in COLUMNS) + " |")
        if mine:
            print(f"| **{mode}** | **median** | " + " | ".join(
                "**" + fmt(median([c[1](r) for r in mine]), 2 if 'ratio' in c[0] else 1) + "**" for c in COLUMNS) + " |")
    print()
    print("Flood window in slices (p99 ms, chat / stream), per run:")
    for r in runs:
        cells = [f"{s['from_s']}s: {fmt(s['chat'].get('p99'))}/{fmt(s['stream'].get('p99'))}" for s in r["flood_slices"]]
        print(f"- {r['optimizer']} run {r['run']}: " + "; ".join(cells))
    print()
    print("Optimizer audit (decisions per rule/action/state[/result]), per run with the optimizer on:")
    for r in runs:
        if r["optimizer"] == "on":
            print(f"- run {r['run']}: {r['audit'].get('counts')}")


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "annotate":
        annotate(*sys.argv[2:8])
    elif cmd == "row":
        print(row(json.loads(sys.stdin.read())))
    elif cmd == "table":
        table(sys.argv[2])
    else:
        sys.exit(__doc__)
