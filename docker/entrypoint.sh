#!/bin/sh
# Starts Pulse: java $JAVA_OPTS -jar chatroom-pulse.jar "$@", as PID 1 so that SIGTERM reaches the JVM.
#
# With CLUSTER=true and no CLUSTER_HOST, the cluster address defaults to this container's own IP address: Hazelcast
# binds an interface by IP, and on a Docker network the container's host name resolves to exactly that address.
# (On Kubernetes the Deployment sets CLUSTER_HOST to the pod IP.)
set -eu

if [ "${CLUSTER:-}" = "true" ] && [ -z "${CLUSTER_HOST:-}" ]; then
  # the first non-loopback IPv4 address of this host's own name (Docker writes it into /etc/hosts)
  CLUSTER_HOST="$(getent ahostsv4 "$(uname -n)" 2>/dev/null | cut -d' ' -f1 | grep -v '^127\.' | head -n 1 || true)"
  if [ -z "$CLUSTER_HOST" ]; then
    echo "pulse-entrypoint: CLUSTER=true but CLUSTER_HOST is unset and this container's IPv4 address is unknown" >&2
    exit 64
  fi
  export CLUSTER_HOST
fi

# JAVA_OPTS is split on spaces on purpose (several flags in one variable)
# shellcheck disable=SC2086
exec java ${JAVA_OPTS:-} -jar /app/chatroom-pulse.jar "$@"
