import { pino, type Logger } from "pino";
import {
  Host,
  MemoryStore,
  Type,
  checkConfig,
  definePlugin,
  type ClassDefinition,
  type ConfigProblem,
  type Store,
  type WriteRequest,
} from "@weft/core";
import {
  createWebhookPlugin,
  type WebhookDependencies,
} from "@weft/action-webhook";
import {
  TriggersConfigSchema,
  createTriggersPlugin,
  type EngineOptions,
} from "@weft/triggers";

export { captureLogger, metricValue } from "@weft/core/testing";
export { fakeResolver, loopbackConnector } from "@weft/action-webhook/testing";

export const productClass: ClassDefinition = {
  name: "Product",
  properties: [
    { name: "name", type: "text" },
    { name: "category", type: "text" },
    { name: "price", type: "number" },
  ],
};

export const documentClass: ClassDefinition = {
  name: "Document",
  properties: [{ name: "title", type: "text" }],
};

/** Loopback receivers need an explicit allowlist: the address guard blocks 127.0.0.1 by default. */
export const loopback = { allowedNetworks: ["127.0.0.1/32"] };

/** Retry settings with millisecond delays, so retry tests take milliseconds. */
export const fastRetry = {
  maxAttempts: 5,
  initialDelay: "10ms",
  maxDelay: "200ms",
  multiplier: 2,
  jitter: "none",
};

type Teardown = { teardown(fn: () => unknown): void };

/** Creates a plugin that provides one given store instance, so two hosts in a row can share it like a restarted process shares its database. */
export function sharedStorePlugin(store: Store) {
  return definePlugin({
    name: "test-store",
    version: "1.0.0",
    configSchema: Type.Object({}),
    register(host) {
      host.provideStore(store);
    },
  });
}

/** Builds a trigger on Product that posts to `url` through the webhook action, which may reach loopback. */
export function productTrigger(
  name: string,
  url: string,
): Record<string, unknown> {
  return {
    name,
    class: "Product",
    action: { use: "webhook", url, ...loopback },
  };
}

/** Options of {@link startHost}. */
export interface StartOptions {
  /** The `@weft/triggers` settings, before defaults. */
  triggers: Record<string, unknown>;
  store?: Store;
  logger?: Logger;
  webhook?: WebhookDependencies;
  engine?: EngineOptions;
  apiKeys?: string[];
  /** Stop the host at teardown; false when the test stops it itself. */
  stopAtTeardown?: boolean;
}

/**
 * Starts a host with the given store (a fresh memory store by default), the
 * webhook plugin and the triggers plugin, registered the way a config file
 * lists them: `plugins: [{ use: "@weft/action-webhook" }, { use: "@weft/triggers", ... }]`.
 */
export async function startHost(
  t: Teardown,
  options: StartOptions,
): Promise<Host> {
  const host = new Host({
    classes: [productClass, documentClass],
    server: { port: 0 },
    logger: options.logger ?? pino({ level: "silent" }),
    processMetrics: false,
    shutdownTimeoutMs: 5000,
    ...(options.apiKeys ? { apiKeys: options.apiKeys } : {}),
  });
  await host.register(
    sharedStorePlugin(options.store ?? new MemoryStore()),
    {},
  );
  await host.register(
    createWebhookPlugin(options.webhook),
    {},
    { configPath: "plugins[0]" },
  );
  await host.register(
    createTriggersPlugin(options.engine),
    triggersConfig(options.triggers),
    { configPath: "plugins[1]" },
  );
  await host.start();
  if (options.stopAtTeardown !== false) t.teardown(() => host.stop());
  return host;
}

/** Applies the plugin schema's defaults, as the config loader does; throws on a problem. */
export function triggersConfig(
  settings: Record<string, unknown>,
): Record<string, unknown> {
  const problems: ConfigProblem[] = [];
  const config = checkConfig<Record<string, unknown>>(
    TriggersConfigSchema,
    settings,
    "plugins[1]",
    problems,
  );
  if (problems.length > 0)
    throw new Error(`invalid test config: ${JSON.stringify(problems)}`);
  return config;
}

export function product(
  id: string,
  properties: Record<string, unknown>,
): WriteRequest {
  return { op: "upsert", class: "Product", id, properties };
}

/**
 * Calls the host's HTTP API and returns status and parsed JSON body. The body
 * is typed loosely on purpose: the tests' asserts check its shape.
 */
export async function api(
  host: Host,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
): Promise<{ status: number; body: any }> {
  const response = await fetch(`${host.http!.url}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text === "" ? undefined : JSON.parse(text),
  };
}

/** Polls `check` every 10 ms until it returns a truthy value; fails after `timeoutMs`. */
export async function waitUntil<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * A memory store whose plugin-state calls can be made to fail or to wait,
 * like a database that is down or slow. `failSet` and `failDelete` pick the
 * keys whose writes throw. `stateLatencyMs` delays every state call, so
 * concurrent API requests interleave as they would against a real database.
 */
export class FaultyStore extends MemoryStore {
  failSet: (key: string) => boolean = () => false;
  failDelete: (key: string) => boolean = () => false;
  stateLatencyMs = 0;

  override async stateGet(plugin: string, key: string): Promise<unknown> {
    await this.#wait();
    return super.stateGet(plugin, key);
  }

  override async stateSet(
    plugin: string,
    key: string,
    value: unknown,
  ): Promise<void> {
    await this.#wait();
    if (this.failSet(key))
      throw new Error(`test store: write of ${key} failed`);
    return super.stateSet(plugin, key, value);
  }

  override async stateDelete(plugin: string, key: string): Promise<void> {
    await this.#wait();
    if (this.failDelete(key))
      throw new Error(`test store: delete of ${key} failed`);
    return super.stateDelete(plugin, key);
  }

  async #wait(): Promise<void> {
    if (this.stateLatencyMs > 0)
      await new Promise((resolve) => setTimeout(resolve, this.stateLatencyMs));
  }
}
