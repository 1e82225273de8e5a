import { describe, expect, test } from "bun:test";
import { basename, dirname } from "node:path";
import fc from "fast-check";
import { ArtifactStore, artifactKindOf, newSessionId } from "../../../src/profiling/artifacts.ts";

const store = new ArtifactStore("/var/tmp/profiling-out", 1024);

describe("artifact names", () => {
  test("any name resolves to a direct child of the output directory or to nothing", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 80 }), (name) => {
        const path = store.pathOf(name);
        if (path === undefined) return;
        expect(dirname(path)).toBe("/var/tmp/profiling-out");
        expect(basename(path)).toBe(name);
      }),
    );
  });

  test("a name with a separator, a parent step or a NUL is never accepted", () => {
    const valid = `${newSessionId(new Date("2025-01-15T12:00:00Z"))}.cpuprofile`;
    fc.assert(
      fc.property(
        fc.string({ maxLength: 20 }),
        fc.constantFrom("/", "\\", "..", "\0", "%2F"),
        fc.string({ maxLength: 20 }),
        (before, bad, after) => {
          expect(store.pathOf(before + bad + after)).toBeUndefined();
          expect(store.pathOf(`${before}${bad}${valid}`)).toBeUndefined();
        },
      ),
    );
  });

  test("every session id makes valid names of both kinds, sortable by time", () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date("2000-01-01T00:00:00Z"),
          max: new Date("2999-12-31T23:59:59Z"),
          noInvalidDate: true,
        }),
        fc.integer({ min: 1, max: 86_400_000 }),
        (at, laterBy) => {
          const id = newSessionId(at);
          expect(artifactKindOf(`${id}.cpuprofile`)).toBe("cpuprofile");
          expect(artifactKindOf(`${id}.heapsnapshot`)).toBe("heapsnapshot");
          expect(artifactKindOf(`${id}.json`)).toBeUndefined();
          const later = newSessionId(new Date(at.getTime() + laterBy));
          expect(later.slice(0, 27) > id.slice(0, 27)).toBe(true);
        },
      ),
    );
  });
});
