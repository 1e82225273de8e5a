/**
 * The benchmark's floor: a Bun.serve that does only the work no cached `/tokens` answer can skip,
 * with none of the service's structure (no pipeline, steps, cache, limiter, metrics or logger).
 * Between the bare server and the service it splits their gap: what the token itself costs in Bun
 * (bare → floor) and what the service adds around it (floor → service).
 *
 * Per request, as the service does it (API_CORS=*): the six request headers the service reads
 * (request id, body length, gateway secret, anonymous flag, consumer id and name), the consumer id
 * checked as a UUID and the secret's SHA-256 compared in constant time, a request id and a `jti` from
 * crypto.randomUUID, the claims of the service's shape encoded with toBase64, an HS256 signature from
 * a keyed Bun.CryptoHasher copied per token, and an answer with the service's ten headers, built from
 * a template.
 */
import { timingSafeEqual } from "node:crypto";

const port = Number(process.env.PORT);
const gatewaySecret = Bun.SHA256.hash(process.env.TRUSTED_GATEWAY_SECRET ?? "") as Uint8Array;
const keyed = new Bun.CryptoHasher("sha256", "a-32-byte-hmac-secret-for-floor!");
const utf8 = new TextEncoder();
const BASE64URL = { alphabet: "base64url", omitPadding: true } as const;
const header = `${utf8.encode('{"alg":"HS256","typ":"JWT"}').toBase64(BASE64URL)}.`;
const SANE_REQUEST_ID = /^[\x21-\x7e]{1,128}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const template = new Headers({
  "content-type": "application/json",
  "cache-control": "no-store",
  pragma: "no-cache",
  "x-content-type-options": "nosniff",
  "access-control-expose-headers":
    "X-Request-Id, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset",
  "access-control-allow-origin": "*",
});
let remaining = Number.MAX_SAFE_INTEGER;

function token(username: string): string {
  const now = Math.floor(Date.now() / 1000);
  const name = JSON.stringify(username);
  const claims =
    `{"sub":${name},"key":"floor-credential-key","jti":"${crypto.randomUUID()}","iat":${now},` +
    `"nbf":${now - 30},"exp":${now + 900},"iss":"https://sts.bench.example.com/",` +
    `"aud":"https://api.bench.example.com/","name":${name},"unique_name":"example.com#${username}"}`;
  const input = header + utf8.encode(claims).toBase64(BASE64URL);
  return `${input}.${keyed.copy().update(input).digest("base64url")}`;
}

function tokens(request: Request): Response {
  const h = request.headers;
  const incoming = h.get("x-request-id");
  const requestId = incoming !== null && SANE_REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
  h.get("content-length");
  const secret = h.get("x-gateway-secret");
  const trusted = secret !== null && timingSafeEqual(Bun.SHA256.hash(secret) as Uint8Array, gatewaySecret);
  const anonymous = h.get("x-anonymous-consumer");
  const id = h.get("x-consumer-id");
  const username = h.get("x-consumer-username");
  if (!trusted || anonymous === "true" || !id || !UUID.test(id) || !username) {
    return new Response(null, { status: 401 });
  }
  const headers = new Headers(template);
  headers.set("x-request-id", requestId);
  headers.set("ratelimit-limit", "1000000");
  headers.set("ratelimit-remaining", String(--remaining));
  headers.set("ratelimit-reset", "60");
  return new Response(`{"access_token":"${token(username)}","expires_in":900,"token_type":"Bearer"}`, {
    headers,
  });
}

const server = Bun.serve({
  hostname: "127.0.0.1",
  port,
  routes: {
    "/tokens": tokens,
    "/health/live": () => new Response("ok"),
    "/health/ready": () => new Response("ok"),
  },
  fetch: () => new Response(null, { status: 404 }),
});
process.on("SIGTERM", () => server.stop(true).then(() => process.exit(0)));
