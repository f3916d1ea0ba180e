import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** Change-log figures read at scrape time. */
export interface ChangeLogStatus {
  firstSeq: number;
  lastSeq: number;
  checkpoints: Map<string, number>;
}

/** The store's metrics, registered on the host's registry. */
export interface StoreMetrics {
  commitSeconds: Histogram;
  retentionDeleted: Counter;
  truncatedReads: Counter;
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

  return {
    commitSeconds,
    retentionDeleted,
    truncatedReads,
    unregister() {
      for (const name of Object.values(names))
        registry.removeSingleMetric(name);
    },
  };
}
