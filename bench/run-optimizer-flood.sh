#!/usr/bin/env bash
# Optimizer under a connection flood (issue 5): existing chat and stream users' latency and the server's RSS, with the
# optimizer off and on, before and during a flood of idle connections.
#
#   bench/run-optimizer-flood.sh [--repeats 2] [--chat-users 50] [--stream-users 100] [--flood-stream 10000]
#                                [--flood-chat 4000] [--warmup 10] [--baseline 40] [--flood-window 60]
#                                [--modes "off on"] [--client-arg --key=value ...]
#
# Per run: the Pulse JAR starts pinned to CPU 0 with the bench config (written to the results folder, passed with
# -conf: the optimizer's rules react to the flood within seconds), the load client (bench/target/pulse-bench.jar,
# main class FloodClient) runs pinned to CPU 1 and: connects the existing users (chat clients sending 1 msg/s in one
# room, stream subscribers pinging every 3 s), warms up, measures the baseline window, opens the flood (idle stream
# listeners and idle chat connections, never a frame from them), measures the flood window. After the client, the
# script reads the optimizer's audit (GET /api/optimizer/actions) and the server's close/refusal counters. Each
# repeat runs OPTIMIZER_ENABLED=false then =true (the order alternates between repeats). Medians at the end.
# Raw results: bench/target/results/flood-<time>/runs.jsonl, plus the config, server/client logs and audits.
# Everything runs in a network namespace of its own (unshare -n): see below; BENCH_NETNS=off to run in the host's.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ORIG_ARGS=("$@")

REPEATS=2
CHAT_USERS=50
STREAM_USERS=100
FLOOD_STREAM=10000
FLOOD_CHAT=4000
WARMUP=10
BASELINE=40
FLOOD_WINDOW=60
MODES="off on"
CLIENT_ARGS=()
while (( $# )); do
  case $1 in
    --repeats) REPEATS=$2; shift 2 ;;
    --chat-users) CHAT_USERS=$2; shift 2 ;;
    --stream-users) STREAM_USERS=$2; shift 2 ;;
    --flood-stream) FLOOD_STREAM=$2; shift 2 ;;
    --flood-chat) FLOOD_CHAT=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --baseline) BASELINE=$2; shift 2 ;;
    --flood-window) FLOOD_WINDOW=$2; shift 2 ;;
    --modes) MODES=$2; shift 2 ;;
    --repeats=*|--chat-users=*|--stream-users=*|--flood-stream=*|--flood-chat=*|--warmup=*|--baseline=*|--flood-window=*|--modes=*)
      set -- "${1%%=*}" "${1#*=}" "${@:2}" ;;
    --client-arg) CLIENT_ARGS+=("$2"); shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

# The connection rule's metric, active_connections, is the established TCP connections the server's network namespace
# sees (/proc/net/tcp): in a pod, the pod's own; on this shared machine, everybody's (other sessions' tests and
# benchmarks hold thousands at times). So the whole run goes into a network namespace of its own (unshare -n, loopback
# only), where the server and the client see only each other, as in a pod. BENCH_NETNS=off runs in the host's.
if [[ ${BENCH_NETNS:-on} == on ]]; then
  # build what is missing first: there is no network in the namespace
  [[ -f $PULSE_JAR_SRC || -n ${PULSE_REF:-} ]] || (cd "$ROOT_DIR" && mvn -B -q package -DskipTests)
  [[ -f $BENCH_JAR ]] || mvn -B -q -f "$BENCH_DIR/pom.xml" package -DskipTests
  if [[ -n ${PULSE_REF:-} ]]; then
    bench_log "PULSE_REF needs git and maybe Maven downloads: building it before entering the namespace"
    bench_prepare "$(mktemp -d)"
  fi
  exec unshare -n env BENCH_NETNS=inside bash -c 'ip link set lo up && exec "$0" "$@"' "$0" "${ORIG_ARGS[@]}"
fi

trap bench_cleanup EXIT
trap 'exit 130' INT TERM
bench_raise_nofile $((FLOOD_STREAM + FLOOD_CHAT + 2000))

OUT=$BENCH_DIR/target/results/flood-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
bench_prepare "$OUT"

# The bench config, merged over the defaults (conf/config.yaml in the JAR): -conf replaces optimizer.rules as a whole
# (lists are not merged), so these two rules are the only ones. active_connections is the host's established TCP
# connections: on loopback each WebSocket counts twice (client and server end), so the existing users are ~300 and
# the flood adds ~2 x (flood-stream + flood-chat); 1000 is far below the flood and far above the baseline.
CONF=$OUT/bench-config.json
cat >"$CONF" <<EOF
{
  "chat": {"allow_anonymous": true, "max_connections_per_ip": 100000},
  "stream": {"max_subscribers": 20000},
  "optimizer": {
    "max_actions_per_hour": 12,
    "rules": [
      {"name": "connections_flood", "metric": "active_connections", "op": ">", "threshold": 1000, "for": "5s",
       "clear_threshold": 800, "clear_for": "30s", "cooldown": "60s",
       "action": {"type": "reap_idle", "idle_seconds": 10},
       "verify": {"settle": "20s", "min_improvement": 0.1}},
      {"name": "connections_shed", "metric": "active_connections", "op": ">", "threshold": 1000, "for": "3s",
       "clear_threshold": 800, "clear_for": "30s", "cooldown": "60s",
       "action": {"type": "shed_load", "cap": $((CHAT_USERS + 50)), "stream_cap": $((STREAM_USERS + 50))},
       "verify": {"settle": "20s", "min_improvement": 0.1}}
    ]
  }
}
EOF

