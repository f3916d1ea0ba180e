import { Counter, Gauge, type Registry } from "prom-client";
import { LatencyHistogram, type LatencySeries } from "./latency-histogram.js";

/** Values the gauges read from each trigger when `/metrics` is scraped. */
export interface TriggerGaugeSource {
  readonly name: string;
  readonly queueDepth: number;
  readonly inFlight: number;
  readonly enabled: boolean;
  /** Change events not read yet. */
  readonly lag: number;
  /** Adds the counts a trigger keeps between scrapes to the counters. */
  reportCounts(): void;
}

/** The trigger metrics, labelled by trigger name, on the host's registry. */
export class TriggerMetrics {
  readonly deliveries: Counter<"trigger">;
  readonly successes: Counter<"trigger">;
  readonly failures: Counter<"trigger" | "status">;
  readonly retries: Counter<"trigger">;
  readonly deadLetters: Counter<"trigger" | "reason">;
  readonly autoDisabled: Counter<"trigger">;
  readonly latency: LatencyHistogram;

  constructor(registry: Registry, sources: () => Iterable<TriggerGaugeSource>) {
    const registers = [registry];
    // Triggers count attempts and successes in plain numbers, because a prom-client increment hashes its labels
    // on every call. The counts are added to these counters whenever they are read.
    const report = () => {
      for (const source of sources()) source.reportCounts();
    };
    this.deliveries = new Counter({
      name: "weft_trigger_deliveries_total",
      help: "Delivery attempts started",
      labelNames: ["trigger"],
      registers,
      collect: report,
    });
    this.successes = new Counter({
      name: "weft_trigger_successes_total",
      help: "Delivery attempts that succeeded",
      labelNames: ["trigger"],
      registers,
      collect: report,
    });
    this.failures = new Counter({
      name: "weft_trigger_failures_total",
      help: "Delivery attempts that failed, by HTTP status (none when no response arrived)",
      labelNames: ["trigger", "status"],
      registers,
    });
    this.retries = new Counter({
      name: "weft_trigger_retries_total",
      help: "Failed attempts scheduled for another try",
      labelNames: ["trigger"],
      registers,
    });
    this.deadLetters = new Counter({
      name: "weft_trigger_dead_letters_total",
      help: "Deliveries given up into the dead letters, by reason (exhausted or rejected)",
      labelNames: ["trigger", "reason"],
      registers,
    });
    this.autoDisabled = new Counter({
      name: "weft_trigger_auto_disabled_total",
      help: "Times a trigger disabled itself after consecutive failures",
      labelNames: ["trigger"],
      registers,
    });
    this.latency = new LatencyHistogram({
      name: "weft_trigger_delivery_duration_seconds",
      help: "Duration of one delivery attempt, by result (success or failure)",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });

    const gauge = (
      name: string,
      help: string,
      read: (source: TriggerGaugeSource) => number,
    ) =>
      new Gauge({
        name,
        help,
        labelNames: ["trigger"],
        registers,
        collect() {
          this.reset();
          for (const source of sources())
            this.set({ trigger: source.name }, read(source));
        },
      });
    gauge(
      "weft_trigger_queue_depth",
      "Events waiting for delivery or retry, in flight included",
      (source) => source.queueDepth,
    );
    gauge(
      "weft_trigger_in_flight",
      "Deliveries in flight",
      (source) => source.inFlight,
    );
    gauge(
      "weft_trigger_enabled",
      "1 when the trigger runs, 0 when it is disabled",
      (source) => (source.enabled ? 1 : 0),
    );
    gauge(
      "weft_trigger_lag_events",
      "Change events committed but not read by the trigger yet",
      (source) => source.lag,
    );
  }
}

/**
 * One trigger's metric children, bound to its label so the delivery path
 * does no label lookups, and its attempts and successes since the last
 * scrape, which are added to the counters when `/metrics` is read.
 */
export class TriggerCounters {
  readonly #deliveries: Counter.Internal;
  readonly #successes: Counter.Internal;
  readonly #retries: Counter.Internal;
  readonly #successLatency: LatencySeries;
  readonly #failureLatency: LatencySeries;
  #unreportedDeliveries = 0;
  #unreportedSuccesses = 0;

  constructor(metrics: TriggerMetrics, trigger: string) {
    this.#deliveries = metrics.deliveries.labels(trigger);
    this.#successes = metrics.successes.labels(trigger);
    this.#retries = metrics.retries.labels(trigger);
    this.#successLatency = metrics.latency.series(trigger, "success");
    this.#failureLatency = metrics.latency.series(trigger, "failure");
  }

  attemptStarted(): void {
    this.#unreportedDeliveries += 1;
  }

  succeeded(): void {
    this.#unreportedSuccesses += 1;
  }

  retryScheduled(): void {
    this.#retries.inc();
  }

  /** Records an attempt's duration in seconds, by outcome. */
  observeLatency(ok: boolean, seconds: number): void {
    (ok ? this.#successLatency : this.#failureLatency).observe(seconds);
  }

  /** Adds the attempts and successes counted since the last call to the Prometheus counters. */
  report(): void {
    if (this.#unreportedDeliveries > 0)
      this.#deliveries.inc(this.#unreportedDeliveries);
    if (this.#unreportedSuccesses > 0)
      this.#successes.inc(this.#unreportedSuccesses);
    this.#unreportedDeliveries = 0;
    this.#unreportedSuccesses = 0;
  }
}
