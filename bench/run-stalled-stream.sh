#!/usr/bin/env bash
# 1 % of 10,000 stream subscribers stalled (issue 9), two processes: the Pulse JAR alone on CPU 0, the load client
# (bench/target/pulse-bench.jar, class StalledStreamClient) on CPU 1.
#
#   bench/run-stalled-stream.sh [--repeats 3] [--subscribers 10000] [--marked 100] [--phase-ticks 30]
#                               [--client-arg --fill-seconds=12 ...]
#
# Each repeat is a pair of runs, alternating: a stalled run (the marked 1 % pause and read nothing through phase 2) and a
# control run (the same phases and the same app-sample fill, nobody pauses), so the readers' p99 ratio (phase 2 /
# phase 1) of a stalled run can be read against the control's ratio, i.e. against the noise of this machine.
# See StalledStreamClient for the phases and the checks. Per run the server's VmRSS once a second (/proc), the load
# average, and the client's JSON go to bench/target/results/stalled-<time>/runs.jsonl; a table at the end.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REPEATS=3
SUBSCRIBERS=10000
MARKED=100
PHASE_TICKS=25
CLIENT_ARGS=()
while (( $# )); do
  case $1 in
    --repeats) REPEATS=$2; shift 2 ;;
    --subscribers) SUBSCRIBERS=$2; shift 2 ;;
    --marked) MARKED=$2; shift 2 ;;
    --phase-ticks) PHASE_TICKS=$2; shift 2 ;;
    --client-arg) CLIENT_ARGS+=("$2"); shift 2 ;;
    --client-arg=*) CLIENT_ARGS+=("${1#*=}"); shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

trap bench_cleanup EXIT
trap 'exit 130' INT TERM
bench_raise_nofile $((SUBSCRIBERS + 1000))

OUT=$BENCH_DIR/target/results/stalled-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
bench_prepare "$OUT"
# a frozen copy of the client too: the bench JAR may be rebuilt while this session runs
cp "$BENCH_JAR" "$OUT/pulse-bench.jar" && BENCH_JAR=$OUT/pulse-bench.jar
COMMIT=$(git -C "$ROOT_DIR" rev-parse --short HEAD)
bench_log "machine: $(bench_machine)"
bench_log "$REPEATS pair(s) of runs, $SUBSCRIBERS subscribers ($MARKED marked), $PHASE_TICKS ticks per phase; results in $OUT"
bench_log "server JVM: $PULSE_JVM_OPTS | client JVM: $CLIENT_JVM_OPTS | ulimit -n $(ulimit -n) | scheduling: ${BENCH_PRIO[*]:-default}"

run_one() { # kind(stall|control) run
  local kind=$1 run=$2 port pid clientpid log load0 stall
  port=$(bench_free_port)
  log=$OUT/$kind-$run
  # from the results folder: a conf/config.yaml in the current directory would override the one in the JAR.
  # The optimizer is off: its default rules act on connection counts and would change the load mid-run. The chat
  # gateway's own app sample (every 5 s by default) is pushed out to an hour: the marked subscribers take the app
  # stream, and their balance (delivered + skipped = published) counts only the app samples the client posted.
  # shellcheck disable=SC2086
  (cd "$OUT" && exec env HTTP_HOST=127.0.0.1 HTTP_PORT="$port" INSTANCE_ID=bench SAMPLER_ENABLED=true \
    SAMPLER_INTERVAL_MS=1000 STREAM_MAX_SUBSCRIBERS=20000 HTTP_INSTANCES=1 OPTIMIZER_ENABLED=false \
    PULSE_INGEST_TOKEN=bench-ingest-token-0001 \
    "${BENCH_PRIO[@]}" taskset -c 0 java $PULSE_JVM_OPTS -Xlog:gc:file="$log.server.gc":timemillis,uptime \
    -Dpulse.chat.metrics_interval_ms=3600000 -jar "$PULSE_JAR_RUN") >"$log.server.log" 2>&1 &
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
  "${BENCH_PRIO[@]}" taskset -c 1 java $CLIENT_JVM_OPTS -cp "$BENCH_JAR" com.chatroom.pulse.bench.StalledStreamClient \
    --port="$port" --subscribers="$SUBSCRIBERS" --marked="$MARKED" --stall="$stall" --phase-ticks="$PHASE_TICKS" \
    --server-pid="$pid" "${CLIENT_ARGS[@]}" >"$log.client.json" 2>"$log.client.log" &
  clientpid=$!
  BENCH_PIDS+=("$clientpid")
  bench_finish_run "$clientpid" "$pid" "$log" || { bench_log "run $run $kind produced no result"; return 1; }
  bench_append_result "$log.client.json" "$OUT/runs.jsonl" kind="$kind" run:="$run" commit="$COMMIT" load_before="$load0" \
    load_after="$LOAD_AFTER" server_jvm="$PULSE_JVM_OPTS"
  python3 "$BENCH_DIR/summarize-10k.py" stalled-row <<<"$(tail -1 "$OUT/runs.jsonl")" >&2 || true
}

for run in $(seq 1 "$REPEATS"); do
  run_one stall "$run" || bench_log "run $run stall failed"
  run_one control "$run" || bench_log "run $run control failed"
done

python3 "$BENCH_DIR/summarize-10k.py" stalled "$OUT/runs.jsonl"
