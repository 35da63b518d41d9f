#!/usr/bin/env bash
# Connection storm (issue 9): 10,000 WebSocket connects in 5 s, half /metrics/stream and half /chat (anonymous), against
# the Pulse JAR in its own process (CPU 0) from the load client (StormClient, CPU 1), with the caps set so that they bite.
#
#   bench/run-storm.sh [--repeats 3] [--connects 10000] [--stream-cap 4000] [--chat-cap 4000] [--upgrade-rates "1000 0"]
#                      [--warmups "2000 0"] [--client-arg --before=10 ...]
#
# --upgrade-rates: the server's http.upgrade_rate (the upgrade gate) for each run of a repeat, in turn (default: the server's default
# only); "1000 0" alternates the gate at its default with no gate, side by side. --warmups: the server's
# http.warmup_connections (start-up warm-up of the handshake paths, before it is ready) for each run, in turn, the
# same way (default: the server's default only).
# Existing clients (a stream reader, chat members in one room) are measured before, during and after the storm; every
# connect's outcome is recorded (hello, or close code, or failed handshake); the server's VmRSS is read every 100 ms and
# compared with its -Xmx and the seed's 512 MiB container limit. Raw results: bench/target/results/storm-<time>/runs.jsonl.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REPEATS=3
CONNECTS=10000
STREAM_CAP=4000
CHAT_CAP=4000
CLIENT_ARGS=()
UPGRADE_RATES=default
WARMUPS=default
while (( $# )); do
  case $1 in
    --repeats) REPEATS=$2; shift 2 ;;
    --connects) CONNECTS=$2; shift 2 ;;
    --stream-cap) STREAM_CAP=$2; shift 2 ;;
    --chat-cap) CHAT_CAP=$2; shift 2 ;;
    --upgrade-rates) UPGRADE_RATES=$2; shift 2 ;;
    --warmups) WARMUPS=$2; shift 2 ;;
    --client-arg) CLIENT_ARGS+=("$2"); shift 2 ;;
    --client-arg=*) CLIENT_ARGS+=("${1#*=}"); shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

trap bench_cleanup EXIT
trap 'exit 130' INT TERM
bench_raise_nofile $((CONNECTS + 1000))

OUT=$BENCH_DIR/target/results/storm-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
bench_prepare "$OUT"
cp "$BENCH_JAR" "$OUT/pulse-bench.jar" && BENCH_JAR=$OUT/pulse-bench.jar
COMMIT=$(git -C "$ROOT_DIR" rev-parse --short HEAD)
bench_log "machine: $(bench_machine)"
bench_log "$REPEATS run(s), $CONNECTS connects, caps stream $STREAM_CAP / chat $CHAT_CAP; results in $OUT"
bench_log "server JVM: $PULSE_JVM_OPTS | client JVM: $CLIENT_JVM_OPTS | ulimit -n $(ulimit -n) | scheduling: ${BENCH_PRIO[*]:-default}"

run_one() { # run upgrade-rate(default|N) warmup(default|N)
  local run=$1 rate=$2 warmup=$3 port pid clientpid log load0 load1 gate=()
  port=$(bench_free_port)
  log=$OUT/storm-$run-rate-$rate-warmup-$warmup
  [[ $rate == default ]] || gate=(HTTP_UPGRADE_RATE="$rate")
  [[ $warmup == default ]] || gate+=(HTTP_WARMUP_CONNECTIONS="$warmup")
  # the per-IP chat cap is lifted (every client is 127.0.0.1), so the node-wide caps are what bites; the optimizer is off
  # so that what is measured is the caps alone
  # shellcheck disable=SC2086
  (cd "$OUT" && exec env HTTP_HOST=127.0.0.1 HTTP_PORT="$port" INSTANCE_ID=bench SAMPLER_ENABLED=true \
    SAMPLER_INTERVAL_MS=1000 HTTP_INSTANCES=1 OPTIMIZER_ENABLED=false PULSE_INGEST_TOKEN=bench-ingest-token-0001 \
    STREAM_MAX_SUBSCRIBERS="$STREAM_CAP" CHAT_MAX_CONNECTIONS="$CHAT_CAP" CHAT_ALLOW_ANONYMOUS=true \
    CHAT_MAX_CONNECTIONS_PER_IP=$((CONNECTS * 2)) "${gate[@]}" \
    "${BENCH_PRIO[@]}" taskset -c 0 java $PULSE_JVM_OPTS -Xlog:gc:file="$log.server.gc":timemillis,uptime \
    -jar "$PULSE_JAR_RUN") >"$log.server.log" 2>&1 &
  pid=$!
  BENCH_PIDS+=("$pid")
  if ! bench_wait_ready "$port" 90 "$pid"; then
    tail -20 "$log.server.log" >&2
    bench_stop "$pid"
    return 1
  fi
  load0=$(cut -d' ' -f1-3 /proc/loadavg)
  bench_log "run $run (upgrade gate rate $rate, warm-up $warmup): server pid $pid on 127.0.0.1:$port, load average $load0"
  # shellcheck disable=SC2086
  "${BENCH_PRIO[@]}" taskset -c 1 java $CLIENT_JVM_OPTS -cp "$BENCH_JAR" com.chatroom.pulse.bench.StormClient \
    --port="$port" --connects="$CONNECTS" --server-pid="$pid" "${CLIENT_ARGS[@]}" >"$log.client.json" 2>"$log.client.log" &
  clientpid=$!
  BENCH_PIDS+=("$clientpid")
  if ! wait "$clientpid"; then
    bench_log "load client failed:"; tail -20 "$log.client.log" >&2
  fi
  load1=$(cut -d' ' -f1-3 /proc/loadavg)
  bench_stop "$clientpid"
  bench_stop "$pid"
  grep -E 'ERROR|Exception' "$log.server.log" | head -5 >&2 || true
  if [[ ! -s $log.client.json ]]; then
    bench_log "run $run produced no result"
    return 1
  fi
  RESULT_JSON=$(tail -1 "$log.client.json") python3 - "$run" "$COMMIT" "$load0" "$load1" "$PULSE_JVM_OPTS" \
    "$STREAM_CAP" "$CHAT_CAP" "$(grep -cE 'ERROR' "$log.server.log" || true)" "$rate" "$warmup" \
    "$(grep -o 'Warmed up the WebSocket handshake paths.*' "$log.server.log" | head -1)" >>"$OUT/runs.jsonl" <<'EOF'
import json, os, sys
r = json.loads(os.environ["RESULT_JSON"])
r.update(run=int(sys.argv[1]), commit=sys.argv[2], load_before=sys.argv[3], load_after=sys.argv[4], server_jvm=sys.argv[5],
         cap_stream=int(sys.argv[6]), cap_chat=int(sys.argv[7]), server_error_lines=int(sys.argv[8] or 0),
         upgrade_rate=sys.argv[9], warmup_connections=sys.argv[10], warmup_log=sys.argv[11])
print(json.dumps(r))
EOF
  python3 "$BENCH_DIR/summarize-10k.py" storm-row <<<"$(tail -1 "$OUT/runs.jsonl")" >&2 || true
}

for run in $(seq 1 "$REPEATS"); do
  for rate in $UPGRADE_RATES; do
    for warmup in $WARMUPS; do
      run_one "$run" "$rate" "$warmup" || bench_log "run $run (upgrade gate rate $rate, warm-up $warmup) failed"
    done
  done
done

python3 "$BENCH_DIR/summarize-10k.py" storm "$OUT/runs.jsonl"
