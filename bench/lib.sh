# Shared helpers of the bench scripts (sourced, not run).
# Everything here targets 127.0.0.1 only, and every process a script starts is recorded so its EXIT trap kills it.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT_DIR=$(dirname "$BENCH_DIR")
PULSE_JAR_SRC=${PULSE_JAR:-$ROOT_DIR/target/chatroom-pulse.jar}
BENCH_JAR=$BENCH_DIR/target/pulse-bench.jar
NODE_REF=$BENCH_DIR/node-ws-reference

# JVM flags of every Pulse server a benchmark starts (override with PULSE_JVM_OPTS):
# - a fixed 384 MiB heap: 10,000 subscribers keep ~160 MiB live on the heap (about 15 KiB each, half of it Vert.x's
#   per-connection message queues), so 256 MiB leaves the old generation nearly full and ends in a full GC every
#   ~20 s; 384 MiB plus ~80 MiB of metaspace, code cache and threads stays under the 512 MiB RSS budget;
# - the serial collector: the server is pinned to one core, where a parallel or concurrent collector would only
#   compete with the event loop;
# - a bound on Netty's direct memory, so RSS cannot grow unseen outside the heap.
# The scripts add a GC log per run (-Xlog:gc) to check pauses against the latency tail.
PULSE_JVM_OPTS=${PULSE_JVM_OPTS:--Xms384m -Xmx384m -XX:+UseSerialGC -XX:MaxDirectMemorySize=64m}
# The load client: 10,000 connections hold ~140 MiB, and a 2 GiB young generation (after a System.gc() once connected)
# means it does not collect at all during the window, so its pauses cannot leak into the latencies it measures.
CLIENT_JVM_OPTS=${CLIENT_JVM_OPTS:--Xms3g -Xmx3g -Xmn2g -XX:+UseSerialGC}

# The machine is shared, and other work on it (builds, test suites: at times more than a whole core of it) takes the
# benchmark's core away in the middle of a fan-out. So by default the benchmark processes run under SCHED_RR
# (chrt -r 10): they preempt ordinary processes, the way a server with its own core would run, and the latency
# measured is the software's rather than the neighbours'. The kernel still keeps 5 % of every second for everybody
# else, and both processes sleep in epoll between ticks. BENCH_SCHED=nice runs them at nice $BENCH_NICE instead
# (ordinary time sharing, default -10); BENCH_SCHED=none as they come. Each run reports how busy the cores were with
# other processes, softirq and steal, so the figures can be read against that noise.
BENCH_SCHED=${BENCH_SCHED:-rr}
BENCH_NICE=${BENCH_NICE:--10}
case $BENCH_SCHED in
  rr) BENCH_PRIO=(chrt -r 10) ;;
  nice) BENCH_PRIO=(nice -n "$BENCH_NICE") ;;
  none) BENCH_PRIO=() ;;
  *) echo "BENCH_SCHED must be rr, nice or none" >&2; exit 2 ;;
esac

BENCH_PIDS=()

bench_log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

bench_cleanup() {
  local pid
  for pid in "${BENCH_PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
    fi
  done
  for pid in "${BENCH_PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  BENCH_PIDS=()
}

# Stops one process started by the script (TERM, then KILL after 5 s) and forgets it.
bench_stop() {
  local pid=$1 keep=() p
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for p in "${BENCH_PIDS[@]}"; do [[ $p == "$pid" ]] || keep+=("$p"); done
  BENCH_PIDS=("${keep[@]}")
}

# 10,000 sockets per process need far more than the usual 1024 descriptors.
bench_raise_nofile() {
  ulimit -n 100000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
  if (( $(ulimit -n) < ${1:-12000} )); then
    bench_log "warning: ulimit -n is $(ulimit -n), under the ${1:-12000} descriptors this run needs per process"
  fi
}

