import { z } from "zod";
import { type Problem, setting } from "../setting.ts";
import { bool, int, splitList, text } from "../values.ts";

/** The HTTP server, its shutdown, profiling and the OpenAPI document's info. */

export const app = {
  port: setting({
    env: "PORT",
    schema: int(0, 65535).prefault(3000),
    description: "TCP port the HTTP server listens on",
  }),
  host: setting({
    env: "HOST",
    schema: text(255).prefault("0.0.0.0"),
    description: "Interface the HTTP server binds to",
  }),
  environment: setting({
    env: "NODE_ENV",
    schema: z
      .enum(["development", "staging", "production", "test"], {
        // The specification also names `local`; it would only repeat development, so it is refused by name.
        error: (issue) =>
          issue.input === "local"
            ? "local is not an environment of this service: use development (what bun run local and bun run dev:development set), which allows everything local would"
            : "must be development, staging, production or test",
      })
      .prefault("development"),
    description: "Runtime environment; production turns on the strict rules, staging some of them",
  }),
  logLevel: setting({
    env: "LOG_LEVEL",
    schema: z.enum(["error", "warn", "info", "http", "verbose", "debug", "silly"]).prefault("info"),
    description: "Lowest log level written",
  }),
  shutdownTimeoutMs: setting({
    env: "SHUTDOWN_TIMEOUT_MS",
    schema: int(0, 120_000).prefault(10_000),
    description:
      "Whole budget after SIGTERM: the drain window, then in-flight requests, before what still runs is cut",
  }),
  shutdownDrainMs: setting({
    env: "SHUTDOWN_DRAIN_MS",
    // Kubernetes takes a few seconds to take a terminating pod out of kube-proxy's and Kong's targets.
    schema: int(0, 120_000).prefault(5_000),
    description:
      "Drain window after SIGTERM: readiness fails, answers carry Connection: close, then the listener closes; " +
      "0 or less than SHUTDOWN_TIMEOUT_MS",
    rules: [
      (drain, config): Problem =>
        drain > 0 && drain >= config.app.shutdownTimeoutMs
          ? `must be less than SHUTDOWN_TIMEOUT_MS (${config.app.shutdownTimeoutMs}), which also covers the requests ` +
            "still running when the drain ends; or 0 to close the listener at once"
          : undefined,
    ],
  }),
};

export const profiling = {
  enabled: setting({
    env: "PROFILING_ENABLED",
    schema: bool.prefault(false),
    description: "Mount the /debug/profiling endpoints (refused in production; needs DEBUG_TOKEN in staging)",
    production: [(enabled): Problem => (enabled === true ? "must be false in production" : undefined)],
  }),
  outputDir: setting({
    env: "PROFILING_OUTPUT_DIR",
    schema: text(1024).prefault("profiling"),
    description: "Where CPU profiles and heap snapshots are written",
  }),
  autoGenerate: setting({
    env: "PROFILING_AUTO_GENERATE",
    // The specification's switch, refused rather than ignored: no value of it would change what is written.
    schema: z
      .never({
        error:
          "is not a setting of this service: every profiling session writes its reports when it stops (on request, " +
          "at its time limit or at shutdown); list them with bun run profile:reports (GET /debug/profiling/reports)",
      })
      .optional(),
    description: "Refused when set: a profiling session always writes its reports when it stops",
  }),
};

const cors = z
  .string()
  .trim()
  .min(1)
  .transform((value) => (value === "*" ? ("*" as const) : splitList(value)))
  .pipe(
    z.union([
      z.literal("*"),
      z
        .array(z.url({ protocol: /^https?$/, error: "must be * or a comma-separated list of origins" }))
        .min(1),
    ]),
  );

export const api = {
  cors: setting({
    env: "API_CORS",
    schema: cors.prefault("*"),
    description: "Allowed CORS origins: * or a comma-separated list",
  }),
  title: setting({
    env: "API_TITLE",
    schema: text().prefault("Authentication Service API"),
    description: "OpenAPI info.title",
  }),
  description: setting({
    env: "API_DESCRIPTION",
    schema: text(2048).prefault("Issues short-lived JWTs for Kong consumers, accepted by Kong's jwt plugin"),
    description: "OpenAPI info.description",
  }),
  version: setting({
    env: "API_VERSION",
    schema: text(64).prefault("1.0.0"),
    description: "OpenAPI info.version",
  }),
  contactName: setting({
    env: "API_CONTACT_NAME",
    schema: text().prefault("Platform Team"),
    description: "OpenAPI info.contact.name",
  }),
  contactEmail: setting({
    env: "API_CONTACT_EMAIL",
    schema: z.email().prefault("platform@example.com"),
    description: "OpenAPI info.contact.email",
  }),
  licenseName: setting({
    env: "API_LICENSE_NAME",
    schema: text().prefault("Proprietary"),
    description: "OpenAPI info.license.name",
  }),
  licenseIdentifier: setting({
    env: "API_LICENSE_IDENTIFIER",
    schema: text(128).prefault("UNLICENSED"),
    description: "OpenAPI info.license.identifier (SPDX)",
  }),
};
