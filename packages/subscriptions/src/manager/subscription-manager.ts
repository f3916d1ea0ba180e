import {
  execute,
  type ExecutionResult,
  type GraphQLError,
  type GraphQLFormattedError,
  type GraphQLSchema,
} from "graphql";
import {
  ErrorCode,
  isWeftError,
  type ChangeEvent,
  type ChangeOp,
  type PluginHost,
} from "@weft/core";
import type { SubscriptionsSettings } from "../config.js";
import { SubscriptionsErrorCode, graphQLErrorWithCode } from "../errors.js";
import { SubscriptionMetrics } from "../metrics.js";
import type { ResolverContext } from "../queries/class-queries.js";
import { RepeatLog } from "../repeat-log.js";
import type { GeneratedSchema } from "../schema/build-schema.js";
import { toCoreWhere } from "../schema/where-input.js";
import { ExecutionGroup, type GroupFilter } from "./execution-group.js";
import {
  RequestPreparer,
  type GraphQLRequest,
  type PreparedOperation,
  type PreparedRequest,
  type PreparedSubscription,
} from "./prepare-request.js";
import { formatError, formatResult } from "./serialize-result.js";
import { IteratorChannel } from "./iterator-channel.js";
import { SubscribeRejectedError } from "./subscribe-rejected-error.js";
import { Subscriber, type SubscriptionSink } from "./subscriber.js";

export { SubscribeRejectedError };

const allOperations: readonly ChangeOp[] = ["INSERT", "UPDATE", "DELETE"];

/** Events the dispatcher takes from the change feed at once. */
const DISPATCH_BATCH = 500;
/** Events the dispatcher delivers in one batch, after collecting what committed during one event-loop turn. */
const MAX_DISPATCH_BATCH = 2 * DISPATCH_BATCH;
/** Events a resuming subscriber reads from the change log at once. */
const REPLAY_BATCH = 200;
/** Wait before the dispatcher reads again after an unexpected error. */
const RETRY_DELAY_MS = 1000;

/** Options of one subscribe call. */
export interface SubscribeOptions {
  /** Aborting releases the subscription, also while it is still being set up. */
  signal?: AbortSignal;
}

/** A registered subscription. */
export interface SubscriptionHandle {
  readonly id: number;
  /** Releases the subscription; calling it again does nothing. */
  unsubscribe(): void;
  /** Sends one buffered result if the sink is writable; returns whether it sent one. */
  flushOne(): boolean;
}

/** Counters of a manager, for tests and diagnostics. */
export interface ManagerStats {
  /** Active subscriptions, replaying ones included. */
  subscribers: number;
  /** Distinct (document, variables) groups. */
  groups: number;
  /** The last seq the dispatcher delivered. */
  processedSeq: number;
  executions: number;
  deliveries: number;
  dropped: number;
  slowDisconnects: number;
}

/** Options of a {@link SubscriptionManager}. */
export interface SubscriptionManagerOptions {
  host: PluginHost;
  generated: GeneratedSchema;
  settings: SubscriptionsSettings;
  /** Open connections, for the connections gauge. */
  connections?: () => number;
  /** `false` registers no metrics on the host's registry, for a second manager on one host. Default true. */
  registerMetrics?: boolean;
}

type OperationIndex = Map<ChangeOp, Set<ExecutionGroup>>;

/**
 * Serves subscriptions from one change-feed reader per host. Subscribers
 * with the same document and variables share an {@link ExecutionGroup}; groups
 * are indexed by class and operation, so an event is checked only against
 * the filters that can match it, executed once per matching group, and the
 * one serialized result is handed to every member. Usable in-process through
 * {@link SubscriptionManager.subscribe} or {@link SubscriptionManager.iterate}.
 */
export class SubscriptionManager {
  readonly metrics: SubscriptionMetrics;
  readonly #host: PluginHost;
  readonly #generated: GeneratedSchema;
  readonly #settings: SubscriptionsSettings;
  readonly #preparer: RequestPreparer;
  readonly #index = new Map<string, OperationIndex>();
  readonly #groups = new Map<string, ExecutionGroup>();
  readonly #memberships = new Map<Subscriber, ExecutionGroup>();
  readonly #abort = new AbortController();
  readonly #dropLog: RepeatLog;
  readonly #overflowLog: RepeatLog;
  readonly #batchEndListeners = new Set<() => void>();
  #state: "created" | "running" | "stopped" = "created";
  #inBatch = false;
  #processedSeq = 0;
  #nextId = 1;
  #reader: Promise<void> | undefined;

