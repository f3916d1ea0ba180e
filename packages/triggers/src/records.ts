import type { ChangeEvent } from "@weft/core";

/** Why an event is being delivered. */
export type DeliverySource = "change" | "manual" | "redelivery";

/** The last failed attempt of a delivery, as the action reported it (secrets already removed by the action). */
export interface AttemptError {
  status?: number;
  message: string;
  retryable: boolean;
}

/** An event a trigger still has to deliver: queued, in flight or waiting for a retry. Stored in plugin state. */
export interface PendingDelivery {
  /** The record's state key. It sorts by seq, which is the delivery order only until a replay; `order` keeps the queue order. */
  key: string;
  /** Stable across retries and redeliveries; the webhook action sends it as `webhook-id`. */
  deliveryId: string;
  source: DeliverySource;
  event: ChangeEvent;
  /** Attempts made so far. */
  attempts: number;
  /** Earliest time of the next attempt, in ms since the epoch; 0 means at once. */
  nextAttemptAt: number;
  /** ISO-8601 time of the first attempt, once one was made. */
  firstAttemptAt?: string;
  lastError?: AttemptError;
  /**
   * Position in the trigger's queue order: a per-trigger counter given when
   * the record is first stored, so a restart rebuilds each object's queue
   * in the order it had, which the seq in the key does not give after a
   * replay. Records written before this field existed have none.
   */
  order?: number;
}

/** Why a delivery ended in the dead letters. */
export type DeadLetterReason = "exhausted" | "rejected";

/** A delivery that exhausted its attempts or failed permanently. Stored in plugin state. */
export interface DeadLetter {
  id: string;
  trigger: string;
  deliveryId: string;
  source: DeliverySource;
  reason: DeadLetterReason;
  event: ChangeEvent;
  attempts: number;
  firstAttemptAt?: string;
  /** ISO-8601 time the delivery was given up. */
  failedAt: string;
  lastError: AttemptError;
  /** Key and order of the pending record this dead letter replaces, so a restart can drop that record if deleting it failed. */
  pendingKey?: string;
  pendingOrder?: number;
}

/** A trigger's stored on/off state, changed through the API or by auto-disable. */
export interface TriggerControl {
  enabled: boolean;
  /** Why the trigger was disabled, such as `api` or `consecutive failures`. */
  reason?: string;
  changedAt: string;
}

const seqDigits = 16;

/** Keys of one trigger in the plugin's state area. Trigger names cannot contain `/`, so prefixes never overlap. */
export class TriggerKeys {
  readonly #base: string;

  constructor(trigger: string) {
    this.#base = `trigger/${trigger}/`;
  }

  get position(): string {
    return `${this.#base}position`;
  }

  get control(): string {
    return `${this.#base}control`;
  }

  get pendingPrefix(): string {
    return `${this.#base}pending/`;
  }

  get deadPrefix(): string {
    return `${this.#base}dead/`;
  }

  /** Key of a change event; it sorts by seq. */
  pending(seq: number): string {
    return `${this.pendingPrefix}${String(seq).padStart(seqDigits, "0")}`;
  }

  /**
   * Key of a manual delivery or redelivery queued after every event up to
   * `afterSeq`: it sorts after `pending(afterSeq)` and before
   * `pending(afterSeq + 1)`. Records of the previous format, which have no
   * `order`, load in this key order.
   */
  pendingAfter(afterSeq: number, suffix: string): string {
    return `${this.pending(afterSeq)}/${suffix}`;
  }

  /** Returns the seq a pending key sorts by: the event's seq, or for `pendingAfter` keys the seq they follow. */
  seqOf(pendingKey: string): number {
    const start = this.pendingPrefix.length;
    return Number(pendingKey.slice(start, start + seqDigits));
  }

  dead(id: string): string {
    return `${this.deadPrefix}${id}`;
  }
}

/** Builds a pending record that has no attempts yet. */
export function newRecord(
  key: string,
  deliveryId: string,
  source: PendingDelivery["source"],
  event: ChangeEvent,
): PendingDelivery {
  return { key, deliveryId, source, event, attempts: 0, nextAttemptAt: 0 };
}
