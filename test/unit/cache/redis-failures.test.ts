import { describe, expect, test } from "bun:test";
import { isChannelRefusal, isTopologyFailure } from "../../../src/cache/redis-failures.ts";

describe("isTopologyFailure", () => {
  test.each([
    "CLUSTERDOWN The cluster is down",
    "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
    "READONLY You can't write against a read only replica.",
    "LOADING Redis is loading the dataset in memory",
    "TRYAGAIN Multiple keys request during rehashing of slot",
    "MOVED 3999 127.0.0.1:6381",
    "ASK 3999 127.0.0.1:6381",
    "CLUSTERDOWN",
  ])("a reply of the topology changing: %s", (message) => {
    expect(isTopologyFailure(new Error(message))).toBe(true);
  });

  test.each([
    "The client is closed",
    "Socket closed unexpectedly",
    "connect ECONNREFUSED 127.0.0.1:7000",
    "None of the root nodes is available",
  ])("a client-side failure, with no code: %s", (message) => {
    expect(isTopologyFailure(new Error(message))).toBe(true);
  });

  test.each([
    "ERR unknown command 'NO-SUCH-COMMAND'",
    "NOPERM User has no permissions to run the 'eval' command",
    "WRONGTYPE Operation against a key holding the wrong kind of value",
    "NOSCRIPT No matching script",
    "ERR",
  ])("Redis refusing the command for what it is: %s", (message) => {
    expect(isTopologyFailure(new Error(message))).toBe(false);
  });

  test("a code only counts at the start, in capitals, as a word of its own", () => {
    expect(isTopologyFailure(new Error("ERRfoo is no code"))).toBe(true);
    expect(isTopologyFailure(new Error("Err lower case"))).toBe(true);
    expect(isTopologyFailure(new Error("X short"))).toBe(true);
    expect(isTopologyFailure("NOPERM as a string")).toBe(false);
    expect(isTopologyFailure(new Error("ERR CLUSTERDOWN later in the message"))).toBe(false);
  });
});

describe("isChannelRefusal", () => {
  test.each([
    "NOPERM this user has no permissions to access one of the channels used as arguments",
    "NOPERM User svc has no permissions to access the 'auth:invalidate' channel",
  ])("a SUBSCRIBE the ACL refuses: %s", (message) => {
    expect(isChannelRefusal(new Error(message))).toBe(true);
  });

  test.each([
    "NOPERM User svc has no permissions to run the 'subscribe' command",
    "NOPERM User svc has no permissions to access the 'auth:credential:{x}' key",
    "NOPERM User svc has no permissions to access the 'channelled' key",
    "ERR NOPERM quoted: no permissions to access the 'x' channel",
    "NOPERMchannel",
    "Socket closed unexpectedly",
  ])("anything else: %s", (message) => {
    expect(isChannelRefusal(new Error(message))).toBe(false);
  });

  test("only an Error is one", () => {
    expect(isChannelRefusal("NOPERM this user has no permissions to access one of the channels")).toBe(false);
  });
});