bench_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Builds what is missing, then freezes a copy of the server JAR for this session, so that a rebuild of
# target/chatroom-pulse.jar while the benchmark runs cannot change what is measured halfway through.
# PULSE_REF=<commit> builds the server from that commit instead (git archive into bench/target/pulse-<sha>/, so the
# work tree, possibly being edited, plays no part): the way to measure exactly one version.
bench_prepare() {
  local work=$1
  if [[ -n ${PULSE_REF:-} ]]; then
    local sha src
    sha=$(git -C "$ROOT_DIR" rev-parse --short=12 "$PULSE_REF^{commit}")
    src=$BENCH_DIR/target/pulse-$sha
    if [[ ! -f $src/target/chatroom-pulse.jar ]]; then
      bench_log "building the Pulse JAR of $PULSE_REF ($sha) in $src"
      rm -rf "$src" && mkdir -p "$src"
      git -C "$ROOT_DIR" archive "$sha" | tar -x -C "$src"
      (cd "$src" && mvn -B -q package -DskipTests)
    fi
    PULSE_JAR_SRC=$src/target/chatroom-pulse.jar
    PULSE_BUILT_FROM="commit $sha"
  else
    PULSE_BUILT_FROM="work tree at $(git -C "$ROOT_DIR" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT_DIR" diff --quiet HEAD -- src pom.xml 2>/dev/null || echo ' (src has uncommitted changes)')"
  fi
  if [[ ! -f $PULSE_JAR_SRC ]]; then
    bench_log "building the Pulse JAR"
    (cd "$ROOT_DIR" && mvn -B -q package -DskipTests)
  fi
  if [[ ! -f $BENCH_JAR ]]; then
    bench_log "building the bench JAR"
    mvn -B -q -f "$BENCH_DIR/pom.xml" package
  fi
  cp "$PULSE_JAR_SRC" "$work/chatroom-pulse.jar"
  PULSE_JAR_RUN=$work/chatroom-pulse.jar
  bench_log "Pulse JAR $PULSE_JAR_SRC, sha256 $(sha256sum "$PULSE_JAR_RUN" | cut -c1-12), built $(date -r "$PULSE_JAR_SRC" '+%F %T') from the $PULSE_BUILT_FROM"
}

bench_prepare_node() {
  command -v node >/dev/null || { bench_log "node is not installed"; exit 1; }
  if [[ ! -d $NODE_REF/node_modules/ws ]]; then
    bench_log "installing ws for the Node reference"
    npm ci --prefix "$NODE_REF" --no-audit --no-fund >/dev/null
  fi
}

# Waits until GET /health/ready answers 200 (at most $2 seconds); fails if the process died.
bench_wait_ready() {
  local port=$1 limit=${2:-90} pid=$3 deadline=$((SECONDS + ${2:-90}))
  while (( SECONDS < deadline )); do
    if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
      bench_log "process $pid died before it was ready"
      return 1
    fi
    if curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$port/health/ready"; then
      return 0
    fi
    sleep 0.2
  done
  bench_log "127.0.0.1:$port not ready after $limit s"
  return 1
}

# utime + stime of a process, in clock ticks (fields 14 and 15 of /proc/PID/stat, counted after the ')').
bench_cpu_ticks() {
  local rest
  rest=$(sed 's/^.*) //' "/proc/$1/stat")
  awk '{print $12 + $13}' <<<"$rest"
}

bench_clk_tck() { getconf CLK_TCK; }

bench_machine() {
  printf 'nproc %s; %s; %s; %s\n' "$(nproc)" "$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')" \
    "$(java -version 2>&1 | head -1)" "$(uname -sr)"
}

# Appends the client's result (the last line of $1, a JSON object) to $2, with the pairs that follow added to it:
# key=value as a string, key:=value as JSON (a number, say).
bench_append_result() {
  local json=$1 out=$2
  shift 2
  RESULT_JSON=$(tail -1 "$json") python3 - "$@" >>"$out" <<'PY'
import json, os, sys
r = json.loads(os.environ["RESULT_JSON"])
for pair in sys.argv[1:]:
    key, _, value = pair.partition("=")
    if key.endswith(":"):
        r[key[:-1]] = json.loads(value)
    else:
        r[key] = value
print(json.dumps(r))
PY
}

# Waits for the load client $1, then stops it and the server $2; fails (with the client's log tail) if the client
# wrote no result to $3.client.json. Sets LOAD_AFTER to the load average at the end.
bench_finish_run() {
  local clientpid=$1 pid=$2 log=$3
  if ! wait "$clientpid"; then
    bench_log "load client failed:"; tail -20 "$log.client.log" >&2
  fi
  LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
  bench_stop "$clientpid"
  bench_stop "$pid"
  if [[ ! -s $log.client.json ]]; then
    bench_log "no result in $log.client.json"
    return 1
  fi
}
