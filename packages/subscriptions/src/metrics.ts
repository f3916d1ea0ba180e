import { Counter, Gauge, type Registry } from "prom-client";

/** Values the gauges read at scrape time. */
export interface MetricSources {
  subscribers(): number;
  groups(): number;
  connections(): number;
  lag(): number;
}

/**
 * The plugin's Prometheus metrics. Hot-path counts are plain numbers that
 * the metrics read at scrape time, so delivering a message costs an
 * increment, not a prom-client call.
 */
export class SubscriptionMetrics {
  events = 0;
  executions = 0;
  deliveries = 0;
  dropped = 0;
  slowDisconnects = 0;

  constructor(registry: Registry | undefined, sources: MetricSources) {
    if (!registry) return;
    const registers = [registry];
    const counter = (name: string, help: string, read: () => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });

    counter(
      "weft_subscriptions_events_total",
      "change events the dispatcher read from the change feed",
      () => this.events,
    );
    counter(
      "weft_subscriptions_executions_total",
      "subscription documents executed, once per group and matching event",
      () => this.executions,
    );
    counter(
      "weft_subscriptions_deliveries_total",
      "results handed to subscribers, sent at once or buffered",
      () => this.deliveries,
    );
    counter(
      "weft_subscriptions_dropped_total",
      "results discarded by the drop-oldest slow-consumer policy",
      () => this.dropped,
    );
    counter(
      "weft_subscriptions_slow_disconnects_total",
      "connections closed by the disconnect slow-consumer policy",
      () => this.slowDisconnects,
    );
    gauge(
      "weft_subscriptions_subscribers",
      "active subscriptions, replaying ones included",
      sources.subscribers,
    );
    gauge(
      "weft_subscriptions_groups",
      "distinct documents and variables being executed per event",
      sources.groups,
    );
    gauge(
      "weft_subscriptions_connections",
      "open WebSocket connections",
      sources.connections,
    );
    gauge(
      "weft_subscriptions_lag_events",
      "committed events the dispatcher has not delivered yet",
      sources.lag,
    );
  }
}
