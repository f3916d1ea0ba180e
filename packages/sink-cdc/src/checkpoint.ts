import type { PluginHost } from "@weft/core";
import { CdcErrorCode, cdcError } from "./errors.js";
import type { TransactionCounterState } from "./transaction-order.js";

/** The sink's durable progress, stored in its plugin state under {@link CHECKPOINT_KEY}. */
export interface SinkCheckpoint {
  /** The next seq to publish: every event before it was acknowledged by the broker. */
  nextSeq: number;
  /** Counters of the transaction that `nextSeq` may continue; present only with the transaction block enabled. */
  transaction?: TransactionCounterState;
  /**
   * After an initial snapshot: the seq each class's snapshot was taken at.
   * Events of a class up to that seq are already in the snapshot and are
   * skipped; the field is dropped once `nextSeq` passes them all.
   */
  snapshotSeqs?: Record<string, number>;
}

/** Key of the checkpoint in the sink's plugin state. */
export const CHECKPOINT_KEY = "checkpoint";

/**
 * Reads and writes the checkpoint. Every save is mirrored to the change
 * feed's checkpoint of the same name, so store retention keeps the events
 * the sink has not published yet.
 */
export class CheckpointStore {
  readonly #host: PluginHost;

  constructor(host: PluginHost) {
    this.#host = host;
  }

  async load(): Promise<SinkCheckpoint | undefined> {
    const stored = await this.#host.state().get<unknown>(CHECKPOINT_KEY);
    if (stored === undefined) return undefined;
    if (!isCheckpoint(stored)) {
      throw cdcError(
        CdcErrorCode.CHECKPOINT_INVALID,
        `the stored checkpoint of ${this.#host.name} is invalid: ${JSON.stringify(stored)}; delete the plugin state key "${CHECKPOINT_KEY}" to publish again from a snapshot`,
        { details: { plugin: this.#host.name, checkpoint: stored } },
      );
    }
    return stored;
  }

  /** Stores the checkpoint, then lets retention drop what comes before it. The reverse order could drop events a crash still needs. */
  async save(checkpoint: SinkCheckpoint): Promise<void> {
    await this.#host.state().set(CHECKPOINT_KEY, checkpoint);
    await this.#host.changes.checkpoint(this.#host.name, checkpoint.nextSeq);
  }

  /** Asks retention to keep events from `nextSeq` on, without storing a checkpoint; used while a snapshot runs. */
  async hold(nextSeq: number): Promise<void> {
    await this.#host.changes.checkpoint(this.#host.name, nextSeq);
  }
}

function isCheckpoint(value: unknown): value is SinkCheckpoint {
  if (typeof value !== "object" || value === null) return false;
  const { nextSeq, snapshotSeqs } = value as Record<string, unknown>;
  if (
    typeof nextSeq !== "number" ||
    !Number.isSafeInteger(nextSeq) ||
    nextSeq < 1
  )
    return false;
  return (
    snapshotSeqs === undefined ||
    (typeof snapshotSeqs === "object" && snapshotSeqs !== null)
  );
}
