import { expect } from "bun:test";
import { RedisConnection } from "../../src/cache/redis-connection.ts";
import { RedisRetirementStore } from "../../src/cache/retirement-store.ts";
import { testConfig } from "./config.ts";
import { testLogger } from "./logger.ts";
import { dataClient, type TestTopology, type Topology, twoInstances } from "./redis-topology.ts";
import { waitFor } from "./wait.ts";

/**
 * What every Redis topology must do for the service, checked the same way on each: the credential
 * entries shared, the provisioning lock, the stale copies kept, the rate-limit counters shared.
 */

/** An instance serves a consumer another fetched, with no Kong call; the entry is kept for the stale window. */
export async function checkSharedEntries(topology: TestTopology) {
  const pair = await twoInstances(topology, { HIGH_AVAILABILITY: "true", CACHE_TTL_SECONDS: "60" });
  const client = await dataClient(topology.topology);
  try {
    const consumer = pair.emulator.addConsumer({ username: "shared" });
    pair.emulator.addCredential(consumer.id);
    expect((await pair.a.tokens(consumer)).status).toBe(200);
    pair.emulator.resetCalls();
    expect((await pair.b.tokens(consumer)).status).toBe(200);
    expect(pair.emulator.calls).toHaveLength(0);
    // Kept past its 60 s of freshness, for the stale window (STALE_DATA_TOLERANCE_MINUTES, 60 by default).
    const ttl = await client.pTTL(`${pair.prefix}:credential:{${consumer.id}}`);
    expect(ttl).toBeGreaterThan(60_000);
    // /health names the topology and where it is, without secrets, once the instance is subscribed
    // to invalidations (on a connection of its own, which may complete after the first answers).
    const redisShown = async () =>
      (
        (await (await pair.a.fetch("/health")).json()) as {
          dependencies: { redis: Record<string, unknown> };
        }
      ).dependencies.redis;
    await waitFor(
      async () => (await redisShown()).invalidations === "subscribed",
      "the instance to subscribe to invalidations",
      10_000,
    );
    const { kind, nodes, sentinels, masterName } = topology.topology;
    const list = (kind === "sentinel" ? sentinels : nodes).map((n) => `${n.host}:${n.port}`).join(",");
    expect(await redisShown()).toEqual({
      status: "healthy",
      mode: kind,
      url: kind === "sentinel" ? `sentinel://${list}/${masterName}` : `cluster://${list}`,
      highAvailability: true,
      invalidations: "subscribed",
    });
  } finally {
    client.destroy();
    await pair.stop();
  }
}

/** 20+20 first requests across both instances create exactly one credential (the lock). */
export async function checkProvisioningLock(topology: TestTopology) {
  const pair = await twoInstances(topology);
  try {
    const consumer = pair.emulator.addConsumer({ username: "burst" });
    pair.emulator.setLatency(25);
    const responses = await Promise.all(
      pair.instances.flatMap((instance) => Array.from({ length: 20 }, () => instance.tokens(consumer))),
    );
    pair.emulator.setLatency(0);
    expect(responses.map((response) => response.status)).toEqual(Array(40).fill(200));
    expect(pair.emulator.credentialsOf(consumer.id)).toHaveLength(1);
  } finally {
    await pair.stop();
  }
}

/** Counts made on one instance limit the other: it refuses long before counting 10 on its own. */
export async function checkSharedRateLimit(topology: TestTopology) {
  const pair = await twoInstances(topology, { RATE_LIMIT_MAX_REQUESTS: "10", RATE_LIMIT_SYNC_MS: "20" });
  try {
    const consumer = pair.emulator.addConsumer({ username: "limited" });
    for (let i = 0; i < 10; i++) expect((await pair.a.tokens(consumer)).status).toBe(200);
    let asked = 0;
    await waitFor(
      async () => {
        asked++;
        return (await pair.b.tokens(consumer)).status === 429;
      },
      "the other instance to refuse on the shared count",
      10_000,
    );
    expect(asked).toBeLessThan(5);
  } finally {
    await pair.stop();
  }
}

/** Resolves once every instance has logged `count` invalidations. */
export async function untilInvalidated(
  pair: { instances: readonly { logs: { text: string } }[] },
  count: number,
) {
  const applied = (text: string) => text.split("Consumer invalidated through Redis").length - 1;
  await waitFor(
    () => pair.instances.every((instance) => applied(instance.logs.text) >= count),
    `${count} invalidation(s) to reach every instance`,
    15_000,
  );
}

export type { Topology };

/**
 * The rotation's Redis uses: the due-removal record (one sorted set, claimed by one instance at a time)
 * and an admin invalidation published by one instance reaching the other.
 */
export async function checkRotationRecords(topology: TestTopology) {
  const pair = await twoInstances(topology, { ADMIN_TOKEN: TOPOLOGY_ADMIN_TOKEN });
  const connections = [0, 1].map(() => new RedisConnection(testConfig(topology.env).redis, testLogger()));
  try {
    for (const connection of connections) await connection.connect();
    await waitFor(() => connections.every((c) => c.status === "ready"), "two Redis connections", 15_000);
    const [a, b] = connections.map((c) => new RedisRetirementStore(c, pair.prefix)) as [
      RedisRetirementStore,
      RedisRetirementStore,
    ];
    const retirement = (n: number) => ({
      consumerId: `c-${n}`,
      kongConsumerId: `k-${n}`,
      credentialId: `cred-${n}`,
    });
    for (let n = 0; n < 10; n++) expect(await a.schedule(retirement(n), 1_000 + n)).toBe(true);
    await a.postpone(retirement(9), 50_000);
    expect(await b.dueAt(retirement(9))).toBe(50_000);
    const [fromA, fromB] = await Promise.all([a.claimDue(5_000, 60_000, 9), b.claimDue(5_000, 60_000, 9)]);
    const claimed = [...fromA, ...fromB].map(({ credentialId }) => credentialId).sort();
    expect(claimed).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8].map((n) => `cred-${n}`));
    await b.finish(retirement(0));
    expect(await a.dueAt(retirement(0))).toBeUndefined();

    const consumer = pair.emulator.addConsumer({ username: "admin-invalidated" });
    expect((await pair.b.tokens(consumer)).status).toBe(200);
    const answer = await pair.a.fetch(`/admin/consumers/${consumer.id}/invalidate`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOPOLOGY_ADMIN_TOKEN}` },
    });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ consumerId: consumer.id, scope: "all-instances" });
    await untilInvalidated(pair, 1);
  } finally {
    for (const connection of connections) await connection.close();
    await pair.stop();
  }
}

const TOPOLOGY_ADMIN_TOKEN = "topology-admin-7c1e9a3f5d2b4e6a8c0f";
