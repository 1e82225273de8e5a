/**
 * The benchmark's floor: a Bun.serve that does only the work no cached `/tokens` answer can skip,
 * with none of the service's structure (no pipeline, steps, cache, limiter, metrics or logger).
 * Between the bare server and the service it splits their gap: what the token itself costs in Bun
 * (bare → floor) and what the service adds around it (floor → service).
 *
 * Per request, with the service's own functions where it has them (API_CORS=*): the six request
 * headers the service reads (request id, body length, gateway secret, anonymous flag, consumer id and
 * name) read and checked as the service checks them (requestIdOf, secretMatcher,
 * readConsumerIdentity), a request id and a `jti` from crypto.randomUUID, the claims of the service's
 * shape (encodeBase64Url), an HS256 signature from a keyed Bun.CryptoHasher copied per token, and an
 * answer with the service's ten headers, built from a template, and its body (tokenBody).
 */
import { tokenBody } from "../../src/handlers/tokens.ts";
import { readConsumerIdentity } from "../../src/http/consumer-identity.ts";
import { requestIdOf } from "../../src/http/request-context.ts";
import { secretMatcher } from "../../src/http/secret.ts";
import { encodeBase64Url } from "../../src/jwt/base64url.ts";

const port = Number(process.env.PORT);
const trusted = secretMatcher(process.env.TRUSTED_GATEWAY_SECRET ?? "");
const keyed = new Bun.CryptoHasher("sha256", "a-32-byte-hmac-secret-for-floor!");
const header = `${encodeBase64Url('{"alg":"HS256","typ":"JWT"}')}.`;
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
  const input = header + encodeBase64Url(claims);
  return `${input}.${keyed.copy().update(input).digest("base64url")}`;
}

function tokens(request: Request): Response {
  const requestId = requestIdOf(request);
  const h = request.headers;
  h.get("content-length");
  const identity = trusted(h.get("x-gateway-secret")) ? readConsumerIdentity(h) : undefined;
  if (!identity?.ok) return new Response(null, { status: 401 });
  const headers = new Headers(template);
  headers.set("x-request-id", requestId);
  headers.set("ratelimit-limit", "1000000");
  headers.set("ratelimit-remaining", String(--remaining));
  headers.set("ratelimit-reset", "60");
  return new Response(tokenBody(token(identity.identity.username), 900), { headers });
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
