import type { Logger } from "pino";
import type { FullTap, Hook, HookMap } from "tapable";
import { ErrorCode, WeftError, isWeftError } from "../errors.js";
import type { HostHooks } from "./hooks.js";

/** One tap a plugin made, for `weft plugins` and error attribution. */
export interface TapRecord {
  plugin: string;
  hook: string;
}

type AnyHook = Hook<unknown[], unknown>;
type TapFn = (...args: unknown[]) => unknown;

/**
 * Wraps every tap of every hook so a thrown error carries the plugin and hook
 * names, with the original error as `cause`. While a plugin registers, its
 * taps are named after it whatever name it passed.
 */
export class TapAttribution {
  readonly taps: TapRecord[] = [];
  #currentPlugin: string | undefined;
  readonly #logger: Logger;

  constructor(hooks: HostHooks, logger: Logger) {
    this.#logger = logger;
    for (const [name, hook] of Object.entries(hooks)) {
      if (name === "beforeWriteFor") {
        (hook as HookMap<AnyHook>).intercept({
          // tapable passes the hook its factory just created.
          factory: (key, created) => {
            this.#intercept(
              created as unknown as AnyHook,
              `beforeWriteFor(${String(key)})`,
            );
            return created;
          },
        });
      } else {
        this.#intercept(hook as AnyHook, name);
      }
    }
  }

  /** Runs `register` with taps attributed to `plugin`. */
  async during<T>(plugin: string, register: () => T | Promise<T>): Promise<T> {
    this.#currentPlugin = plugin;
    try {
      return await register();
    } finally {
      this.#currentPlugin = undefined;
    }
  }

  #intercept(hook: AnyHook, hookName: string): void {
    hook.intercept({
      register: (tap: FullTap) => {
        const plugin = this.#currentPlugin ?? tap.name;
        tap.name = plugin;
        this.taps.push({ plugin, hook: hookName });
        tap.fn = this.#wrap(tap.fn as TapFn, tap.type, plugin, hookName);
        return tap;
      },
    });
  }

  #wrap(fn: TapFn, type: string, plugin: string, hookName: string): TapFn {
    const attribute = (error: unknown) =>
      attributeError(error, plugin, hookName);
    const logged = hookName === "afterWrite";

    if (type === "promise") {
      return async (...args: unknown[]) => {
        try {
          return await fn(...args);
        } catch (error) {
          if (!logged) throw attribute(error);
          this.#logger.error(
            { err: error, plugin, hook: hookName },
            "afterWrite tap failed; the write stays committed",
          );
        }
      };
    }
    if (type === "async") {
      return (...args: unknown[]) => {
        const callback = args.pop() as (
          error?: unknown,
          result?: unknown,
        ) => void;
        fn(...args, (error?: unknown, result?: unknown) => {
          if (error && logged) {
            this.#logger.error(
              { err: error, plugin, hook: hookName },
              "afterWrite tap failed; the write stays committed",
            );
            callback();
          } else callback(error ? attribute(error) : error, result);
        });
      };
    }
    return (...args: unknown[]) => {
      try {
        return fn(...args);
      } catch (error) {
        if (!logged) throw attribute(error);
        this.#logger.error(
          { err: error, plugin, hook: hookName },
          "afterWrite tap failed; the write stays committed",
        );
      }
    };
  }
}

/** Wraps an error thrown by a tap with the plugin and hook names. */
export function attributeError(
  error: unknown,
  plugin: string,
  hook: string,
): WeftError {
  if (
    isWeftError(error) &&
    error.code === ErrorCode.HOOK_FAILED &&
    error.details.plugin === plugin
  )
    return error;

  const message = error instanceof Error ? error.message : String(error);
  return new WeftError(
    ErrorCode.HOOK_FAILED,
    `plugin ${plugin} failed in hook ${hook}: ${message}`,
    {
      cause: error,
      details: {
        plugin,
        hook,
        ...(isWeftError(error) ? { causeCode: error.code } : {}),
      },
      retryable: isWeftError(error) ? error.retryable : false,
    },
  );
}
