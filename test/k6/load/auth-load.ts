/** Load: ramp to K6_LOAD_TARGET_VUS and hold; 70 % tokens, 20 % a user journey, 10 % metrics. */
import exec from "k6/execution";
import type { Options } from "k6/options";
import { errorRate, load, thresholds } from "../utils/config.ts";
import { consumerFor } from "../utils/consumers.ts";
import { metrics, tokens, userJourney } from "../utils/requests.ts";

export const options: Options = {
  scenarios: {
    load: {
      executor: "ramping-vus",
      startVUs: load.initialVus,
      stages: [
        { duration: load.rampUp, target: load.targetVus },
        { duration: load.steady, target: load.targetVus },
        { duration: load.rampDown, target: 0 },
      ],
      gracefulRampDown: "10s",
    },
  },
  thresholds: thresholds(["tokens", "health", "metrics", "openapi"], errorRate.normal),
};

export default function (): void {
  const consumer = consumerFor(exec.vu.idInTest, exec.vu.iterationInScenario);
  const draw = Math.random();
  if (draw < 0.7) tokens(consumer);
  else if (draw < 0.9) userJourney(consumer);
  else metrics();
}
