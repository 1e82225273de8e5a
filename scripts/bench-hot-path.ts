/**
 * `bun scripts/bench-hot-path.ts`: micro-benchmarks of the pieces of a cached GET /tokens answer, each
 * against its alternatives in one process, alternating, median of BENCH_MICRO_ROUNDS (default 7)
 * rounds of BENCH_MICRO_ITERATIONS (default 100 000) calls. What chose the hot path's HMAC, body, ids
 * and response construction (docs/testing.md#hot-path-micro-benchmarks); figures only compare within
 * one run.
 */
import {
  createHash,
  createHmac,
  createPrivateKey,
  createSecretKey,
  generateKeyPairSync,
  randomUUID,
  sign,
} from "node:crypto";

const iterations = Number(process.env.BENCH_MICRO_ITERATIONS ?? 100_000);
const rounds = Number(process.env.BENCH_MICRO_ROUNDS ?? 7);

const secret = new TextEncoder().encode("bench-secret-of-a-kong-credential-0123456789");
const keyObject = createSecretKey(secret);
const keyed = new Bun.CryptoHasher("sha256", secret);
const input = `${"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"}.${Buffer.from(
  JSON.stringify({
    sub: "bench-hot",
    key: "4d7e6c1a9b2f4e5d8c3a1b0f9e8d7c6b",
    jti: randomUUID(),
    iat: 1_700_000_000,
    nbf: 1_699_999_940,
    exp: 1_700_000_900,
    iss: "https://sts.bench.example.com/",
    aud: "https://api.bench.example.com/",
    name: "bench-hot",
    unique_name: "example.com#bench-hot",
  }),
).toString("base64url")}`;
const token = `${input}.${"x".repeat(43)}`;
const ed25519 = generateKeyPairSync("ed25519").privateKey;
const p256 = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
const rsa = createPrivateKey(
  generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }),
);
const headers = {
  "content-type": "application/json",
  "cache-control": "no-store",
  pragma: "no-cache",
  "x-request-id": "0123456789abcdef-42",
  "x-content-type-options": "nosniff",
  "access-control-expose-headers":
    "X-Request-Id, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset",
  "access-control-allow-origin": "*",
  "ratelimit-limit": "1000000",
  "ratelimit-remaining": "999999",
  "ratelimit-reset": "42",
};
const entries = Object.entries(headers);
const template = new Headers(
  entries.filter(([name]) => name !== "x-request-id" && !name.startsWith("ratelimit")),
);
let counter = 0;
const utf8 = new TextEncoder();
const gatewaySecret = `bench-gateway-secret-${randomUUID()}`;
const claims = Buffer.from(input.split(".")[1] as string, "base64url").toString();
const prefix = Buffer.from(crypto.getRandomValues(new Uint8Array(8))).toString("hex");

type Case = readonly [name: string, run: () => unknown];
const groups: Record<string, Case[]> = {
  "HMAC-SHA256 of a token's signing input (base64url)": [
    [
      "node:crypto createHmac(KeyObject)",
      () => createHmac("sha256", keyObject).update(input).digest("base64url"),
    ],
    [
      "node:crypto createHmac(Uint8Array)",
      () => createHmac("sha256", secret).update(input).digest("base64url"),
    ],
    [
      "new Bun.CryptoHasher(sha256, key)",
      () => new Bun.CryptoHasher("sha256", secret).update(input).digest("base64url"),
    ],
    ["keyed Bun.CryptoHasher .copy()", () => keyed.copy().update(input).digest("base64url")],
  ],
  "Asymmetric signature (base64url)": [
    ["Ed25519 sign(null, Buffer)", () => sign(null, Buffer.from(input), ed25519).toString("base64url")],
    [
      "ES256 sign(sha256, ieee-p1363)",
      () =>
        sign("sha256", Buffer.from(input), { key: p256, dsaEncoding: "ieee-p1363" }).toString("base64url"),
    ],
    ["RS256 sign(sha256)", () => sign("sha256", Buffer.from(input), rsa).toString("base64url")],
  ],
  "Token response body": [
    ["JSON.stringify", () => JSON.stringify({ access_token: token, expires_in: 900, token_type: "Bearer" })],
    ["template string", () => `{"access_token":"${token}","expires_in":900,"token_type":"Bearer"}`],
  ],
  "Gateway secret digest (SHA-256)": [
    ["node:crypto createHash", () => createHash("sha256").update(gatewaySecret).digest()],
    ["Bun.SHA256.hash", () => Bun.SHA256.hash(gatewaySecret)],
  ],
  "base64url of a claim set": [
    ["Buffer.from(text).toString", () => Buffer.from(claims).toString("base64url")],
    [
      "TextEncoder + toBase64",
      () => utf8.encode(claims).toBase64({ alphabet: "base64url", omitPadding: true }),
    ],
  ],
  Ids: [
    ["crypto.randomUUID()", () => crypto.randomUUID()],
    ["node:crypto randomUUID()", () => randomUUID()],
    ["prefix + counter", () => `${prefix}-${(++counter).toString(36)}`],
  ],
  "Response with 10 headers": [
    ["init object", () => new Response(token, { headers })],
    [
      "template copy + 4 set",
      () => {
        const copy = new Headers(template);
        copy.set("x-request-id", headers["x-request-id"]);
        copy.set("ratelimit-limit", headers["ratelimit-limit"]);
        copy.set("ratelimit-remaining", headers["ratelimit-remaining"]);
        copy.set("ratelimit-reset", headers["ratelimit-reset"]);
        return new Response(token, { headers: copy });
      },
    ],
    ["init entries", () => new Response(token, { headers: entries as [string, string][] })],
    [
      "3 at init + 7 set after",
      () => {
        const response = new Response(token, {
          headers: { "content-type": "application/json", "cache-control": "no-store", pragma: "no-cache" },
        });
        for (let i = 3; i < entries.length; i++) response.headers.set(...(entries[i] as [string, string]));
        return response;
      },
    ],
  ],
};

const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

for (const [group, cases] of Object.entries(groups)) {
  const scale = group.startsWith("Asymmetric") ? 100 : 1;
  const samples = new Map<string, number[]>(cases.map(([name]) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const [name, run] of cases) {
      const started = Bun.nanoseconds();
      for (let i = 0; i < iterations / scale; i++) run();
      samples.get(name)?.push(((Bun.nanoseconds() - started) * scale) / iterations);
    }
  }
  console.log(`\n${group} (ns per call, median of ${rounds})`);
  for (const [name, values] of samples)
    console.log(`  ${name.padEnd(38)} ${median(values).toFixed(0).padStart(8)}`);
}
