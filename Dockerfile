# syntax=docker/dockerfile:1
#
# Kong token service image: a standalone Bun executable of src/ on the official Bun Alpine image.
#
# Why an executable and not production node_modules: `bun install --production` is 74 MB of
# node_modules (OpenTelemetry, gRPC, protobufjs, redis, zod...), while `bun build --compile` puts the
# service's code, as bytecode, into one file with the Bun runtime. scripts/build.ts builds it with
# code splitting, so what console mode never runs (the OpenTelemetry SDK and exporters, the Redis
# client, yaml) is loaded at its first import() rather than at start, and with its bytecode laid out
# in the order start-up runs it (a second pass, from a run of the first build through
# scripts/bundle-smoke.ts). From spawn to ready this takes 0.6-0.7x the time of the CommonJS bundle
# with a bytecode cache the image used to ship (docs/testing.md, "Start-up and memory").
# The executable is proved, not assumed: scripts/bundle-smoke.ts starts it in an empty folder (no
# node_modules), checks /health/live and /health/ready and expects exit 0 on SIGTERM, here in the
# build stage and in test/unit/delivery, which also checks that the bundled OpenTelemetry SDK exports
# traces, metrics and logs over OTLP, and that signing workers start. What a bundle cannot do is let
# OpenTelemetry auto-instrumentation patch modules through require hooks, so telemetry stays wired
# explicitly in src/telemetry.

ARG BUN_VERSION=1.4.5

# Bun writes an executable for the platform it runs on, so the build stage runs on each target
# platform (linux/amd64, linux/arm64): no Bun binary is downloaded during the build.
FROM oven/bun:${BUN_VERSION}-alpine AS build
WORKDIR /app
COPY package.json bun.lock ./
# Production dependencies only: the executable can then contain nothing from devDependencies.
RUN bun install --production --frozen-lockfile --ignore-scripts
COPY tsconfig.json ./
COPY src ./src
COPY scripts/build.ts scripts/bundle-smoke.ts ./scripts/
# --minify shrinks the source Bun still keeps in memory; --keep-names keeps function and class names
# in stack traces and error names; process.env.NODE_ENV stays a read at run time (scripts/build.ts).
RUN bun scripts/build.ts dist/server
RUN bun scripts/bundle-smoke.ts dist/server

FROM oven/bun:${BUN_VERSION}-alpine AS runtime
# The base image's Bun is not used: the executable carries its own. The base stays for what that
# runtime needs from Alpine (musl, libstdc++), at the price of a second copy of Bun in the image.
# dumb-init is PID 1: it forwards SIGTERM to the service (which drains in-flight requests for up to
# SHUTDOWN_TIMEOUT_MS, then exits 0) and reaps zombies. The Alpine release is fixed by the base tag.
# hadolint ignore=DL3018
RUN apk add --no-cache dumb-init \
  && addgroup -S -g 1001 app \
  && adduser -S -D -H -u 1001 -G app -s /sbin/nologin app
WORKDIR /app
# Owned by root and not writable by uid 1001: the process cannot change its own code.
COPY --from=build /app/dist/ ./
ENV NODE_ENV=production \
  PORT=3000
USER 1001:1001
EXPOSE 3000
# busybox wget ships with Alpine, so the check adds no package; liveness never depends on Kong.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD wget -q -O /dev/null "http://127.0.0.1:${PORT}/health/live" || exit 1
ENTRYPOINT ["/usr/bin/dumb-init", "--"]
CMD ["/app/server"]
