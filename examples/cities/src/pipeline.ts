import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  createTopic,
  startWebhookReceiver,
  type WebhookReceiver,
} from "@weft/testkit";
import { countObjects, lastSeq } from "./count-store.js";
import { countTopic, type TopicCount } from "./count-topic.js";
import { loadCities } from "./dataset.js";
import { startHostProcess, type HostProcess } from "./host-process.js";
import { planMessages, type ExpectedCounts, type Plan } from "./plan.js";
import { produceMessages } from "./produce.js";
import {
  subscribeToCountry,
  type CityChange,
  type CountrySubscriber,
} from "./subscriber.js";

const configFile = fileURLToPath(new URL("../weft.yaml", import.meta.url));

/** Options of one pipeline run. */
export interface PipelineOptions {
  brokers: string[];
  /** Cities to use; all of them when absent. */
  limit?: number;
  updates: number;
  deletes: number;
  /** Country code whose changes the subscriber watches. */
  country: string;
  /** Prefix of the run's topics and consumer group, unique per run. */
  runId: string;
  /** How long counts may stay unchanged before the run gives up waiting. */
  idleTimeoutMs?: number;
  /** Progress lines for a person watching. */
  log?: (line: string) => void;
  onChange?: (change: CityChange, received: number) => void;
}

/** The counts a run measured, next to what they must be. */
export interface PipelineResult {
  expected: ExpectedCounts;
  actual: ExpectedCounts;
  cdc: TopicCount;
  changes: readonly CityChange[];
  webhookBodies: unknown[];
  plan: Plan;
  seconds: { ingest: number; total: number };
  /** One updated city as the store returns it, and the status of reading a deleted one. */
  spotCheck: {
    updated: { key: string; expectedPopulation: number; stored: unknown };
    deletedStatus: number;
  };
}

/**
 * Runs the whole pipeline once: a weft host (a child process of the `weft`
 * command) reads the cities topic into the store, publishes its changes to a
 * CDC topic, serves a subscriber and calls a webhook receiver. Every process
 * and server it starts is stopped before it returns.
 */
