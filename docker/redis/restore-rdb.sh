#!/bin/sh
# Restores an RDB backup of Pulse's Redis (history, alert state) into a data directory that uses append-only
# persistence, as Pulse's Redis does. Run it where redis-server is installed (the redis image), with the Redis that
# normally serves the directory STOPPED:
#
#   restore-rdb.sh <backup.rdb> [data dir, default /data]
#
# Why a script: with appendonly yes, Redis loads only the AOF and ignores dump.rdb, so an RDB dropped into place
# would start an empty Redis. This loads the RDB with AOF off on a private port, switches AOF on (Redis writes a
# fresh AOF from the loaded data), waits for that rewrite, and shuts down. The previous AOF directory is kept as
# appendonlydir.before-restore.<time> until you delete it. Keys whose expiry has passed are dropped on load, so
# history older than its retention does not come back.
set -eu

rdb="${1:?usage: restore-rdb.sh <backup.rdb> [data dir]}"
dir="${2:-/data}"
port="${RESTORE_PORT:-6390}"
cli() { redis-cli -p "$port" "$@"; }
persistence() { cli info persistence | tr -d '\r'; }

[ -s "$rdb" ] || { echo "restore-rdb: no RDB at $rdb" >&2; exit 64; }
if cli ping >/dev/null 2>&1; then
  echo "restore-rdb: something already answers on port $port; set RESTORE_PORT" >&2
  exit 64
fi

if [ -d "$dir/appendonlydir" ]; then
  mv "$dir/appendonlydir" "$dir/appendonlydir.before-restore.$(date +%s)"
fi
cp "$rdb" "$dir/dump.rdb.restoring"
mv "$dir/dump.rdb.restoring" "$dir/dump.rdb"

redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --dbfilename dump.rdb --appendonly no --save "" \
  --daemonize yes --pidfile "$dir/restore-rdb.pid" --logfile "$dir/restore-rdb.log"
until persistence 2>/dev/null | grep -q '^loading:0'; do sleep 0.2; done
keys="$(cli dbsize)"

cli config set appendonly yes >/dev/null
until persistence | grep -q '^aof_enabled:1' && persistence | grep -q '^aof_rewrite_in_progress:0' \
  && persistence | grep -q '^aof_rewrite_scheduled:0'; do
  sleep 0.2
done
persistence | grep -q '^aof_last_bgrewrite_status:ok' || { echo "restore-rdb: the AOF rewrite failed, see $dir/restore-rdb.log" >&2; exit 1; }
cli shutdown >/dev/null 2>&1 || true
while [ -f "$dir/restore-rdb.pid" ]; do sleep 0.2; done

echo "restore-rdb: $keys keys restored into $dir (AOF written); start Redis as usual"
