#!/usr/bin/env bash
# Local Redis for development (a redis-server process, no container): bun run redis:<command>
#   start | stop | restart (stop, then start: an empty Redis, nothing is persisted) | status | logs
#   cli | scan (this service's keys) | stats [count] | bigkeys | memkeys (this service's keys only)
# Works against REDIS_URL (default redis://127.0.0.1:6379) and REDIS_KEY_PREFIX (default auth-service).
set -euo pipefail

url="${REDIS_URL:-redis://127.0.0.1:6379}"
prefix="${REDIS_KEY_PREFIX:-auth-service}"
port="$(echo "$url" | sed -E 's#^rediss?://([^@/]*@)?[^:/]+:?([0-9]*).*#\2#')"
port="${port:-6379}"
pidfile="${TMPDIR:-/tmp}/auth-service-redis-${port}.pid"
logfile="${TMPDIR:-/tmp}/auth-service-redis-${port}.log"

need() { command -v "$1" >/dev/null 2>&1 || { echo "$1 not found: apt-get install redis-server (or redis-tools)" >&2; exit 1; }; }
ping() { redis-cli -u "$url" ping 2>/dev/null | grep -q PONG; }

start() {
  need redis-server; need redis-cli
  if ping; then echo "Redis already answers on ${url}"; return 0; fi
  redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
    --pidfile "$pidfile" --logfile "$logfile" >/dev/null
  for _ in $(seq 1 50); do ping && break; sleep 0.1; done
  ping && echo "Redis started on ${url} (pid $(cat "$pidfile"), log ${logfile})" || { echo "Redis did not start; see ${logfile}" >&2; exit 1; }
}

stop() {
  need redis-cli
  # Only a Redis this script started is stopped; a shared one is left alone.
  if [ ! -f "$pidfile" ]; then echo "No Redis started by redis:start on port ${port}"; return 0; fi
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
  rm -f "$pidfile"
  echo "Redis on port ${port} stopped"
}

case "${1:-status}" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  logs)
    # A shared Redis (CI's, a container's) logs elsewhere; only the one redis:start runs logs here.
    [ -f "$logfile" ] || { echo "No log at ${logfile}: this Redis was not started by redis:start" >&2; exit 1; }
    exec tail -n 50 -f "$logfile"
    ;;
  stats)
    need redis-cli
    # One line a second (as redis-cli --stat, which never stops); a count stops after that many lines.
    count="${2:-0}"
    printf '%-10s %-8s %-10s %-10s %-12s %-12s %s\n' time clients memory ops/sec hits misses "keys(${prefix})"
    i=0
    while [ "$count" -eq 0 ] || [ "$i" -lt "$count" ]; do
      [ "$i" -gt 0 ] && sleep 1
      info="$(redis-cli -u "$url" info)" || { echo "Redis is not answering on ${url}" >&2; exit 1; }
      field() { echo "$info" | tr -d '\r' | sed -n "s/^$1://p"; }
      keys="$(redis-cli -u "$url" --scan --pattern "${prefix}:*" | wc -l | tr -d ' ')"
      printf '%-10s %-8s %-10s %-10s %-12s %-12s %s\n' "$(date +%H:%M:%S)" "$(field connected_clients)" \
        "$(field used_memory_human)" "$(field instantaneous_ops_per_sec)" "$(field keyspace_hits)" \
        "$(field keyspace_misses)" "$keys"
      i=$((i + 1))
    done
    ;;
  bigkeys)
    need redis-cli
    exec redis-cli -u "$url" --bigkeys --pattern "${prefix}:*"
    ;;
  memkeys)
    need redis-cli
    exec redis-cli -u "$url" --memkeys --pattern "${prefix}:*"
    ;;
  status)
    need redis-cli
    if ! ping; then echo "Redis: not answering on ${url}"; exit 1; fi
    echo "Redis: answering on ${url}"
    redis-cli -u "$url" info server | grep -E '^redis_version' || true
    redis-cli -u "$url" info memory | grep -E '^used_memory_human' || true
    echo "keys under ${prefix}: $(redis-cli -u "$url" --scan --pattern "${prefix}:*" | wc -l)"
    ;;
  cli)
    need redis-cli
    shift
    exec redis-cli -u "$url" "$@"
    ;;
  scan)
    need redis-cli
    # This service's keys only, with their remaining TTL in milliseconds.
    redis-cli -u "$url" --scan --pattern "${prefix}:*" | while read -r key; do
      printf '%s\t%s ms\n' "$key" "$(redis-cli -u "$url" pttl "$key")"
    done
    ;;
  *)
    echo "usage: $0 start|stop|restart|status|logs|cli|scan|stats [count]|bigkeys|memkeys" >&2; exit 2
    ;;
esac
