#!/usr/bin/env bash
# Stream fan-out benchmark: N WebSocket subscribers on /metrics/stream of one server, 1 sample/s.
#
#   bench/run-stream-fanout.sh [--target pulse|node|both] [--repeats 3] [--subscribers 10000]
#                              [--warmup 60] [--duration 60] [--client-arg --compression=true ...]
#
# Per run: the server (Pulse JAR, or the Node ws reference) starts pinned to CPU 0 on a free loopback port, the load
# client (bench/target/pulse-bench.jar) runs pinned to CPU 1, connects the subscribers 200 at a time, warms up, and
# measures one window. The client reads the server's utime+stime from /proc/<pid>/stat at the exact window
# boundaries and its VmRSS every second; CPU per delivery = server CPU seconds in the window / frames the
# subscribers received in it. --target both alternates pulse and node runs in one session. Medians at the end.
# Raw results: bench/target/results/fanout-<time>/runs.jsonl (one JSON object per run), plus server/client logs.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TARGET=pulse
REPEATS=3
SUBSCRIBERS=10000
WARMUP=60
DURATION=60
CLIENT_ARGS=()
# The figure is about one sample per second: subscribe to the system stream only. Without the filter Pulse also
# pushes its chat gateway's app metrics (one frame per subscriber every 5 s) that the client does not count as
# deliveries, so they would inflate CPU per delivery by ~20 % and add a second fan-out to every fifth tick.
# STREAM_PATH=/metrics/stream measures everything.
STREAM_PATH=${STREAM_PATH:-/metrics/stream?streams=system}
while (( $# )); do
  case $1 in
    --target) TARGET=$2; shift 2 ;;
    --target=*) TARGET=${1#*=}; shift ;;
    --repeats) REPEATS=$2; shift 2 ;;
    --repeats=*) REPEATS=${1#*=}; shift ;;
    --subscribers) SUBSCRIBERS=$2; shift 2 ;;
    --subscribers=*) SUBSCRIBERS=${1#*=}; shift ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --warmup=*) WARMUP=${1#*=}; shift ;;
    --duration) DURATION=$2; shift 2 ;;
    --duration=*) DURATION=${1#*=}; shift ;;
    --client-arg) CLIENT_ARGS+=("$2"); shift 2 ;;
    --client-arg=*) CLIENT_ARGS+=("${1#*=}"); shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
case $TARGET in
  pulse) TARGETS=(pulse) ;;
  node) TARGETS=(node) ;;
  both) TARGETS=(pulse node) ;;
  *) echo "--target must be pulse, node or both" >&2; exit 2 ;;
esac

trap bench_cleanup EXIT
trap 'exit 130' INT TERM
bench_raise_nofile $((SUBSCRIBERS + 1000))

OUT=$BENCH_DIR/target/results/fanout-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
bench_prepare "$OUT"
[[ " ${TARGETS[*]} " == *" node "* ]] && bench_prepare_node
bench_log "machine: $(bench_machine)"
bench_log "targets ${TARGETS[*]}, $REPEATS repeat(s), $SUBSCRIBERS subscribers, warm-up ${WARMUP}s, window ${DURATION}s; results in $OUT"
bench_log "server JVM: $PULSE_JVM_OPTS | client JVM: $CLIENT_JVM_OPTS | ulimit -n $(ulimit -n) | scheduling: ${BENCH_PRIO[*]:-default}"

start_server() { # target port log -> echoes pid
  local target=$1 port=$2 log=$3
  if [[ $target == pulse ]]; then
    # run from the results folder: a conf/config.yaml in the current directory would override the one in the JAR
    # shellcheck disable=SC2086
    (cd "$OUT" && exec env HTTP_HOST=127.0.0.1 HTTP_PORT="$port" INSTANCE_ID=bench SAMPLER_ENABLED=true \
      SAMPLER_INTERVAL_MS=1000 STREAM_MAX_SUBSCRIBERS=20000 HTTP_INSTANCES=1 \
      "${BENCH_PRIO[@]}" taskset -c 0 java $PULSE_JVM_OPTS -Xlog:gc:file="$log.gc":timemillis,uptime -jar "$PULSE_JAR_RUN") >"$log" 2>&1 &
  else
    env HTTP_HOST=127.0.0.1 HTTP_PORT="$port" INSTANCE_ID=bench SAMPLER_INTERVAL_MS=1000 STREAM_MAX_SUBSCRIBERS=20000 \
      "${BENCH_PRIO[@]}" taskset -c 0 node "$NODE_REF/server.js" >"$log" 2>&1 &
  fi
  echo $!
}

run_one() { # target run
  local target=$1 run=$2 port pid rsspid clientpid log json
  port=$(bench_free_port)
  log=$OUT/$target-$run
  pid=$(start_server "$target" "$port" "$log.server.log")
  BENCH_PIDS+=("$pid")
  if ! bench_wait_ready "$port" 90 "$pid"; then
    tail -20 "$log.server.log" >&2
    bench_stop "$pid"
    return 1
  fi
  # whole-run RSS (connect phase included), once a second; the client reports the max over the window itself
  ( while [[ -r /proc/$pid/status ]]; do
      awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true
      sleep 1
    done ) >"$log.rss" &
  rsspid=$!
  BENCH_PIDS+=("$rsspid")
  bench_log "run $run/$REPEATS $target: server pid $pid on 127.0.0.1:$port"
  # shellcheck disable=SC2086
  # in the background and waited for, so that an interrupt reaches the EXIT trap at once
  "${BENCH_PRIO[@]}" taskset -c 1 java $CLIENT_JVM_OPTS -Xlog:gc:file="$log.client.gc":timemillis,uptime \
    -jar "$BENCH_JAR" --host=127.0.0.1 --port="$port" --subscribers="$SUBSCRIBERS" --warmup="$WARMUP" \
    --duration="$DURATION" --server-pid="$pid" --path="$STREAM_PATH" "${CLIENT_ARGS[@]}" >"$log.client.json" 2>"$log.client.log" &
  clientpid=$!
  BENCH_PIDS+=("$clientpid")
  if ! wait "$clientpid"; then
    bench_log "load client failed:"; tail -20 "$log.client.log" >&2
  fi
  bench_stop "$clientpid"
  bench_stop "$rsspid"
  bench_stop "$pid"
  json=$(tail -1 "$log.client.json")
  if [[ -z $json ]]; then
    bench_log "run $run $target produced no result"
    return 1
  fi
  BENCH_SCHED_USED="${BENCH_PRIO[*]:-default}" \
    python3 "$BENCH_DIR/summarize.py" annotate "$target" "$run" "$log.rss" "$PULSE_JVM_OPTS" "$log.server.log.gc" \
    <<<"$json" >>"$OUT/runs.jsonl"
  python3 "$BENCH_DIR/summarize.py" fanout-row <<<"$(tail -1 "$OUT/runs.jsonl")" >&2 || true
}

for run in $(seq 1 "$REPEATS"); do
  for target in "${TARGETS[@]}"; do
    run_one "$target" "$run" || bench_log "run $run $target failed"
  done
done

python3 "$BENCH_DIR/summarize.py" fanout "$OUT/runs.jsonl"
