import type { Store } from "../store/types.js";

/**
 * A plugin's durable key-value area in the store, for checkpoints, pending
 * work and dead letters. Values are JSON. To commit state with a batch of
 * objects, pass it in the write options' `state` instead.
 */
export interface PluginState {
  get<T = unknown>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
  /** Entries whose keys start with `prefix`, in key order. */
  list<T = unknown>(prefix?: string): Promise<Array<{ key: string; value: T }>>;
}

export function createPluginState(
  store: () => Store,
  plugin: string,
): PluginState {
  return {
    get: async <T>(key: string) =>
      (await store().stateGet(plugin, key)) as T | undefined,
    set: (key, value) => store().stateSet(plugin, key, value),
    delete: (key) => store().stateDelete(plugin, key),
    list: async <T>(prefix = "") =>
      (await store().stateList(plugin, prefix)) as Array<{
        key: string;
        value: T;
      }>,
  };
}
