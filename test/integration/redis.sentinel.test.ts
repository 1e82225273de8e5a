import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cli, MASTER_NAME } from "../../scripts/lib/redis-topology.ts";
import { startLoad } from "../support/failover-load.ts";
import { KongEmulator } from "../support/kong-emulator.ts";
import {
  nodeClient,
  publishOnEach,
  sentinelMaster,
  startTestTopology,
  type TestTopology,
  TOPOLOGY_START_MS,
  twoInstances,
} from "../support/redis-topology.ts";
import { startStack } from "../support/stack.ts";
import {
  checkProvisioningLock,
  checkRotationRecords,
  checkSharedEntries,
  checkSharedRateLimit,
  untilInvalidated,
} from "../support/topology-checks.ts";
import { waitFor } from "../support/wait.ts";

/** A real Sentinel setup: one master, one replica, three sentinels (scripts/redis-topology.ts). */
let topology: TestTopology;
beforeAll(async () => {
  topology = await startTestTopology("sentinel");
}, TOPOLOGY_START_MS);
afterAll(() => topology?.stop());

describe("every use of Redis through Sentinel (REDIS_MODE=sentinel)", () => {
  test("credential entries are shared between instances and kept for the stale window", async () => {
    await checkSharedEntries(topology);
  }, 20_000);

  test("rotation: due removals claimed once across instances, an admin invalidation reaching both", async () => {
    await checkRotationRecords(topology);
  }, 30_000);

  test("the provisioning lock: a burst of first requests on two instances creates one credential", async () => {
    await checkProvisioningLock(topology);
  }, 20_000);

  test("rate-limit counters are shared", async () => {
    await checkSharedRateLimit(topology);
  }, 20_000);

  test("an invalidation published on the master reaches both instances", async () => {
    const pair = await twoInstances(topology);
    try {
      const master = (await sentinelMaster(topology.topology)) as number;
      await waitFor(
        async () => ((await publishOnEach([master], `${pair.prefix}:invalidate`, "someone"))[0] ?? 0) >= 2,
        "both instances to subscribe",
        10_000,
      );
      await untilInvalidated(pair, 1);
    } finally {
      await pair.stop();
    }
  }, 20_000);
});

describe("Sentinel with passwords on the data nodes and on the sentinels", () => {
  const PASSWORD = "topology-secret-0123";
  let secured: TestTopology;
  beforeAll(async () => {
    secured = await startTestTopology("sentinel", PASSWORD);
  }, TOPOLOGY_START_MS);
  afterAll(() => secured?.stop());

  test("with both passwords the entries land on the master; a wrong sentinel password keeps Redis down, tokens still served", async () => {
    const pair = await twoInstances(secured);
    const master = await nodeClient((await sentinelMaster(secured.topology)) as number, PASSWORD);
    try {
      const consumer = pair.emulator.addConsumer({ username: "secured" });
      pair.emulator.addCredential(consumer.id);
      expect((await pair.a.tokens(consumer)).status).toBe(200);
      expect(await master.exists(`${pair.prefix}:credential:{${consumer.id}}`)).toBe(1);
      expect(pair.a.logs.text).not.toContain(PASSWORD);
    } finally {
      master.destroy();
      await pair.stop();
    }

    const emulator = KongEmulator.start();
    const wrong = await startStack({
      emulator,
      env: {
        REDIS_ENABLED: "true",
        ...secured.env,
        REDIS_SENTINEL_PASSWORD: "not-the-password",
        REDIS_CONNECT_TIMEOUT_MS: "500",
        LOG_LEVEL: "info",
      },
    });
    try {
      const consumer = emulator.addConsumer({ username: "refused" });
      emulator.addCredential(consumer.id);
      await waitFor(() => wrong.logs.text.includes("Redis unavailable"), "the refusal to be logged", 10_000);
      expect(wrong.app.redisStatus()).toBe("down");
      expect((await wrong.tokens(consumer)).status).toBe(200);
      expect(wrong.logs.text).not.toContain("not-the-password");
    } finally {
      await wrong.stop();
      await emulator.stop();
    }
  }, 30_000);
});

describe("SENTINEL FAILOVER while two instances serve tokens", () => {
  test("no token request fails, no consumer provisioned meanwhile gets two credentials, /health shows the episode, invalidations still arrive", async () => {
    const pair = await twoInstances(topology, { RATE_LIMIT_MAX_REQUESTS: "1000000" });
    const load = startLoad(pair);
    try {
      await load.provisionMore(10);
      const before = (await sentinelMaster(topology.topology)) as number;
      const failedOverAt = load.sinceStartMs();
      expect(
        (
          await cli(
            topology.topology.sentinels[0] as { port: number },
            undefined,
            "SENTINEL",
            "FAILOVER",
            MASTER_NAME,
          )
        )?.trim(),
      ).toBe("OK");
      await waitFor(
        async () => ((await sentinelMaster(topology.topology)) ?? before) !== before,
        "the sentinels to promote the replica",
        30_000,
      );
      const switchedMs = load.sinceStartMs() - failedOverAt;
      const degradedAt = await load.untilHealth("degraded", failedOverAt);
      const healthyAt = await load.untilHealth("healthy", degradedAt);
      await load.provisionMore(10);
      await load.stop();

      expect(load.failures).toEqual([]);
      const duplicated = load.provisioned.filter((c) => pair.emulator.credentialsOf(c.id).length !== 1);
      expect(duplicated.map((c) => c.username)).toEqual([]);
      // After the episode, the channel works on the new master.
      const master = (await sentinelMaster(topology.topology)) as number;
      await waitFor(
        async () => ((await publishOnEach([master], `${pair.prefix}:invalidate`, "someone"))[0] ?? 0) >= 2,
        "both instances to be subscribed on the new master",
        15_000,
      );
      await untilInvalidated(pair, 1);
      console.log(
        `sentinel failover: switched in ${switchedMs} ms; /health degraded ${degradedAt - failedOverAt} ms after ` +
          `SENTINEL FAILOVER, healthy again ${healthyAt - failedOverAt} ms after; ${load.requests} requests, ` +
          `${load.provisioned.length} consumers provisioned, 0 failed, slowest ${Math.round(load.slowestMs)} ms`,
      );
    } finally {
      await load.stop();
      await pair.stop();
    }
  }, 90_000);
});
