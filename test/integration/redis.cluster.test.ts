import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startLoad } from "../support/failover-load.ts";
import {
  clusterMasters,
  killNode,
  publishOnEach,
  startTestTopology,
  subscribersOn,
  type TestTopology,
  TOPOLOGY_START_MS,
  type TwoInstances,
  twoInstances,
} from "../support/redis-topology.ts";
import {
  checkProvisioningLock,
  checkRotationRecords,
  checkSharedEntries,
  checkSharedRateLimit,
  untilInvalidated,
} from "../support/topology-checks.ts";
import { waitFor } from "../support/wait.ts";

/** A real Cluster: three masters with one replica each (scripts/redis-topology.ts). */
let topology: TestTopology;
beforeAll(async () => {
  topology = await startTestTopology("cluster");
}, TOPOLOGY_START_MS);
afterAll(() => topology?.stop());

const ports = () => topology.topology.nodes.map((n) => n.port);

/** Publishes one invalidation on every live node; each must reach both instances (Cluster broadcasts PUBLISH). */
async function invalidateFromEveryNode(pair: TwoInstances, live: readonly number[], already: number) {
  const channel = `${pair.prefix}:invalidate`;
  await waitFor(async () => (await subscribersOn(live, channel)) >= 2, "both instances to subscribe", 15_000);
  await publishOnEach(live, channel, "someone");
  await untilInvalidated(pair, already + live.length);
}

describe("every use of Redis on a Cluster (REDIS_MODE=cluster)", () => {
  test("credential entries are shared between instances and kept for the stale window", async () => {
    await checkSharedEntries(topology);
  }, 20_000);

  test("rotation: due removals claimed once across instances, an admin invalidation reaching both", async () => {
    await checkRotationRecords(topology);
  }, 30_000);

  test("the provisioning lock: a burst of first requests on two instances creates one credential", async () => {
    await checkProvisioningLock(topology);
  }, 20_000);

  test("rate-limit counters are shared (one hash slot, so the sync script is not refused with CROSSSLOT)", async () => {
    await checkSharedRateLimit(topology);
  }, 20_000);

  test("an invalidation published on any node, master or replica, reaches both instances", async () => {
    const pair = await twoInstances(topology);
    try {
      await invalidateFromEveryNode(pair, ports(), 0);
    } finally {
      await pair.stop();
    }
  }, 30_000);
});

describe("a Cluster master killed (SIGKILL) while two instances serve tokens", () => {
  test("no token request fails, no consumer provisioned meanwhile gets two credentials, /health shows the episode, invalidations still arrive", async () => {
    const pair = await twoInstances(topology, { RATE_LIMIT_MAX_REQUESTS: "1000000" });
    const load = startLoad(pair);
    try {
      await load.provisionMore(10);
      const masters = await clusterMasters(topology.topology);
      const victim = topology.topology.nodes.find((n) => n.port === masters[0]);
      if (!victim) throw new Error(`no node on port ${masters[0]}`);
      const killedAt = load.sinceStartMs();
      killNode(victim);
      await waitFor(
        async () => {
          const now = await clusterMasters(topology.topology);
          return now.length === 3 && !now.includes(victim.port);
        },
        "the replica to take over",
        30_000,
      );
      const promotedMs = load.sinceStartMs() - killedAt;
      const degradedAt = await load.untilHealth("degraded", killedAt);
      const healthyAt = await load.untilHealth("healthy", degradedAt);
      await load.provisionMore(10);
      await load.stop();

      expect(load.failures).toEqual([]);
      const duplicated = load.provisioned.filter((c) => pair.emulator.credentialsOf(c.id).length !== 1);
      expect(duplicated.map((c) => c.username)).toEqual([]);
      await invalidateFromEveryNode(
        pair,
        ports().filter((port) => port !== victim.port),
        0,
      );
      console.log(
        `cluster master killed: replica promoted after ${promotedMs} ms; /health degraded ${degradedAt - killedAt} ms ` +
          `after the kill, healthy again ${healthyAt - killedAt} ms after; ${load.requests} requests, ` +
          `${load.provisioned.length} consumers provisioned, 0 failed, slowest ${Math.round(load.slowestMs)} ms`,
      );
    } finally {
      await load.stop();
      await pair.stop();
    }
  }, 90_000);
});
