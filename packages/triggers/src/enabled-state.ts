import type { PluginState } from "@weft/core";
import type { ResolvedTrigger } from "./config.js";
import { TriggersErrorCode, triggersError } from "./errors.js";
import type { TriggerControl, TriggerKeys } from "./records.js";
import type { TriggerScope } from "./trigger-scope.js";

/**
 * A trigger's on/off state: `enabled` in the config, and the stored choice
 * made through the API or by auto-disable. The trigger reads and delivers
 * only while both are on.
 */
export class EnabledState {
  readonly #trigger: ResolvedTrigger;
  readonly #state: PluginState;
  readonly #keys: TriggerKeys;
  #control: TriggerControl = {
    enabled: true,
    changedAt: new Date().toISOString(),
  };

  constructor(scope: TriggerScope) {
    this.#trigger = scope.trigger;
    this.#state = scope.state;
    this.#keys = scope.keys;
  }

  /** Whether the trigger reads and delivers: enabled in the config and in its stored state. */
  get enabled(): boolean {
    return this.#trigger.enabled && this.#control.enabled;
  }

  /** Whether the stored state is enabled, regardless of the config. */
  get storedEnabled(): boolean {
    return this.#control.enabled;
  }

  /** Reason the trigger is disabled; null while it is enabled. */
  get disabledReason(): string | null {
    return this.enabled
      ? null
      : this.#trigger.enabled
        ? (this.#control.reason ?? null)
        : "disabled in config";
  }

  /** ISO-8601 time of the last change of the stored state. */
  get changedAt(): string | null {
    return this.#control.changedAt ?? null;
  }

  /** Loads the stored state; call once the store is open. */
  async load(): Promise<void> {
    const control = await this.#state.get<TriggerControl>(this.#keys.control);
    if (control) this.#control = control;
  }

  /**
   * Stores a new choice. Returns false when the stored state already is
   * `enabled`. Throws when enabling a trigger that the config disables.
   */
  async set(enabled: boolean, reason: string): Promise<boolean> {
    const name = this.#trigger.name;
    if (enabled && !this.#trigger.enabled) {
      throw triggersError(
        TriggersErrorCode.DISABLED_IN_CONFIG,
        `trigger ${name} is disabled in the config (enabled: false); change the config and restart to enable it`,
        {
          details: { trigger: name },
        },
      );
    }
    if (this.#control.enabled === enabled) return false;

    this.#control = {
      enabled,
      ...(enabled ? {} : { reason }),
      changedAt: new Date().toISOString(),
    };
    await this.#state.set(this.#keys.control, this.#control);
    return true;
  }
}
