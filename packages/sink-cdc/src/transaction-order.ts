import type { ChangeEvent } from "@weft/core";
import type { TransactionPosition } from "./formats/types.js";

/** Counters of the transaction being published, stored with the checkpoint so a restart inside a transaction keeps counting. */
export interface TransactionCounterState {
  id: string;
  total: number;
  /** Published events of the transaction by class. */
  classes: Record<string, number>;
}

/**
 * Numbers the published events of each transaction for Debezium's
 * transaction block. A transaction is one `host.write` call: one `txId` on
 * consecutive seqs. Events the sink filters out are not counted.
 */
export class TransactionCounter {
  #state: TransactionCounterState | undefined;

  constructor(state?: TransactionCounterState) {
    this.#state = state
      ? { ...state, classes: { ...state.classes } }
      : undefined;
  }

  /** Returns the next event's position in its transaction. */
  next(event: ChangeEvent): TransactionPosition {
    if (this.#state?.id !== event.txId)
      this.#state = { id: event.txId, total: 0, classes: {} };
    const state = this.#state;
    state.total += 1;
    state.classes[event.class] = (state.classes[event.class] ?? 0) + 1;
    return {
      id: event.txId,
      totalOrder: state.total,
      dataCollectionOrder: state.classes[event.class],
    };
  }

  /** Returns a copy of the counters, for the checkpoint. */
  state(): TransactionCounterState | undefined {
    return this.#state
      ? { ...this.#state, classes: { ...this.#state.classes } }
      : undefined;
  }
}
