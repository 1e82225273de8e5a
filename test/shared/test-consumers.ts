/**
 * The standard test consumers, defined once for the local stack, the Playwright suites and k6.
 * Fixed ids so that a curl printed today still works tomorrow against `bun run local`.
 */
export interface TestConsumer {
  readonly id: string;
  readonly username: string;
  readonly custom_id: string;
  readonly description: string;
}

export const TEST_CONSUMERS: readonly TestConsumer[] = [
  {
    id: "1b7c8f2e-0001-4a5b-9c3d-000000000001",
    username: "test-user-001",
    custom_id: "test-001",
    description: "Primary test consumer",
  },
  {
    id: "1b7c8f2e-0002-4a5b-9c3d-000000000002",
    username: "test-user-002",
    custom_id: "test-002",
    description: "Secondary test consumer",
  },
  {
    id: "1b7c8f2e-0003-4a5b-9c3d-000000000003",
    username: "test-user-003",
    custom_id: "test-003",
    description: "Load test consumer",
  },
  {
    id: "1b7c8f2e-0004-4a5b-9c3d-000000000004",
    username: "test-user-004",
    custom_id: "test-004",
    description: "Caching test consumer",
  },
  {
    id: "1b7c8f2e-0005-4a5b-9c3d-000000000005",
    username: "test-user-005",
    custom_id: "test-005",
    description: "Concurrency test consumer",
  },
];

/** What Kong's key-auth uses when a route allows anonymous access; it must never get a token. */
export const ANONYMOUS_CONSUMER: TestConsumer = {
  id: "12345678-1234-1234-1234-123456789abc",
  username: "anonymous",
  custom_id: "anonymous",
  description: "Anonymous fallback consumer",
};

/** The headers Kong's key-auth sets upstream for a consumer (docs/kong-facts.md#upstream-headers). */
export function kongHeadersFor(consumer: TestConsumer, anonymous = false): Record<string, string> {
  const headers: Record<string, string> = {
    "X-Consumer-ID": consumer.id,
    "X-Consumer-Username": consumer.username,
    "X-Consumer-Custom-ID": consumer.custom_id,
  };
  if (anonymous) headers["X-Anonymous-Consumer"] = "true";
  return headers;
}
