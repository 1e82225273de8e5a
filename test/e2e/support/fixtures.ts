import { test as base, expect } from "@playwright/test";
import { baseUrl } from "./target.ts";

/** Playwright's `request` fixture pointed at the service under test. */
export const test = base.extend({
  // biome-ignore lint/correctness/noEmptyPattern: Playwright fixtures take their dependencies as a pattern.
  baseURL: async ({}, use) => {
    await use(baseUrl());
  },
});

export { expect };

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
}
