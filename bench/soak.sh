#!/usr/bin/env bash
# Soak (on demand, not in CI): the fat JAR at moderate load for a given time, one line of resource figures a minute.
#
#   bench/soak.sh [minutes=60] [csv=bench/results/soak-<commit>-<minutes>min.csv]
#   SOAK_ROOMS=10 SOAK_MEMBERS=10 SOAK_EVERY_MS=2000 SOAK_STREAMS=20 SOAK_HEAP=256m   (the defaults)
#
# Load: SOAK_ROOMS x SOAK_MEMBERS anonymous chat clients, each sending a ~100-character message every SOAK_EVERY_MS
# (defaults: 100 clients, 50 messages/s in, 500 deliveries/s out), SOAK_STREAMS /metrics/stream subscribers, the
# sampler at 1 Hz, in-memory history. Each minute: RSS (VmRSS), heap used after a full GC (jcmd GC.run, then
# GC.heap_info), open file descriptors (/proc/<pid>/fd), threads (/proc/<pid>/status). At the end it says, for each
# column, whether it is flat: the mean of the last third of the run within 10 % (or a small absolute slack) of the
# mean of the first third after a two-minute warm-up (absolute slack: RSS 8 MiB, heap 2 MiB, 8 fds, 4 threads).
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=${1:-60}
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
CSV=${2:-bench/results/soak-$COMMIT-${MINUTES}min.csv}
JAR=${PULSE_JAR:-target/chatroom-pulse.jar}
[ -f "$JAR" ] || { echo "no $JAR: run mvn -B -q package -DskipTests first" >&2; exit 1; }
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

LOG=${CSV%.csv}.log
mkdir -p "$(dirname "$CSV")"
HTTP_PORT=$PORT HTTP_HOST=127.0.0.1 INSTANCE_ID=soak CHAT_ALLOW_ANONYMOUS=true SAMPLER_INTERVAL_MS=1000 \
  java -Xmx${SOAK_HEAP:-256m} -jar "$JAR" >"$LOG" 2>&1 &
JAVA_PID=$!
PIDS+=("$JAVA_PID")
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null && break
  sleep 0.5   # start-up poll of a separate process (a script, not a test)
done
curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null || { echo "the JAR did not become ready; see $LOG" >&2; exit 1; }

node --experimental-websocket bench/soak-load.mjs "$PORT" "${SOAK_ROOMS:-10}" "${SOAK_MEMBERS:-10}" \
  "${SOAK_EVERY_MS:-2000}" "${SOAK_STREAMS:-20}" >"${CSV%.csv}.load" 2>&1 &
PIDS+=("$!")

echo "minute,rss_mib,heap_after_gc_mib,fds,threads,chat_messages_total,stream_frames_sent_total" >"$CSV"
metric() { curl -sf "http://127.0.0.1:$PORT/metrics" | awk -v m="$1" '$1==m {print $2; exit}'; }
START=$(date +%s)
for minute in $(seq 1 "$MINUTES"); do
  sleep $((START + minute * 60 - $(date +%s)))   # the script's own clock: one reading a minute
  kill -0 "$JAVA_PID" 2>/dev/null || { echo "the JAR died at minute $minute; see $LOG" >&2; exit 1; }
  rss=$(awk '/VmRSS/ {printf "%.1f", $2/1024}' /proc/$JAVA_PID/status)
  threads=$(awk '/Threads/ {print $2}' /proc/$JAVA_PID/status)
  fds=$(ls /proc/$JAVA_PID/fd | wc -l)
  jcmd "$JAVA_PID" GC.run >/dev/null
  heap=$(jcmd "$JAVA_PID" GC.heap_info | awk '/used/ {for (i=1;i<=NF;i++) if ($i=="used") {v=$(i+1); sub(/K,?/,"",v); printf "%.1f", v/1024; exit}}')
  echo "$minute,$rss,$heap,$fds,$threads,$(metric pulse_chat_messages_total),$(metric pulse_stream_frames_sent_total)" | tee -a "$CSV"
done

python3 - "$CSV" "$MINUTES" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
rows = [r for r in rows if int(r["minute"]) > 2] or rows
third = max(1, len(rows) // 3)
slack = {"rss_mib": 8, "heap_after_gc_mib": 2, "fds": 8, "threads": 4}
print(f"soak: {sys.argv[2]} minutes, minutes {rows[0]['minute']}..{rows[-1]['minute']} compared (first third vs last third)")
for col, abs_slack in slack.items():
    first = sum(float(r[col]) for r in rows[:third]) / third
    last = sum(float(r[col]) for r in rows[-third:]) / third
    flat = last - first <= max(0.10 * first, abs_slack)
    print(f"  {col}: {first:.1f} -> {last:.1f} ({'flat' if flat else 'NOT flat'})")
PY
echo "csv: $CSV; load counters: ${CSV%.csv}.load; JAR log: $LOG"
