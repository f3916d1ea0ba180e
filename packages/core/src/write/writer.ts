import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { ChangeFeed } from "../changes/change-feed.js";
import type { ChangeEvent } from "../changes/types.js";
import type { ClassDefinition } from "../classes/types.js";
import { validateProperties } from "../classes/validate-object.js";
import { ErrorCode, WeftError, isWeftError } from "../errors.js";
import type { HostHooks } from "../hooks/hooks.js";
import type {
  CommitBatch,
  CommitResult,
  Mutation,
  Store,
} from "../store/types.js";
import type { WriteMetrics } from "./write-metrics.js";
import {
  isRejection,
  prepareItem,
  type PreparedRejection,
} from "./prepare-items.js";
import type { WriteOptions, WriteRequest, WriteResult } from "./types.js";
import { WriteBatch, type WriteItem } from "./write-batch.js";

/** Host parts the writer uses. */
export interface WriterContext {
  hooks: HostHooks;
  store: () => Store;
  classes: ReadonlyMap<string, ClassDefinition>;
  feed: ChangeFeed;
  logger: Logger;
  metrics: WriteMetrics;
  /** Most writes waiting for the commit lock before `full` turns true. */
  maxQueued: number;
  /** Vector length a class requires, when its vectorizer has fixed dimensions. */
  vectorDimensions(className: string): number | undefined;
}

/**
 * The host's write path: hooks, validation, one store transaction per call,
 * then the change feed and `afterWrite`. Commits run one at a time, so the
 * before image a hook or the store reads is never stale.
 */
export class Writer {
  readonly #context: WriterContext;
  readonly #classNames: Set<string>;
  #tail: Promise<unknown> = Promise.resolve();
  #queued = 0;
  #capacityWaiters: Array<() => void> = [];
  #closed = false;

  constructor(context: WriterContext) {
    this.#context = context;
    this.#classNames = new Set(context.classes.keys());
  }

  /** Writes still queued or running. */
  get pending(): number {
    return this.#queued;
  }

  /** Whether the queue is at its limit; sources pause until {@link waitForCapacity} resolves. */
  get full(): boolean {
    return this.#queued >= this.#context.maxQueued;
  }

