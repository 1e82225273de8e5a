import { describe, expect, test } from "bun:test";
import { SingleFlight } from "../../../src/credentials/single-flight.ts";

describe("SingleFlight", () => {
  test("concurrent callers for one key share one execution; once it settles, the next call runs again", async () => {
    const flights = new SingleFlight<number>();
    let runs = 0;
    const { promise, resolve } = Promise.withResolvers<number>();
    const work = () => {
      runs++;
      return promise;
    };
    const results = Array.from({ length: 50 }, () => flights.run("a", work));
    resolve(42);
    expect(await Promise.all(results)).toEqual(Array(50).fill(42));
    expect(runs).toBe(1);
    expect(await flights.run("a", work)).toBe(42);
    expect(runs).toBe(2);
  });

  test("different keys run independently", async () => {
    const flights = new SingleFlight<string>();
    const [a, b] = await Promise.all([flights.run("a", async () => "A"), flights.run("b", async () => "B")]);
    expect([a, b]).toEqual(["A", "B"]);
  });

  test("a failure reaches every waiter and the next call runs again", async () => {
    const flights = new SingleFlight<number>();
    let runs = 0;
    const failing = () => {
      runs++;
      return Promise.reject(new Error("boom"));
    };
    const results = await Promise.allSettled([flights.run("k", failing), flights.run("k", failing)]);
    expect(results.map((result) => result.status)).toEqual(["rejected", "rejected"]);
    expect(await flights.run("k", async () => 7)).toBe(7);
    expect(runs).toBe(1);
  });
});
