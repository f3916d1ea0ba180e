import type { RetryPolicy } from "./config.js";

/**
 * Computes the wait before the retry that follows failed attempt `attempt`
 * (1 for the first attempt). The cap grows as `initialDelay ×
 * multiplier^(attempt-1)` up to `maxDelay`; full jitter waits a uniformly
 * random time between 0 and the cap. A `Retry-After` from the endpoint
 * raises the wait to at least that long, but never past `maxDelay`.
 */
export function retryDelay(
  policy: RetryPolicy,
  attempt: number,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const cap = Math.min(
    policy.maxDelayMs,
    policy.initialDelayMs * policy.multiplier ** (attempt - 1),
  );
  const backoff = policy.jitter === "full" ? Math.floor(random() * cap) : cap;
  if (retryAfterMs === undefined || !Number.isFinite(retryAfterMs))
    return backoff;
  return Math.min(policy.maxDelayMs, Math.max(backoff, retryAfterMs));
}
