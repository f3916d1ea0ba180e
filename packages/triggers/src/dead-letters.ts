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
  /** The last queued operation on each dead letter id, while any runs. */
  readonly #locks = new Map<string, Promise<unknown>>();
  #count = 0;
  /** `key/order` of the pending records that the stored dead letters replace; only kept during load. */
  #replaced = new Set<string>();
  #maxPendingOrder = -1;

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

  /** Counts the stored dead letters and notes the pending records they replace; call once at load, before the pending records load. */
  async load(): Promise<void> {
    const entries = await this.#state.list<DeadLetter>(this.#keys.deadPrefix);
    this.#count = entries.length;
    for (const { value } of entries) {
      if (value.pendingKey === undefined || value.pendingOrder === undefined)
        continue;
      this.#replaced.add(replacedId(value.pendingKey, value.pendingOrder));
      this.#maxPendingOrder = Math.max(
        this.#maxPendingOrder,
        value.pendingOrder,
      );
    }
  }

  /** Highest `order` of a pending record that a stored dead letter replaces, or -1; new orders must stay above it. */
  get maxPendingOrder(): number {
    return this.#maxPendingOrder;
  }

  /** Returns whether a loaded pending record was already moved to a dead letter, because deleting it failed then. */
  replaces(record: PendingDelivery): boolean {
    return (
      record.order !== undefined &&
      this.#replaced.has(replacedId(record.key, record.order))
    );
  }

  /** Frees what {@link load} noted once the pending records are loaded. */
  loaded(): void {
    this.#replaced.clear();
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
      ...(record.order === undefined
        ? {}
        : { pendingKey: record.key, pendingOrder: record.order }),
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

  delete(id: string): Promise<void> {
    return this.exclusive(id, async () => {
      await this.get(id);
      await this.remove(id);
      this.#logger.info(
        { trigger: this.#name, deadLetter: id },
        "dead letter deleted",
      );
    });
  }

  /**
   * Runs `operation` after every earlier operation on the same dead letter
   * has finished. Redeliver and delete both read the dead letter, then remove
   * it, so running them one at a time per id lets the second one see it gone
   * (404) instead of queueing it twice or lowering the count twice.
   */
  exclusive<T>(id: string, operation: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(id) ?? Promise.resolve();
    const result = previous.then(operation, operation);
    const settled = result.catch(() => undefined);
    this.#locks.set(id, settled);
    void settled.then(() => {
      if (this.#locks.get(id) === settled) this.#locks.delete(id);
    });
    return result;
  }

  /** Removes a dead letter from state and from the count, after it was deleted or queued again. */
  async remove(id: string): Promise<void> {
    await this.#state.delete(this.#keys.dead(id));
    this.#count -= 1;
  }
}

function replacedId(key: string, order: number): string {
  return `${key}\u0000${order}`;
}
