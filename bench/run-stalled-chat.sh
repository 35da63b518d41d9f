#!/usr/bin/env bash
# 1 % of chat clients stalled (issue 9), two processes: the Pulse JAR alone on CPU 0, the load client
# (bench/target/pulse-bench.jar, ChatLoadClient --scenario=stall) on CPU 1.
#
#   bench/run-stalled-chat.sh [--repeats 3] [--rooms 10] [--members 500] [--rate 1] [--phase 30] [--warmup 30]
#                             [--client-arg --bulk-size=16384 ...]
#
# Each repeat is a pair of runs, alternating: a stalled run (every 100th member, also in a bulk room, stops reading
# for phase 2) and a control run (the same members, rooms, bulk room and phases; nobody stops), so the readers' p99 in
# phase 2 of a stalled run can be read against the control's phase 2, i.e. against the noise of this machine. The
# server runs with the chat defaults a user gets (256 KB outbound queue per connection, history in memory), anonymous
# chat allowed, the per-IP cap lifted (every client is 127.0.0.1) and the optimizer off (its connection rules would
# change the load mid-run). Per run the client's JSON goes to bench/target/results/stalled-chat-<time>/runs.jsonl,
# with the server's log and GC log beside it; a table at the end.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REPEATS=3
ROOMS=10
MEMBERS=500
RATE=1
PHASE=30
WARMUP=30
CLIENT_ARGS=()
while (( $# )); do
  case $1 in
    --repeats) REPEATS=$2; shift 2 ;;
    --rooms) ROOMS=$2; shift 2 ;;
    --members) MEMBERS=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --phase) PHASE=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --client-arg) CLIENT_ARGS+=("$2"); shift 2 ;;
    --client-arg=*) CLIENT_ARGS+=("${1#*=}"); shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

trap bench_cleanup EXIT
trap 'exit 130' INT TERM
bench_raise_nofile $((ROOMS * MEMBERS + 1000))

OUT=$BENCH_DIR/target/results/stalled-chat-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
bench_prepare "$OUT"
cp "$BENCH_JAR" "$OUT/pulse-bench.jar" && BENCH_JAR=$OUT/pulse-bench.jar
COMMIT=$(git -C "$ROOT_DIR" rev-parse --short HEAD)
bench_log "machine: $(bench_machine)"
bench_log "$REPEATS pair(s) of runs, $ROOMS rooms x $MEMBERS members, $RATE msg/s per room, phases of $PHASE s; results in $OUT"
bench_log "server JVM: $PULSE_JVM_OPTS | client JVM: $CLIENT_JVM_OPTS | ulimit -n $(ulimit -n) | scheduling: ${BENCH_PRIO[*]:-default}"

CHAT_CONF='{"chat":{"messages_per_second":100,"burst":200,"max_connections":50000,"max_message_chars":20000,"history_size":1000}}'

run_one() { # kind(stall|control) run
  local kind=$1 run=$2 port pid clientpid log load0 stall
  port=$(bench_free_port)
  log=$OUT/$kind-$run
  # shellcheck disable=SC2086
  (cd "$OUT" && exec env HTTP_HOST=127.0.0.1 HTTP_PORT="$port" INSTANCE_ID=bench HTTP_INSTANCES=1 OPTIMIZER_ENABLED=false \
    CHAT_ALLOW_ANONYMOUS=true CHAT_MAX_CONNECTIONS_PER_IP=100000 LOG_LEVEL=WARN \
    "${BENCH_PRIO[@]}" taskset -c 0 java $PULSE_JVM_OPTS -Xlog:gc:file="$log.server.gc":timemillis,uptime \
    -jar "$PULSE_JAR_RUN" -conf "$CHAT_CONF") >"$log.server.log" 2>&1 &
  pid=$!
  BENCH_PIDS+=("$pid")
  if ! bench_wait_ready "$port" 90 "$pid"; then
    tail -20 "$log.server.log" >&2
    bench_stop "$pid"
    return 1
  fi
  [[ $kind == stall ]] && stall=true || stall=false
  load0=$(cut -d' ' -f1-3 /proc/loadavg)
  bench_log "run $run $kind: server pid $pid on 127.0.0.1:$port, load average $load0"
  # shellcheck disable=SC2086
  "${BENCH_PRIO[@]}" taskset -c 1 java $CLIENT_JVM_OPTS -cp "$BENCH_JAR" com.chatroom.pulse.bench.ChatLoadClient \
    --url="ws://127.0.0.1:$port/chat" --scenario=stall --rooms="$ROOMS" --members="$MEMBERS" --rate="$RATE" \
    --stall="$stall" --duration="$PHASE" --warmup="$WARMUP" --pid="$pid" --label="$kind" "${CLIENT_ARGS[@]}" \
    >"$log.client.json" 2>"$log.client.log" &
  clientpid=$!
  BENCH_PIDS+=("$clientpid")
  bench_finish_run "$clientpid" "$pid" "$log" || { bench_log "run $run $kind produced no result"; return 1; }
  bench_append_result "$log.client.json" "$OUT/runs.jsonl" kind="$kind" run:="$run" commit="$COMMIT" load_before="$load0" \
    load_after="$LOAD_AFTER" server_jvm="$PULSE_JVM_OPTS"
}

for run in $(seq 1 "$REPEATS"); do
  run_one stall "$run" || bench_log "run $run stall failed"
  run_one control "$run" || bench_log "run $run control failed"
done

python3 - "$OUT/runs.jsonl" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print("\n| run | kind | readers' deliveries phase 1 / 2 | p50 ms phase 1 / 2 | p99 ms phase 1 / 2 | p99 ms, phase 2's first seconds | p99 ratio 2/1 | lost / reordered / gaps | marked: slow disconnects, all cut after | marked close codes | server RSS MiB phase 1 end / max | load before |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    s = r["stall"]
    print(f"| {r['run']} | {r['kind']} | {s['deliveries_phase1']} / {s['deliveries_phase2']} | {r['p50_ms']} / {s['p50_ms_phase2']} | "
          f"{r['p99_ms']} / {s['p99_ms_phase2']} | {s.get('p99_ms_phase2_head')} ({s.get('head_seconds')} s) | {s['p99_ratio']} | {r['loss']} / {r['reorders']} / {r['gaps']} | "
          f"{s['slow_disconnects_phase2']} of {s['marked']}, {s['all_marked_cut_after_s']} s | {s['marked_close_codes']} | "
          f"{s['server_rss_mib_phase1_end']} / {s['server_rss_mib_max']} | {r['load_before']} |")
pairs = {}
for r in rows:
    pairs.setdefault(r["run"], {})[r["kind"]] = r
ratios = []
for run, p in sorted(pairs.items()):
    if "stall" in p and "control" in p:
        ratio = p["stall"]["stall"]["p99_ms_phase2"] / p["control"]["stall"]["p99_ms_phase2"]
        head = p["stall"]["stall"]["p99_ms_phase2_head"] / p["control"]["stall"]["p99_ms_phase2_head"]
        ratios.append((ratio, head))
        print(f"pair {run}: readers' phase-2 p99, stalled run / control run = {ratio:.2f} over the phase, "
              f"{head:.2f} over its first {p['stall']['stall']['head_seconds']} s (while the stalled fill their queues)")
if ratios:
    print(f"median over {len(ratios)} pair(s): {statistics.median(r[0] for r in ratios):.2f} over the phase, "
          f"{statistics.median(r[1] for r in ratios):.2f} over its first seconds (target: at most 1.10)")
EOF
bench_log "raw results: $OUT/runs.jsonl"
