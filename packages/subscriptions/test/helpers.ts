import {
  Host,
  MemoryStore,
  Type,
  createLogger,
  definePlugin,
  type ClassDefinition,
  type Store,
  type WriteRequest,
} from "@weft/core";
import subscriptionsPlugin, {
  subscriptionManagerOf,
  type SubscriptionManager,
} from "@weft/subscriptions";
import {
  createClient,
  type Client,
  type ClientOptions,
  type ExecutionResult,
} from "graphql-ws";
import WebSocket from "ws";

/** The part of a tap test the helpers use. */
export interface Teardown {
  teardown(fn: () => unknown): void;
}

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
    { name: "blob", type: "text" },
  ],
};

/** A class for sentinel writes that tell a test every earlier event was delivered. */
export const markerClass: ClassDefinition = {
  name: "Marker",
  properties: [{ name: "n", type: "int" }],
};

export const articleClass: ClassDefinition = {
  name: "Article",
  properties: [
    { name: "title", type: "text" },
    { name: "topic", type: "text" },
  ],
  vectorizer: { use: "hash", fields: ["title"] },
};

export interface TestHost {
  host: Host;
  manager: SubscriptionManager;
  /** ws:// URL of the GraphQL endpoint. */
  wsUrl: string;
  /** http:// URL of the GraphQL endpoint. */
  httpUrl: string;
  /** Writes and fails the test on a rejected item. */
  write(requests: WriteRequest[]): Promise<number[]>;
}

export interface StartOptions {
  config?: Record<string, unknown>;
  apiKeys?: string[];
  /** A store to use instead of a fresh memory store. */
  store?: Store;
  classes?: ClassDefinition[];
  /** The host's logger; silent unless WEFT_TEST_LOG sets a level. */
  logger?: ReturnType<typeof createLogger>;
}

/** Starts a host with a store and the subscriptions plugin on a free port; stops it at teardown. */
export async function startHost(
  t: Teardown,
  options: StartOptions = {},
): Promise<TestHost> {
  const host = new Host({
    classes: options.classes ?? [productClass, markerClass, articleClass],
    server: { port: 0 },
    logger:
      options.logger ??
      createLogger({ level: process.env.WEFT_TEST_LOG ?? "silent" }),
    apiKeys: options.apiKeys ?? [],
    processMetrics: false,
    hashDimensions: 32,
  });
  await host.register(storePlugin(options.store ?? new MemoryStore()), {});
  await host.register(subscriptionsPlugin, options.config ?? {});
  await host.start();
  t.teardown(() => host.stop());

  const manager = subscriptionManagerOf(host);
  if (!manager)
    throw new Error("the subscriptions plugin registered no manager");
  const httpUrl = `${host.http!.url}/v1/graphql`;
  return {
    host,
    manager,
    httpUrl,
    wsUrl: httpUrl.replace(/^http/, "ws"),
    async write(requests) {
      const results = await host.write(requests);
      const rejected = results.find((result) => result.status === "rejected");
      if (rejected)
        throw new Error(`write rejected: ${JSON.stringify(rejected.error)}`);
      return results.map((result) => result.seq ?? 0);
    },
  };
}

function storePlugin(store: Store) {
  return definePlugin({
    name: "test-store",
    version: "1.0.0",
    configSchema: Type.Object({}),
    register(host) {
      host.provideStore(store);
    },
  });
}

/** Creates a graphql-ws client over the ws library that never retries; disposed at teardown. */
export function connect(
  t: Teardown,
  testHost: TestHost,
  options: Partial<ClientOptions> & { key?: string } = {},
): Client {
  const { key, ...clientOptions } = options;
  const client = createClient({
    url: testHost.wsUrl,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    ...(key === undefined
      ? {}
      : { connectionParams: { authorization: `Bearer ${key}` } }),
    ...clientOptions,
  });
  t.teardown(() => client.dispose());
  return client;
}

