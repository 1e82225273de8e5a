import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Whether a presented value is the secret, in constant time: both sides are hashed first, so the
 * comparison takes as long whatever the presented length, and a missing value never matches.
 */
export function secretMatcher(secret: string): (presented: string | null) => boolean {
  const expected = digest(secret);
  return (presented) => presented !== null && timingSafeEqual(digest(presented), expected);
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}
