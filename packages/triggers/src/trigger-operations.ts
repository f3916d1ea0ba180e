import type { ChangeEvent } from "@weft/core";
import { previewValue, toObjectId } from "@weft/core";
import { v7 as uuidv7 } from "uuid";
import type { ChangeReader } from "./change-reader.js";
import type { DeadLetters } from "./dead-letters.js";
import { TriggersErrorCode, triggersError } from "./errors.js";
import type { PendingStore } from "./pending-store.js";
import { newRecord } from "./records.js";
import type { TriggerScope } from "./trigger-scope.js";

/** The delivery that a manual invocation or a redelivery queued. */
export interface QueuedDelivery {
  deliveryId: string;
  key: string;
}

/** Dependencies of {@link TriggerOperations}, passed in by the runner. */
export interface TriggerOperationsContext extends TriggerScope {
  pending: PendingStore;
  reader: ChangeReader;
  deadLetters: DeadLetters;
  /** Whether the reader may start again after a replay: the trigger is enabled and not stopping. */
  canRead(): boolean;
  /** Called after a delivery is queued, so the runner starts it. */
  onQueued(): void;
}

/**
 * The operations of the HTTP API that change what a trigger delivers:
 * replaying the change log from a seq, a manual invocation with an object's
 * current state, and the redelivery of a dead letter. Manual deliveries and
 * redeliveries are stored before they are queued, behind the events already
 * read for the same object.
 */
export class TriggerOperations {
  readonly #context: TriggerOperationsContext;

  constructor(context: TriggerOperationsContext) {
    this.#context = context;
  }

  /**
   * Moves the position back (or forward) to `fromSeq`, so the trigger reads
   * the change log again from there. Events already pending are not queued
   * twice. The caller serialises it with enabling and disabling.
   */
  async replay(fromSeq: number): Promise<void> {
    const { host, trigger, pending, reader } = this.#context;
    const name = trigger.name;
    const firstSeq = await host.store().firstSeq();
    const lastSeq = host.changes.lastSeq();
    if (fromSeq < firstSeq) {
      throw triggersError(
        TriggersErrorCode.REPLAY_TRUNCATED,
        `the change log no longer holds seq ${fromSeq}; the oldest seq it holds is ${firstSeq}, so replay from ${firstSeq} or later`,
        { details: { trigger: name, fromSeq, firstSeq } },
      );
    }
    if (fromSeq > lastSeq + 1) {
      throw triggersError(
        TriggersErrorCode.REQUEST_INVALID,
        `fromSeq ${fromSeq} is past the last committed seq ${lastSeq}; pass a seq between ${firstSeq} and ${lastSeq + 1}`,
        {
          details: { trigger: name, fromSeq, lastSeq },
        },
      );
    }

    await reader.stop();
    // Everything queued is stored first, so no queued event depends on the position that is about to move.
    await pending.storeQueued();
    reader.forgetCovered();
    pending.nextSeq = fromSeq;
    await pending.savePosition();
    if (this.#context.canRead()) reader.start();
    this.#context.logger.info(
      { trigger: name, fromSeq },
      "trigger replaying the change log",
    );
  }

  /**
   * Queues a delivery of an object's current state, as an event with the
   * given `op` and `seq` set to the last committed seq. The trigger's
   * `where` filter is not applied: the caller chose the object.
   */
  async invoke(
    className: string,
    key: string,
    op: "INSERT" | "UPDATE",
  ): Promise<QueuedDelivery> {
    const { host, trigger, keys, pending } = this.#context;
    const name = trigger.name;
    const id = toObjectId(key);
    const object = await host.store().get(className, id, { withVector: true });
    if (!object) {
      throw triggersError(
        TriggersErrorCode.OBJECT_NOT_FOUND,
        `no ${className} object with id ${previewValue(key)}; check the class and the id`,
        {
          details: { trigger: name, class: className, id: key },
        },
      );
    }

    const deliveryId = uuidv7();
    const event: ChangeEvent = {
      seq: host.changes.lastSeq(),
      op,
      class: className,
      id,
      before: op === "INSERT" ? null : object.properties,
      after: object.properties,
      ...(object.vector ? { vector: object.vector } : {}),
      timestamp: new Date().toISOString(),
      txId: `manual-${deliveryId}`,
      origin: { plugin: host.name, stream: "manual" },
      metadata: {},
    };
    const record = newRecord(
      keys.pendingAfter(pending.nextSeq - 1, `manual-${deliveryId}`),
      deliveryId,
      "manual",
      event,
    );
    await pending.storeAndEnqueue(record);
    this.#context.onQueued();
    this.#context.logger.info(
      { trigger: name, class: className, objectId: id, deliveryId },
      "manual delivery queued",
    );
    return { deliveryId, key: record.key };
  }

  /** Moves a dead letter back into the queue with a fresh run of attempts and its original delivery id. */
  redeliver(deadLetterId: string): Promise<QueuedDelivery> {
    return this.#context.deadLetters.exclusive(deadLetterId, () =>
      this.#redeliver(deadLetterId),
    );
  }

  async #redeliver(deadLetterId: string): Promise<QueuedDelivery> {
    const { trigger, keys, pending, deadLetters } = this.#context;
    const name = trigger.name;
    const dead = await deadLetters.get(deadLetterId);
    const record = newRecord(
      keys.pendingAfter(pending.nextSeq - 1, `redelivery-${uuidv7()}`),
      dead.deliveryId,
      "redelivery",
      dead.event,
    );
    await pending.storeAndEnqueue(record);
    await deadLetters.remove(deadLetterId);
    this.#context.onQueued();
    this.#context.logger.info(
      {
        trigger: name,
        deadLetter: deadLetterId,
        deliveryId: dead.deliveryId,
        seq: dead.event.seq,
      },
      "dead letter queued for redelivery",
    );
    return { deliveryId: dead.deliveryId, key: record.key };
  }
}
