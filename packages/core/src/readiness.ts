import type { PluginStatus } from "./plugin/plugin-host.js";

/** Readiness of every plugin, for `/readyz`. */
export class Readiness {
  readonly #plugins = new Map<
    string,
    { status: PluginStatus; details: Record<string, unknown> }
  >();

  set(
    plugin: string,
    status: PluginStatus,
    details: Record<string, unknown> = {},
  ): void {
    this.#plugins.set(plugin, { status, details });
  }

  /** Whether every plugin is ready or degraded. */
  get ready(): boolean {
    for (const { status } of this.#plugins.values())
      if (status !== "ready" && status !== "degraded") return false;
    return true;
  }

  toJSON(): Record<
    string,
    { status: PluginStatus; details: Record<string, unknown> }
  > {
    return Object.fromEntries(this.#plugins);
  }
}
