import { spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { Writable } from "node:stream";
import {
  Host,
  memoryStorePlugin,
  type ChangeEvent,
  type ClassDefinition,
  type HostOptions,
  type Plugin,
  type Store,
  type StoredObject,
} from "@weft/core";
import sourceKafka from "@weft/source-kafka";
import { brokers, createTopic, uniqueTopic } from "@weft/testkit";
import kafkajs, { type IHeaders, type Message } from "kafkajs";
import { pino, type Logger } from "pino";

export { metricValue } from "@weft/core/testing";

export const productClass: ClassDefinition = {
  name: "Product",
  properties: [
    { name: "sku", type: "text" },
    { name: "name", type: "text" },
    { name: "price", type: "number" },
    { name: "stock", type: "int" },
    { name: "seq", type: "int" },
    { name: "source", type: "text" },
    { name: "meta", type: "object" },
  ],
};

export const orderClass: ClassDefinition = {
  name: "Order",
  properties: [
    { name: "number", type: "text" },
    { name: "total", type: "number" },
    { name: "kind", type: "text" },
  ],
};

type Teardown = { teardown(fn: () => unknown): void };

/** Log lines captured by {@link captureLogger}, parsed. */
export type LogLine = Record<string, unknown> & { msg: string; level: number };

/** Creates a pino logger that keeps every line in memory, so tests can assert on logs. */
export function captureLogger(level = "info"): {
  logger: Logger;
  lines: LogLine[];
} {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n"))
        if (line.trim()) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

/** Settings of {@link startSource}. */
export interface StartSourceOptions {
  consumers: Array<Record<string, unknown>>;
  classes?: ClassDefinition[];
  /** Extra plugin config, such as `enabled`. */
  plugin?: Record<string, unknown>;
  /** A store plugin; default the memory store. */
  store?: { plugin: Plugin; config?: Record<string, unknown> };
  /** Plugins registered before the source, such as test taps. */
  before?: Array<{ plugin: Plugin; config?: Record<string, unknown> }>;
  host?: HostOptions;
  logger?: Logger;
}

/** Starts a host with the memory store (or `store`) and the Kafka source; stops it at teardown. */
export async function startSource(
  t: Teardown,
  options: StartSourceOptions,
): Promise<Host> {
  const host = new Host({
    classes: options.classes ?? [productClass, orderClass],
    server: false,
    logger: options.logger ?? pino({ level: "silent" }),
    processMetrics: false,
    ...options.host,
  });
  const store = options.store ?? {
    plugin: memoryStorePlugin as unknown as Plugin,
  };
  await host.register(store.plugin, store.config ?? {});
  for (const { plugin, config } of options.before ?? [])
    await host.register(plugin, config ?? {});
  await host.register(sourceKafka as unknown as Plugin, {
    brokers: await brokers(),
    ...options.plugin,
    consumers: options.consumers,
  });
  await host.start();
  t.teardown(() => host.stop());
  return host;
}

/** Returns a consumer config with test defaults: short flush interval and session, reading from the beginning. */
export function consumer(
  topic: string | string[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const topics = Array.isArray(topic) ? topic : [topic];
  return {
    topics,
    groupId: uniqueTopic("group"),
    class: "Product",
    fromBeginning: true,
    flushInterval: "20ms",
    sessionTimeout: "6s",
    heartbeatInterval: "500ms",
    retry: { initialDelay: "20ms", maxDelay: "200ms" },
    ...extra,
  };
}

/** Creates a fresh topic and returns its name. */
export async function newTopic(
  prefix: string,
  partitions = 1,
): Promise<string> {
  const topic = uniqueTopic(`sk-${prefix}`);
  await createTopic(await brokers(), topic, { partitions });
  return topic;
}

let kafkaClient: kafkajs.Kafka | undefined;

async function kafka(): Promise<kafkajs.Kafka> {
  kafkaClient ??= new kafkajs.Kafka({
    clientId: "source-kafka-test",
    brokers: await brokers(),
    logLevel: kafkajs.logLevel.NOTHING,
  });
  return kafkaClient;
}

/** Produces messages with acks from all replicas; values that are objects are sent as JSON. */
export async function produce(
  topic: string,
  messages: Array<{
    key?: string | Buffer | null;
    value: unknown;
    headers?: IHeaders;
    partition?: number;
  }>,
): Promise<void> {
  const producer = (await kafka()).producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.send({
      topic,
      acks: -1,
      messages: messages.map((message): Message => ({
        key: message.key ?? null,
        value:
          message.value === null ||
          Buffer.isBuffer(message.value) ||
          typeof message.value === "string"
            ? (message.value as Buffer | string | null)
            : JSON.stringify(message.value),
        headers: message.headers,
        partition: message.partition,
      })),
    });
  } finally {
    await producer.disconnect();
  }
}

/**
 * Produces one message with kcat, which (unlike kafkajs 2.2.4) can send a
 * header whose value is null: `-H name` without `=value`.
 */
export async function produceWithKcat(
  topic: string,
  message: {
    key: string;
    value: string;
    headers: Array<[string, string | null]>;
  },
): Promise<void> {
  const args = [
    "-P",
    "-b",
    (await brokers()).join(","),
    "-t",
    topic,
    "-k",
    message.key,
  ];
  for (const [name, value] of message.headers)
    args.push("-H", value === null ? name : `${name}=${value}`);
  await new Promise<void>((resolve, reject) => {
    const child = spawn("kcat", args, { stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", reject);
    child.once("close", (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`kcat exited with ${code}: ${stderr}`)),
    );
    // kcat reads one message per line from stdin.
    child.stdin.end(`${message.value}\n`);
  });
}

/** Returns the group's committed offsets of a topic by partition, -1 where nothing is committed. */
export async function committedOffsets(
  groupId: string,
  topic: string,
): Promise<Map<number, bigint>> {
  const admin = (await kafka()).admin();
  await admin.connect();
  try {
    const [result] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map(
      result.partitions.map(({ partition, offset }) => [
        partition,
        BigInt(offset),
      ]),
    );
  } finally {
    await admin.disconnect();
  }
}

/** Returns the next offset to be written in each partition of a topic. */
export async function highWatermarks(
  topic: string,
): Promise<Map<number, bigint>> {
  const admin = (await kafka()).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(
      offsets.map(({ partition, high }) => [partition, BigInt(high)]),
    );
  } finally {
    await admin.disconnect();
  }
}

/** Describes a consumer group: its state and members. */
export async function describeGroup(
  groupId: string,
): Promise<{ state: string; members: number }> {
  const admin = (await kafka()).admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([groupId]);
    return { state: groups[0].state, members: groups[0].members.length };
  } finally {
    await admin.disconnect();
  }
}

/** Polls `check` until it returns a value other than undefined or false; fails after `timeoutMs`. */
export async function waitFor<T>(
  description: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await check();
    if (result !== undefined && result !== false) return result;
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${description}`,
      );
    await sleep(25);
  }
}

/** Returns every object of a class, by id. */
export async function objects(
  store: Store,
  className: string,
): Promise<Map<string, StoredObject>> {
  const result = new Map<string, StoredObject>();
  let after: string | undefined;
  for (;;) {
    const page = await store.list({
      class: className,
      limit: 1000,
      ...(after ? { after } : {}),
    });
    for (const object of page.objects) result.set(object.id, object);
    if (!page.next) return result;
    after = page.next;
  }
}

/** Returns every change event the store keeps, in seq order. */
export async function changes(store: Store): Promise<ChangeEvent[]> {
  const first = await store.firstSeq();
  return store.readChanges(first, 1_000_000);
}

/** Waits until `className` has `count` objects. */
export async function waitForObjects(
  host: Host,
  className: string,
  count: number,
  timeoutMs?: number,
): Promise<Map<string, StoredObject>> {
  return waitFor(
    `${count} objects of class ${className}`,
    async () => {
      const found = await objects(host.store, className);
      return found.size === count ? found : undefined;
    },
    timeoutMs,
  );
}
