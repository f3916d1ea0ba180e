import { setTimeout as sleep } from "node:timers/promises";

/**
 * Returns the wait before retry number `attempt` (from 1): doubling from
 * `initialMs` up to `maxMs`, then a random part of up to half of it taken
 * off, so several hosts that failed together do not retry in lockstep.
 */
export function backoffMs(
  attempt: number,
  initialMs: number,
  maxMs: number,
): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(ceiling * (0.5 + Math.random() * 0.5));
}

/** Waits `ms`; resolves early, without throwing, when `signal` aborts. */
export async function pause(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch (error) {
    if ((error as Error).name !== "AbortError") throw error;
  }
}
