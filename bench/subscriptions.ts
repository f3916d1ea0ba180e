// 10,000 concurrent GraphQL subscribers over real WebSockets, each filtered
// to one of 100 categories, so each write reaches about 100 of them. Writes
// are offered at 100, 300 and 1,000 per second to @weft/subscriptions and,
// in the same run and on the same load, to the baseline: stock graphql-ws
// `useServer`, which executes the subscription once per subscriber and
// event. Both servers run at once in their own host processes and take
// turns at each rate. Reports the write rate each host achieved, delivered
// against expected results, p50 and p99 latency from commit to client
// receipt, the host's peak resident memory and CPU, and the CPU time of
// host and clients per delivered result.
// Run: pnpm build && node --import=tsx bench/subscriptions.ts
// Settings: SUBSCRIBERS, CATEGORIES, CLIENT_PROCESSES (per server), SECONDS,
// RATES, MODES, MAX_DRAIN_S; PROFILE_DIR writes a CPU profile of each host
// there.
import { fork, type ChildProcess } from "node:child_process";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";

const SUBSCRIBERS = Number(process.env.SUBSCRIBERS ?? 10_000);
const CLIENT_PROCESSES = Number(process.env.CLIENT_PROCESSES ?? 2);
const CATEGORIES = Number(process.env.CATEGORIES ?? 100);
const SECONDS = Number(process.env.SECONDS ?? 15);
const RATES = (process.env.RATES ?? "100,300,1000").split(",").map(Number);
const MODES = (process.env.MODES ?? "weft,baseline").split(",") as Array<
  "weft" | "baseline"
>;
/** Maximum wait for late results after the writes end; what has not arrived by then counts as not delivered. */
const MAX_DRAIN_S = Number(process.env.MAX_DRAIN_S ?? 60);
/** Maximum wait for every subscription to be registered. */
const CONNECT_TIMEOUT_S = 300;
/** A drain also ends when no result arrived for this long. */
const STALL_S = 10;

interface Row {
  mode: string;
  rate: number;
  written: number;
  expected: number;
  delivered: number;
  p50: number;
  p99: number;
  max: number;
  rssMb: number;
  hostCpuPercent: number;
  /** The kernel's share of the host's CPU time, mostly socket writes. */
  hostSystemCpuPercent: number;
  /**
   * Host CPU time (user plus system) per delivered result, from the first
   * write until the last result arrived, writes included. Other work on the
   * machine changes it much less than the rates and latencies.
   */
  hostCpuUsPerResult: number;
  /** The system part of {@link Row.hostCpuUsPerResult}. */
  hostSystemCpuUsPerResult: number;
  /** CPU time of all client processes per delivered result. */
  clientCpuUsPerResult: number;
  /** Writes per second the host committed; below `rate` when it could not keep up. */
  achievedRate: number;
  /** Sockets closed and errors seen by the clients during the measurement; 0 when all is well. */
  closedSockets: number;
  clientErrors: number;
  /** Results whose seq was not above the previous one on the same socket (duplicates or reordering); 0 when all is well. */
  outOfOrder: number;
  /** The host's event-loop delay while writing: where latency builds up inside the host. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** Most committed changes the weft dispatcher had not delivered, sampled every 10 ms. */
  maxDispatcherLag: number;
  /** The machine's 1-minute load average when the phase ended. */
  loadAverage: number;
}

type Message = { cmd: string } & Record<string, unknown>;

