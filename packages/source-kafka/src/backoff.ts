/**
 * Returns the delay before retry number `attempt` (1 for the first retry):
 * exponential from `initialMs`, capped at `maxMs`, with ±20% jitter so that
 * consumers that failed together do not retry in step.
 */
export function retryDelay(
  attempt: number,
  initialMs: number,
  maxMs: number,
): number {
  const exponential = Math.min(
    maxMs,
    initialMs * 2 ** Math.min(attempt - 1, 30),
  );
  const jitter = 0.8 + Math.random() * 0.4;
  return Math.round(Math.min(maxMs, exponential * jitter));
}

/**
 * Resolves after `ms`, or earlier when `interrupt` settles. Returns true when
 * the full time passed.
 */
export async function sleep(
  ms: number,
  interrupt?: Promise<unknown>,
): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const elapsed = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), ms);
  });
  const woken = interrupt?.then(
    () => false,
    () => false,
  );
  try {
    return await Promise.race(woken ? [elapsed, woken] : [elapsed]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Waits for `promise` and calls `heartbeat` every `intervalMs` meanwhile, so
 * the group coordinator keeps the member while a write or a full buffer
 * holds up the fetch loop. An error of `heartbeat` (a rebalance started)
 * rejects at once.
 */
export async function waitWithHeartbeat<T>(
  promise: Promise<T>,
  heartbeat: () => Promise<void>,
  intervalMs: number,
): Promise<T> {
  let settled = false;
  const tracked = promise.finally(() => {
    settled = true;
  });
  // The loop below observes the outcome; this keeps an early rejection from being reported as unhandled.
  tracked.catch(() => undefined);

  while (!settled) {
    await sleep(intervalMs, tracked);
    if (!settled) await heartbeat();
  }
  return tracked;
}
