import { setTimeout as sleep } from "node:timers/promises";
import {
  Host,
  MemoryStore,
  Type,
  checkConfig,
  createLogger,
  definePlugin,
  formatProblems,
  type ClassDefinition,
  type ConfigProblem,
  type HostOptions,
  type Store,
} from "@weft/core";
import cdcSinkPlugin from "@weft/sink-cdc";
import {
  brokers as sharedBrokers,
  readTopic,
  uniqueTopic,
  type ReadMessage,
} from "@weft/testkit";

export const productClass: ClassDefinition = {
  name: "Product",
  properties: [
    { name: "name", type: "text" },
    { name: "price", type: "number" },
    { name: "stock", type: "int" },
    { name: "category", type: "text" },
    { name: "tags", type: "text[]" },
    { name: "active", type: "boolean" },
    { name: "released", type: "date" },
    { name: "ref", type: "uuid" },
    { name: "meta", type: "object" },
  ],
};

export const orderClass: ClassDefinition = {
  name: "Order",
  properties: [
    { name: "total", type: "number" },
    { name: "status", type: "text" },
  ],
};

export const classes = [productClass, orderClass];

/** Logs at `WEFT_TEST_LOG_LEVEL` (default silent), for debugging a failing test. */
export const testLogger = () =>
  createLogger({ level: process.env.WEFT_TEST_LOG_LEVEL ?? "silent" });

/** Creates a plugin that provides the given store, so a test can keep one store across hosts. */
export function storePlugin(store: Store) {
  return definePlugin({
    name: "test-store",
    version: "1.0.0",
    configSchema: Type.Object({}),
    register(host) {
      host.provideStore(store);
    },
  });
}

/** Short retry waits and drain time, so tests that see failures do not wait out production defaults. */
export const fastRetries = {
  retryBackoff: { initial: "50ms", max: "500ms" },
  drainTimeout: "3s",
};

export interface SinkHostOptions {
  /** Sink config; `brokers` and `topic` are filled in when absent. */
  sink?: Record<string, unknown>;
  store?: Store;
  host?: HostOptions;
}

/**
 * Starts a host with a memory store (or the given store) and the sink. The
 * host stops at teardown.
 */
export async function startSinkHost(
  t: { teardown(fn: () => unknown): void },
  options: SinkHostOptions = {},
): Promise<{ host: Host; topic: string; brokers: string[] }> {
  const brokers =
    (options.sink?.brokers as string[] | undefined) ?? (await sharedBrokers());
  const topic =
    (options.sink?.topic as string | undefined) ?? uniqueTopic("cdc");
  const host = new Host({
    classes,
    server: false,
    logger: testLogger(),
    processMetrics: false,
    ...options.host,
  });
  await host.register(storePlugin(options.store ?? new MemoryStore()), {});
  await host.register(
    cdcSinkPlugin,
    withDefaults({ snapshot: "never", ...options.sink, brokers, topic }),
    { configPath: "plugins[0]" },
  );
  await host.start();
  t.teardown(() => host.stop());
  return { host, topic, brokers };
}

/**
 * Checks a sink config and applies its defaults the way the plugin registry
 * does for config files, since `host.register` takes the config as given.
 */
export function withDefaults(
  config: Record<string, unknown>,
): Record<string, unknown> {
  const problems: ConfigProblem[] = [];
  const checked = checkConfig<Record<string, unknown>>(
    cdcSinkPlugin.configSchema,
    config,
    "plugins[0]",
    problems,
  );
  if (problems.length > 0)
    throw new Error(`invalid sink config in test: ${formatProblems(problems)}`);
  return checked;
}

/** A consumed message with key, value and headers as text, and the value parsed as JSON (null for a tombstone). */
export interface Received {
  key: string;
  value: unknown;
  headers: Record<string, string>;
  partition: number;
  offset: string;
}

export function decode(message: ReadMessage): Received {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) {
    if (value !== undefined)
      headers[name] = Array.isArray(value) ? String(value[0]) : String(value);
  }
  return {
    key: message.key?.toString("utf8") ?? "",
    value:
      message.value === null
        ? null
        : JSON.parse(message.value.toString("utf8")),
    headers,
    partition: message.partition,
    offset: message.offset,
  };
}

/** Reads `expected` messages from the topic and decodes them, in partition and offset order. */
export async function receive(
  brokers: string[],
  topic: string,
  expected: number,
  settleMs = 0,
): Promise<Received[]> {
  const messages = await readTopic(brokers, topic, {
    expected,
    timeoutMs: 30_000,
    settleMs,
  });
  return messages.map(decode);
}

/** Waits until the sink published everything committed so far, then reads `expected` messages from its topic. */
export async function published(
  host: Host,
  brokers: string[],
  topic: string,
  expected: number,
  settleMs = 0,
): Promise<Received[]> {
  await waitForCaughtUp(host);
  return receive(brokers, topic, expected, settleMs);
}

/** Waits until `check` returns true, polling every 50 ms, or fails after `timeoutMs`. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  description: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${description}`,
      );
    await sleep(50);
  }
}

/** Returns the sink's `/readyz` entry. */
export function sinkStatus(host: Host): {
  status: string;
  details: Record<string, unknown>;
} {
  return host.readiness.toJSON()["@weft/sink-cdc"] as {
    status: string;
    details: Record<string, unknown>;
  };
}

/** Waits until the sink has published everything committed so far. */
export async function waitForCaughtUp(
  host: Host,
  timeoutMs = 30_000,
): Promise<void> {
  await waitFor(
    () => {
      const { details } = sinkStatus(host);
      return (
        details.lagSeq === 0 && details.nextSeq === host.changes.lastSeq() + 1
      );
    },
    "the sink to catch up",
    timeoutMs,
  );
}

export const ids = {
  lamp: "3f0e8b4c-7d2a-4e5b-9c1d-2a3b4c5d6e7f",
  desk: "7a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a5b",
  order: "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
};

/**
 * Checks at-least-once delivery in order per key: every seq from 1 to
 * `total` arrived, and within each key a seq never arrives for the first
 * time after a higher one. Repeats of seqs already seen are allowed, since a
 * replay after a crash or a replaced producer may resend; consumers drop them
 * by seq. Reads seqs from the `seq` header; tombstones are skipped.
 */
export function checkDelivery(
  t: {
    same(found: unknown, wanted: unknown, message?: string): void;
    comment(...args: unknown[]): void;
  },
  messages: Received[],
  total: number,
): void {
  const seen = new Set<number>();
  const highestByKey = new Map<string, number>();
  const outOfOrder: string[] = [];
  let repeats = 0;

  for (const message of messages) {
    if (message.value === null) continue;
    const seq = Number(message.headers.seq);
    const highest = highestByKey.get(message.key) ?? 0;
    if (seen.has(seq)) repeats += 1;
    else if (seq < highest)
      outOfOrder.push(`key ${message.key}: seq ${seq} after ${highest}`);
    seen.add(seq);
    highestByKey.set(message.key, Math.max(highest, seq));
  }

  const missing: number[] = [];
  for (let seq = 1; seq <= total; seq++) if (!seen.has(seq)) missing.push(seq);
  t.same(missing, [], "every seq arrived at least once");
  t.same(outOfOrder, [], "each key's events arrived in seq order");
  t.same(
    [...seen].filter((seq) => seq > total),
    [],
    "no seq beyond the last committed one",
  );
  t.comment(`${messages.length} messages, ${repeats} repeats`);
}
