/**
 * Stress: beyond normal load, in steps: ramp to K6_STRESS_INITIAL_VUS, then K6_STRESS_TARGET_VUS,
 * then K6_STRESS_PEAK_VUS, each step a fifth of K6_STRESS_DURATION, then back down. Mostly tokens
 * (85 %) with health and metrics traffic; the error budget is K6_STRESS_ERROR_RATE_THRESHOLD.
 */
import exec from "k6/execution";
import type { Options } from "k6/options";
import { errorRate, stress, thresholds } from "../utils/config.ts";
import { consumerFor } from "../utils/consumers.ts";
import { fraction } from "../utils/durations.ts";
import { health, metrics, tokens } from "../utils/requests.ts";

const step = fraction(stress.duration, 1 / 5);

export const options: Options = {
  scenarios: {
    stress: {
      executor: "ramping-vus",
      startVUs: 0,
      stages: [
        { duration: step, target: stress.initialVus },
        { duration: step, target: stress.targetVus },
        { duration: step, target: stress.targetVus },
        { duration: step, target: stress.peakVus },
        { duration: step, target: 0 },
      ],
      gracefulRampDown: "10s",
    },
  },
  thresholds: thresholds(["tokens", "health", "metrics"], errorRate.stress),
};

export default function (): void {
  const draw = Math.random();
  if (draw < 0.85) tokens(consumerFor(exec.vu.idInTest, exec.vu.iterationInScenario));
  else if (draw < 0.95) health();
  else metrics();
}
