import { afterEach, describe, expect, test } from "bun:test";
import { KongEmulator, type KongMode } from "../../support/kong-emulator.ts";
import { adapterFor, json, kongFailureOf, scriptedKongs, UNKNOWN_CONSUMER } from "./support/kong-adapter.ts";

const kong = scriptedKongs();
let emulator: KongEmulator | undefined;
afterEach(async () => {
  await emulator?.stop();
  emulator = undefined;
});

describe.each(["API_GATEWAY", "KONNECT"] as KongMode[])("deleteCredential in %s mode", (mode) => {
  test("DELETE on the consumer's jwt credential by id: 204, gone from Kong; again, a 404", async () => {
    emulator = KongEmulator.start({ mode });
    const consumer = emulator.addConsumer({ username: "deleting" });
    const [doomed, kept] = [emulator.addCredential(consumer.id), emulator.addCredential(consumer.id)];
    const { adapter, outcomes } = adapterFor(emulator.adminUrl, {
      mode,
      ...(emulator.adminToken ? { token: emulator.adminToken } : {}),
    });
    expect(await adapter.deleteCredential(consumer.id, doomed.id)).toEqual({ ok: true, value: undefined });
    expect(outcomes).toEqual([["DELETE credentials", "success"]]);
    expect(emulator.credentialsOf(consumer.id).map((c) => c.id)).toEqual([kept.id]);
    const prefix = mode === "KONNECT" ? `/v2/control-planes/${emulator.controlPlaneId}/core-entities` : "";
    expect(emulator.calls.map((call) => `${call.method} ${call.path} ${call.status}`)).toEqual([
      `DELETE ${prefix}/consumers/${consumer.id}/jwt/${doomed.id} 204`,
    ]);
    expect(await adapter.deleteCredential(consumer.id, doomed.id)).toEqual(UNKNOWN_CONSUMER);
  });
});

describe("deleteCredential's answers", () => {
  test("a 5xx is an outage, a 403 a misconfiguration; the delete is never repeated", async () => {
    const server = kong((request) => json(request.path.includes("busy") ? 503 : 403, {}));
    const { adapter } = adapterFor(server.url);
    expect(await kongFailureOf(adapter.deleteCredential("busy", "c1"))).toMatchObject({
      kind: "unavailable",
      status: 503,
    });
    expect(await kongFailureOf(adapter.deleteCredential("other", "c1"))).toMatchObject({
      kind: "misconfigured",
      status: 403,
    });
    expect(server.requests.map((request) => request.method)).toEqual(["DELETE", "DELETE"]);
  });

  test("a credential id that would be a dot segment is never sent", () => {
    const { adapter } = adapterFor("http://127.0.0.1:9");
    expect(() => adapter.deleteCredential("consumer", "..")).toThrow(RangeError);
  });
});
