// Deliveries per second of @weft/triggers with @weft/action-webhook to a
// local receiver at concurrency 64, against raw undici requests that send
// the same bodies to the same receiver at the same concurrency, in one run.
// The receiver runs in a worker thread, so it takes no time from the
// measured event loop.
// Run: pnpm build && node --import=tsx bench/triggers.ts (EVENTS and ROUNDS
// set the events per round, default 30,000, and the rounds, default 5)
import { readFileSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { Agent } from "undici";
import {
  Host,
  MemoryStore,
  Type,
  checkConfig,
  createLogger,
  definePlugin,
  type ClassDefinition,
  type ConfigProblem,
} from "@weft/core";
import webhookPlugin, {
  decodeSecrets,
  encodePayload,
  signatureHeader,
  signingKeys,
} from "@weft/action-webhook";
import triggersPlugin, { TriggersConfigSchema } from "@weft/triggers";

const EVENTS = Number(process.env.EVENTS ?? 30_000);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const CONCURRENCY = 64;
const secret = `whsec_${Buffer.alloc(32, 1).toString("base64")}`;

const productClass: ClassDefinition = {
  name: "Product",
  properties: [
    { name: "name", type: "text" },
    { name: "description", type: "text" },
    { name: "price", type: "number" },
    { name: "category", type: "text" },
  ],
};

/** An HTTP server in a worker thread that responds 204 and reports when it has received a given number of requests. */
const receiverSource = `
const { parentPort } = require("node:worker_threads");
const { createServer } = require("node:http");
let count = 0;
let target = Infinity;
const server = createServer((request, response) => {
  request.resume();
  request.on("end", () => {
    response.writeHead(204);
    response.end();
    count += 1;
    if (count === target) parentPort.postMessage({ reached: count });
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, "127.0.0.1", () => parentPort.postMessage({ port: server.address().port }));
parentPort.on("message", (message) => {
  if (message.expect !== undefined) {
    count = 0;
    target = message.expect;
  }
  if (message.close) server.close(() => process.exit(0));
});
`;

interface Receiver {
  url: string;
  /** Resets the count and resolves once `count` requests arrived. */
  expect(count: number): Promise<void>;
  close(): void;
}

async function startReceiver(): Promise<Receiver> {
  const worker = new Worker(receiverSource, { eval: true });
  const port = await new Promise<number>((resolve) =>
    worker.once("message", (message: { port: number }) =>
      resolve(message.port),
    ),
  );
  return {
    url: `http://127.0.0.1:${port}`,
    expect(count) {
      const reached = new Promise<void>((resolve) =>
        worker.once("message", () => resolve()),
      );
      worker.postMessage({ expect: count });
      return reached;
    },
    close: () => worker.postMessage({ close: true }),
  };
}

function storePlugin(store: MemoryStore) {
  return definePlugin({
    name: "bench-store",
    version: "1.0.0",
    configSchema: Type.Object({}),
    register: (host) => host.provideStore(store),
  });
}

function triggersConfig(url: string): Record<string, unknown> {
  const problems: ConfigProblem[] = [];
  const config = checkConfig<Record<string, unknown>>(
    TriggersConfigSchema,
    {
      concurrency: CONCURRENCY,
      maxInFlight: CONCURRENCY,
      maxPending: EVENTS,
      triggers: [
        {
          name: "bench",
          class: "Product",
          action: {
            use: "webhook",
            url,
            secrets: [secret],
            allowedNetworks: ["127.0.0.1/32"],
            // The same number of connections as the raw baseline's agent.
            maxConnections: CONCURRENCY,
          },
        },
      ],
    },
    "plugins[1]",
    problems,
  );
  if (problems.length > 0) throw new Error(JSON.stringify(problems));
  return config;
}

const filler = "lorem ipsum dolor sit amet ".repeat(10);

/** CPU time of the whole process (receiver thread included) per delivery, in microseconds. */
const cpuPerEvent = {
  triggers: [] as number[],
  raw: [] as number[],
  signed: [] as number[],
};
/** CPU time of the main thread alone per delivery, in microseconds. It sets the rate while that thread is busy. */
const mainCpuPerEvent = {
  triggers: [] as number[],
  raw: [] as number[],
  signed: [] as number[],
};
const keys = signingKeys(decodeSecrets([secret]));

function cpuMicros(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return used.user + used.system;
}

/**
 * User plus system time of the main thread in microseconds, from Linux's
 * `/proc/self/task/<pid>/stat` (fields 14 and 15, in clock ticks of 10 ms,
 * assuming the usual USER_HZ of 100). Elsewhere it falls back to the event
 * loop's active time, which also counts time the thread waits for a core.
 */
function mainThreadMicros(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8");
    // The command name in brackets may contain spaces, so split after it.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return performance.eventLoopUtilization().active * 1000;
  }
}

/**
 * Writes `EVENTS` objects while the trigger is disabled, then enables it and
 * times the delivery of the backlog. Returns the rate and the request bodies
 * the trigger sent, for the raw run.
 */
