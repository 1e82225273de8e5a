# syntax=docker/dockerfile:1
#
# Kong token service image: a single-file bundle of src/ on the official Bun Alpine image.
#
# Why a bundle and not production node_modules: `bun install --production` is 74 MB of node_modules
# (OpenTelemetry, gRPC, protobufjs, redis, zod...), the minified bundle of everything the service
# imports is 2.4 MB with 5.9 MB of bytecode beside it, and the Bun binary alone is already ~100 MB
# unpacked. The bundle is
# proved, not assumed: scripts/bundle-smoke.ts starts it in an empty folder (no node_modules), checks
# /health/live and /health/ready and expects exit 0 on SIGTERM, here in the build stage and in
# test/unit/delivery, which also checks that the bundled OpenTelemetry SDK exports traces, metrics and
# logs over OTLP. A bundle inlines package.json (src/app.ts imports it for the version) and every
# dependency; what it cannot do is let OpenTelemetry auto-instrumentation patch modules through
# require hooks, so telemetry stays wired explicitly in src/telemetry. If a dependency ever stops
# bundling, the smoke test fails the build: then copy the `bun install --production --frozen-lockfile`
# node_modules from the build stage instead and run src/server.ts.

ARG BUN_VERSION=1.4.5

# The bundle is JavaScript and JavaScriptCore bytecode, which Bun writes the same for every
# architecture, so it is built once on the builder's own platform even when the image is built for
# linux/amd64 and linux/arm64.
# hadolint ignore=DL3029
FROM --platform=$BUILDPLATFORM oven/bun:${BUN_VERSION}-alpine AS build
WORKDIR /app
COPY package.json bun.lock ./
# Production dependencies only: the bundle can then contain nothing from devDependencies.
RUN bun install --production --frozen-lockfile --ignore-scripts
COPY tsconfig.json ./
COPY src ./src
# CommonJS with Bun's bytecode cache (dist/server.js.jsc beside dist/server.js): Bun loads compiled
# bytecode instead of parsing 2–5 MB of JavaScript, about 60 ms less from spawn to ready (docs/testing.md).
# Bytecode needs CommonJS unless the output is a standalone executable (--compile), hence no top-level
# await in src/server.ts. --minify shrinks the source Bun still keeps in memory (about 4 MiB less
# resident); --keep-names keeps function and class names in stack traces and error names. A .jsc that
# a runtime cannot use is ignored and the source parsed instead: slower to start, never broken.
# --define keeps process.env.NODE_ENV a read at run time, as from source: by default Bun writes
# "development" into the bundle, and winston's debug helper then loads its development build (colour
# tables, about 3 ms of start-up) and prints DEBUG=* output into the JSON log stream.
RUN bun build src/server.ts --target=bun --format=cjs --minify --keep-names --bytecode --define process.env.NODE_ENV=process.env.NODE_ENV --outdir dist
COPY scripts/bundle-smoke.ts ./scripts/bundle-smoke.ts
RUN bun scripts/bundle-smoke.ts dist/server.js

FROM oven/bun:${BUN_VERSION}-alpine AS runtime
# dumb-init is PID 1: it forwards SIGTERM to Bun (which drains in-flight requests for up to
# SHUTDOWN_TIMEOUT_MS, then exits 0) and reaps zombies. The Alpine release is fixed by the base tag.
# hadolint ignore=DL3018
RUN apk add --no-cache dumb-init \
  && addgroup -S -g 1001 app \
  && adduser -S -D -H -u 1001 -G app -s /sbin/nologin app
WORKDIR /app
# Owned by root and not writable by uid 1001: the process cannot change its own code.
COPY --from=build /app/dist/ ./
ENV NODE_ENV=production \
  PORT=3000 \
  BUN_RUNTIME_TRANSPILER_CACHE_PATH=0
USER 1001:1001
EXPOSE 3000
# busybox wget ships with Alpine, so the check adds no package; liveness never depends on Kong.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD wget -q -O /dev/null "http://127.0.0.1:${PORT}/health/live" || exit 1
ENTRYPOINT ["/usr/bin/dumb-init", "--"]
CMD ["bun", "server.js"]
