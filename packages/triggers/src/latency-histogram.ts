import type { Metric, Registry } from "prom-client";

type LatencyLabel = "trigger" | "result";

/** One sample line of the histogram, in the shape prom-client's registry formats. */
export interface HistogramSample {
  labels: Partial<Record<LatencyLabel | "le", string | number>>;
  value: number;
  metricName: string;
}

/** Options of a {@link LatencyHistogram}, as for a prom-client `Histogram`. */
export interface LatencyHistogramOptions {
  name: string;
  help: string;
  /** Upper bounds of the buckets in seconds, ascending. `+Inf` is added. */
  buckets: readonly number[];
  registers: Registry[];
}

/**
 * A Prometheus histogram labelled by trigger and result that counts into
 * plain numbers. A prom-client `Histogram` child hashes its label values on
 * every `observe` (prom-client 15.1), which took about 3 % of the main
 * thread's time in CPU profiles of bench/triggers.ts. This one prints the same text on
 * `/metrics` as a prom-client `Histogram` with the same name, help, labels
 * and buckets that observed the same values.
 */
export class LatencyHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = "histogram";
  readonly aggregator = "sum";
  readonly #bounds: readonly number[];
  readonly #series = new Map<string, LatencySeries>();
  /** Series in the order of their first observation, the order prom-client prints them in. */
  #observed: LatencySeries[] = [];

  constructor(options: LatencyHistogramOptions) {
    this.name = options.name;
    this.help = options.help;
    this.#bounds = [...options.buckets];
    for (const registry of options.registers)
      registry.registerMetric(this as unknown as Metric);
  }

  /** Returns the series of one trigger and result, the same object on every call. */
  series(trigger: string, result: string): LatencySeries {
    const key = `${trigger}\u0000${result}`;
    let series = this.#series.get(key);
    if (!series) {
      series = new LatencySeries(this.#bounds, { trigger, result }, (first) =>
        this.#observed.push(first),
      );
      this.#series.set(key, series);
    }
    return series;
  }

  /** Returns the samples in prom-client's format, which the registry turns into `/metrics` text. */
  async get(): Promise<{
    name: string;
    help: string;
    type: "histogram";
    values: HistogramSample[];
    aggregator: "sum";
  }> {
    const values: HistogramSample[] = [];
    for (const series of this.#observed) series.export(this.name, values);
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    };
  }

  /** Drops every count, as prom-client's `reset` does. Series handed out earlier keep working. */
  reset(): void {
    for (const series of this.#observed) series.clear();
    this.#observed = [];
  }
}

/** The counts of one trigger and result. */
export class LatencySeries {
  readonly #bounds: readonly number[];
  readonly #labels: Record<LatencyLabel, string>;
  readonly #onFirstObservation: (series: LatencySeries) => void;
  /** Observations per bucket, not cumulative. The last entry counts those above every bound. */
  #counts: number[];
  #sum = 0;
  #count = 0;

  constructor(
    bounds: readonly number[],
    labels: Record<LatencyLabel, string>,
    onFirstObservation: (series: LatencySeries) => void,
  ) {
    this.#bounds = bounds;
    this.#labels = labels;
    this.#onFirstObservation = onFirstObservation;
    this.#counts = new Array<number>(bounds.length + 1).fill(0);
  }

  /** Records one duration in seconds, which must be a finite number. */
  observe(seconds: number): void {
    if (this.#count === 0) this.#onFirstObservation(this);
    const bounds = this.#bounds;
    // Bounds are inclusive upper limits, as in Prometheus.
    let bucket = 0;
    while (bucket < bounds.length && seconds > bounds[bucket]) bucket += 1;
    this.#counts[bucket] += 1;
    this.#sum += seconds;
    this.#count += 1;
  }

  /** Appends the cumulative buckets, the sum and the count to `values`, labelled as prom-client labels them. */
  export(name: string, values: HistogramSample[]): void {
    const labels = this.#labels;
    let cumulative = 0;
    for (let i = 0; i < this.#bounds.length; i += 1) {
      cumulative += this.#counts[i];
      values.push({
        labels: { le: this.#bounds[i], ...labels },
        value: cumulative,
        metricName: `${name}_bucket`,
      });
    }
    values.push(
      {
        labels: { le: "+Inf", ...labels },
        value: this.#count,
        metricName: `${name}_bucket`,
      },
      { labels: { ...labels }, value: this.#sum, metricName: `${name}_sum` },
      {
        labels: { ...labels },
        value: this.#count,
        metricName: `${name}_count`,
      },
    );
  }

  clear(): void {
    this.#counts.fill(0);
    this.#sum = 0;
    this.#count = 0;
  }
}