function child(
  file: string,
  args: string[],
  execArgv: string[] = [],
): ChildProcess {
  return fork(fileURLToPath(new URL(file, import.meta.url)), args, {
    execArgv: ["--import=tsx", ...execArgv],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
}

function reply(target: ChildProcess, cmd: string): Promise<Message> {
  return new Promise((resolve) => {
    const onMessage = (message: Message) => {
      if (message.cmd !== cmd) return;
      target.off("message", onMessage);
      resolve(message);
    };
    target.on("message", onMessage);
  });
}

function ask(
  target: ChildProcess,
  message: Record<string, unknown>,
): Promise<Message> {
  const answer = reply(target, message.cmd as string);
  target.send(message);
  return answer;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(
  buckets: Map<number, number>,
  total: number,
  fraction: number,
): number {
  const sorted = [...buckets.keys()].sort((a, b) => a - b);
  const target = Math.ceil(total * fraction);
  let seen = 0;
  for (const latency of sorted) {
    seen += buckets.get(latency)!;
    if (seen >= target) return latency;
  }
  return sorted.at(-1) ?? 0;
}

async function waitForDrain(
  clients: ChildProcess[],
  expected: number,
): Promise<number> {
  const started = Date.now();
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const progress = await Promise.all(
      clients.map((client) => ask(client, { cmd: "progress" })),
    );
    const received = progress.reduce(
      (sum, message) => sum + (message.received as number),
      0,
    );
    if (received !== last) {
      last = received;
      lastChange = Date.now();
    }
    if (received >= expected) return received;
    if (
      Date.now() - lastChange > STALL_S * 1000 ||
      Date.now() - started > MAX_DRAIN_S * 1000
    )
      return received;
    await sleep(250);
  }
}

/** A running host with its connected client processes. */
interface Server {
  mode: "weft" | "baseline";
  host: ChildProcess;
  clients: ChildProcess[];
  idleRssMb: number;
  connectSeconds: number;
}

/** Starts the host of `mode`, connects every subscriber and runs a warm-up that is not reported. */
async function startServer(mode: "weft" | "baseline"): Promise<Server> {
  const profile = process.env.PROFILE_DIR
    ? ["--cpu-prof", `--cpu-prof-dir=${process.env.PROFILE_DIR}`]
    : [];
  const host = child(
    "./subscriptions-host.ts",
    [mode, String(CATEGORIES)],
    profile,
  );
  const { url } = (await reply(host, "ready")) as unknown as { url: string };

  const connectStarted = Date.now();
  const perClient = Math.ceil(SUBSCRIBERS / CLIENT_PROCESSES);
  const clients: ChildProcess[] = [];
  for (let i = 0; i < CLIENT_PROCESSES; i++) {
    const count = Math.min(perClient, SUBSCRIBERS - i * perClient);
    clients.push(
      child("./subscriptions-client.ts", [
        url,
        String(count),
        String(i * perClient),
        String(CATEGORIES),
      ]),
    );
  }
  await Promise.all(clients.map((client) => reply(client, "connected")));
  for (;;) {
    const { subscribers } = (await ask(host, { cmd: "count" })) as unknown as {
      subscribers: number;
    };
    if (subscribers >= SUBSCRIBERS) break;
    if (Date.now() - connectStarted > CONNECT_TIMEOUT_S * 1000) {
      throw new Error(
        `${mode}: only ${subscribers} of ${SUBSCRIBERS} subscriptions after ${CONNECT_TIMEOUT_S} s`,
      );
    }
    await sleep(200);
  }
  const connectSeconds = (Date.now() - connectStarted) / 1000;
  const idleRssMb = ((await ask(host, { cmd: "rss" })).rss as number) / 2 ** 20;
  process.stderr.write(
    `${mode}: ${SUBSCRIBERS} subscribers connected in ${connectSeconds.toFixed(1)} s, host RSS ${idleRssMb.toFixed(0)} MB\n`,
  );

  // Warm-up: JIT and first-use allocations.
  await ask(host, { cmd: "write", rate: 100, seconds: 2 });
  await waitForDrain(clients, (200 * SUBSCRIBERS) / CATEGORIES);
  return { mode, host, clients, idleRssMb, connectSeconds };
}

/** Offers `rate` writes per second to one server for SECONDS and measures what its subscribers receive. */
async function measure(server: Server, rate: number): Promise<Row> {
  const { host, clients } = server;
  await Promise.all(clients.map((client) => ask(client, { cmd: "reset" })));
  await ask(host, { cmd: "resetRss" });

  const cpuBefore = await ask(host, { cmd: "cpu" });
  const result = await ask(host, { cmd: "write", rate, seconds: SECONDS });
  const written = result.written as number;
  const expected = (written * SUBSCRIBERS) / CATEGORIES;
  await waitForDrain(clients, expected);
  // Host CPU from the first write until the last result arrived, so results
  // sent after the writes ended are paid for too.
  const cpuAfter = await ask(host, { cmd: "cpu" });
  const userUs = (cpuAfter.user as number) - (cpuBefore.user as number);
  const systemUs = (cpuAfter.system as number) - (cpuBefore.system as number);

  const reports = await Promise.all(
    clients.map((client) => ask(client, { cmd: "report" })),
  );
  const buckets = new Map<number, number>();
  let delivered = 0;
  let closedSockets = 0;
  let clientErrors = 0;
  let outOfOrder = 0;
  let clientCpuUs = 0;
  for (const report of reports) {
    delivered += report.received as number;
    closedSockets += report.closed as number;
    clientErrors += report.errors as number;
    outOfOrder += report.outOfOrder as number;
    clientCpuUs += report.cpuUs as number;
    for (const [latency, count] of report.buckets as Array<[number, number]>)
      buckets.set(latency, (buckets.get(latency) ?? 0) + count);
  }
  const timed = [...buckets.values()].reduce((sum, count) => sum + count, 0);
  const { rssMax } = (await ask(host, { cmd: "rss" })) as unknown as {
    rssMax: number;
  };
  const row: Row = {
    mode: server.mode,
    rate,
    written,
    expected,
    delivered,
    p50: percentile(buckets, timed, 0.5),
    p99: percentile(buckets, timed, 0.99),
    max: percentile(buckets, timed, 1),
    rssMb: rssMax / 2 ** 20,
    hostCpuPercent:
      ((result.cpuMs as number) / (result.elapsedMs as number)) * 100,
    hostSystemCpuPercent:
      ((result.systemCpuMs as number) / (result.elapsedMs as number)) * 100,
    hostCpuUsPerResult: (userUs + systemUs) / delivered,
    hostSystemCpuUsPerResult: systemUs / delivered,
    clientCpuUsPerResult: clientCpuUs / delivered,
    achievedRate: written / ((result.elapsedMs as number) / 1000),
    closedSockets,
    clientErrors,
    outOfOrder,
    loopDelayP99Ms: result.loopDelayP99Ms as number,
    loopDelayMaxMs: result.loopDelayMaxMs as number,
    maxDispatcherLag: result.maxDispatcherLag as number,
    loadAverage: loadavg()[0],
  };
  process.stderr.write(`${JSON.stringify(row)}\n`);
  return row;
}

async function stopServer(server: Server): Promise<void> {
  for (const client of server.clients) client.send({ cmd: "exit" });
  server.host.send({ cmd: "exit" });
  // A CPU profile is written at exit, which takes a while for a long run.
  await sleep(process.env.PROFILE_DIR ? 10_000 : 500);
  for (const running of [server.host, ...server.clients])
    if (running.exitCode === null) running.kill("SIGKILL");
}

// Both servers stay up for the whole run and take turns at each rate, so
// both see the same load from the rest of the machine.
const servers: Server[] = [];
for (const mode of MODES) servers.push(await startServer(mode));
const rows: Row[] = [];
for (const rate of RATES) {
  for (const server of servers) rows.push(await measure(server, rate));
}
for (const server of servers) await stopServer(server);

console.log(
  `\n${SUBSCRIBERS} subscribers over ${CLIENT_PROCESSES} client processes per server, ${CATEGORIES} categories, ${SECONDS} s per rate\n`,
);
console.log(
  "| server | offered writes/s | achieved writes/s | delivered / expected | p50 ms | p99 ms | max ms | host RSS peak MB | host CPU % (system) | host CPU µs per result (system) | client CPU µs per result | load average |",
);
console.log(
  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
);
for (const row of rows) {
  const name =
    row.mode === "weft"
      ? "@weft/subscriptions"
      : "graphql-ws useServer (baseline)";
  console.log(
    `| ${name} | ${row.rate} | ${row.achievedRate.toFixed(0)} | ${row.delivered} / ${row.expected} | ${row.p50} | ${row.p99} | ${row.max} | ${row.rssMb.toFixed(0)} | ${row.hostCpuPercent.toFixed(0)} (${row.hostSystemCpuPercent.toFixed(0)}) | ${row.hostCpuUsPerResult.toFixed(1)} (${row.hostSystemCpuUsPerResult.toFixed(1)}) | ${row.clientCpuUsPerResult.toFixed(1)} | ${row.loadAverage.toFixed(1)} |`,
  );
}
for (const row of rows) {
  if (row.closedSockets + row.clientErrors + row.outOfOrder > 0)
    console.log(
      `\n${row.mode} at ${row.rate} writes/s: ${row.closedSockets} sockets closed, ${row.clientErrors} client errors, ${row.outOfOrder} results out of seq order`,
    );
}
for (const server of servers) {
  console.log(
    `\n${server.mode}: connected in ${server.connectSeconds.toFixed(1)} s; idle host RSS ${server.idleRssMb.toFixed(0)} MB`,
  );
}
