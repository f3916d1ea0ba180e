import { statSync } from "node:fs";
import { Worker } from "node:worker_threads";
import type Database from "better-sqlite3";
import type { StoreOpenContext } from "@weft/core";
import { sqliteCode } from "./errors.js";
import type { StoreMetrics, WalStatus } from "./metrics.js";
import {
  SLOT_COUNT,
  Slot,
  type CheckpointWorkerData,
  type CheckpointWorkerMessage,
} from "./wal-control.js";

type Logger = StoreOpenContext["logger"];

/** SQLite's default `wal_autocheckpoint`, restored on the writer when the worker is off or has failed. */
const SQLITE_AUTOCHECKPOINT_PAGES = 1000;
/** WAL size at which the worker starts, unless `maxWalBytes` is smaller: SQLite's default checkpoint threshold of 1000 pages of 4 KiB. */
const WORKER_START_BYTES = 4 * 1024 * 1024;
/** Minimum time between the worker's checkpoints while each copies fewer than 1000 pages, so light traffic costs few fsyncs. */
const WORKER_IDLE_INTERVAL_MS = 250;
/** How long `close()` waits for the worker's current checkpoint before terminating the thread. */
const WORKER_STOP_TIMEOUT_MS = 10_000;

export interface WalCheckpointerOptions {
  file: string;
  durability: "full" | "normal";
  busyTimeoutMs: number;
  maxWalBytes: number;
  backgroundCheckpoint: boolean;
  workerScript: URL;
  logger: Logger;
  metrics: StoreMetrics;
}

/**
 * Keeps the WAL of one database bounded without running checkpoints on the
 * writer's event loop.
 *
 * The writer runs with `wal_autocheckpoint = 0`. Once the WAL file reaches
 * 4 MiB, a worker thread with its own connection runs a passive checkpoint
 * after commits (see checkpoint-worker.ts). While commits follow each other
 * without a pause, the worker's checkpoint usually ends after the next commit
 * has appended frames, so the WAL is rarely copied completely and SQLite
 * cannot reset it. When the WAL file grows past `maxWalBytes`, the writer runs
 * one passive checkpoint itself between two commits: it copies the few frames
 * the worker has not, so the next commit starts the WAL from its beginning.
 * The same fallback bounds the WAL when the worker is slow, failing or gone.
 * `journal_size_limit` makes SQLite truncate a larger WAL file back to
 * `maxWalBytes` when it resets the WAL.
 */
