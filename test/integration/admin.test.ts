import { afterEach, describe, expect, spyOn, test } from "bun:test";
import { retirementGraceMs } from "../../src/composition/rotation.ts";
import { manualClock } from "../support/clock.ts";
import { type EmulatedConsumer, KongEmulator } from "../support/kong-emulator.ts";
import { verifyToken } from "../support/kong-jwt-verifier.ts";
import { deletePrefix, REDIS_URL, uniquePrefix } from "../support/redis.ts";
import { jwkSet, privateJwk } from "../support/service-keys.ts";
import { type Stack, type StackOptions, startStack } from "../support/stack.ts";

const PLUGIN = { key_claim_name: "key", claims_to_verify: ["exp", "nbf"] as ("exp" | "nbf")[] };
const ADMIN_TOKEN = "admin-3f9c1d7e5b2a4c6f8e0d1b3a5c7e9f1d";
const TAG = "kong-auth-service";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function stack(options: StackOptions = {}, env: Record<string, string> = { ADMIN_TOKEN }) {
  const started = await startStack({ ...options, env: { ...env, ...options.env } });
  cleanups.push(() => started.stop());
  return started;
}

/** A cluster of instances sharing one Kong, one Redis prefix and one clock. */
async function sharing(count: number, clock = manualClock()) {
  const emulator = KongEmulator.start();
  const prefix = uniquePrefix("admin");
  cleanups.push(async () => {
    await emulator.stop();
    await deletePrefix(prefix);
  });
  const env = { ADMIN_TOKEN, LOG_LEVEL: "info", REDIS_ENABLED: "true", REDIS_URL, REDIS_KEY_PREFIX: prefix };
  const instances: Stack[] = [];
  for (let i = 0; i < count; i++) {
    const instance = await stack({ emulator, env, now: clock.now });
    await instance.redisReady();
    instances.push(instance);
  }
  return { emulator, instances, clock };
}

/** An admin call with the admin token, another token, or (null) none. */
const admin = (s: Stack, path: string, token: string | null = ADMIN_TOKEN) =>
  s.fetch(path, { method: "POST", ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}) });

const tokenOf = async (s: Stack, consumer: EmulatedConsumer) =>
  ((await (await s.tokens(consumer)).json()) as { access_token: string }).access_token;

/** The credential_operations count for one operation and outcome, from the Prometheus exposition. */
async function counted(s: Stack, operation: string, outcome: string): Promise<number> {
  const text = await (await s.fetch("/metrics", { headers: { accept: "text/plain" } })).text();
  const line = text
    .split("\n")
    .find(
      (row) =>
        row.startsWith("credential_operations") &&
        row.includes(`operation="${operation}"`) &&
        row.includes(`outcome="${outcome}"`),
    );
  return line ? Number(line.split(" ").at(-1)) : 0;
}

/** The one log record of an admin action. */
const logOf = (s: Stack, action: string) =>
  s.logs.records().find((line) => (line.event as { action?: string } | undefined)?.action === action);

const keyClaim = (token: string) =>
  (JSON.parse(Buffer.from(token.split(".")[1] as string, "base64url").toString()) as { key: string }).key;

describe("admin routes are off without ADMIN_TOKEN", () => {
  test("both answer 404, like any unknown path, and the document does not list them", async () => {
    const s = await stack({}, {});
    const consumer = s.emulator.addConsumer({ username: "no-admin" });
    for (const action of ["invalidate", "rotate"]) {
      expect((await admin(s, `/admin/consumers/${consumer.id}/${action}`)).status).toBe(404);
    }
    const paths = Object.keys((s.app.document as { paths: Record<string, unknown> }).paths);
    expect(paths.filter((path) => path.startsWith("/admin"))).toEqual([]);
  });
});

describe("admin authentication", () => {
  test("no token and a wrong token are 401 problems; the token is compared in constant time and never logged", async () => {
    const s = await stack({ env: { LOG_LEVEL: "debug" } });
    const consumer = s.emulator.addConsumer({ username: "auth-check" });
    const path = `/admin/consumers/${consumer.id}/invalidate`;
    const compare = spyOn(crypto, "timingSafeEqual");
    try {
      for (const token of [null, "wrong-token", `${ADMIN_TOKEN}x`]) {
        const refused = await admin(s, path, token);
        expect(refused.status).toBe(401);
        expect(refused.headers.get("content-type")).toBe("application/problem+json");
        expect(refused.headers.get("www-authenticate")).toBe('Bearer realm="admin"');
        expect(await refused.text()).not.toContain(ADMIN_TOKEN);
      }
      expect(compare).toHaveBeenCalledTimes(2);
      expect((await admin(s, path)).status).toBe(200);
      expect(compare).toHaveBeenCalledTimes(3);
    } finally {
      compare.mockRestore();
    }
    expect(s.logs.text).toContain("admin-invalidate");
    expect(s.logs.text).not.toContain(ADMIN_TOKEN);
  });

  test("a path that names no consumer id is a 400 problem", async () => {
    const s = await stack();
    const id = crypto.randomUUID();
    for (const [action, wrong] of [
      ["rotate", "not-a-uuid"],
      ["invalidate", `x${id}`],
      ["rotate", `${id}0`],
    ]) {
      const refused = await admin(s, `/admin/consumers/${wrong}/${action}`);
      expect(refused.status).toBe(400);
      expect(refused.headers.get("content-type")).toBe("application/problem+json");
      expect(await refused.json()).toMatchObject({
        type: "urn:auth-service:problem:invalid-consumer-id",
        detail: "The path does not name a Kong consumer id.",
      });
    }
  });
});

