import { ErrorCode, WeftError } from "../errors.js";
import type { Store } from "../store/types.js";
import type { Vectorizer } from "../vectorizer/types.js";
import type { ActionDefinition } from "./plugin-host.js";

/**
 * The host's named capability slots: exactly one store, and vectorizers and
 * actions by name. Providing a name twice is an error naming both plugins.
 */
export class Capabilities {
  #store: { store: Store; plugin: string } | undefined;
  readonly #vectorizers = new Map<
    string,
    { vectorizer: Vectorizer; plugin: string }
  >();
  readonly #actions = new Map<
    string,
    { action: ActionDefinition; plugin: string }
  >();

  provideStore(store: Store, plugin: string): void {
    if (this.#store) {
      throw new WeftError(
        ErrorCode.STORE_DUPLICATE,
        `plugin ${plugin} provides a store, but plugin ${this.#store.plugin} already did; configure exactly one store`,
        {
          details: { plugin, existing: this.#store.plugin },
        },
      );
    }
    this.#store = { store, plugin };
  }

  get store(): Store {
    if (!this.#store) {
      throw new WeftError(
        ErrorCode.STORE_MISSING,
        "no store was provided; set store: { use: ... } in the config",
        {},
      );
    }
    return this.#store.store;
  }

  get hasStore(): boolean {
    return this.#store !== undefined;
  }

  provideVectorizer(
    name: string,
    vectorizer: Vectorizer,
    plugin: string,
  ): void {
    this.#provide(this.#vectorizers, "vectorizer", name, plugin, {
      vectorizer,
      plugin,
    });
  }

  vectorizer(name: string): Vectorizer {
    return this.#lookup(this.#vectorizers, "vectorizer", name).vectorizer;
  }

  hasVectorizer(name: string): boolean {
    return this.#vectorizers.has(name);
  }

  provideAction(name: string, action: ActionDefinition, plugin: string): void {
    this.#provide(this.#actions, "action", name, plugin, { action, plugin });
  }

  action(name: string): ActionDefinition {
    return this.#lookup(this.#actions, "action", name).action;
  }

  #provide<T extends { plugin: string }>(
    slots: Map<string, T>,
    kind: string,
    name: string,
    plugin: string,
    value: T,
  ): void {
    const existing = slots.get(name);
    if (existing) {
      throw new WeftError(
        ErrorCode.CAPABILITY_DUPLICATE,
        `plugin ${plugin} provides ${kind} "${name}", but plugin ${existing.plugin} already did; rename one`,
        {
          details: { kind, name, plugin, existing: existing.plugin },
        },
      );
    }
    slots.set(name, value);
  }

  #lookup<T>(slots: Map<string, T>, kind: string, name: string): T {
    const value = slots.get(name);
    if (!value) {
      const known = [...slots.keys()].join(", ") || "none";
      throw new WeftError(
        ErrorCode.CAPABILITY_NOT_FOUND,
        `no ${kind} named "${name}"; known: ${known}. Add the plugin that provides it to the config`,
        {
          details: { kind, name },
        },
      );
    }
    return value;
  }
}
