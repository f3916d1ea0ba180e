import { Counter, Histogram, type Registry } from "prom-client";
import type { WriteResult } from "./types.js";

/** The write path's metrics on the host registry. */
export class WriteMetrics {
  readonly #objects: Counter<"status" | "op">;
  readonly #rejects: Counter<"code">;
  readonly #failures: Counter<"code">;
  readonly #latency: Histogram;
  /** `weft_write_objects_total` by outcome, with labels bound once instead of per write. */
  readonly #counts: Record<
    "inserted" | "updated" | "deleted" | "noop" | "rejected",
    { inc(value: number): void }
  >;

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
    const objects = this.#objects;
    this.#counts = {
      inserted: objects.labels({ status: "ok", op: "INSERT" }),
      updated: objects.labels({ status: "ok", op: "UPDATE" }),
      deleted: objects.labels({ status: "ok", op: "DELETE" }),
      noop: objects.labels({ status: "noop", op: "" }),
      rejected: objects.labels({ status: "rejected", op: "" }),
    };
  }

  /** Counts a committed write's results by status and op, and observes its duration. */
  record(results: WriteResult[], seconds: number): void {
    let inserts = 0;
    let updates = 0;
    let deletes = 0;
    let noops = 0;
    let rejects = 0;
    for (const result of results) {
      if (result.status === "ok") {
        if (result.op === "INSERT") inserts += 1;
        else if (result.op === "UPDATE") updates += 1;
        else if (result.op === "DELETE") deletes += 1;
        else this.#objects.inc({ status: "ok", op: result.op ?? "" });
      } else if (result.status === "noop") noops += 1;
      else {
        rejects += 1;
        if (result.error) this.#rejects.inc({ code: result.error.code });
      }
    }

    const counts = this.#counts;
    if (inserts > 0) counts.inserted.inc(inserts);
    if (updates > 0) counts.updated.inc(updates);
    if (deletes > 0) counts.deleted.inc(deletes);
    if (noops > 0) counts.noop.inc(noops);
    if (rejects > 0) counts.rejected.inc(rejects);
    this.#latency.observe(seconds);
  }

  failed(code: string): void {
    this.#failures.inc({ code });
  }
}
