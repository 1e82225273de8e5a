import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freePort } from "../support/process.ts";
import { type Stack, startStack } from "../support/stack.ts";
import { waitFor } from "../support/wait.ts";

/**
 * The benchmark's floor (scripts/lib/floor-server.ts) stands for the work no cached /tokens answer can
 * skip. It only means that while it answers as the service does: the same response headers, a token
 * of the same shape and claims, and a refusal without the gateway's secret. If the service gains a
 * header or a claim, the floor must gain it too, or the floor/service ratio flatters the service.
 */
const SECRET = "floor-test-gateway-secret-0123456789";
const ROOT = new URL("../../", import.meta.url).pathname;

describe("the benchmark's floor server", () => {
  let stack: Stack;
  let floor: Bun.Subprocess;
  let floorUrl: string;

  beforeAll(async () => {
    stack = await startStack({ env: { TRUSTED_GATEWAY_SECRET: SECRET, API_CORS: "*" } });
    const port = await freePort();
    floorUrl = `http://127.0.0.1:${port}`;
    floor = Bun.spawn(["bun", "scripts/lib/floor-server.ts"], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", PORT: String(port), TRUSTED_GATEWAY_SECRET: SECRET },
      stdout: "ignore",
      stderr: "inherit",
    });
    await waitFor(
      () =>
        fetch(`${floorUrl}/health/ready`).then(
          (r) => r.ok,
          () => false,
        ),
      "the floor server to answer",
      10_000,
    );
  });
  afterAll(async () => {
    floor.kill();
    await stack.stop();
  });

  const decode = (segment: string) => JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));

  async function both() {
    const consumer = stack.emulator.addConsumer({ username: `floor-${crypto.randomUUID()}` });
    stack.emulator.addCredential(consumer.id);
    const headers = {
      "x-consumer-id": consumer.id,
      "x-consumer-username": consumer.username as string,
      "x-gateway-secret": SECRET,
    };
    const service = await fetch(`${stack.url}/tokens`, { headers });
    const floorAnswer = await fetch(`${floorUrl}/tokens`, { headers });
    return { service, floor: floorAnswer, headers };
  }

  test("answers with the service's headers and a token of the service's shape", async () => {
    const { service, floor: answer } = await both();
    expect(service.status).toBe(200);
    expect(answer.status).toBe(200);
    const names = (response: Response) =>
      [...response.headers.keys()].filter((name) => name !== "date").sort();
    expect(names(answer)).toEqual(names(service));

    const serviceBody = (await service.json()) as { access_token: string };
    const floorBody = (await answer.json()) as { access_token: string };
    expect(Object.keys(floorBody)).toEqual(Object.keys(serviceBody));
    const [serviceHeader, serviceClaims] = serviceBody.access_token.split(".") as [string, string, string];
    const [floorHeader, floorClaims, signature] = floorBody.access_token.split(".") as [
      string,
      string,
      string,
    ];
    expect(decode(floorHeader)).toEqual(decode(serviceHeader));
    expect(Object.keys(decode(floorClaims))).toEqual(Object.keys(decode(serviceClaims)));
    // An HS256 signature: 32 bytes, base64url without padding.
    expect(signature).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  test("mints a fresh request id and jti per answer, and echoes a caller's request id", async () => {
    const { headers } = await both();
    const first = await fetch(`${floorUrl}/tokens`, { headers });
    const second = await fetch(`${floorUrl}/tokens`, {
      headers: { ...headers, "x-request-id": "caller-id-1" },
    });
    const jti = async (response: Response) =>
      decode(((await response.json()) as { access_token: string }).access_token.split(".")[1] as string).jti;
    expect(first.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(second.headers.get("x-request-id")).toBe("caller-id-1");
    expect(await jti(first)).not.toBe(await jti(second));
  });

  test("refuses, as the service does, a request without the gateway's secret", async () => {
    const { headers } = await both();
    const { "x-gateway-secret": _, ...withoutSecret } = headers;
    expect((await fetch(`${stack.url}/tokens`, { headers: withoutSecret })).status).toBe(401);
    expect((await fetch(`${floorUrl}/tokens`, { headers: withoutSecret })).status).toBe(401);
    const wrong = { ...headers, "x-gateway-secret": `${SECRET}x` };
    expect((await fetch(`${floorUrl}/tokens`, { headers: wrong })).status).toBe(401);
  });
});