export class WalCheckpointer {
  readonly #writer: Database.Database;
  readonly #options: WalCheckpointerOptions;
  readonly #walFile: string;
  readonly #control = new Int32Array(
    new SharedArrayBuffer(SLOT_COUNT * Int32Array.BYTES_PER_ELEMENT),
  );
  readonly #startBytes: number;
  #worker: Worker | undefined;
  #workerExited: Promise<void> | undefined;
  #workerFailed = false;
  #closed = false;
  /** Set while the WAL is above the limit and a read transaction keeps it from being reset, so the warning is logged once per episode. */
  #pinnedWarned = false;
  #writerFailures = 0;

  constructor(writer: Database.Database, options: WalCheckpointerOptions) {
    this.#writer = writer;
    this.#options = options;
    this.#walFile = `${options.file}-wal`;
    this.#startBytes = Math.min(WORKER_START_BYTES, options.maxWalBytes / 2);
    writer.pragma(`journal_size_limit = ${options.maxWalBytes}`);
    writer.pragma(
      `wal_autocheckpoint = ${options.backgroundCheckpoint ? 0 : SQLITE_AUTOCHECKPOINT_PAGES}`,
    );
  }

  /** Size of the WAL file in bytes, 0 when it does not exist. */
  walBytes(): number {
    return statSync(this.#walFile, { throwIfNoEntry: false })?.size ?? 0;
  }

  /** The WAL size for the checks after a write, or undefined after logging why it could not be read. */
  #readWalBytes(): number | undefined {
    try {
      return this.walBytes();
    } catch (error) {
      this.#options.logger.warn(
        { file: this.#options.file, err: error },
        "failed to read the size of the WAL file; skipped the WAL checks after this write",
      );
      return undefined;
    }
  }

  status(): WalStatus {
    return {
      walBytes: this.walBytes(),
      worker: {
        done: Atomics.load(this.#control, Slot.DONE),
        busy: Atomics.load(this.#control, Slot.BUSY),
        failed: Atomics.load(this.#control, Slot.FAILED),
      },
    };
  }

  /**
   * Runs after every write on the writer connection, outside its transaction.
   * Wakes the worker, starts it once the WAL is large enough, and checkpoints
   * on the writer when the WAL is above the limit. It catches and logs every
   * failure, because the write has committed and a failed checkpoint loses
   * nothing.
   */
  afterWrite(): void {
    if (this.#closed) return;
    if (this.#worker) {
      Atomics.add(this.#control, Slot.COMMITS, 1);
      Atomics.notify(this.#control, Slot.COMMITS);
    }
    const walBytes = this.#readWalBytes();
    if (walBytes === undefined) return;
    if (
      !this.#worker &&
      this.#options.backgroundCheckpoint &&
      !this.#workerFailed &&
      walBytes >= this.#startBytes
    ) {
      this.#startWorker();
    }

    if (walBytes > this.#options.maxWalBytes)
      this.#checkpointOnWriter(walBytes);
    else this.#pinnedWarned = false;
  }

  /** Stops the worker and runs a final TRUNCATE checkpoint on the writer, which empties the WAL file when no other connection reads. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#stopWorker();

    const { file, logger } = this.#options;
    try {
      const [result] = this.#writer.pragma(
        "wal_checkpoint(TRUNCATE)",
      ) as Array<CheckpointResult>;
      logger.debug(
        { file, ...result },
        "ran the final WAL checkpoint before close",
      );
    } catch (error) {
      logger.warn(
        { file, err: error, sqliteCode: sqliteCode(error) },
        "final WAL checkpoint before close failed; the next open recovers the WAL",
      );
    }
  }

  #startWorker(): void {
    const { file, durability, busyTimeoutMs, logger } = this.#options;
    const workerData: CheckpointWorkerData = {
      file,
      synchronous: durability === "full" ? "FULL" : "NORMAL",
      busyTimeoutMs,
      idleIntervalMs: WORKER_IDLE_INTERVAL_MS,
      busyFrames: SQLITE_AUTOCHECKPOINT_PAGES,
      control: this.#control.buffer as SharedArrayBuffer,
    };
    let worker: Worker;
    try {
      // execArgv: [] keeps loaders such as tsx out of the thread, because the script is plain JavaScript.
      worker = new Worker(this.#options.workerScript, {
        workerData,
        execArgv: [],
      });
    } catch (error) {
      this.#failWorker("failed to start the WAL checkpoint worker", error);
      return;
    }
    // A store that is never closed must not keep the process alive.
    worker.unref();
    this.#worker = worker;
    this.#workerExited = new Promise((resolve) => {
      worker.once("exit", (exitCode) => {
        resolve();
        if (this.#closed) return;
        this.#failWorker(
          `WAL checkpoint worker exited unexpectedly with code ${exitCode}`,
          undefined,
        );
      });
    });
    worker.on("message", (message: CheckpointWorkerMessage) => {
      logger.error(
        {
          file,
          phase: message.phase,
          sqliteCode: message.sqliteCode,
          failures: message.failures,
          err: { message: message.message },
        },
        message.phase === "open"
          ? "WAL checkpoint worker failed to open the database; the writer checkpoints instead"
          : "background WAL checkpoint failed; no commit is affected, and the writer checkpoints when the WAL exceeds wal.maxBytes",
      );
    });
    worker.on("error", (error) => {
      this.#failWorker("WAL checkpoint worker failed", error);
    });
    logger.debug(
      { file, walBytes: this.#startBytes },
      "started the WAL checkpoint worker",
    );
  }

  /** Switches to SQLite's own checkpoints on the writer, once, and reports why. */
  #failWorker(reason: string, error: unknown): void {
    if (this.#workerFailed) return;
    this.#workerFailed = true;
    this.#worker = undefined;
    const { file, logger, metrics } = this.#options;
    metrics.workerFailures.inc();
    logger.error(
      { file, err: error, sqliteCode: sqliteCode(error) },
      `${reason}; the writer checkpoints itself from now on (SQLite's automatic checkpoint every ${SQLITE_AUTOCHECKPOINT_PAGES} pages)`,
    );
    if (this.#closed) return;
    try {
      this.#writer.pragma(
        `wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT_PAGES}`,
      );
    } catch (pragmaError) {
      logger.error(
        { file, err: pragmaError },
        "failed to re-enable automatic WAL checkpoints; the WAL limit check still checkpoints on the writer",
      );
    }
  }

  async #stopWorker(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    if (!worker) return;
    Atomics.store(this.#control, Slot.STOP, 1);
    Atomics.notify(this.#control, Slot.STOP);
    Atomics.add(this.#control, Slot.COMMITS, 1);
    Atomics.notify(this.#control, Slot.COMMITS);

    // The worker finishes a running checkpoint before it reads the stop flag.
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), WORKER_STOP_TIMEOUT_MS);
    });
    const exited = this.#workerExited!.then(() => false);
    if (await Promise.race([exited, timedOut])) {
      this.#options.logger.warn(
        { file: this.#options.file, timeoutMs: WORKER_STOP_TIMEOUT_MS },
        "WAL checkpoint worker did not stop in time; terminating it",
      );
      await worker.terminate();
    }
    clearTimeout(timer);
  }

  /**
   * Passive checkpoint on the writer between two commits, so every frame the
   * worker has not copied yet is copied, and the next commit resets the WAL.
   * HOLD keeps the worker from starting a checkpoint meanwhile. When the
   * worker is in the middle of one, SQLite returns busy at once and the next
   * write tries again.
   */
  #checkpointOnWriter(walBytes: number): void {
    const { file, logger, metrics, maxWalBytes } = this.#options;
    Atomics.store(this.#control, Slot.HOLD, 1);
    let result: CheckpointResult;
    try {
      [result] = this.#writer.pragma(
        "wal_checkpoint(PASSIVE)",
      ) as CheckpointResult[];
    } catch (error) {
      Atomics.store(this.#control, Slot.HOLD, 0);
      metrics.walCheckpoints.inc({ thread: "writer", result: "failed" });
      this.#writerFailures += 1;
      // Every write above the limit retries, so log the first failure and then every 100th.
      if (this.#writerFailures % 100 === 1) {
        logger.error(
          {
            file,
            walBytes,
            maxWalBytes,
            failures: this.#writerFailures,
            err: error,
            sqliteCode: sqliteCode(error),
          },
          "WAL checkpoint on the writer failed; the WAL keeps growing until a checkpoint succeeds, and no commit is affected",
        );
      }
      return;
    }

    if (result.busy !== 0) {
      metrics.walCheckpoints.inc({ thread: "writer", result: "busy" });
      return;
    }
    Atomics.store(this.#control, Slot.HOLD, 0);
    metrics.walCheckpoints.inc({ thread: "writer", result: "done" });
    if (result.checkpointed < result.log) {
      if (!this.#pinnedWarned) {
        this.#pinnedWarned = true;
        logger.warn(
          {
            file,
            walBytes,
            maxWalBytes,
            logFrames: result.log,
            checkpointedFrames: result.checkpointed,
          },
          "WAL is larger than wal.maxBytes and cannot be reset while a read transaction, such as an unfinished snapshot, still uses it",
        );
      }
      return;
    }
    logger.debug(
      { file, walBytes, maxWalBytes, logFrames: result.log },
      "checkpointed the WAL on the writer because it exceeded wal.maxBytes",
    );
  }
}

/** A row of `PRAGMA wal_checkpoint`: busy is 1 when another connection held a lock the checkpoint needed, then the counts are -1. */
interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}
