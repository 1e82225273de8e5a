/** One function per endpoint: the request, its `endpoint` tag (thresholds use it) and its checks. */
import { check, group } from "k6";
import http from "k6/http";
import { target } from "./config.ts";
import type { K6Consumer } from "./consumers.ts";

const params = (endpoint: string, headers: Record<string, string> = {}) => ({
  headers: { Accept: "application/json", ...headers },
  tags: { endpoint },
  timeout: target.timeout,
});

function json(body: unknown): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(String(body));
    return typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function health(): boolean {
  const response = http.get(`${target.baseUrl}/health`, params("health"));
  return check(response, {
    "health: 200": (r) => r.status === 200,
    "health: healthy": (r) => json(r.body)?.status === "healthy",
  });
}

/** GET /tokens as Kong would forward it after key-auth: the consumer's headers, no apikey. */
export function tokens(consumer: K6Consumer): boolean {
  const response = http.get(
    `${target.baseUrl}/tokens`,
    params("tokens", { "X-Consumer-ID": consumer.id, "X-Consumer-Username": consumer.username }),
  );
  const body = json(response.body);
  return check(response, {
    "tokens: 200": (r) => r.status === 200,
    "tokens: a JWT": () =>
      typeof body?.access_token === "string" && body.access_token.split(".").length === 3,
    "tokens: expires_in": () => typeof body?.expires_in === "number" && body.expires_in > 0,
    "tokens: not cacheable": (r) => r.headers["Cache-Control"] === "no-store",
  });
}

/** The anonymous consumer must be refused: the 401 is the expected answer, not an error. */
export function anonymousRefused(consumer: K6Consumer): boolean {
  const response = http.get(`${target.baseUrl}/tokens`, {
    ...params("tokens_refused", {
      "X-Consumer-ID": consumer.id,
      "X-Consumer-Username": consumer.username,
      "X-Anonymous-Consumer": "true",
    }),
    responseCallback: http.expectedStatuses(401),
  });
  return check(response, { "tokens: anonymous refused with 401": (r) => r.status === 401 });
}

export function metrics(): boolean {
  const response = http.get(`${target.baseUrl}/metrics`, params("metrics"));
  return check(response, {
    "metrics: 200": (r) => r.status === 200,
    "metrics: uptime": () => typeof json(response.body)?.uptime === "number",
  });
}

export function openapi(): boolean {
  const response = http.get(`${target.baseUrl}/`, params("openapi"));
  return check(response, {
    "openapi: 200": (r) => r.status === 200,
    "openapi: a document": () => typeof json(response.body)?.openapi === "string",
  });
}

/** What a client does: read the API description, check the service, get a token, renew it. */
export function userJourney(consumer: K6Consumer): void {
  group("user journey", () => {
    openapi();
    health();
    tokens(consumer);
    tokens(consumer);
  });
}
