// The host process of bench/subscriptions.ts: a weft host with the memory
// store, serving either @weft/subscriptions ("weft") or stock graphql-ws
// useServer ("baseline") on /v1/graphql, and writing products at the rate
// the parent process requests. Controlled over the fork IPC channel.
import {
  Host,
  MemoryStore,
  Type,
  createLogger,
  definePlugin,
  type ChangeEvent,
  type ClassDefinition,
  type PluginHost,
} from "@weft/core";
import subscriptionsPlugin, {
  buildSchema,
  subscriptionManagerOf,
  toCoreWhere,
} from "@weft/subscriptions";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";

const mode = process.argv[2] as "weft" | "baseline";
const CATEGORIES = Number(process.argv[3] ?? 100);
const categoryNames = Array.from({ length: CATEGORIES }, (_, i) => `c${i}`);
/**
 * Keep-alive pings of both servers. Longer than the 12 s default: client
 * processes that open thousands of sockets on two busy cores can miss a
 * ping for that long, and a terminated socket would spoil the count.
 */
const KEEP_ALIVE_MS = 60_000;

export const productClass: ClassDefinition = {
  name: "Product",
  properties: [
    { name: "name", type: "text" },
    { name: "price", type: "number" },
    { name: "category", type: "text" },
  ],
};

/** A per-subscriber event queue, as PubSub async iterators keep one. */
class EventQueue implements AsyncIterableIterator<ChangeEvent> {
  readonly #items: ChangeEvent[] = [];
  #waiting: ((result: IteratorResult<ChangeEvent>) => void) | undefined;
  #done = false;
  readonly #onReturn: () => void;

  constructor(onReturn: () => void) {
    this.#onReturn = onReturn;
  }

