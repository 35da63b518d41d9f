#!/usr/bin/env bash
# Sampler overhead benchmark: CPU the JVM spends on the host sampler at 1 sample/s.
#
#   bench/run-sampler-overhead.sh [--repeats 3] [--warmup 30] [--window 60] [--pairs 5000] [--cases "plain sockets"]
#
# Per run: two copies of the Pulse JAR start at the same time with the same JVM flags on free loopback ports, one
# with SAMPLER_ENABLED=true SAMPLER_INTERVAL_MS=1000, one with SAMPLER_ENABLED=false; after both are ready and a
# warm-up, utime+stime of both is read from /proc/<pid>/stat at the same moment, again after the window, and the
# sampler's cost is ON minus OFF, in CPU seconds per minute and in % of one core. Pulse's own
# pulse_sampler_duration_seconds_sum/_count over the window give the time per sample as the sampler sees it.
# Case "plain": nothing else running. Case "sockets": bench/idle-sockets.py holds 2 x pairs (10,000) idle
# established loopback sockets for the whole run. Repeats alternate the cases; medians at the end.
# Raw results: bench/target/results/sampler-<time>/runs.jsonl, plus server logs.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REPEATS=3
WARMUP=30
WINDOW=60
PAIRS=5000
CASES="plain sockets"
while (( $# )); do
  case $1 in
    --repeats) REPEATS=$2; shift 2 ;;
    --repeats=*) REPEATS=${1#*=}; shift ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --warmup=*) WARMUP=${1#*=}; shift ;;
    --window) WINDOW=$2; shift 2 ;;
    --window=*) WINDOW=${1#*=}; shift ;;
    --pairs) PAIRS=$2; shift 2 ;;
    --pairs=*) PAIRS=${1#*=}; shift ;;
    --cases) CASES=$2; shift 2 ;;
    --cases=*) CASES=${1#*=}; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

trap bench_cleanup EXIT
trap 'exit 130' INT TERM
bench_raise_nofile $((2 * PAIRS + 1000))

OUT=$BENCH_DIR/target/results/sampler-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
bench_prepare "$OUT"
CLK_TCK=$(bench_clk_tck)
bench_log "machine: $(bench_machine)"
bench_log "cases: $CASES; $REPEATS repeat(s), warm-up ${WARMUP}s, window ${WINDOW}s; JVM: $PULSE_JVM_OPTS; scheduling: ${BENCH_PRIO[*]:-default}; results in $OUT"

start_pulse() { # port sampler-enabled log -> echoes pid
  # run from the results folder: a conf/config.yaml in the current directory would override the one in the JAR
  # shellcheck disable=SC2086
  (cd "$OUT" && exec env HTTP_HOST=127.0.0.1 HTTP_PORT="$1" INSTANCE_ID="sampler-$2" SAMPLER_ENABLED="$2" \
    SAMPLER_INTERVAL_MS=1000 "${BENCH_PRIO[@]}" java $PULSE_JVM_OPTS -jar "$PULSE_JAR_RUN") >"$3" 2>&1 &
  echo $!
}

# pulse_sampler_duration_seconds_sum and _count from /metrics ("0 0" when the sampler is off or /metrics fails)
sampler_meter() {
  curl -sf --max-time 5 "http://127.0.0.1:$1/metrics" | awk '
    /^pulse_sampler_duration_seconds_sum / {s=$2} /^pulse_sampler_duration_seconds_count / {c=$2}
    END {print (s==""?0:s), (c==""?0:c)}' || echo "0 0"
}

established() { awk '/^Tcp:/ && ++n == 2 {print $10}' /proc/net/snmp; }

run_one() { # case run
  local case=$1 run=$2 sockpid="" port_on port_off pid_on pid_off log=$OUT/$1-$2
  if [[ $case == sockets ]]; then
    python3 "$BENCH_DIR/idle-sockets.py" "$PAIRS" >"$log.sockets" 2>&1 &
    sockpid=$!
    BENCH_PIDS+=("$sockpid")
    for _ in $(seq 1 600); do grep -q READY "$log.sockets" 2>/dev/null && break; sleep 0.1; done
    grep -q READY "$log.sockets" || { bench_log "idle-sockets did not come up"; cat "$log.sockets" >&2; return 1; }
  fi
  port_on=$(bench_free_port)
  port_off=$(bench_free_port)
  pid_on=$(start_pulse "$port_on" true "$log.on.log")
  BENCH_PIDS+=("$pid_on")
  pid_off=$(start_pulse "$port_off" false "$log.off.log")
  BENCH_PIDS+=("$pid_off")
  bench_wait_ready "$port_on" 90 "$pid_on" && bench_wait_ready "$port_off" 90 "$pid_off" || {
    bench_stop "$pid_on"; bench_stop "$pid_off"; [[ -n $sockpid ]] && bench_stop "$sockpid"; return 1; }
  bench_log "run $run/$REPEATS $case: sampler on pid $pid_on, off pid $pid_off, $(established) established TCP; warm-up ${WARMUP}s"
  sleep "$WARMUP" & wait $!    # waited for in the background, so that an interrupt reaches the EXIT trap at once

  local t0 t1 on0 off0 on1 off1 meter0 meter1 est
  meter0=$(sampler_meter "$port_on")
  t0=$(date +%s.%N); on0=$(bench_cpu_ticks "$pid_on"); off0=$(bench_cpu_ticks "$pid_off")
  sleep "$WINDOW" & wait $!
  t1=$(date +%s.%N); on1=$(bench_cpu_ticks "$pid_on"); off1=$(bench_cpu_ticks "$pid_off")
  meter1=$(sampler_meter "$port_on")
  est=$(established)

  bench_stop "$pid_on"
  bench_stop "$pid_off"
  [[ -n $sockpid ]] && bench_stop "$sockpid"
  python3 "$BENCH_DIR/summarize.py" sampler-run "$case" "$run" "$t0" "$t1" "$on0" "$on1" "$off0" "$off1" \
    "$CLK_TCK" "$meter0" "$meter1" "$est" "$PULSE_JVM_OPTS | ${BENCH_PRIO[*]:-default}" >>"$OUT/runs.jsonl"
  python3 "$BENCH_DIR/summarize.py" sampler-row <<<"$(tail -1 "$OUT/runs.jsonl")" >&2 || true
}

for run in $(seq 1 "$REPEATS"); do
  for case in $CASES; do
    run_one "$case" "$run" || bench_log "run $run $case failed"
  done
done

python3 "$BENCH_DIR/summarize.py" sampler "$OUT/runs.jsonl"
