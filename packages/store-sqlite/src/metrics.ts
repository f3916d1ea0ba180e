import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** Change-log figures read at scrape time. */
export interface ChangeLogStatus {
  firstSeq: number;
  lastSeq: number;
  checkpoints: Map<string, number>;
}

/** WAL figures read at scrape time. */
export interface WalStatus {
  /** Size of the WAL file in bytes, 0 when it does not exist. */
  walBytes: number;
  /** Totals of the checkpoint worker since open. */
  worker: { done: number; busy: number; failed: number };
}

/** The store's metrics, registered on the host's registry. */
export interface StoreMetrics {
  commitSeconds: Histogram;
  retentionDeleted: Counter;
  truncatedReads: Counter;
  /** WAL checkpoints by `thread` (`worker` or `writer`) and `result` (`done`, `busy` or `failed`); the worker's are added at scrape time. */
  walCheckpoints: Counter<"thread" | "result">;
  /** Checkpoint workers that failed to start or exited unexpectedly. */
  workerFailures: Counter;
  /** Removes every metric of this store from the registry. */
  unregister(): void;
}

const names = {
  commitSeconds: "weft_store_sqlite_commit_duration_seconds",
  retentionDeleted: "weft_store_sqlite_retention_deleted_total",
  truncatedReads: "weft_store_sqlite_changes_truncated_total",
  firstSeq: "weft_store_sqlite_change_log_first_seq",
  lastSeq: "weft_store_sqlite_change_log_last_seq",
  checkpointLag: "weft_store_sqlite_checkpoint_lag_events",
  checkpointBehind: "weft_store_sqlite_checkpoint_behind_retention",
  walBytes: "weft_store_sqlite_wal_bytes",
  walCheckpoints: "weft_store_sqlite_wal_checkpoints_total",
  workerFailures: "weft_store_sqlite_wal_checkpoint_worker_failures_total",
} as const;

/**
 * Registers the store's metrics on `registry`. Gauges are computed from
 * `readStatus` when scraped; it returns undefined while the store is closed.
 * Metrics of an earlier store on the same registry are replaced, because a
 * host has one store and a reopened store must not fail on a name clash.
 */
export function registerMetrics(
  registry: Registry,
  readStatus: () => ChangeLogStatus | undefined,
  readWalStatus: () => WalStatus | undefined,
): StoreMetrics {
  for (const name of Object.values(names)) registry.removeSingleMetric(name);
  const registers = [registry];

  const commitSeconds = new Histogram({
    name: names.commitSeconds,
    help: "Time to commit one batch, in seconds",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  const retentionDeleted = new Counter({
    name: names.retentionDeleted,
    help: "Change-log rows removed by retention",
    registers,
  });
  const truncatedReads = new Counter({
    name: names.truncatedReads,
    help: "Change-feed reads rejected because retention had removed the requested seq",
    registers,
  });
  new Gauge({
    name: names.firstSeq,
    help: "Lowest seq still in the change log (last seq + 1 when empty)",
    registers,
    collect() {
      const status = readStatus();
      if (status) this.set(status.firstSeq);
    },
  });
  new Gauge({
    name: names.lastSeq,
    help: "Highest committed seq",
    registers,
    collect() {
      const status = readStatus();
      if (status) this.set(status.lastSeq);
    },
  });
  new Gauge({
    name: names.checkpointLag,
    help: "Committed events a checkpointed consumer has not read yet",
    labelNames: ["checkpoint"],
    registers,
    collect() {
      const status = readStatus();
      this.reset();
      if (!status) return;
      for (const [name, nextSeq] of status.checkpoints) {
        this.set(
          { checkpoint: name },
          Math.max(0, status.lastSeq + 1 - nextSeq),
        );
      }
    },
  });
  new Gauge({
    name: names.checkpointBehind,
    help: "1 when retention removed events a checkpointed consumer still needs (its next seq is below the first seq), else 0",
    labelNames: ["checkpoint"],
    registers,
    collect() {
      const status = readStatus();
      this.reset();
      if (!status) return;
      for (const [name, nextSeq] of status.checkpoints) {
        this.set({ checkpoint: name }, nextSeq < status.firstSeq ? 1 : 0);
      }
    },
  });

  new Gauge({
    name: names.walBytes,
    help: "Size of the WAL file in bytes; above wal.maxBytes the writer checkpoints itself",
    registers,
    collect() {
      const status = readWalStatus();
      if (status) this.set(status.walBytes);
    },
  });
  // Worker totals live in shared memory; each scrape adds what is new since the previous one.
  const reported = { done: 0, busy: 0, failed: 0 };
  const walCheckpoints = new Counter({
    name: names.walCheckpoints,
    help: "WAL checkpoints by thread (worker: background thread, writer: fallback on the writing connection) and result (done, busy: another connection was checkpointing, failed)",
    labelNames: ["thread", "result"] as const,
    registers,
    collect() {
      const status = readWalStatus();
      if (!status) return;
      for (const result of ["done", "busy", "failed"] as const) {
        const added = status.worker[result] - reported[result];
        if (added > 0) this.inc({ thread: "worker", result }, added);
        reported[result] = status.worker[result];
      }
    },
  });
  const workerFailures = new Counter({
    name: names.workerFailures,
    help: "Checkpoint worker threads that failed to start or exited unexpectedly; the writer then checkpoints itself",
    registers,
  });

  return {
    commitSeconds,
    retentionDeleted,
    truncatedReads,
    walCheckpoints,
    workerFailures,
    unregister() {
      for (const name of Object.values(names))
        registry.removeSingleMetric(name);
    },
  };
}
