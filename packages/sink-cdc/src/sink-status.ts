import type { PluginHost } from "@weft/core";
import type { CdcSinkConfig, CdcTimings } from "./config.js";

/** Phase of the publisher, as `/readyz` shows it. */
export type PublisherPhase =
  "starting" | "snapshot" | "streaming" | "draining" | "failed" | "stopped";

/**
 * The publisher's progress and health, from which the lag and the `/readyz`
 * status are computed. The publisher updates the fields; {@link report}
 * turns them into `ready`, `degraded` or `failed` with details.
 */
export class SinkStatus {
  phase: PublisherPhase = "starting";
  /** The next seq to publish; undefined until the checkpoint is loaded. */
  nextSeq: number | undefined;
  /** Commit time of the oldest event being published, in ms since the epoch. */
  oldestPendingMs: number | undefined;
  /** Whether the last attempt failed, so the sink waits to retry. */
  retrying = false;
  /** Start of the send in flight, so a send that hangs shows before kafkajs gives up on it. */
  sendStartedMs: number | undefined;
  lastError: string | undefined;
  failedSends = 0;
  producerRestarts = 0;

  readonly #host: PluginHost;
  readonly #config: CdcSinkConfig;
  readonly #timings: CdcTimings;

  constructor(host: PluginHost, config: CdcSinkConfig, timings: CdcTimings) {
    this.#host = host;
    this.#config = config;
    this.#timings = timings;
  }

  /** Committed events not yet acknowledged by the broker. */
  lagEvents(): number {
    if (this.nextSeq === undefined) return 0;
    return Math.max(0, this.#host.changes.lastSeq() - (this.nextSeq - 1));
  }

  /** Age of the oldest unpublished event in ms, or 0 when nothing waits. */
  lagMs(): number {
    if (this.oldestPendingMs === undefined || this.lagEvents() === 0) return 0;
    return Math.max(0, Date.now() - this.oldestPendingMs);
  }

  /**
   * Sets the sink's `/readyz` entry. It is failed after a permanent error,
   * and degraded while retrying, while a send takes longer than
   * `sendTimeout`, or while the lag exceeds `degradedAfter`. Otherwise it is
   * ready.
   */
  report(): void {
    const lagSeq = this.lagEvents();
    const lagMs = this.lagMs();
    const sendPendingMs =
      this.sendStartedMs === undefined ? 0 : Date.now() - this.sendStartedMs;
    const details: Record<string, unknown> = {
      phase: this.phase,
      retrying: this.retrying,
      lagSeq,
      lagMs,
      nextSeq: this.nextSeq ?? null,
      lastSeq: this.#host.changes.lastSeq(),
      topic: this.#config.topic,
      format: this.#config.format,
      failedSends: this.failedSends,
      producerRestarts: this.producerRestarts,
    };
    if (sendPendingMs > 0) details.sendPendingMs = sendPendingMs;
    if (this.lastError) details.lastError = this.lastError;

    if (this.phase === "failed") {
      this.#host.setStatus("failed", details);
      return;
    }
    const lagging =
      lagSeq > this.#config.degradedAfter.lagEvents ||
      lagMs > this.#timings.degradedLagMs;
    const stalled = sendPendingMs > this.#timings.sendTimeoutMs;
    this.#host.setStatus(
      this.retrying || lagging || stalled ? "degraded" : "ready",
      details,
    );
  }
}
