/** Smoke: GET /health only; needs no Kong consumers. */
import type { Options } from "k6/options";
import { errorRate, smoke, thresholds } from "../utils/config.ts";
import { health } from "../utils/requests.ts";

export const options: Options = {
  vus: smoke.vus,
  duration: smoke.duration,
  thresholds: thresholds(["health"], errorRate.normal),
};

export default function (): void {
  health();
}
