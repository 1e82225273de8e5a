/**
 * The standard test consumers (test/shared/test-consumers.ts), with the ids Kong actually gave them
 * when scripts/run-k6.sh provisioned a real Kong: TEST_CONSUMER_ID_<n> / TEST_CONSUMER_USERNAME_<n>.
 */
import { ANONYMOUS_CONSUMER, TEST_CONSUMERS } from "../../shared/test-consumers.ts";

export interface K6Consumer {
  readonly id: string;
  readonly username: string;
}

export const consumers: readonly K6Consumer[] = TEST_CONSUMERS.map((consumer, index) => ({
  id: __ENV[`TEST_CONSUMER_ID_${index + 1}`] || consumer.id,
  username: __ENV[`TEST_CONSUMER_USERNAME_${index + 1}`] || consumer.username,
}));

export const anonymous: K6Consumer = { id: ANONYMOUS_CONSUMER.id, username: ANONYMOUS_CONSUMER.username };

/** Spreads virtual users over the consumers so each one's cache entry is exercised. */
export function consumerFor(vu: number, iteration: number): K6Consumer {
  return consumers[(vu + iteration) % consumers.length] as K6Consumer;
}
