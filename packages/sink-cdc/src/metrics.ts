import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** Lag figures read when `/metrics` is scraped. */
export interface LagSource {
  /** Committed events not yet acknowledged by the broker. */
  lagEvents(): number;
  /** Age of the oldest unpublished event in seconds; 0 when caught up. */
  lagSeconds(): number;
  /** The next seq to publish. */
  nextSeq(): number;
}

/** The sink's metrics on the host registry. */
export class CdcMetrics {
  readonly messages: Counter<"class" | "op">;
  readonly tombstones: Counter;
  readonly snapshotRows: Counter<"class">;
  readonly sendFailures: Counter<"reason">;
  readonly producerRestarts: Counter;
  readonly sendDuration: Histogram;

  constructor(registry: Registry, lag: LagSource) {
    this.messages = new Counter({
      name: "weft_cdc_messages_total",
      help: "Change events the broker acknowledged, by class and op (INSERT, UPDATE, DELETE, READ for snapshot rows)",
      labelNames: ["class", "op"],
      registers: [registry],
    });
    this.tombstones = new Counter({
      name: "weft_cdc_tombstones_total",
      help: "Tombstones the broker acknowledged, one after each published delete",
      registers: [registry],
    });
    this.snapshotRows = new Counter({
      name: "weft_cdc_snapshot_rows_total",
      help: "Objects published as read events by the initial snapshot, by class",
      labelNames: ["class"],
      registers: [registry],
    });
    this.sendFailures = new Counter({
      name: "weft_cdc_send_failures_total",
      help: "Failed sends to Kafka, each retried, by broker error type or client error name",
      labelNames: ["reason"],
      registers: [registry],
    });
    this.producerRestarts = new Counter({
      name: "weft_cdc_producer_restarts_total",
      help: "Idempotent producers replaced after a fatal error such as an out-of-order sequence number",
      registers: [registry],
    });
    this.sendDuration = new Histogram({
      name: "weft_cdc_send_duration_seconds",
      help: "Time from the first attempt to send a batch until the broker acknowledged it, retries included",
      buckets: [
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60,
      ],
      registers: [registry],
    });
    new Gauge({
      name: "weft_cdc_lag_events",
      help: "Committed change events that the sink has not yet published",
      registers: [registry],
      collect() {
        this.set(lag.lagEvents());
      },
    });
    new Gauge({
      name: "weft_cdc_lag_seconds",
      help: "Age of the oldest committed change event that the sink has not yet published; 0 when caught up",
      registers: [registry],
      collect() {
        this.set(lag.lagSeconds());
      },
    });
    new Gauge({
      name: "weft_cdc_checkpoint_seq",
      help: "The sink's checkpoint: the next seq to publish",
      registers: [registry],
      collect() {
        this.set(lag.nextSeq());
      },
    });
  }
}
