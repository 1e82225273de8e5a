/** Smoke: GET /tokens for every standard consumer, and the anonymous consumer refused. Needs consumers. */
import exec from "k6/execution";
import type { Options } from "k6/options";
import { errorRate, smoke, thresholds } from "../utils/config.ts";
import { anonymous, consumerFor } from "../utils/consumers.ts";
import { anonymousRefused, tokens } from "../utils/requests.ts";

export const options: Options = {
  vus: smoke.vus,
  duration: smoke.duration,
  thresholds: thresholds(["tokens"], errorRate.normal),
};

export default function (): void {
  tokens(consumerFor(exec.vu.idInTest, exec.vu.iterationInScenario));
  if (exec.vu.iterationInScenario % 10 === 0) anonymousRefused(anonymous);
}