describe("POST /admin/consumers/{id}/invalidate", () => {
  test("reaches a second instance through Redis: it drops its copy and signs with Kong's current credential", async () => {
    const { emulator, instances } = await sharing(2);
    const [first, second] = instances as [Stack, Stack];
    const consumer = emulator.addConsumer({ username: "invalidated" });
    const before = await tokenOf(second, consumer);
    // Replaced by hand in Kong: the second instance goes on signing with its copy until told.
    const [old] = emulator.credentialsOf(consumer.id);
    emulator.removeCredential(consumer.id, old?.id as string);
    const replacement = emulator.addCredential(consumer.id, { created_at: 2_000_000_000 });
    expect(keyClaim(await tokenOf(second, consumer))).toBe(keyClaim(before));

    const answer = await admin(first, `/admin/consumers/${consumer.id.toUpperCase()}/invalidate`);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ consumerId: consumer.id, scope: "all-instances" });
    let signed = "";
    for (let i = 0; i < 200 && keyClaim(signed || before) !== replacement.key; i++) {
      signed = await tokenOf(second, consumer);
    }
    expect(keyClaim(signed)).toBe(replacement.key);
    expect(first.logs.text).toContain(consumer.id);
  });

  test("without Redis, this instance only, and the answer says so; logged and counted", async () => {
    const s = await stack({ env: { LOG_LEVEL: "info" } });
    const consumer = s.emulator.addConsumer({ username: "alone" });
    await tokenOf(s, consumer);
    s.emulator.resetCalls();
    const answer = await admin(s, `/admin/consumers/${consumer.id}/invalidate`);
    expect(await answer.json()).toEqual({ consumerId: consumer.id, scope: "this-instance" });
    await tokenOf(s, consumer);
    expect(s.emulator.countCalls({ method: "GET", pathIncludes: "/jwt" })).toBe(1);
    expect(await counted(s, "invalidate", "this-instance")).toBe(1);
    expect(logOf(s, "admin-invalidate")).toMatchObject({
      message: "Consumer's cached credentials invalidated (admin)",
      "log.level": "info",
      event: { action: "admin-invalidate", category: ["iam"] },
      consumer: { id: consumer.id },
      http: { request: { id: expect.any(String) } },
      scope: "this-instance",
    });
  });
});

describe("POST /admin/consumers/{id}/rotate with service keys", () => {
  test("a consumer whose credential holds the active key keeps it: created false, counted as current", async () => {
    const jwk = privateJwk("EdDSA", "admin-ed");
    const s = await stack({ env: { SIGNING_MODE: "service-keys", SERVICE_KEYS_JWKS: jwkSet(jwk) } });
    const consumer = s.emulator.addConsumer({ username: "keyed-admin" });
    await tokenOf(s, consumer);
    const [own] = s.emulator.credentialsOf(consumer.id);
    const body = await (await admin(s, `/admin/consumers/${consumer.id}/rotate`)).json();
    expect(body).toMatchObject({
      credential: { id: own?.id, algorithm: "EdDSA", created: false },
      retired: [],
    });
    expect(s.emulator.credentialsOf(consumer.id)).toHaveLength(1);
    expect(await counted(s, "rotate", "current")).toBe(1);
  });
});

describe("POST /admin/consumers/{id}/rotate when the service cannot use Kong", () => {
  test("a refused Kong admin token is a 500 problem, counted as misconfigured", async () => {
    const emulator = KongEmulator.start({ adminToken: "kong-rbac-token-0123456789abcdef" });
    cleanups.push(() => emulator.stop());
    const s = await stack({ emulator, env: { KONG_ADMIN_TOKEN: "not-the-kong-rbac-token-0123456789" } });
    const consumer = emulator.addConsumer({ username: "misconfigured" });
    const answer = await admin(s, `/admin/consumers/${consumer.id}/rotate`);
    expect(answer.status).toBe(500);
    expect(await answer.json()).toMatchObject({
      type: "urn:auth-service:problem:misconfigured",
      detail: "The service cannot use Kong's Admin API.",
    });
    expect(await counted(s, "rotate", "misconfigured")).toBe(1);
  });
});