  constructor(options: SubscriptionManagerOptions) {
    this.#host = options.host;
    this.#generated = options.generated;
    this.#settings = options.settings;
    this.#preparer = new RequestPreparer(
      options.generated.schema,
      options.settings.maxQueryDepth,
    );
    this.#dropLog = new RepeatLog(
      options.host.logger,
      "slow subscriber: dropped the oldest buffered results",
    );
    this.#overflowLog = new RepeatLog(
      options.host.logger,
      "slow subscriber: closed its connection",
    );
    this.metrics = new SubscriptionMetrics(
      options.registerMetrics === false ? undefined : options.host.metrics,
      {
        subscribers: () => this.#memberships.size,
        groups: () => this.#groups.size,
        connections: options.connections ?? (() => 0),
        lag: () =>
          Math.max(0, this.#host.changes.lastSeq() - this.#processedSeq),
      },
    );
  }

  get schema(): GraphQLSchema {
    return this.#generated.schema;
  }

  /** Active subscriptions, replaying ones included. */
  get subscriberCount(): number {
    return this.#memberships.size;
  }

  /**
   * Whether the dispatcher is delivering a batch of events right now. Sinks
   * may hold their writes until the batch ends, so a socket gets everything
   * one batch gave it in one system call; the manager calls the listeners
   * of {@link onBatchEnd} when the batch ends, in the same synchronous run.
   * A batch contains the events committed since the previous batch, up to
   * {@link MAX_DISPATCH_BATCH}, so batches grow when the dispatcher falls
   * behind, which is when fewer system calls matter.
   */
  get inBatch(): boolean {
    return this.#inBatch;
  }

  /** Adds a listener called after each dispatched batch; returns its remover. */
  onBatchEnd(listener: () => void): () => void {
    this.#batchEndListeners.add(listener);
    return () => this.#batchEndListeners.delete(listener);
  }

  stats(): ManagerStats {
    return {
      subscribers: this.#memberships.size,
      groups: this.#groups.size,
      processedSeq: this.#processedSeq,
      executions: this.metrics.executions,
      deliveries: this.metrics.deliveries,
      dropped: this.metrics.dropped,
      slowDisconnects: this.metrics.slowDisconnects,
    };
  }

  /** Starts the change-feed reader at the next seq to commit; call it once the store is open. */
  start(): void {
    if (this.#state !== "created") return;
    this.#state = "running";
    this.#processedSeq = this.#host.changes.lastSeq();
    this.#reader = this.#readFeed(this.#processedSeq + 1);
    this.#host.logger.info(
      { fromSeq: this.#processedSeq + 1 },
      "subscription dispatcher started",
    );
  }

  /** Stops the reader and completes every subscription. */
  async stop(): Promise<void> {
    if (this.#state === "stopped") return;
    this.#state = "stopped";
    this.#abort.abort();
    for (const subscriber of [...this.#memberships.keys()]) {
      this.#release(subscriber);
      subscriber.sink.error([
        graphQLErrorWithCode(
          SubscriptionsErrorCode.STOPPING,
          "the host is stopping; resubscribe with afterSeq once it is back",
        ).toJSON(),
      ]);
    }
    await this.#reader;
    this.#host.logger.info(
      { processedSeq: this.#processedSeq },
      "subscription dispatcher stopped",
    );
  }

  /** Parses and validates a request; the result is a query, a subscription or errors. */
  prepare(
    request: GraphQLRequest,
  ): PreparedRequest | { errors: readonly GraphQLError[] } {
    return this.#preparer.prepare(request);
  }

  /** Executes a query and formats the result for JSON. */
  async execute(prepared: PreparedOperation): Promise<Record<string, unknown>> {
    const contextValue: ResolverContext = {
      host: this.#host,
      maxPageSize: this.#settings.maxPageSize,
    };
    const result: ExecutionResult = await execute({
      schema: this.#generated.schema,
      document: prepared.document,
      variableValues: prepared.variables,
      operationName: prepared.operationName,
      contextValue,
    });
    return formatResult(result, this.#logInternal);
  }

  /**
   * Registers a subscription. With `afterSeq`, it first replays the change
   * log after that seq (in the background, at the sink's pace) and then
   * goes live with no gap and no duplicate at the seam.
   * @throws SubscribeRejectedError with the errors for the client.
   */
  async subscribe(
    prepared: PreparedSubscription,
    sink: SubscriptionSink,
    options: SubscribeOptions = {},
  ): Promise<SubscriptionHandle> {
    const { group, afterSeq } = this.#admit(prepared);
    const subscriber = new Subscriber(
      this.#nextId++,
      sink,
      this.#settings.bufferSize,
      this.#settings.slowConsumer,
      {
        overflow: (slow) => this.#onOverflow(slow),
        dropped: (slow) => this.#onDropped(slow),
      },
    );
    this.#addMember(subscriber, group);

    const handle: SubscriptionHandle = {
      id: subscriber.id,
      unsubscribe: () => this.#release(subscriber),
      flushOne: () => subscriber.flushOne(),
    };
    const onAbort = () => this.#release(subscriber);
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.signal?.aborted) onAbort();

    if (afterSeq === undefined) {
      this.#joinLive(subscriber, group);
      return handle;
    }

    try {
      await this.#checkResume(afterSeq);
    } catch (error) {
      this.#release(subscriber);
      throw error;
    }
    if (!subscriber.closed) void this.#replay(subscriber, group, afterSeq + 1);
    return handle;
  }

  /**
   * Subscribes in-process and yields each result as an object: `data`,
   * `errors` and, after drops, `extensions.dropped`. Results wait in the
   * subscriber's bounded buffer while the consumer is busy, under the same
   * slow-consumer policy as sockets; with `disconnect`, the iterator throws.
   * A request that fails validation yields one result with `errors`.
   */
  async *iterate(
    request: GraphQLRequest,
    options: SubscribeOptions = {},
  ): AsyncGenerator<Record<string, unknown>> {
    const prepared = this.prepare(request);
    if ("errors" in prepared) {
      yield {
        errors: prepared.errors.map((error) =>
          formatError(error, this.#logInternal),
        ),
      };
      return;
    }
    if (prepared.kind !== "subscription") {
      yield await this.execute(prepared);
      return;
    }

    const channel = new IteratorChannel();
    const handle = await this.subscribe(prepared, channel, options);
    try {
      for (;;) {
        const step = await channel.take(() => handle.flushOne());
        if (step.done) return;
        yield step.value;
      }
    } finally {
      handle.unsubscribe();
    }
  }

  /** Checks the limits and the request, and finds or creates the subscriber's group. */
  #admit(prepared: PreparedSubscription): {
    group: ExecutionGroup;
    afterSeq: number | undefined;
  } {
    if (this.#state !== "running") {
      throw rejected(
        SubscriptionsErrorCode.STOPPING,
        "the subscriptions plugin is not running; retry once the host has started",
      );
    }
    if (this.#memberships.size >= this.#settings.maxSubscribers) {
      throw rejected(
        SubscriptionsErrorCode.LIMIT,
        `the host already serves ${this.#settings.maxSubscribers} subscriptions (maxSubscribers); retry later or raise maxSubscribers`,
      );
    }

    const afterSeq = parseAfterSeq(prepared.field.args.afterSeq);
    const existing = this.#groups.get(prepared.groupKey);
    if (existing) return { group: existing, afterSeq };

    const group = new ExecutionGroup(
      this.#generated.schema,
      prepared,
      this.#filterFor(prepared),
      this.#logInternal,
    );
    this.#groups.set(group.key, group);
    return { group, afterSeq };
  }

  #filterFor(prepared: PreparedSubscription): GroupFilter {
    const target = this.#generated.subscriptionFields.get(prepared.field.name);
    if (!target)
      throw rejected(
        SubscriptionsErrorCode.BAD_REQUEST,
        `unknown subscription field ${prepared.field.name}`,
      );
    const args = prepared.field.args;
    const requested = args.operations as ChangeOp[] | null | undefined;
    const operations =
      requested && requested.length > 0
        ? [...new Set(requested)]
        : allOperations;

    if (target.kind === "all") {
      const names = args.classes as string[] | null | undefined;
      const classes =
        names && names.length > 0
          ? [...new Set(names)]
          : [...this.#host.classes.keys()];
      const unknown = classes.find((name) => !this.#host.classes.has(name));
      if (unknown !== undefined) {
        throw rejected(
          ErrorCode.CLASS_UNKNOWN,
          `unknown class "${unknown}"; configured classes: ${[...this.#host.classes.keys()].join(", ")}`,
        );
      }
      return { classes, operations };
    }

    try {
      const where = toCoreWhere(args.where);
      if (!where) return { classes: [target.className], operations };
      return {
        classes: [target.className],
        operations,
        where: this.#host.compileFilter(where, target.className),
      };
    } catch (error) {
      throw new SubscribeRejectedError([formatError(error, this.#logInternal)]);
    }
  }

  async #checkResume(afterSeq: number): Promise<void> {
    const lastSeq = this.#host.changes.lastSeq();
    if (afterSeq > lastSeq) {
      throw rejected(
        SubscriptionsErrorCode.AFTER_SEQ_AHEAD,
        `afterSeq ${afterSeq} is past the last committed seq ${lastSeq}, so it comes from another change log; resync: query the current objects and lastSeq, then subscribe with that afterSeq`,
        { afterSeq: String(afterSeq), lastSeq: String(lastSeq) },
      );
    }

    // The feed may still keep trimmed events in memory. Checking the store
    // makes the result follow the documented retention, not cache luck.
    const firstSeq = await this.#host.store().firstSeq();
    if (afterSeq + 1 < firstSeq) {
      throw rejected(
        ErrorCode.CHANGES_TRUNCATED,
        `change log no longer holds seq ${afterSeq + 1}: retention removed everything before seq ${firstSeq}; resync: query the current objects and lastSeq, then subscribe with that afterSeq`,
        { afterSeq: String(afterSeq), firstSeq: String(firstSeq) },
      );
    }
  }

  #addMember(subscriber: Subscriber, group: ExecutionGroup): void {
    this.#memberships.set(subscriber, group);
    group.members += 1;
  }

  #joinLive(subscriber: Subscriber, group: ExecutionGroup): void {
    if (subscriber.closed) return;
    group.live.add(subscriber);
    if (group.live.size > 1) return;

    for (const className of group.filter.classes) {
      let byOperation = this.#index.get(className);
      if (!byOperation) this.#index.set(className, (byOperation = new Map()));
      for (const operation of group.filter.operations) {
        let groups = byOperation.get(operation);
        if (!groups) byOperation.set(operation, (groups = new Set()));
        groups.add(group);
      }
    }
  }

  #release(subscriber: Subscriber): void {
    if (subscriber.closed) return;
    subscriber.close();
    const group = this.#memberships.get(subscriber);
    this.#memberships.delete(subscriber);
    if (!group) return;

    if (group.live.delete(subscriber) && group.live.size === 0) {
      for (const className of group.filter.classes) {
        for (const operation of group.filter.operations)
          this.#index.get(className)?.get(operation)?.delete(group);
      }
    }
    group.members -= 1;
    if (group.members === 0) this.#groups.delete(group.key);
  }

  /** The one change-feed reader: dispatches every event in seq order, retrying after failures. */
  async #readFeed(fromSeq: number): Promise<void> {
    let next = fromSeq;
    const signal = this.#abort.signal;

    while (!signal.aborted) {
      try {
        await this.#dispatchFrom(next, signal);
        return;
      } catch (error) {
        if (signal.aborted) return;
        next = await this.#recoverReader(error, this.#processedSeq + 1);
      }
    }
  }

  /**
   * Reads the feed from `fromSeq` and dispatches it in batches. When a batch
   * reaches the last committed seq, the reader waits for the rest of the
   * current event-loop turn (`setImmediate`), so the writes committed in
   * that turn are dispatched together and each socket gets one write per
   * batch. A reader that is behind dispatches at once: waiting a turn per
   * batch would let a backlog, such as the one a bulk load leaves, delay
   * every later change.
   */
  async #dispatchFrom(fromSeq: number, signal: AbortSignal): Promise<void> {
    const feed = this.#host.changes;
    const reads = feed.batches(fromSeq, { signal, maxBatch: DISPATCH_BATCH });
    const batches = reads[Symbol.asyncIterator]();
    try {
      for (;;) {
        const step = await batches.next();
        if (step.done) return;
        let events = step.value;

        if (feed.lastSeq() === events[events.length - 1].seq) {
          await new Promise((resolve) => setImmediate(resolve));
          if (signal.aborted) return;
        }
        while (
          events.length < MAX_DISPATCH_BATCH &&
          feed.lastSeq() > events[events.length - 1].seq &&
          !signal.aborted
        ) {
          const more = await batches.next();
          if (more.done) break;
          events = events.concat(more.value);
        }
        this.#dispatchBatch(events);
      }
    } finally {
      await batches.return?.();
    }
  }

  async #recoverReader(error: unknown, next: number): Promise<number> {
    if (isWeftError(error) && error.code === ErrorCode.CHANGES_TRUNCATED) {
      const resumeAt = this.#host.changes.lastSeq() + 1;
      this.#host.logger.error(
        {
          err: error,
          fromSeq: next,
          resumeAt,
          subscribers: this.#memberships.size,
        },
        "subscription dispatcher fell behind the change log's retention; ending live subscriptions so clients resync",
      );
      this.#endLive(
        graphQLErrorWithCode(
          ErrorCode.CHANGES_TRUNCATED,
          `the server fell behind and the change log no longer holds seq ${next}; resync: query the current objects and lastSeq, then subscribe with that afterSeq`,
        ).toJSON(),
      );
      this.#processedSeq = resumeAt - 1;
      return resumeAt;
    }

    this.#host.logger.error(
      { err: error, fromSeq: next },
      "subscription dispatcher failed to read the change feed; retrying",
    );
    await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
    return next;
  }

  #endLive(error: GraphQLFormattedError): void {
    for (const group of this.#groups.values()) {
      for (const subscriber of [...group.live]) {
        this.#release(subscriber);
        subscriber.sink.error([error]);
      }
    }
  }

  #dispatchBatch(batch: readonly ChangeEvent[]): void {
    this.#inBatch = true;
    try {
      for (const event of batch) {
        this.#dispatch(event);
        this.#processedSeq = event.seq;
      }
    } finally {
      this.#inBatch = false;
      for (const listener of this.#batchEndListeners) listener();
    }
  }

  #dispatch(event: ChangeEvent): void {
    this.metrics.events += 1;
    const groups = this.#index.get(event.class)?.get(event.op);
    if (!groups || groups.size === 0) return;

    for (const group of groups) {
      if (!group.matches(event)) continue;

      const payload = group.execute(event);
      this.metrics.executions += 1;
      let deliveries = 0;
      for (const subscriber of group.live) {
        if (event.seq < subscriber.nextSeq) continue;
        subscriber.deliver(payload);
        deliveries += 1;
      }
      this.metrics.deliveries += deliveries;
    }
  }

  async #replay(
    subscriber: Subscriber,
    group: ExecutionGroup,
    fromSeq: number,
  ): Promise<void> {
    const batches = this.#host.changes.batches(fromSeq, {
      signal: this.#abort.signal,
      maxBatch: REPLAY_BATCH,
    });
    const iterator = batches[Symbol.asyncIterator]();
    let next = fromSeq;

    try {
      while (!subscriber.closed) {
        // Checked and joined without an await in between, so the dispatcher
        // cannot deliver an event that falls between the two.
        if (next > this.#processedSeq) {
          subscriber.nextSeq = next;
          this.#joinLive(subscriber, group);
          return;
        }

        const step = await iterator.next();
        if (step.done) return;
        for (const event of step.value) {
          if (subscriber.closed) return;
          if (group.accepts(event)) {
            this.metrics.executions += 1;
            await subscriber.deliverReplay(group.execute(event));
            this.metrics.deliveries += 1;
          }
          next = event.seq + 1;
        }
      }
    } catch (error) {
      if (subscriber.closed) return;
      this.#release(subscriber);
      subscriber.sink.error([formatError(error, this.#logInternal)]);
    } finally {
      await iterator.return?.();
    }
  }

  #onOverflow(subscriber: Subscriber): void {
    this.metrics.slowDisconnects += 1;
    this.#overflowLog.warn({
      subscriber: subscriber.id,
      bufferSize: this.#settings.bufferSize,
    });
    this.#release(subscriber);
    subscriber.sink.disconnect(
      `slow consumer: more than ${this.#settings.bufferSize} results waiting; reconnect and resubscribe with afterSeq`,
    );
  }

  #onDropped(subscriber: Subscriber): void {
    this.metrics.dropped += 1;
    this.#dropLog.warn({
      subscriber: subscriber.id,
      bufferSize: this.#settings.bufferSize,
    });
  }

  readonly #logInternal = (error: unknown): void => {
    this.#host.logger.error(
      { err: error },
      "subscription request failed with an unexpected error",
    );
  };
}

function rejected(
  code: string,
  message: string,
  details?: Record<string, unknown>,
): SubscribeRejectedError {
  return new SubscribeRejectedError([
    graphQLErrorWithCode(code, message, details).toJSON(),
  ]);
}

function parseAfterSeq(value: unknown): number | undefined {
  if (value === null || value === undefined) return undefined;
  const seq =
    typeof value === "string" && /^\d{1,16}$/.test(value) ? Number(value) : NaN;
  if (Number.isSafeInteger(seq)) return seq;

  const allDigits = typeof value === "string" && /^\d+$/.test(value);
  throw rejected(
    SubscriptionsErrorCode.AFTER_SEQ_INVALID,
    allDigits
      ? `afterSeq ${value} is above the largest seq there can be (${Number.MAX_SAFE_INTEGER}); pass the seq of the last change seen`
      : `afterSeq must be a string of digits (the seq of the last change seen), got ${JSON.stringify(value)}`,
  );
}
