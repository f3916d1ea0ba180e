import net from "node:net";
import type { Logger } from "pino";
import {
  checkConfig,
  type ActionHandler,
  type ChangeEvent,
  type ConfigProblem,
} from "@weft/core";
import {
  WebhookActionSchema,
  createWebhookAction,
  type WebhookActionConfig,
  type WebhookDependencies,
} from "@weft/action-webhook";
import { captureLogger } from "@weft/core/testing";

export { captureLogger };
export { fakeResolver, loopbackConnector } from "@weft/action-webhook/testing";

const loopbackHosts = new Set([
  "127.0.0.1",
  "::1",
  "::ffff:127.0.0.1",
  "localhost",
]);

/**
 * Makes every socket connect in this process throw unless it targets
 * loopback, so a broken address guard fails the test instead of sending a
 * packet to another host. Installed once per test file.
 */
export function forbidNonLoopbackSockets(): void {
  const original = net.Socket.prototype.connect;
  if ((original as { guarded?: boolean }).guarded) return;
  const guarded = function (this: net.Socket, ...args: unknown[]) {
    const first = args[0];
    const options = (Array.isArray(first) ? first[0] : first) as
      { host?: string; path?: string } | number | string;
    const host =
      typeof options === "object" && options !== null
        ? options.host
        : typeof args[1] === "string"
          ? args[1]
          : "localhost";
    const isPipe =
      typeof options === "object" &&
      options !== null &&
      options.path !== undefined;
    if (!isPipe && !loopbackHosts.has(host ?? "localhost")) {
      throw new Error(
        `test safety net: refused a socket to ${host}; tests must only connect to loopback`,
      );
    }
    return (original as (...input: unknown[]) => net.Socket).apply(this, args);
  } as typeof original;
  (guarded as { guarded?: boolean }).guarded = true;
  net.Socket.prototype.connect = guarded;
}

/** Applies the action schema's defaults to `settings`, as the trigger engine does, and fails on a problem. */
export function actionConfig(
  settings: Record<string, unknown>,
): WebhookActionConfig {
  const problems: ConfigProblem[] = [];
  const config = checkConfig<WebhookActionConfig>(
    WebhookActionSchema,
    settings,
    "action",
    problems,
  );
  if (problems.length > 0)
    throw new Error(`invalid test config: ${JSON.stringify(problems)}`);
  return config;
}

/** Creates an action from partial settings; closed at teardown. */
export function webhookAction(
  t: { teardown(fn: () => unknown): void },
  settings: Record<string, unknown>,
  dependencies: WebhookDependencies = {},
  logger: Logger = captureLogger().logger,
): ActionHandler {
  const action = createWebhookAction(
    actionConfig(settings),
    { trigger: "test-trigger", logger },
    dependencies,
  );
  t.teardown(() => action.close?.());
  return action;
}

export function sampleEvent(overrides: Partial<ChangeEvent> = {}): ChangeEvent {
  return {
    seq: 7,
    op: "INSERT",
    class: "Product",
    id: "5f0c5a8e-2a4b-4f51-9b53-3f1f0e0b9a01",
    before: null,
    after: { name: "Lamp", category: "Electronics", price: 25 },
    vector: [0.1, 0.2],
    timestamp: "2025-01-02T03:04:05.000Z",
    txId: "tx-1",
    origin: { plugin: "http" },
    metadata: {},
    ...overrides,
  };
}

/** Runs one attempt with a fresh signal. */
export function deliver(
  action: ActionHandler,
  event = sampleEvent(),
  attempt = 1,
  deliveryId = "msg_test_1",
) {
  return action.execute({
    trigger: "test-trigger",
    event,
    attempt,
    deliveryId,
    signal: new AbortController().signal,
  });
}
