/**
 * Spike: K6_SPIKE_BASELINE_VUS, a jump to K6_SPIKE_TARGET_VUS within 10 s, held, a drop back to the
 * baseline and a recovery period; the three phases share K6_SPIKE_DURATION. Mostly tokens (90 %).
 */
import exec from "k6/execution";
import type { Options } from "k6/options";
import { errorRate, spike, thresholds } from "../utils/config.ts";
import { consumerFor } from "../utils/consumers.ts";
import { fraction } from "../utils/durations.ts";
import { health, tokens } from "../utils/requests.ts";

const phase = fraction(spike.duration, 1 / 3);

export const options: Options = {
  scenarios: {
    spike: {
      executor: "ramping-vus",
      startVUs: spike.baselineVus,
      stages: [
        { duration: phase, target: spike.baselineVus },
        { duration: "10s", target: spike.targetVus },
        { duration: phase, target: spike.targetVus },
        { duration: "10s", target: spike.baselineVus },
        { duration: phase, target: spike.baselineVus },
      ],
      gracefulRampDown: "10s",
    },
  },
  thresholds: thresholds(["tokens", "health"], errorRate.stress),
};

export default function (): void {
  if (Math.random() < 0.9) tokens(consumerFor(exec.vu.idInTest, exec.vu.iterationInScenario));
  else health();
}
