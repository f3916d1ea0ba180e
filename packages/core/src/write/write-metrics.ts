import { Counter, Histogram, type Registry } from "prom-client";
import type { WriteResult } from "./types.js";

/** The write path's metrics on the host registry. */
export class WriteMetrics {
  readonly #objects: Counter<"status" | "op">;
  readonly #rejects: Counter<"code">;
  readonly #failures: Counter<"code">;
  readonly #latency: Histogram;

  constructor(registry: Registry) {
    this.#objects = new Counter({
      name: "weft_write_objects_total",
      help: "Objects written through host.write, by status (ok, noop, rejected) and op",
      labelNames: ["status", "op"],
      registers: [registry],
    });
    this.#rejects = new Counter({
      name: "weft_write_rejects_total",
      help: "Objects rejected by hooks or validation, by error code",
      labelNames: ["code"],
      registers: [registry],
    });
    this.#failures = new Counter({
      name: "weft_write_failures_total",
      help: "host.write calls that failed as a whole, by error code",
      labelNames: ["code"],
      registers: [registry],
    });
    this.#latency = new Histogram({
      name: "weft_write_duration_seconds",
      help: "Time of one host.write call, from hooks to commit",
      buckets: [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
      ],
      registers: [registry],
    });
  }

  record(results: WriteResult[], seconds: number): void {
    const counts = new Map<string, number>();
    for (const result of results) {
      const key = `${result.status}\u0000${result.op ?? ""}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      if (result.error) this.#rejects.inc({ code: result.error.code });
    }
    for (const [key, count] of counts) {
      const [status, op] = key.split("\u0000");
      this.#objects.inc({ status, op }, count);
    }
    this.#latency.observe(seconds);
  }

  failed(code: string): void {
    this.#failures.inc({ code });
  }
}
