#!/usr/bin/env bash
# Reconnect storm after a restart (issue 9): 10,000 clients (half /metrics/stream, half anonymous /chat in 50 rooms with
# one sender each) on the Pulse JAR in its own process (CPU 0, history and chat in a redis-server this script starts on a
# free port), then the JAR is restarted (SIGTERM: every client gets 1001; started again on the same port) and every
# client reconnects with the dashboard's jittered backoff (ReconnectClient, CPU 1).
#
#   bench/run-reconnect-storm.sh [--repeats 3] [--stream 5000] [--chat 5000] [--upgrade-rate N] [--client-arg --rooms=50 ...]
#
# --upgrade-rate: the server's http.upgrade_rate (0 = no upgrade gate; default: the server's default).
# Measured: the time from the first close until every client is back, refusals (connects refused while the node was
# down, close codes), the server's VmRSS every 200 ms (both processes), and whether each chat member recovered every
# message of its room from history (no seq gap, up to the last acked). Raw results: bench/target/results/reconnect-<time>/.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REPEATS=3
UPGRADE_RATE=
STREAM=5000
CHAT=5000
CLIENT_ARGS=()
while (( $# )); do
  case $1 in
    --repeats) REPEATS=$2; shift 2 ;;
    --stream) STREAM=$2; shift 2 ;;
    --chat) CHAT=$2; shift 2 ;;
    --upgrade-rate) UPGRADE_RATE=$2; shift 2 ;;
    --client-arg) CLIENT_ARGS+=("$2"); shift 2 ;;
    --client-arg=*) CLIENT_ARGS+=("${1#*=}"); shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
command -v redis-server >/dev/null || { echo "redis-server is not installed" >&2; exit 1; }

trap bench_cleanup EXIT
trap 'exit 130' INT TERM
bench_raise_nofile $((STREAM + CHAT + 1000))

OUT=$BENCH_DIR/target/results/reconnect-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
bench_prepare "$OUT"
cp "$BENCH_JAR" "$OUT/pulse-bench.jar" && BENCH_JAR=$OUT/pulse-bench.jar
COMMIT=$(git -C "$ROOT_DIR" rev-parse --short HEAD)
bench_log "machine: $(bench_machine); $(redis-server --version | cut -d' ' -f1-3)"
bench_log "$REPEATS run(s), $STREAM stream + $CHAT chat clients; results in $OUT"
bench_log "server JVM: $PULSE_JVM_OPTS | client JVM: $CLIENT_JVM_OPTS | ulimit -n $(ulimit -n) | scheduling: ${BENCH_PRIO[*]:-default}"

start_server() { # port redis_port log -> echoes pid
  # anonymous chat with the per-IP cap lifted (every client is 127.0.0.1); the optimizer is off, so that what is measured
  # is the restart alone
  # shellcheck disable=SC2086
  (cd "$OUT" && exec env HTTP_HOST=127.0.0.1 HTTP_PORT="$1" INSTANCE_ID=bench SAMPLER_ENABLED=true \
    SAMPLER_INTERVAL_MS=1000 HTTP_INSTANCES=1 OPTIMIZER_ENABLED=false REDIS_URL="redis://127.0.0.1:$2" \
    CHAT_ALLOW_ANONYMOUS=true CHAT_MAX_CONNECTIONS_PER_IP=$(((STREAM + CHAT) * 2)) ${UPGRADE_RATE:+HTTP_UPGRADE_RATE=$UPGRADE_RATE} \
    "${BENCH_PRIO[@]}" taskset -c 0 java $PULSE_JVM_OPTS -Xlog:gc:file="$3.gc":timemillis,uptime \
    -jar "$PULSE_JAR_RUN") >"$3" 2>&1 &
  echo $!
}

sample_rss() { # pid label file: VmRSS every 200 ms while the process lives
  while [[ -r /proc/$1/status ]]; do
    printf '%s %s %s\n' "$(date +%s%3N)" "$2" "$(awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null)"
    sleep 0.2
  done >>"$3"
}

