/** Smoke: every endpoint that needs no consumer, one after the other. */
import type { Options } from "k6/options";
import { errorRate, smoke, thresholds } from "../utils/config.ts";
import { health, metrics, openapi } from "../utils/requests.ts";

export const options: Options = {
  vus: smoke.vus,
  duration: smoke.duration,
  thresholds: thresholds(["health", "metrics", "openapi"], errorRate.normal),
};

export default function (): void {
  health();
  metrics();
  openapi();
}