/** Results, errors and completion of one subscription. */
export class Collector {
  readonly results: ExecutionResult<
    Record<string, unknown>,
    Record<string, unknown>
  >[] = [];
  error: unknown;
  completed = false;
  unsubscribe: () => void = () => {};

  /** Returns the data of each result under the root field. */
  rows(field: string): Array<Record<string, unknown>> {
    return this.results.map(
      (result) => result.data?.[field] as Record<string, unknown>,
    );
  }

  /** Returns the seq of each result under the root field, as numbers. */
  seqs(field: string): number[] {
    return this.rows(field).map((row) => Number(row.seq));
  }

  /** The first error's `extensions.code`. */
  get errorCode(): unknown {
    const errors = this.error as
      Array<{ extensions?: { code?: unknown } }> | undefined;
    return Array.isArray(errors) ? errors[0]?.extensions?.code : undefined;
  }
}

/** Subscribes and collects everything the subscription receives. */
export function subscribe(
  client: Client,
  query: string,
  variables?: Record<string, unknown>,
): Collector {
  const collector = new Collector();
  collector.unsubscribe = client.subscribe<
    Record<string, unknown>,
    Record<string, unknown>
  >(
    { query, ...(variables ? { variables } : {}) },
    {
      next: (result) => collector.results.push(result),
      error: (error) => {
        collector.error = error;
      },
      complete: () => {
        collector.completed = true;
      },
    },
  );
  return collector;
}

/** Polls `check` until it returns true; fails with `what` after `timeoutMs`. */
export async function waitFor(
  check: () => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const markerQuery = `subscription { changes(classes: [Marker]) { seq object } }`;

/**
 * Tells when every event written so far has reached a client: a sentinel
 * Marker write goes through the same socket after all earlier results, so
 * once it arrives, nothing written before it is still on the way.
 */
export class Settler {
  readonly #testHost: TestHost;
  readonly #markers: Collector;

  constructor(testHost: TestHost, client: Client) {
    this.#testHost = testHost;
    this.#markers = subscribe(client, markerQuery);
  }

  /** Waits until the marker subscription is live. */
  async ready(): Promise<void> {
    await waitFor(
      () => this.#testHost.manager.subscriberCount > 0,
      "the marker subscription",
    );
  }

  /** Writes a sentinel and waits until this client received it. */
  async settle(): Promise<void> {
    const [seq] = await this.#testHost.write([
      { op: "upsert", class: "Marker", properties: { n: 1 } },
    ]);
    await waitFor(
      () => this.#markers.seqs("changes").includes(seq),
      `sentinel seq ${seq}`,
    );
  }
}

/** A raw WebSocket for protocol cases the graphql-ws client never produces. */
export interface RawConnection {
  ws: WebSocket;
  messages: Array<Record<string, unknown>>;
  closed: Promise<{ code: number; reason: string }>;
  send(message: unknown): void;
}

export async function openRaw(
  t: Teardown,
  testHost: TestHost,
  protocols: string[] = ["graphql-transport-ws"],
  options: WebSocket.ClientOptions = {},
): Promise<RawConnection> {
  const ws = new WebSocket(testHost.wsUrl, protocols, options);
  const messages: Array<Record<string, unknown>> = [];
  ws.on("message", (data) =>
    messages.push(JSON.parse(String(data)) as Record<string, unknown>),
  );
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on("close", (code, reason) => resolve({ code, reason: String(reason) })),
  );
  ws.on("error", () => {});
  t.teardown(() => ws.terminate());
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  return {
    ws,
    messages,
    closed,
    send: (message) =>
      ws.send(typeof message === "string" ? message : JSON.stringify(message)),
  };
}

/** POSTs a GraphQL request to the endpoint. */
export async function postQuery(
  testHost: TestHost,
  body: unknown,
  key?: string,
): Promise<{
  status: number;
  body: {
    data?: Record<string, unknown>;
    errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
  };
}> {
  const response = await fetch(testHost.httpUrl, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(key ? { authorization: `Bearer ${key}` } : {}),
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as never };
}