run_one() { # run
  local run=$1 port rport rpid pid pid2 rss1 rss2 clientpid log load0 load1 t_term t_exit t_start t_ready
  port=$(bench_free_port)
  rport=$(bench_free_port)
  log=$OUT/reconnect-$run
  redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --dir "$OUT" >"$log.redis.log" 2>&1 &
  rpid=$!
  BENCH_PIDS+=("$rpid")
  pid=$(start_server "$port" "$rport" "$log.server1.log")
  BENCH_PIDS+=("$pid")
  if ! bench_wait_ready "$port" 90 "$pid"; then
    tail -20 "$log.server1.log" >&2
    bench_stop "$pid"; bench_stop "$rpid"
    return 1
  fi
  sample_rss "$pid" first "$log.rss" &
  rss1=$!
  BENCH_PIDS+=("$rss1")
  load0=$(cut -d' ' -f1-3 /proc/loadavg)
  bench_log "run $run: server pid $pid on 127.0.0.1:$port, redis on $rport, load average $load0"
  # shellcheck disable=SC2086
  "${BENCH_PRIO[@]}" taskset -c 1 java $CLIENT_JVM_OPTS -cp "$BENCH_JAR" com.chatroom.pulse.bench.ReconnectClient \
    --port="$port" --stream="$STREAM" --chat="$CHAT" --ready-file="$log.ready" "${CLIENT_ARGS[@]}" \
    >"$log.client.json" 2>"$log.client.log" &
  clientpid=$!
  BENCH_PIDS+=("$clientpid")
  local deadline=$((SECONDS + 150))
  while [[ ! -f $log.ready ]] && (( SECONDS < deadline )) && kill -0 "$clientpid" 2>/dev/null; do sleep 0.1; done
  if [[ ! -f $log.ready ]]; then
    bench_log "the client never got ready"; tail -5 "$log.client.log" >&2
    bench_stop "$clientpid"; bench_stop "$pid"; bench_stop "$rpid"
    return 1
  fi
  t_term=$(date +%s%3N)
  kill -TERM "$pid"
  for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  t_exit=$(date +%s%3N)
  bench_stop "$pid"   # KILL if it did not stop within 30 s
  bench_log "server stopped $((t_exit - t_term)) ms after SIGTERM; starting it again on port $port"
  t_start=$(date +%s%3N)
  pid2=$(start_server "$port" "$rport" "$log.server2.log")
  BENCH_PIDS+=("$pid2")
  sample_rss "$pid2" second "$log.rss" &
  rss2=$!
  BENCH_PIDS+=("$rss2")
  bench_wait_ready "$port" 90 "$pid2" || { tail -20 "$log.server2.log" >&2; }
  t_ready=$(date +%s%3N)
  bench_log "restarted server ready $((t_ready - t_start)) ms after its start"
  if ! wait "$clientpid"; then
    bench_log "load client failed:"; tail -20 "$log.client.log" >&2
  fi
  load1=$(cut -d' ' -f1-3 /proc/loadavg)
  bench_stop "$clientpid"
  bench_stop "$pid2"
  bench_stop "$rss1"; bench_stop "$rss2"
  bench_stop "$rpid"
  if [[ ! -s $log.client.json ]]; then
    bench_log "run $run produced no result"
    return 1
  fi
  RESULT_JSON=$(tail -1 "$log.client.json") python3 - "$run" "$COMMIT" "$load0" "$load1" "$PULSE_JVM_OPTS" \
    "$t_term" "$t_exit" "$t_start" "$t_ready" "$log.rss" "$(cat "$log.server1.log" "$log.server2.log" | grep -c ERROR || true)" \
    >>"$OUT/runs.jsonl" <<'EOF'
import json, os, sys
r = json.loads(os.environ["RESULT_JSON"])
run, commit, load0, load1, jvm, t_term, t_exit, t_start, t_ready, rss_file, errors = sys.argv[1:]
t_term, t_exit, t_start, t_ready = map(int, (t_term, t_exit, t_start, t_ready))
peaks = {"first": 0.0, "second": 0.0}
for line in open(rss_file):
    parts = line.split()
    if len(parts) == 3 and parts[2].isdigit():
        peaks[parts[1]] = max(peaks[parts[1]], int(parts[2]) / 1024)
r.update(run=int(run), commit=commit, load_before=load0, load_after=load1, server_jvm=jvm,
         sigterm_to_exit_seconds=round((t_exit - t_term) / 1000, 2), down_seconds=round((t_ready - t_term) / 1000, 2),
         restart_to_ready_seconds=round((t_ready - t_start) / 1000, 2),
         all_back_after_ready_seconds=None if not r.get("all_back_epoch_ms") else round((r["all_back_epoch_ms"] - t_ready) / 1000, 2),
         server_rss_peak_mib={k: round(v, 1) for k, v in peaks.items()}, server_error_lines=int(errors or 0),
         stream_gap_ticks_during_restart="n/a")
print(json.dumps(r))
EOF
  python3 "$BENCH_DIR/summarize-10k.py" reconnect-row <<<"$(tail -1 "$OUT/runs.jsonl")" >&2 || true
}

for run in $(seq 1 "$REPEATS"); do
  run_one "$run" || bench_log "run $run failed"
done

python3 "$BENCH_DIR/summarize-10k.py" reconnect "$OUT/runs.jsonl"