describe("POST /admin/consumers/{id}/rotate with HMAC secrets", () => {
  test("a new tagged credential signs at once; the old one stays its tokens' lifetime, then goes; a hand-made one stays", async () => {
    const clock = manualClock();
    const s = await stack({ now: clock.now, env: { LOG_LEVEL: "info" } });
    const consumer = s.emulator.addConsumer({ username: "rotated" });
    const oldToken = await tokenOf(s, consumer);
    const handMade = s.emulator.addCredential(consumer.id, { created_at: 1_000 });
    const [ours] = s.emulator.credentialsOf(consumer.id).filter((c) => c.tags?.includes(TAG));
    expect(keyClaim(oldToken)).toBe(ours?.key as string);

    const answer = await admin(s, `/admin/consumers/${consumer.id}/rotate`);
    expect(answer.status).toBe(200);
    const text = await answer.text();
    for (const credential of s.emulator.credentialsOf(consumer.id))
      expect(text).not.toContain(credential.secret);
    const body = JSON.parse(text);
    const graceMs = retirementGraceMs(s.config);
    expect(body).toMatchObject({
      consumerId: consumer.id,
      credential: { algorithm: "HS256", created: true },
      retired: [{ id: ours?.id, removeAfter: new Date(clock.now() + graceMs).toISOString() }],
      kept: [{ id: handMade.id, reason: expect.stringContaining("not created by this service") }],
      scope: "this-instance",
    });
    const created = s.emulator.credentialsOf(consumer.id).find((c) => c.id === body.credential.id);
    expect(created?.tags).toEqual([TAG]);

    const newToken = await tokenOf(s, consumer);
    expect(keyClaim(newToken)).toBe(created?.key as string);
    const now = () => Math.floor(clock.now() / 1000);
    expect((await verifyToken(oldToken, PLUGIN, s.emulator, now())).ok).toBe(true);
    expect((await verifyToken(newToken, PLUGIN, s.emulator, now())).ok).toBe(true);

    clock.advance(graceMs - 1);
    await s.app.retirements.sweep();
    expect(s.emulator.credentialsOf(consumer.id)).toHaveLength(3);
    clock.advance(1);
    await s.app.retirements.sweep();
    const left = s.emulator.credentialsOf(consumer.id).map((c) => c.id);
    expect(left.sort()).toEqual([handMade.id, created?.id as string].sort());
    expect(logOf(s, "admin-rotate")).toMatchObject({
      message: "Consumer's credential rotated (admin)",
      "log.level": "info",
      event: { action: "admin-rotate", category: ["iam"] },
      consumer: { id: consumer.id },
      http: { request: { id: expect.any(String) } },
      rotation: { current_id: created?.id, created: true, retired_ids: [ours?.id], kept_ids: [handMade.id] },
      scope: "this-instance",
    });
    expect(await counted(s, "rotate", "rotated")).toBe(1);
    expect(await counted(s, "retire", "removed")).toBe(1);
  });

  test("across instances: the other instance signs with the new credential, and removes the old one when due", async () => {
    const { emulator, instances, clock } = await sharing(2);
    const [first, second] = instances as [Stack, Stack];
    const consumer = emulator.addConsumer({ username: "rotated-shared" });
    const before = keyClaim(await tokenOf(second, consumer));
    const body = (await (await admin(first, `/admin/consumers/${consumer.id}/rotate`)).json()) as {
      credential: { id: string };
      scope: string;
    };
    expect(body.scope).toBe("all-instances");
    const created = emulator.credentialsOf(consumer.id).find((c) => c.id === body.credential.id);
    let signed = before;
    for (let i = 0; i < 200 && signed === before; i++) signed = keyClaim(await tokenOf(second, consumer));
    expect(signed).toBe(created?.key as string);

    clock.advance(retirementGraceMs(second.config));
    await second.app.retirements.sweep();
    expect(emulator.credentialsOf(consumer.id).map((c) => c.id)).toEqual([body.credential.id]);
  });

  test("an unknown consumer is a 404 problem; Kong down is a 503 problem and nothing is created", async () => {
    const s = await stack({ env: { LOG_LEVEL: "info" } });
    const unknown = await admin(s, `/admin/consumers/${crypto.randomUUID()}/rotate`);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("content-type")).toBe("application/problem+json");
    expect(await unknown.json()).toMatchObject({
      type: "urn:auth-service:problem:unknown-consumer",
      detail: "Kong does not know this consumer.",
    });
    const consumer = s.emulator.addConsumer({ username: "rotate-outage" });
    s.emulator.inject({ status: 503 });
    const down = await admin(s, `/admin/consumers/${consumer.id}/rotate`);
    expect(down.status).toBe(503);
    expect(down.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(await down.json()).toMatchObject({
      type: "urn:auth-service:problem:kong-unavailable",
      detail: "Kong is unreachable; nothing was rotated. Try again shortly.",
    });
    s.emulator.clearFaults();
    expect(s.emulator.credentialsOf(consumer.id)).toEqual([]);
    expect(await counted(s, "rotate", "unknown-consumer")).toBe(1);
    expect(await counted(s, "rotate", "unavailable")).toBe(1);
    const failures = s.logs
      .records()
      .filter((line) => line.message?.toString().startsWith("Consumer rotation failed"));
    expect(failures.map((line) => line.message)).toEqual([
      "Consumer rotation failed: Kong does not know the consumer",
      expect.stringContaining("Consumer rotation failed: GET /consumers/"),
    ]);
    expect(failures[1]).toMatchObject({ "log.level": "warn", consumer: { id: consumer.id } });
  });
});
