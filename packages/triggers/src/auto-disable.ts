import type { TriggerScope } from "./trigger-scope.js";

/** Dependencies of an {@link AutoDisable}, passed in by the runner. */
export interface AutoDisableContext extends TriggerScope {
  /** Whether the trigger's stored state is enabled. */
  isEnabled(): boolean;
  disable(reason: string): Promise<unknown>;
}

/** Counts a trigger's consecutive failed attempts and disables the trigger when they reach the threshold. */
export class AutoDisable {
  readonly #context: AutoDisableContext;
  #consecutiveFailures = 0;
  #autoDisabling = false;

  constructor(context: AutoDisableContext) {
    this.#context = context;
  }

  get consecutiveFailures(): number {
    return this.#consecutiveFailures;
  }

  /** Starts the count again, after a success or when the trigger is enabled. */
  reset(): void {
    this.#consecutiveFailures = 0;
  }

  failed(): void {
    this.#consecutiveFailures += 1;
  }

  /** Disables the trigger once the consecutive failures reach the threshold, without waiting for the disable to finish. */
  check(): void {
    const { trigger, metrics, logger } = this.#context;
    const name = trigger.name;
    // Consecutive failed attempts that disable the trigger; 0 turns auto-disable off.
    const threshold = trigger.disableAfterFailures;
    if (
      threshold > 0 &&
      this.#consecutiveFailures >= threshold &&
      this.#context.isEnabled() &&
      !this.#autoDisabling
    ) {
      this.#autoDisabling = true;
      metrics.autoDisabled.inc({ trigger: name });
      logger.error(
        {
          trigger: name,
          consecutiveFailures: this.#consecutiveFailures,
          threshold,
        },
        `trigger disabled after ${this.#consecutiveFailures} consecutive failed attempts; fix the endpoint, then enable it with PUT /v1/triggers/${name}/state`,
      );
      // Not awaited: disabling waits for the reader, which may wait for this delivery to free capacity.
      void this.#context
        .disable(`${this.#consecutiveFailures} consecutive failed attempts`)
        .catch((error: unknown) =>
          logger.error(
            { err: error, trigger: name },
            "disabling the trigger failed",
          ),
        )
        .finally(() => (this.#autoDisabling = false));
    }
  }
}
