#!/usr/bin/env bash
# One command for the chat comparison: Pulse's WS /chat (the fat JAR) against a plain Node `ws` broadcast server,
# same load client, same scenarios. The server runs on core 0 and the load client on core 1 (taskset), so each has
# a core of its own on a 2-core machine. Results: a Markdown table on stdout, JSON lines in results/.
#   bench-chat/run.sh                      # everything (about 10 minutes)
#   SCENARIOS="room idle" bench-chat/run.sh
#   TARGETS=pulse DURATION=20 bench-chat/run.sh
#   PULSE_JVM_EXTRA=-XX:+UseZGC bench-chat/run.sh   # extra JVM flags for the Pulse server only
#   CLIENT=node bench-chat/run.sh          # the Node load client (load.js) instead of bench/'s Java one
#   WARMUP=30 bench-chat/run.sh            # seconds of traffic before the window (default 5; the JVM compiles its paths
#                                          # in the first ~30 s, so 30 measures the steady state)
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(cd .. && pwd)
JAR="$ROOT/target/chatroom-pulse.jar"
DURATION=${DURATION:-30}
WARMUP=${WARMUP:-5}
TARGETS=${TARGETS:-"pulse reference"}
SCENARIOS=${SCENARIOS:-"idle room room10k rooms rooms-slow"}
PORT_PULSE=${PORT_PULSE:-18888}
PORT_REF=${PORT_REF:-19900}
mkdir -p results
OUT="results/$(date +%Y%m%d-%H%M%S).jsonl"

[ -d node_modules/ws ] || npm install --no-audit --no-fund >/dev/null
[ -f "$JAR" ] || (cd "$ROOT" && mvn -B -q package -DskipTests)
# The load client of the traffic scenarios: java (default: bench/'s ChatLoadClient, Netty epoll, ~3x cheaper per
# received message than the Node one, so that in a 5,000-member room the server, not the client, sets the latency)
# or node (load.js, the first client; it spends ~11 us of its core per message). The idle scenario always uses node.
CLIENT=${CLIENT:-java}
BENCH_JAR="$ROOT/bench/target/pulse-bench.jar"
if [ "$CLIENT" = java ] && [ ! -f "$BENCH_JAR" ]; then mvn -B -q -f "$ROOT/bench/pom.xml" package; fi
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

SERVER_PID=""
stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
trap stop_server EXIT

wait_port() {
  for _ in $(seq 1 300); do
    (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "server on port $1 did not come up" >&2; return 1
}

start_server() {
  for port in $PORT_PULSE $PORT_REF; do
    if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "port $port is already in use: stop what listens there, or set PORT_PULSE / PORT_REF" >&2; exit 1
    fi
  done
  case "$1" in
    pulse)
      HTTP_PORT=$PORT_PULSE INSTANCE_ID=bench OPTIMIZER_ENABLED=false CHAT_ALLOW_ANONYMOUS=true CHAT_MAX_CONNECTIONS_PER_IP=100000 LOG_LEVEL=WARN \
        taskset -c 0 java -Xms384m -Xmx384m ${PULSE_JVM_EXTRA:-} -jar "$JAR" \
        -conf '{"chat":{"messages_per_second":100,"burst":200,"max_connections":50000,"history_size":1000}}' >results/pulse-server.log 2>&1 &
      SERVER_PID=$!; PORT=$PORT_PULSE; METRICS="http://127.0.0.1:$PORT_PULSE/metrics" ;;
    reference)
      taskset -c 0 node reference-server.js "$PORT_REF" >results/reference-server.log 2>&1 &
      SERVER_PID=$!; PORT=$PORT_REF; METRICS="" ;;
  esac
  wait_port "$PORT"
  kill -0 "$SERVER_PID" || { echo "the $1 server exited; see bench-chat/results/$1-server.log" >&2; exit 1; }
  # readiness of the JVM: the first handshake also warms the class loading up
  sleep 2
}

load() {
  local target=$1; shift
  if [ "$CLIENT" = java ] && [[ " $* " != *" --scenario idle "* ]]; then
    taskset -c 1 java -Xms1g -Xmx1g -XX:+UseSerialGC -cp "$BENCH_JAR" com.chatroom.pulse.bench.ChatLoadClient \
      --url "ws://127.0.0.1:$PORT/chat" --pid "$SERVER_PID" --label "$target" --duration "$DURATION" --warmup "$WARMUP" \
      "$@" 2>>results/java-client.log | tee -a "$OUT"
    return
  fi
  taskset -c 1 node --max-old-space-size=4096 "${LOAD_JS:-load.js}" --url "ws://127.0.0.1:$PORT/chat" --pid "$SERVER_PID" \
    ${METRICS:+--metrics "$METRICS"} --label "$target" --duration "$DURATION" --warmup "$WARMUP" "$@" | tee -a "$OUT"
}

for target in $TARGETS; do
  for scenario in $SCENARIOS; do
    start_server "$target"
    case "$scenario" in
      idle)       load "$target" --scenario idle --connections 10000 ;;
      room)       load "$target" --scenario room --members 5000 --rate 10 ;;
      room10k)    load "$target" --scenario room --members 10000 --rate 10 ;;
      rooms)      load "$target" --scenario rooms --rooms 100 --members 50 --rate 1 ;;
      rooms-slow) load "$target" --scenario rooms --rooms 100 --members 50 --rate 0.2 ;;
    esac
    stop_server
  done
done

node -e '
const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
console.log("\n| target | scenario | deliveries/s | p50 ms | p99 ms | p99.9 ms | not received 10 s after (loss or backlog) | reorders | server CPU us/delivery | client CPU s | memory per idle connection |");
console.log("|---|---|---|---|---|---|---|---|---|---|---|");
for (const r of rows) {
  const name = r.scenario === "idle" ? `idle ${r.connections}` : r.scenario === "room" ? `1 room x ${r.members}, ${r.rate_per_sender} msg/s` : `${r.rooms} rooms x ${r.members}, ${r.rate_per_sender} msg/s each`;
  const mem = r.scenario === "idle" ? `RSS ${r.rss_kb_per_connection} KB, heap+direct ${isNaN(r.heap_direct_kb_per_connection) ? "n/a" : r.heap_direct_kb_per_connection + " KB"}` : "";
  console.log(`| ${r.label} | ${name} | ${r.deliveries_per_s ?? ""} | ${r.p50_ms ?? ""} | ${r.p99_ms ?? ""} | ${r.p999_ms ?? ""} | ${r.loss ?? ""} | ${r.reorders ?? ""} | ${r.server_cpu_us_per_delivery ?? ""} | ${r.client_cpu_s ?? ""} | ${mem} |`);
}' "$OUT"
echo "raw results: bench-chat/$OUT"