async function timeTriggers(
  receiver: Receiver,
): Promise<{ rate: number; bodies: Buffer[] }> {
  const store = new MemoryStore({
    retention: { maxRows: EVENTS * 2, force: false },
  });
  const host = new Host({
    classes: [productClass],
    server: { port: 0 },
    logger: createLogger({ level: "silent" }),
    processMetrics: false,
    maxQueuedWrites: 1024,
  });
  await host.register(storePlugin(store), {});
  await host.register(webhookPlugin, {});
  await host.register(triggersPlugin, triggersConfig(`${receiver.url}/hook`));
  await host.start();
  const state = (enabled: boolean) =>
    fetch(`${host.http!.url}/v1/triggers/bench/state`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ enabled }),
    }).then((response) => {
      if (response.status !== 200)
        throw new Error(`state change failed with ${response.status}`);
    });

  await state(false);
  for (let start = 0; start < EVENTS; start += 1000) {
    const batch = Array.from(
      { length: Math.min(1000, EVENTS - start) },
      (_, i) => ({
        op: "upsert" as const,
        class: "Product",
        id: `product-${start + i}`,
        properties: {
          name: `product ${start + i}`,
          description: filler,
          price: i * 1.5,
          category: `c${i % 10}`,
        },
      }),
    );
    await host.write(batch);
  }

  const delivered = receiver.expect(EVENTS);
  const cpu = process.cpuUsage();
  const mainCpu = mainThreadMicros();
  const started = performance.now();
  await state(true);
  await delivered;
  const seconds = (performance.now() - started) / 1000;
  cpuPerEvent.triggers.push(cpuMicros(cpu) / EVENTS);
  mainCpuPerEvent.triggers.push((mainThreadMicros() - mainCpu) / EVENTS);

  const events = await store.readChanges(1, EVENTS);
  const bodies = events.map((event) => encodePayload("bench", event, false));
  await host.stop();
  return { rate: EVENTS / seconds, bodies };
}

/**
 * Sends `bodies` with plain undici requests from 64 concurrent loops, reading
 * each response to the end. With `sign`, each request also carries the
 * Standard Webhooks headers and signature, the part of the action's work
 * that any signing sender does.
 */
async function timeRaw(
  receiver: Receiver,
  bodies: Buffer[],
  sign = false,
): Promise<number> {
  const agent = new Agent({ connections: CONCURRENCY });
  const delivered = receiver.expect(bodies.length);
  const cpu = process.cpuUsage();
  const mainCpu = mainThreadMicros();
  const started = performance.now();
  let next = 0;
  const loop = async () => {
    while (next < bodies.length) {
      const index = next++;
      const body = bodies[index];
      const headers: Record<string, string> = {
        "content-type": "application/json",
      };
      if (sign) {
        const id = `bench_${index}`;
        const timestamp = Math.floor(Date.now() / 1000);
        Object.assign(headers, {
          "webhook-id": id,
          "webhook-timestamp": String(timestamp),
          "webhook-signature": signatureHeader(keys, id, timestamp, body),
        });
      }
      const response = await agent.request({
        origin: receiver.url,
        path: "/hook",
        method: "POST",
        headers,
        body,
      });
      await response.body.dump();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  await delivered;
  const seconds = (performance.now() - started) / 1000;
  (sign ? cpuPerEvent.signed : cpuPerEvent.raw).push(
    cpuMicros(cpu) / bodies.length,
  );
  (sign ? mainCpuPerEvent.signed : mainCpuPerEvent.raw).push(
    (mainThreadMicros() - mainCpu) / bodies.length,
  );
  await agent.close();
  return bodies.length / seconds;
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const receiver = await startReceiver();
console.log(
  `triggers: ${EVENTS} events per round, concurrency ${CONCURRENCY}, ${ROUNDS} rounds, receiver in a worker thread`,
);

// Warm-up of every path, so each runs JIT-compiled code; its figures are dropped.
const warm = await timeTriggers(receiver);
await timeRaw(receiver, warm.bodies);
await timeRaw(receiver, warm.bodies, true);
for (const values of [
  ...Object.values(cpuPerEvent),
  ...Object.values(mainCpuPerEvent),
])
  values.length = 0;
console.log(`body size: ${warm.bodies[0].length} bytes`);

const triggerRates: number[] = [];
const rawRates: number[] = [];
const signedRates: number[] = [];
const micros = (phase: keyof typeof cpuPerEvent) =>
  `${Math.round(cpuPerEvent[phase].at(-1)!)} µs CPU each, ${Math.round(mainCpuPerEvent[phase].at(-1)!)} µs on the main thread`;
for (let round = 0; round < ROUNDS; round++) {
  const { rate, bodies } = await timeTriggers(receiver);
  triggerRates.push(rate);
  rawRates.push(await timeRaw(receiver, bodies));
  signedRates.push(await timeRaw(receiver, bodies, true));
  console.log(
    `round ${round + 1}: triggers ${Math.round(rate)}/s (${micros("triggers")}), raw ${Math.round(rawRates[round])}/s (${micros("raw")}), raw signed ${Math.round(signedRates[round])}/s (${micros("signed")}), ratio ${(rate / rawRates[round]).toFixed(2)}`,
  );
}
receiver.close();

const triggers = median(triggerRates);
const raw = median(rawRates);
const signed = median(signedRates);
const format = (value: number) => Math.round(value).toLocaleString("en");
const cpuFigures = (phase: keyof typeof cpuPerEvent) =>
  `${format(median(cpuPerEvent[phase]))} µs CPU each, ${format(median(mainCpuPerEvent[phase]))} µs on the main thread`;
console.log(
  `raw undici (baseline):     ${format(raw)} requests/s, ${cpuFigures("raw")} (medians)`,
);
console.log(
  `raw undici, signed:        ${format(signed)} requests/s, ${cpuFigures("signed")}`,
);
console.log(
  `triggers + action-webhook: ${format(triggers)} deliveries/s, ${cpuFigures("triggers")}`,
);
console.log(
  `ratio triggers/raw: ${(triggers / raw).toFixed(2)} (target >= 0.70); triggers/raw signed: ${(triggers / signed).toFixed(2)}`,
);
// The rate follows main-thread CPU per delivery, which other work on the machine disturbs less than the rate.
console.log(
  `main-thread CPU ratio raw/triggers: ${(median(mainCpuPerEvent.raw) / median(mainCpuPerEvent.triggers)).toFixed(2)}`,
);
