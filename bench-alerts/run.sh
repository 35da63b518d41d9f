#!/usr/bin/env bash
# Alert manager benchmarks: rule evaluation cost and change-to-webhook latency.
#   bench-alerts/run.sh            both
#   bench-alerts/run.sh eval       rule evaluation only
#   bench-alerts/run.sh latency    latency only (starts its own redis-server for the Redis variant if /usr/bin/redis-server exists)
# Compiles the bench sources (same package as the engine, so they drive the real classes) against the project's classes.
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q -o test-compile dependency:build-classpath -Dmdep.outputFile=bench-alerts/target/cp.txt -Dmdep.includeScope=test
CP="target/classes:target/test-classes:$(cat bench-alerts/target/cp.txt)"
mkdir -p bench-alerts/target/classes
javac -d bench-alerts/target/classes -cp "$CP" bench-alerts/src/com/chatroom/pulse/alerts/*.java
JAVA_OPTS=(-Xms512m -Xmx512m -XX:+UseParallelGC -Dlogback.configurationFile=src/test/resources/logback-test.xml)
what="${1:-all}"
if [[ "$what" == all || "$what" == eval ]]; then
  java "${JAVA_OPTS[@]}" -cp "bench-alerts/target/classes:$CP" com.chatroom.pulse.alerts.RuleEvaluationBench
fi
if [[ "$what" == all || "$what" == latency ]]; then
  java "${JAVA_OPTS[@]}" -cp "bench-alerts/target/classes:$CP" com.chatroom.pulse.alerts.AlertLatencyBench
fi
