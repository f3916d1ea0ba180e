import type { FullTap, Hook } from "tapable";
import { ErrorCode, WeftError } from "../errors.js";

type TapWithFn = FullTap & { fn: (...args: unknown[]) => unknown };

/** Calls one tap of any type (sync, async or promise) and waits for it. */
export function invokeTap(
  tap: TapWithFn,
  args: unknown[] = [],
): Promise<unknown> {
  if (tap.type === "async") {
    return new Promise((resolve, reject) =>
      tap.fn(...args, (error?: unknown, result?: unknown) =>
        error ? reject(error) : resolve(result),
      ),
    );
  }
  try {
    return Promise.resolve(tap.fn(...args));
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Options of {@link runTapsWithDeadline}. */
export interface DeadlineOptions {
  hookName: string;
  /** Deadline of each tap in milliseconds. */
  timeoutMs: number;
  code:
    | typeof ErrorCode.PLUGIN_START_TIMEOUT
    | typeof ErrorCode.PLUGIN_STOP_TIMEOUT;
  reverse?: boolean;
  /** Called with each tap's error instead of stopping at the first. */
  onError?: (error: unknown, plugin: string) => void;
}

/**
 * Runs a hook's taps one by one, each under its own deadline, so a plugin
 * that hangs is named in the error instead of stalling the host.
 */
export async function runTapsWithDeadline(
  hook: Hook<unknown[], unknown>,
  options: DeadlineOptions,
): Promise<void> {
  const taps = [...(hook.taps as unknown as TapWithFn[])];
  if (options.reverse) taps.reverse();

  for (const tap of taps) {
    try {
      await withDeadline(
        invokeTap(tap),
        options.timeoutMs,
        () =>
          new WeftError(
            options.code,
            `plugin ${tap.name} did not finish hook ${options.hookName} within ${options.timeoutMs} ms`,
            {
              details: {
                plugin: tap.name,
                hook: options.hookName,
                timeoutMs: options.timeoutMs,
              },
            },
          ),
      );
    } catch (error) {
      if (!options.onError) throw error;
      options.onError(error, tap.name);
    }
  }
}

/** Resolves with `promise`, or rejects with `timeoutError()` after `ms`. */
export function withDeadline<T>(
  promise: Promise<T>,
  ms: number,
  timeoutError: () => Error,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    // Kept referenced: a tap that hangs on a promise alone must still time out.
    timer = setTimeout(() => reject(timeoutError()), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