bench_log "machine: $(bench_machine)"
bench_log "modes ${MODES}, $REPEATS repeat(s); existing users: $CHAT_USERS chat + $STREAM_USERS stream; flood: $FLOOD_STREAM stream + $FLOOD_CHAT chat; warm-up ${WARMUP}s, baseline ${BASELINE}s, flood window ${FLOOD_WINDOW}s; results in $OUT"
bench_log "network namespace: ${BENCH_NETNS:-on} (established TCP connections seen at start: $(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '$4 == "01"' | wc -l))"
bench_log "server JVM: $PULSE_JVM_OPTS | client JVM: $CLIENT_JVM_OPTS | ulimit -n $(ulimit -n) | scheduling: ${BENCH_PRIO[*]:-default} | loadavg $(cut -d' ' -f1-3 /proc/loadavg)"

run_one() { # mode(on|off) run
  local mode=$1 run=$2 port pid clientpid log json enabled
  [[ $mode == on ]] && enabled=true || enabled=false
  port=$(bench_free_port)
  log=$OUT/$mode-$run
  # run from the results folder: a conf/config.yaml in the current directory would override the one in the JAR
  # shellcheck disable=SC2086
  (cd "$OUT" && exec env HTTP_HOST=127.0.0.1 HTTP_PORT="$port" INSTANCE_ID=bench SAMPLER_ENABLED=true \
    SAMPLER_INTERVAL_MS=1000 HTTP_INSTANCES=1 OPTIMIZER_ENABLED=$enabled CHAT_ALLOW_ANONYMOUS=true \
    "${BENCH_PRIO[@]}" taskset -c 0 java $PULSE_JVM_OPTS -Xlog:gc:file="$log.server.gc":timemillis,uptime \
    -jar "$PULSE_JAR_RUN" -conf "$CONF") >"$log.server.log" 2>&1 &
  pid=$!
  BENCH_PIDS+=("$pid")
  if ! bench_wait_ready "$port" 90 "$pid"; then
    tail -20 "$log.server.log" >&2
    bench_stop "$pid"
    return 1
  fi
  bench_log "run $run/$REPEATS optimizer $mode: server pid $pid on 127.0.0.1:$port, loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
  # shellcheck disable=SC2086
  "${BENCH_PRIO[@]}" taskset -c 1 java $CLIENT_JVM_OPTS -cp "$BENCH_JAR" com.chatroom.pulse.bench.FloodClient \
    --host=127.0.0.1 --port="$port" --server-pid="$pid" --chat-users="$CHAT_USERS" --stream-users="$STREAM_USERS" \
    --flood-stream="$FLOOD_STREAM" --flood-chat="$FLOOD_CHAT" --warmup="$WARMUP" --baseline="$BASELINE" \
    --flood-window="$FLOOD_WINDOW" "${CLIENT_ARGS[@]}" >"$log.client.json" 2>"$log.client.log" &
  clientpid=$!
  BENCH_PIDS+=("$clientpid")
  if ! wait "$clientpid"; then
    bench_log "load client failed:"; tail -20 "$log.client.log" >&2
  fi
  # the server's own view, while the flood client has just gone: the optimizer's audit and the close/refusal counters
  curl -s --max-time 5 "http://127.0.0.1:$port/api/optimizer/actions?limit=1000" >"$log.audit.json" || true
  curl -s --max-time 5 "http://127.0.0.1:$port/metrics" \
    | grep -E '^pulse_(stream_disconnects_total|chat_disconnects_total|chat_connections_refused_total|optimizer_decisions_total)' \
    >"$log.counters.txt" || true
  bench_stop "$clientpid"
  bench_stop "$pid"
  json=$(tail -1 "$log.client.json")
  if [[ -z $json || $json != \{* ]]; then
    bench_log "run $run $mode produced no result"
    return 1
  fi
  python3 "$BENCH_DIR/summarize-flood.py" annotate "$mode" "$run" "$log.audit.json" "$log.counters.txt" \
    "$PULSE_JVM_OPTS" "${BENCH_PRIO[*]:-default}" <<<"$json" >>"$OUT/runs.jsonl"
  python3 "$BENCH_DIR/summarize-flood.py" row <<<"$(tail -1 "$OUT/runs.jsonl")" >&2 || true
}

read -r -a MODE_LIST <<<"$MODES"
for run in $(seq 1 "$REPEATS"); do
  order=("${MODE_LIST[@]}")
  if (( run % 2 == 0 )); then # alternate the order, so neither mode always runs first
    order=(); for (( i=${#MODE_LIST[@]}-1; i>=0; i-- )); do order+=("${MODE_LIST[$i]}"); done
  fi
  for mode in "${order[@]}"; do
    run_one "$mode" "$run" || bench_log "run $run $mode failed"
  done
done

python3 "$BENCH_DIR/summarize-flood.py" table "$OUT/runs.jsonl"