export async function runPipeline(
  options: PipelineOptions,
): Promise<PipelineResult> {
  const log = options.log ?? (() => {});
  const started = Date.now();
  const cities = loadCities(options.limit);
  const plan = planMessages(cities, options);
  const topic = `${options.runId}.cities`;
  const cdcTopic = `${options.runId}.changes`;
  log(
    `dataset: ${cities.length} cities, then ${plan.updates.length} updates and ${plan.deletes.length} deletes`,
  );

  const dataDir = await mkdtemp(join(tmpdir(), "weft-cities-"));
  let receiver: WebhookReceiver | undefined;
  let host: HostProcess | undefined;
  let subscriber: CountrySubscriber | undefined;

  try {
    await createTopic(options.brokers, topic, { partitions: 8 });
    receiver = await startWebhookReceiver();
    host = await startHostProcess(
      configFile,
      {
        KAFKA_BROKERS: options.brokers.join(","),
        WEFT_PORT: "0",
        WEFT_DATA: dataDir,
        CITIES_TOPIC: topic,
        CITIES_GROUP: `${options.runId}-group`,
        CDC_TOPIC: cdcTopic,
        WEBHOOK_URL: `${receiver.url}/hooks/million-cities`,
        WEBHOOK_SECRET: `whsec_${Buffer.from(`demo-secret-${options.runId}`).toString("base64")}`,
      },
      join(dataDir, "host.log"),
    );
    log(`host: listening at ${host.url} (log: ${join(dataDir, "host.log")})`);

    subscriber = await subscribeToCountry(
      host.url,
      options.country,
      (change, received) => options.onChange?.(change, received),
    );
    log(`subscriber: watching cityChanges for country ${options.country}`);

    const messages = [...plan.inserts, ...plan.updates, ...plan.deletes];
    await produceMessages(options.brokers, topic, messages, (sent) => {
      if (sent % 20_000 < 2000 || sent === messages.length)
        log(`produced ${sent} of ${messages.length} messages`);
    });

    const ingestStarted = Date.now();
    await waitFor(
      async () => lastSeq(host!.url),
      plan.expected.cdcEvents,
      options.idleTimeoutMs ?? 60_000,
      (seq) => log(`store: seq ${seq} of ${plan.expected.cdcEvents}`),
    );
    const ingest = (Date.now() - ingestStarted) / 1000;

    const webhooks = () =>
      new Set(
        receiver!.requests.map((request) => request.headers["webhook-id"]),
      ).size;
    await waitFor(
      async () => webhooks(),
      plan.expected.webhooks,
      options.idleTimeoutMs ?? 60_000,
      (count) => log(`webhooks: ${count} of ${plan.expected.webhooks}`),
    );
    await waitFor(
      async () => subscriber!.received,
      plan.expected.subscriptionEvents,
      options.idleTimeoutMs ?? 60_000,
      (count) =>
        log(
          `subscription events: ${count} of ${plan.expected.subscriptionEvents}`,
        ),
    );

    const expectedOnTopic =
      plan.expected.cdcEvents + plan.expected.cdcTombstones;
    const cdc = await countTopic(
      options.brokers,
      cdcTopic,
      expectedOnTopic,
      options.idleTimeoutMs ?? 60_000,
      (payload) => {
        const source = payload.source as { seq?: number } | undefined;
        return source?.seq === 1 || source?.seq === plan.expected.cdcEvents;
      },
    );
    const storeObjects = await countObjects(host.url, "City");
    const spotCheck = await checkObjects(host.url, plan);

    return {
      expected: plan.expected,
      actual: {
        produced: messages.length,
        storeObjects,
        cdcEvents: cdc.events,
        cdcTombstones: cdc.tombstones,
        subscriptionEvents: subscriber.received,
        webhooks: webhooks(),
      },
      cdc,
      changes: subscriber.changes,
      webhookBodies: receiver.requests
        .slice(0, 3)
        .map((request) => JSON.parse(request.body.toString("utf8"))),
      plan,
      seconds: { ingest, total: (Date.now() - started) / 1000 },
      spotCheck,
    };
  } finally {
    await subscriber?.close().catch(() => {});
    const code = await host?.stop();
    if (code !== undefined && code !== 0)
      log(`host exited with code ${code}; see ${join(dataDir, "host.log")}`);
    await receiver?.close();
    if (code === 0 || code === undefined)
      await rm(dataDir, { recursive: true, force: true });
  }
}

/** Reads the last updated city and one deleted city back through the object API. */
async function checkObjects(
  httpUrl: string,
  plan: Plan,
): Promise<PipelineResult["spotCheck"]> {
  const updated = plan.updates[plan.updates.length - 1];
  const finalPopulation = plan.updates
    .filter((message) => message.key === updated.key)
    .at(-1)!.value!.population;
  const stored = await (
    await fetch(`${httpUrl}/v1/objects/City/${updated.key}`)
  ).json();
  const deleted = await fetch(
    `${httpUrl}/v1/objects/City/${plan.deletes[0].key}`,
  );
  await deleted.body?.cancel();
  return {
    updated: { key: updated.key, expectedPopulation: finalPopulation, stored },
    deletedStatus: deleted.status,
  };
}

/**
 * Polls `read` until it returns at least `target`, or until it stayed the
 * same for `idleMs`. Reports each new value.
 */
async function waitFor(
  read: () => Promise<number>,
  target: number,
  idleMs: number,
  report: (value: number) => void,
): Promise<void> {
  let last = -1;
  let changedAt = Date.now();

  for (;;) {
    const value = await read();
    if (value !== last) {
      report(value);
      last = value;
      changedAt = Date.now();
    }
    if (value >= target || Date.now() - changedAt > idleMs) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
