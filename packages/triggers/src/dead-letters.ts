import type { PluginHost, PluginState } from "@weft/core";
import { v7 as uuidv7 } from "uuid";
import { TriggersErrorCode, triggersError } from "./errors.js";
import type { TriggerMetrics } from "./metrics.js";
import type {
  AttemptError,
  DeadLetter,
  DeadLetterReason,
  PendingDelivery,
  TriggerKeys,
} from "./records.js";
import type { TriggerScope } from "./trigger-scope.js";

type Logger = PluginHost["logger"];

/** A trigger's dead letters in plugin state, and their count. */
export class DeadLetters {
  readonly #name: string;
  readonly #state: PluginState;
  readonly #keys: TriggerKeys;
  readonly #metrics: TriggerMetrics;
  readonly #logger: Logger;
  #count = 0;

  constructor(scope: TriggerScope) {
    this.#name = scope.trigger.name;
    this.#state = scope.state;
    this.#keys = scope.keys;
    this.#metrics = scope.metrics;
    this.#logger = scope.logger;
  }

  get count(): number {
    return this.#count;
  }

  /** Counts the stored dead letters; call once at load. */
  async load(): Promise<void> {
    this.#count = (await this.#state.list(this.#keys.deadPrefix)).length;
  }

  /** Builds the dead letter of a delivery that failed for good. */
  build(
    record: PendingDelivery,
    reason: DeadLetterReason,
    attempt: number,
    lastError: AttemptError,
  ): DeadLetter {
    return {
      id: uuidv7(),
      trigger: this.#name,
      deliveryId: record.deliveryId,
      source: record.source,
      reason,
      event: record.event,
      attempts: attempt,
      ...(record.firstAttemptAt
        ? { firstAttemptAt: record.firstAttemptAt }
        : {}),
      failedAt: new Date().toISOString(),
      lastError,
    };
  }

  store(dead: DeadLetter): Promise<void> {
    return this.#state.set(this.#keys.dead(dead.id), dead);
  }

  /** Counts a dead letter once its pending record is gone. */
  added(reason: DeadLetterReason): void {
    this.#count += 1;
    this.#metrics.deadLetters.inc({ trigger: this.#name, reason });
  }

  /**
   * Dead letters in the order they were written, `limit` per page after the
   * id `after`.
   * NOTE: plugin state can only list whole prefixes, so each page reads
   * every dead letter of the trigger.
   */
  async list(
    limit: number,
    after?: string,
  ): Promise<{ deadLetters: DeadLetter[]; next: string | null }> {
    const entries = await this.#state.list<DeadLetter>(this.#keys.deadPrefix);
    const start =
      after === undefined
        ? 0
        : entries.findIndex((entry) => entry.value.id > after);
    const page =
      start === -1
        ? []
        : entries.slice(start, start + limit).map((entry) => entry.value);
    const more = start !== -1 && start + limit < entries.length;
    return { deadLetters: page, next: more ? page[page.length - 1].id : null };
  }

  async get(id: string): Promise<DeadLetter> {
    const dead = await this.#state.get<DeadLetter>(this.#keys.dead(id));
    if (!dead) {
      throw triggersError(
        TriggersErrorCode.DEAD_LETTER_NOT_FOUND,
        `trigger ${this.#name} has no dead letter ${id}; list them with GET /v1/triggers/${this.#name}/dead-letters`,
        {
          details: { trigger: this.#name, deadLetter: id },
        },
      );
    }
    return dead;
  }

  async delete(id: string): Promise<void> {
    await this.get(id);
    await this.remove(id);
    this.#logger.info(
      { trigger: this.#name, deadLetter: id },
      "dead letter deleted",
    );
  }

  /** Removes a dead letter from state and from the count, after it was deleted or queued again. */
  async remove(id: string): Promise<void> {
    await this.#state.delete(this.#keys.dead(id));
    this.#count -= 1;
  }
}
