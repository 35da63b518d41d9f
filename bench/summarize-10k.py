#!/usr/bin/env python3
"""Tables of the two-process 10,000-client reliability runs (run-stalled-stream.sh, run-storm.sh, run-reconnect-storm.sh).

  summarize-10k.py stalled runs.jsonl      table + medians of stalled and control runs
  summarize-10k.py stalled-row             one run (JSON on stdin), one line
  summarize-10k.py storm runs.jsonl / storm-row
  summarize-10k.py reconnect runs.jsonl / reconnect-row
"""
import json
import statistics
import sys


def rss_by_phase(r):
    out = {}
    for t, mib, phase in r.get("server_rss_mib", []):
        if mib > 0:
            out[phase] = max(out.get(phase, 0), mib)
    return out


def stalled_row(r):
    p1, p2 = r["phase1_readers"], r["phase2_readers"]
    a = r["phase1_all"]
    rss = rss_by_phase(r)
    ok = (r["readers_incomplete_or_closed"] == 0 and r["readers_gaps"] == 0 and r["readers_skip_notices"] == 0
          and r["marked_unbalanced"] == 0 and (r["kind"] == "control" or r["marked_never_skipped"] == 0))
    return (f"| {r['kind']} {r['run']} | {a['p50']} / {a['p99']} / {a['p99_9']} | {p1['p99']} → {p2['p99']} "
            f"| **{r['readers_p99_ratio']}** | {p1['p99_9']} → {p2['p99_9']} | {r['marked_skipped_reported']:,} "
            f"| {r['marked_delivered']:,} + {r['marked_skipped_reported']:,} = {r['marked_published']:,} "
            f"({r['marked_unbalanced']} unbalanced) | {r['readers_gaps'] + r['readers_incomplete_or_closed']} "
            f"| {rss.get('phase1', 0):.0f} / {rss.get('phase2', 0):.0f} / {rss.get('drain', 0):.0f} "
            f"| {r['load_before']} | {'ok' if ok else 'FAIL'} |")


STALLED_HEAD = ("| Run | Phase 1, all: p50 / p99 / p99.9 (ms) | Readers p99 phase 1 → 2 (ms) | **p99 ratio** "
                "| Readers p99.9 1 → 2 | Skips reported to the marked | Marked: delivered + skipped = published "
                "| Readers' lost frames | Server RSS max (MiB) phase 1 / 2 / resume | Load avg (1/5/15 min) at start | Checks |\n"
                "|---|---|---|---|---|---|---|---|---|---|---|---|")


def stalled(path):
    runs = [json.loads(line) for line in open(path) if line.strip()]
    print(STALLED_HEAD)
    for r in runs:
        print(stalled_row(r))
    for kind in ("stall", "control"):
        ratios = [r["readers_p99_ratio"] for r in runs if r["kind"] == kind]
        if ratios:
            print(f"\n{kind}: readers' p99 ratio median {statistics.median(ratios):.3f} "
                  f"(runs {', '.join(str(x) for x in ratios)}); phase-1 p99 median "
                  f"{statistics.median(r['phase1_readers']['p99'] for r in runs if r['kind'] == kind)} ms")


def storm_row(r):
    o = r["outcomes"]
    e = r["existing"]
    return (f"| {r['run']} | {r.get('upgrade_rate', r.get('accept_rate', 'default'))} | {r.get('warmup_connections', 'default')} | {r['connects']:,} in {r['storm_seconds']} s "
            f"/ decided {r.get('all_decided_seconds', '?')} s | {r['cap_stream']:,} / {r['cap_chat']:,} "
            f"| {o.get('stream.hello', 0):,} / {o.get('stream.closed.1013', 0):,} "
            f"| {o.get('chat.hello', 0):,} / {o.get('chat.closed.1013', 0):,} | {other(o)} "
            f"| {e['stream_p99_ms']['before']} / {e['stream_p99_ms']['during']} / {e['stream_p99_ms']['after']} "
            f"| {e['chat_p99_ms']['before']} / {e['chat_p99_ms']['during']} / {e['chat_p99_ms']['after']} "
            f"| {e['missing']} | {r['server_rss_peak_mib']:.0f} (before {r['server_rss_before_mib']:.0f}) "
            f"| {r['load_before']} |")


def other(o):
    rest = {k: v for k, v in o.items() if k not in ("stream.hello", "stream.closed.1013", "chat.hello", "chat.closed.1013")}
    return ", ".join(f"{k} {v}" for k, v in sorted(rest.items())) or "none"


STORM_HEAD = ("| Run | Upgrade gate rate | Warm-up connects | Connects issued / all decided | Cap stream / chat | Stream: hello / 1013 | Chat: hello / 1013 | Other outcomes "
              "| Existing stream reader p99 before / during / after (ms) | Existing chat p99 before / during / after (ms) "
              "| Existing clients: missed | Server RSS peak (MiB) | Load avg at start |\n"
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|")


def storm(path):
    runs = [json.loads(line) for line in open(path) if line.strip()]
    print(STORM_HEAD)
    for r in runs:
        print(storm_row(r))


def reconnect_row(r):
    return (f"| {r['run']} | {r['stream']:,} + {r['chat']:,} | {r['sigterm_to_exit_seconds']} / {r['down_seconds']} "
            f"| **{r['all_back_seconds']}** ({r['all_back_after_ready_seconds']} after ready) "
            f"| {r['back_p50_seconds']} / {r['back_p99_seconds']} | {r['connect_refused']:,} | {fmt(r['close_codes'])} "
            f"| {fmt(r['reconnect_close_codes'])} "
            f"| {r['chat_members_with_gaps']} / {r['chat_members_behind']} / {r['chat_history_gap_flags']} "
            f"| {r['messages_sent']:,} / {r['messages_acked']:,} | {r.get('chat_error_codes', {}).get('unavailable', 0):,} "
            f"| {r['stream_backfill_frames']:,} / {r['stream_gaps_after_reconnect']} "
            f"| {r['server_rss_peak_mib']['first']:.0f} / {r['server_rss_peak_mib']['second']:.0f} | {r['load_before']} |")


def fmt(d):
    return ", ".join(f"{k}: {v:,}" for k, v in sorted(d.items())) or "none"


RECONNECT_HEAD = ("| Run | Clients stream + chat | SIGTERM → exit / → restarted node ready (s) | All back after the first close (s) "
                  "| Per client back p50 / p99 (s) | Connects refused while down | Close codes at the restart "
                  "| Closes after reconnecting | Chat members with a gap / behind / history-gap flags "
                  "| Chat messages sent / acked | Frames refused 'unavailable' (retried) | Stream: samples re-sent by ?since= (already seen) / seq gaps after reconnect "
                  "| Server RSS peak before / after restart (MiB) | Load avg at start |\n"
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")


def reconnect(path):
    runs = [json.loads(line) for line in open(path) if line.strip()]
    print(RECONNECT_HEAD)
    for r in runs:
        print(reconnect_row(r))


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode.endswith("-row"):
        r = json.loads(sys.stdin.read())
        print({"stalled-row": stalled_row, "storm-row": storm_row, "reconnect-row": reconnect_row}[mode](r))
    else:
        {"stalled": stalled, "storm": storm, "reconnect": reconnect}[mode](sys.argv[2])
