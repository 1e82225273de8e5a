#!/usr/bin/env bash
# Local Redis for development: bun run redis:start | redis:stop | redis:status | redis:cli | redis:scan
# Works against REDIS_URL (default redis://127.0.0.1:6379) and REDIS_KEY_PREFIX (default auth-service).
set -euo pipefail

url="${REDIS_URL:-redis://127.0.0.1:6379}"
prefix="${REDIS_KEY_PREFIX:-auth-service}"
port="$(echo "$url" | sed -E 's#^rediss?://([^@/]*@)?[^:/]+:?([0-9]*).*#\2#')"
port="${port:-6379}"
pidfile="${TMPDIR:-/tmp}/auth-service-redis-${port}.pid"

need() { command -v "$1" >/dev/null 2>&1 || { echo "$1 not found: apt-get install redis-server (or redis-tools)" >&2; exit 1; }; }
ping() { redis-cli -u "$url" ping 2>/dev/null | grep -q PONG; }

case "${1:-status}" in
  start)
    need redis-server; need redis-cli
    if ping; then echo "Redis already answers on ${url}"; exit 0; fi
    redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no --pidfile "$pidfile" >/dev/null
    for _ in $(seq 1 50); do ping && break; sleep 0.1; done
    ping && echo "Redis started on ${url} (pid $(cat "$pidfile"))" || { echo "Redis did not start" >&2; exit 1; }
    ;;
  stop)
    need redis-cli
    # Only a Redis this script started is stopped; a shared one is left alone.
    if [ ! -f "$pidfile" ]; then echo "No Redis started by redis:start on port ${port}"; exit 0; fi
    redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
    rm -f "$pidfile"
    echo "Redis on port ${port} stopped"
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
    echo "usage: $0 start|stop|status|cli|scan" >&2; exit 2
    ;;
esac
