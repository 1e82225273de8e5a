#!/usr/bin/env bash
# bun run docker:build: the service's image from the Dockerfile, tagged IMAGE (default
# kong-auth-service:local, the tag docker-compose.yml runs). Extra arguments go to docker build.
set -euo pipefail
cd "$(dirname "$0")/.."

image="${IMAGE:-kong-auth-service:local}"
if ! command -v docker >/dev/null 2>&1; then
  echo "docker:build needs Docker, and docker is not installed (https://docs.docker.com/engine/install/)." >&2
  exit 127
fi
if ! docker info >/dev/null 2>&1; then
  echo "docker:build needs a running Docker daemon, and none answers (docker info failed)." >&2
  exit 1
fi
exec docker build -t "$image" "$@" .