  push(event: ChangeEvent): void {
    if (this.#done) return;
    const waiting = this.#waiting;
    if (waiting) {
      this.#waiting = undefined;
      waiting({ done: false, value: event });
    } else this.#items.push(event);
  }

  next(): Promise<IteratorResult<ChangeEvent>> {
    const item = this.#items.shift();
    if (item) return Promise.resolve({ done: false, value: item });
    if (this.#done) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve) => (this.#waiting = resolve));
  }

  return(): Promise<IteratorResult<ChangeEvent>> {
    this.#done = true;
    this.#onReturn();
    this.#waiting?.({ done: true, value: undefined });
    return Promise.resolve({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/**
 * The baseline: stock graphql-ws `useServer` on the same generated schema,
 * where each subscription is graphql-js `subscribe` over its own event
 * queue. One change-feed reader checks each subscriber's compiled filter
 * and queues matching events. graphql-js then executes the document once
 * per subscriber and event, and graphql-ws serializes each result per
 * subscriber.
 */
function baselinePlugin() {
  const listeners = new Set<{
    matches: (event: ChangeEvent) => boolean;
    queue: EventQueue;
  }>();
  return {
    listeners,
    plugin: definePlugin({
      name: "bench-baseline",
      version: "1.0.0",
      configSchema: Type.Object({}),
      register(host: PluginHost) {
        const { schema } = buildSchema(host.classes.values());
        const field = schema.getSubscriptionType()!.getFields().productChanges;
        field.subscribe = (_source, args: { where?: unknown }) => {
          const where = toCoreWhere(args.where);
          const predicate = host.compileFilter(where, "Product");
          const listener = {
            matches: (event: ChangeEvent) =>
              event.class === "Product" &&
              event.after !== null &&
              predicate(event.after),
            queue: new EventQueue(() => listeners.delete(listener)),
          };
          listeners.add(listener);
          return listener.queue;
        };

        const wss = new WebSocketServer({
          noServer: true,
          perMessageDeflate: false,
        });
        useServer({ schema }, wss, KEEP_ALIVE_MS);
        host.upgrade({
          path: "/v1/graphql",
          handler: (request, socket, head) =>
            wss.handleUpgrade(request, socket, head, (ws) =>
              wss.emit("connection", ws, request),
            ),
        });

        const abort = new AbortController();
        host.hooks.start.tapPromise("bench-baseline", async () => {
          void (async () => {
            for await (const batch of host.changes.batches(
              host.changes.lastSeq() + 1,
              { signal: abort.signal },
            )) {
              for (const event of batch)
                for (const listener of listeners)
                  if (listener.matches(event)) listener.queue.push(event);
            }
          })();
        });
        host.hooks.stop.tapPromise("bench-baseline", async () => abort.abort());
      },
    }),
  };
}

const host = new Host({
  classes: [productClass],
  server: { port: 0 },
  logger: createLogger({ level: "warn" }),
  processMetrics: false,
});
await host.register(
  definePlugin({
    name: "bench-store",
    version: "1.0.0",
    configSchema: Type.Object({}),
    register: (view) =>
      view.provideStore(
        new MemoryStore({ retention: { maxRows: 200_000, force: true } }),
      ),
  }),
  {},
);
const baseline = mode === "baseline" ? baselinePlugin() : undefined;
if (baseline) await host.register(baseline.plugin, {});
else
  await host.register(subscriptionsPlugin, {
    maxSubscribers: 20_000,
    bufferSize: 100,
    slowConsumer: "drop-oldest",
    keepAlive: KEEP_ALIVE_MS,
  });
await host.start();

const subscriberCount = () =>
  baseline
    ? baseline.listeners.size
    : (subscriptionManagerOf(host)?.subscriberCount ?? 0);

let rssMax = 0;
const sampleRss = () => (rssMax = Math.max(rssMax, process.memoryUsage.rss()));
setInterval(sampleRss, 250).unref();

/**
 * Samples every 10 ms how many committed changes the weft dispatcher has
 * not delivered yet; `stop` returns the maximum (0 for the baseline).
 */
function sampleDispatcherLag(): { stop(): number } {
  const manager = subscriptionManagerOf(host);
  let max = 0;
  const timer = setInterval(() => {
    const stats = manager?.stats();
    if (stats) max = Math.max(max, host.changes.lastSeq() - stats.processedSeq);
  }, 10);
  return {
    stop() {
      clearInterval(timer);
      return max;
    },
  };
}

/**
 * Offers `rate` single-object writes per second for `seconds`, paced in
 * 5 ms ticks. Like a source, it waits while the host's write queue is full
 * and continues as soon as it has room. A host that cannot keep up so
 * commits fewer writes instead of queueing them outside the host, and the
 * parent reports the rate achieved.
 */
async function writeAtRate(
  rate: number,
  seconds: number,
): Promise<{ written: number; elapsedMs: number }> {
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let written = 0;
  let issued = 0;
  let settled = 0;
  let failed: unknown;
  let allSettled: (() => void) | undefined;
  const onSettled = () => {
    settled += 1;
    if (settled === issued) allSettled?.();
  };
  const onWritten = () => {
    written += 1;
    onSettled();
  };
  const onFailed = (error: unknown) => {
    failed ??= error;
    onSettled();
  };
  while (performance.now() < deadline) {
    const due = Math.floor(((performance.now() - started) / 1000) * rate) + 1;
    while (issued < due && performance.now() < deadline) {
      if (host.writeQueue.full) await host.writeQueue.waitForCapacity();
      host
        .write([
          {
            op: "upsert",
            class: "Product",
            properties: {
              name: `p${issued}`,
              price: issued,
              category: categoryNames[issued % CATEGORIES],
            },
          },
        ])
        .then(onWritten, onFailed);
      issued += 1;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  if (settled < issued)
    await new Promise<void>((resolve) => (allSettled = resolve));
  if (failed !== undefined) throw failed;
  return { written, elapsedMs: performance.now() - started };
}

process.on(
  "message",
  async (message: { cmd: string; rate?: number; seconds?: number }) => {
    switch (message.cmd) {
      case "count":
        process.send!({ cmd: "count", subscribers: subscriberCount() });
        break;
      case "resetRss":
        rssMax = process.memoryUsage().rss;
        process.send!({ cmd: "resetRss" });
        break;
      case "write": {
        const cpuBefore = process.cpuUsage();
        const loopDelay = monitorEventLoopDelay({ resolution: 10 });
        loopDelay.enable();
        const lag = sampleDispatcherLag();
        const result = await writeAtRate(message.rate!, message.seconds!);
        const cpu = process.cpuUsage(cpuBefore);
        loopDelay.disable();
        process.send!({
          cmd: "write",
          ...result,
          cpuMs: (cpu.user + cpu.system) / 1000,
          systemCpuMs: cpu.system / 1000,
          loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
          loopDelayMaxMs: loopDelay.max / 1e6,
          maxDispatcherLag: lag.stop(),
        });
        break;
      }
      case "cpu": {
        const cpu = process.cpuUsage();
        process.send!({ cmd: "cpu", user: cpu.user, system: cpu.system });
        break;
      }
      case "rss":
        sampleRss();
        process.send!({ cmd: "rss", rssMax, rss: process.memoryUsage().rss });
        break;
      case "exit":
        process.exit(0);
    }
  },
);
process.send!({
  cmd: "ready",
  url: `${host.http!.url!.replace(/^http/, "ws")}/v1/graphql`,
});