  /** Resolves once the queue has room. */
  waitForCapacity(): Promise<void> {
    if (!this.full) return Promise.resolve();
    return new Promise((resolve) => this.#capacityWaiters.push(resolve));
  }

  /** Waits until every queued write finished; new writes are still accepted. */
  async drain(): Promise<void> {
    while (this.#queued > 0) await this.#tail.catch(() => undefined);
  }

  /** Rejects every later write with `WEFT_ERR_HOST_STOPPING`. */
  close(): void {
    this.#closed = true;
  }

  async write(
    requests: WriteRequest[],
    options: WriteOptions = {},
  ): Promise<WriteResult[]> {
    if (this.#closed) {
      throw new WeftError(
        ErrorCode.HOST_STOPPING,
        "host is stopping and accepts no more writes; retry against a running host",
        { retryable: true },
      );
    }
    if (!Array.isArray(requests)) {
      throw new WeftError(
        ErrorCode.OBJECT_INVALID,
        `host.write expects a list of write requests, got ${typeof requests}`,
      );
    }

    this.#queued += 1;
    const run = this.#tail.then(() => this.#commit(requests, options));
    this.#tail = run.catch(() => undefined);
    try {
      return await run;
    } finally {
      this.#queued -= 1;
      if (!this.full)
        for (const wake of this.#capacityWaiters.splice(0)) wake();
    }
  }

  async #commit(
    requests: WriteRequest[],
    options: WriteOptions,
  ): Promise<WriteResult[]> {
    const started = process.hrtime.bigint();
    const txId = randomUUID();
    const tappedClasses = this.#tappedClasses();
    const batch = this.#prepare(txId, requests, options, tappedClasses);
    const origin = options.origin?.plugin ?? "host";

    try {
      const hooked = await this.#runBeforeWrite(batch, tappedClasses);
      if (hooked.hasRetryableRejection) throw retryableRejection(hooked);

      this.#validate(hooked);
      const { outcomes, events } = await this.#commitToStore(hooked, {
        txId,
        origin: {
          plugin: origin,
          ...(options.origin?.stream ? { stream: options.origin.stream } : {}),
          ...(options.origin?.position
            ? { position: options.origin.position }
            : {}),
        },
        metadata: options.metadata ?? {},
        positions: options.positions ?? [],
        state: options.state ?? [],
        timestamp: new Date().toISOString(),
      });

      const results = this.#results(requests.length, hooked, outcomes);
      this.#context.metrics.record(
        results,
        Number(process.hrtime.bigint() - started) / 1e9,
      );
      await this.#publish(events, txId, origin);
      if (hooked.rejected.size > 0)
        await this.#reportRejections(hooked, requests);
      return results;
    } catch (error) {
      const failure = asWriteError(error, txId);
      this.#context.metrics.failed(failure.code);
      await this.#context.hooks.writeError
        .promise(failure, requests)
        .catch((hookError: unknown) =>
          this.#context.logger.error(
            { err: hookError },
            "writeError tap failed",
          ),
        );
      throw failure;
    }
  }

  /** Commits the batch's items, logging a store failure with its stack and the ids it concerns. */
  async #commitToStore(
    batch: WriteBatch,
    commit: Omit<CommitBatch, "mutations">,
  ): Promise<CommitResult> {
    try {
      return await this.#context.store().commit({
        ...commit,
        // Items already have the shape of mutations; copying them would cost an object per write.
        mutations: batch.items as readonly Mutation[],
      });
    } catch (error) {
      this.#context.logger.error(
        {
          err: error,
          txId: commit.txId,
          origin: commit.origin,
          items: batch.items.length,
          // The first ids are enough to find the objects without logging a whole batch.
          objects: batch.items
            .slice(0, 10)
            .map((item) => ({ class: item.class, id: item.id })),
        },
        "store commit failed",
      );
      throw error;
    }
  }

  #prepare(
    txId: string,
    requests: WriteRequest[],
    options: WriteOptions,
    tappedClasses: ReadonlySet<string>,
  ): WriteBatch {
    const copyAll = this.#context.hooks.beforeWrite.taps.length > 0;
    const items: WriteItem[] = [];
    const rejections: PreparedRejection[] = [];
    for (let index = 0; index < requests.length; index++) {
      const request = requests[index];
      const prepared = prepareItem(
        request,
        index,
        this.#classNames,
        copyAll || tappedClasses.has(request?.class),
      );
      if (isRejection(prepared)) rejections.push(prepared);
      else items.push(prepared);
    }

    const batch = new WriteBatch(txId, items, options);
    for (const rejection of rejections)
      batch.rejectIndex(rejection.index, rejection.error, rejection.id);
    return batch;
  }

  /** Classes with at least one per-class `beforeWrite` tap. */
  #tappedClasses(): Set<string> {
    const tapped = new Set<string>();
    for (const className of this.#classNames) {
      const hook = this.#context.hooks.beforeWriteFor.get(className);
      if (hook && hook.taps.length > 0) tapped.add(className);
    }
    return tapped;
  }

  async #runBeforeWrite(
    batch: WriteBatch,
    tappedClasses: ReadonlySet<string>,
  ): Promise<WriteBatch> {
    const hooks = this.#context.hooks;
    let current = (await hooks.beforeWrite.promise(batch)) ?? batch;
    if (tappedClasses.size === 0) return current;

    for (const className of current.classes) {
      const perClass = hooks.beforeWriteFor.get(className);
      if (perClass && perClass.taps.length > 0)
        current = (await perClass.promise(current)) ?? current;
    }
    return current;
  }

  #validate(batch: WriteBatch): void {
    // `reject` replaces the batch's item list instead of changing it, so this loop needs no copy.
    for (const item of batch.items) {
      if (item.op === "delete") continue;

      const definition = this.#context.classes.get(item.class);
      if (!definition) {
        batch.reject(
          item,
          ErrorCode.CLASS_UNKNOWN,
          `unknown class ${JSON.stringify(item.class)}`,
        );
        continue;
      }
      const problems = validateProperties(definition, item.properties);
      if (Array.isArray(item.vector)) {
        const problem = this.#checkDimensions(definition, item.vector);
        if (problem) problems.push({ property: "vector", message: problem });
      }
      if (problems.length === 0) continue;

      const summary = problems
        .map((problem) => `${problem.property}: ${problem.message}`)
        .join("; ");
      batch.reject(
        item,
        ErrorCode.OBJECT_INVALID,
        `class ${item.class}, id ${item.id}: ${summary}`,
        { property: problems[0].property },
      );
      const error = batch.rejected.get(item.index);
      if (error) error.problems = problems;
    }
  }

  /** Checks a vector's length against the class's `vectorDimensions`, then against its vectorizer's dimensions. */
  #checkDimensions(
    definition: ClassDefinition,
    vector: readonly number[],
  ): string | undefined {
    const declared = definition.vectorDimensions;
    if (declared !== undefined && vector.length !== declared)
      return `expected ${declared} dimensions, the vectorDimensions of class ${definition.name}, got ${vector.length}`;

    const dimensions = this.#context.vectorDimensions(definition.name);
    if (dimensions !== undefined && vector.length !== dimensions)
      return `expected ${dimensions} dimensions, the size of the class's vectorizer ${definition.vectorizer?.use}, got ${vector.length}`;
    return undefined;
  }

  #results(
    count: number,
    batch: WriteBatch,
    outcomes: Array<{ id: string; op: string; seq?: number }>,
  ): WriteResult[] {
    const results = new Array<WriteResult>(count);
    batch.items.forEach((item, i) => {
      const outcome = outcomes[i];
      results[item.index] =
        outcome.op === "NOOP"
          ? { id: outcome.id, status: "noop" }
          : {
              id: outcome.id,
              status: "ok",
              op: outcome.op as WriteResult["op"],
              seq: outcome.seq,
            };
    });
    for (const [index, error] of batch.rejected) {
      const id = batch.rejectedIds.get(index);
      results[index] = { ...(id ? { id } : {}), status: "rejected", error };
    }
    return results;
  }

  async #publish(
    events: ChangeEvent[],
    txId: string,
    origin: string,
  ): Promise<void> {
    if (events.length === 0) return;
    this.#context.feed.publish(events);
    await this.#context.hooks.afterWrite.promise(events, { txId, origin });
  }

  async #reportRejections(
    batch: WriteBatch,
    requests: WriteRequest[],
  ): Promise<void> {
    const indexes = [...batch.rejected.keys()];
    const error = new WeftError(
      ErrorCode.WRITE_REJECTED,
      `${indexes.length} of ${requests.length} items rejected`,
      {
        details: {
          txId: batch.txId,
          rejected: indexes.map((index) => ({
            index,
            ...batch.rejected.get(index),
          })),
        },
      },
    );
    await this.#context.hooks.writeError
      .promise(
        error,
        indexes.map((index) => requests[index]),
      )
      .catch((hookError: unknown) =>
        this.#context.logger.error({ err: hookError }, "writeError tap failed"),
      );
  }
}

function retryableRejection(batch: WriteBatch): WeftError {
  const reasons = [...batch.rejected.values()]
    .filter((error) => error.retryable)
    .map((error) => error.message);
  return new WeftError(
    ErrorCode.WRITE_RETRYABLE,
    `write failed and may be retried: ${reasons.slice(0, 3).join("; ")}`,
    {
      retryable: true,
      details: { txId: batch.txId, reasons },
    },
  );
}

function asWriteError(error: unknown, txId: string): WeftError {
  if (isWeftError(error)) return error;

  // The message goes to HTTP clients, so it names only the error's kind: the
  // original message may contain file paths, and the log has it in full.
  const kind = error instanceof Error ? error.name : typeof error;
  const code = (error as { code?: unknown } | null)?.code;
  const reason = typeof code === "string" ? `${kind} ${code}` : kind;
  // A store failure that is not a WeftError (busy, disk, I/O) may pass when tried again.
  return new WeftError(
    ErrorCode.WRITE_RETRYABLE,
    `store commit of transaction ${txId} failed (${reason}); the host log has the cause`,
    { cause: error, retryable: true, details: { txId } },
  );
}
