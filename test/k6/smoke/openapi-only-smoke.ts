/** Smoke: GET / (the OpenAPI document) only; needs no Kong consumers. */
import type { Options } from "k6/options";
import { errorRate, smoke, thresholds } from "../utils/config.ts";
import { openapi } from "../utils/requests.ts";

export const options: Options = {
  vus: smoke.vus,
  duration: smoke.duration,
  thresholds: thresholds(["openapi"], errorRate.normal),
};

export default function (): void {
  openapi();
}
