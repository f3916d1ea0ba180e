/**
 * Layout of the shared memory between the store and its checkpoint worker:
 * an Int32Array over a SharedArrayBuffer. The store and the worker read and
 * write it with `Atomics`, so neither needs the other's event loop to turn.
 * A store that commits in a tight loop of resolved promises never yields to
 * its event loop, and the worker still learns of every commit.
 */
export const Slot = {
  /** Incremented by the store after each commit that wrote; the worker waits on it. */
  COMMITS: 0,
  /** Set to 1 by the store to make the worker close its connection and exit. */
  STOP: 1,
  /** Set to 1 by the store while it wants to checkpoint on the writer, so the worker starts no new checkpoint. */
  HOLD: 2,
  /** Checkpoints the worker completed. */
  DONE: 3,
  /** Checkpoints that found another connection checkpointing (SQLITE_BUSY). */
  BUSY: 4,
  /** Checkpoints that failed with an error. */
  FAILED: 5,
} as const;

/** Number of Int32 slots in the shared buffer. */
export const SLOT_COUNT = 6;

/** Data that the store passes to the worker at start. */
export interface CheckpointWorkerData {
  file: string;
  /** `synchronous` of the worker's connection: FULL or NORMAL, never OFF, because a checkpoint must fsync the database file before the WAL is reused. */
  synchronous: "FULL" | "NORMAL";
  busyTimeoutMs: number;
  /** Minimum time between two checkpoints after one that copied fewer than `busyFrames` frames. */
  idleIntervalMs: number;
  /** Frames per checkpoint above which the next checkpoint starts without waiting. */
  busyFrames: number;
  control: SharedArrayBuffer;
}

/** Message that the worker posts when a checkpoint fails or its connection cannot be opened. */
export interface CheckpointWorkerMessage {
  type: "error";
  phase: "open" | "checkpoint";
  message: string;
  sqliteCode: string | undefined;
  /** Failed checkpoints so far, including this one. */
  failures: number;
}
