import type {
  ActionHandler,
  ActionInvocation,
  ActionOutcome,
  PluginHost,
} from "@weft/core";
import { isWeftError, parseDuration } from "@weft/core";
import { Agent, errors as undiciErrors, type Dispatcher } from "undici";
import { AddressGuard } from "./address-guard.js";
import type { WebhookActionConfig } from "./config.js";
import {
  createGuardedConnector,
  type ResolveHost,
  type SocketConnector,
} from "./connector.js";
import {
  WebhookErrorCode,
  webhookError,
  type WebhookErrorCodeValue,
} from "./errors.js";
import { encodePayload } from "./payload.js";
import { Scrubber, isSensitiveHeader, redactUrl } from "./redact.js";
import { parseRetryAfter } from "./retry-after.js";
import { decodeSecrets, signatureHeader } from "./signature.js";
import { userAgent } from "./version.js";

/** Replaceable pieces of the network path, so tests can watch every connection attempt before a socket opens. */
export interface WebhookDependencies {
  /** Resolves host names; defaults to `dns.lookup` with `all: true`. */
  resolve?: ResolveHost;
  /** Opens a socket to an address that passed the guard; defaults to undici's connector. */
  connect?: SocketConnector;
}

type Logger = PluginHost["logger"];

/** The trigger that uses the action, and its logger. */
export interface WebhookContext {
  trigger: string;
  logger: Logger;
}

/** Headers the action sets itself; a config that sets one is rejected. */
const reservedHeaders = new Set([
  "webhook-id",
  "webhook-timestamp",
  "webhook-signature",
  "content-type",
  "content-length",
  "host",
  "transfer-encoding",
  "connection",
]);
const redirectStatuses = new Set([301, 302, 303, 307, 308]);
const retryableStatuses = new Set([408, 429]);

/** A failure of one attempt, before it becomes an {@link ActionOutcome}. */
interface AttemptFailure {
  code: WebhookErrorCodeValue;
  message: string;
  retryable: boolean;
  status?: number;
  retryAfterMs?: number;
}

/**
 * Creates the webhook handler of one trigger: one undici agent with the
 * guarded connector, reused for every delivery of that trigger.
 * @throws WeftError `WEFT_ERR_WEBHOOK_CONFIG_INVALID` for a bad URL, header, secret or network.
 */
export function createWebhookAction(
  config: WebhookActionConfig,
  context: WebhookContext,
  dependencies: WebhookDependencies = {},
): ActionHandler {
  return new WebhookAction(config, context, dependencies);
}

class WebhookAction implements ActionHandler {
  readonly #url: URL;
  readonly #config: WebhookActionConfig;
  readonly #headers: Record<string, string>;
  readonly #keys: Buffer[];
  readonly #timeoutMs: number;
  readonly #agent: Agent;
  readonly #scrubber: Scrubber;
  readonly #logger: Logger;
  readonly #trigger: string;
  readonly #watched = new WeakSet<AbortSignal>();
  #destroyed = false;

  constructor(
    config: WebhookActionConfig,
    context: WebhookContext,
    dependencies: WebhookDependencies,
  ) {
    this.#config = config;
    this.#trigger = context.trigger;
    this.#url = parseEndpoint(config.url);
    this.#headers = checkHeaders(config.headers);
    this.#keys = decodeSecrets(config.secrets);
    this.#timeoutMs = parseDuration(config.timeout, "timeout");
    const connectTimeoutMs = parseDuration(
      config.connectTimeout,
      "connectTimeout",
    );
    const guard = new AddressGuard({
      allowPrivateNetworks: config.allowPrivateNetworks,
      allowedNetworks: config.allowedNetworks,
    });
    this.#scrubber = new Scrubber(secretValues(config, this.#url));
    this.#logger = context.logger.child({ action: "webhook" });

    this.#agent = new Agent({
      connect: createGuardedConnector({
        guard,
        connectTimeoutMs,
        resolve: dependencies.resolve,
        connect: dependencies.connect,
      }),
      connections: config.maxConnections,
      headersTimeout: this.#timeoutMs,
      bodyTimeout: this.#timeoutMs,
    });

    const weakKeys = this.#keys.filter(
      (key) => key.length < 24 || key.length > 64,
    ).length;
    if (weakKeys > 0)
      this.#logger.warn(
        { trigger: this.#trigger, count: weakKeys },
        "webhook secrets outside the 24 to 64 bytes that Standard Webhooks recommends",
      );
    this.#logger.debug(
      {
        trigger: this.#trigger,
        url: redactUrl(this.#url),
        method: config.method,
        signed: this.#keys.length > 0,
        followRedirects: config.followRedirects,
      },
      "webhook action created",
    );
  }

  async execute(invocation: ActionInvocation): Promise<ActionOutcome> {
    const body = encodePayload(
      invocation.trigger,
      invocation.event,
      this.#config.includeVector,
    );
    const timestamp = Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = {
      ...this.#headers,
      "content-type": "application/json",
      "user-agent": this.#headers["user-agent"] ?? userAgent,
      "webhook-id": invocation.deliveryId,
      "webhook-timestamp": String(timestamp),
      "weft-attempt": String(invocation.attempt),
    };
    if (this.#keys.length > 0)
      headers["webhook-signature"] = signatureHeader(
        this.#keys,
        invocation.deliveryId,
        timestamp,
        body,
      );

    this.#cancelOnAbort(invocation.signal);
    if (invocation.signal.aborted) return this.#failure(cancelled(this.#url));
    return this.#send(headers, body, invocation.signal);
  }

  /**
   * Destroys the agent, and with it every request in flight, when a caller's
   * signal aborts. The trigger engine passes one signal per trigger and
   * aborts it only when the host stops. The action listens once per signal
   * instead of handing it to each request, because a listener and a
   * controller per request cost more CPU than the rest of the bookkeeping.
   */
  #cancelOnAbort(signal: AbortSignal): void {
    if (this.#watched.has(signal)) return;
    this.#watched.add(signal);
    signal.addEventListener(
      "abort",
      () => {
        this.#destroyed = true;
        this.#agent
          .destroy(new Error("webhook delivery cancelled"))
          .catch(() => undefined);
      },
      { once: true },
    );
  }

  async close(): Promise<void> {
    if (!this.#destroyed) await this.#agent.close();
  }

  async #send(
    initialHeaders: Record<string, string>,
    initialBody: Buffer,
    signal: AbortSignal,
  ): Promise<ActionOutcome> {
    let url = this.#url;
    let method: string = this.#config.method;
    let headers = initialHeaders;
    let body: Buffer | undefined = initialBody;
    // One deadline for the attempt: each hop gets the time that is left to receive its response headers.
    const deadline = Date.now() + this.#timeoutMs;

    for (let hops = 0; ; hops += 1) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return this.#failure(timedOut(url));
      let status: number;
      let location: string | undefined;
      let retryAfterMs: number | undefined;
      try {
        const response = await this.#agent.request({
          origin: url.origin,
          path: `${url.pathname}${url.search}`,
          method: method as "POST",
          headers,
          body,
          headersTimeout: remaining,
          bodyTimeout: this.#timeoutMs,
        });
        status = response.statusCode;
        location = headerValue(response.headers.location);
        retryAfterMs = parseRetryAfter(response.headers["retry-after"]);
        // The status decides the outcome, so the body is drained without waiting for it.
        void discardBody(response.body, this.#config.maxResponseBytes);
      } catch (error) {
        return this.#failure(requestFailure(error, signal, url));
      }

      if (status >= 200 && status < 300) return { ok: true, status };
      if (!redirectStatuses.has(status) || location === undefined)
        return this.#failure(statusFailure(status, retryAfterMs));

      const next = this.#redirectTarget(status, location, url, hops);
      if ("code" in next) return this.#failure(next);
      this.#logger.debug(
        {
          trigger: this.#trigger,
          status,
          from: redactUrl(url),
          to: redactUrl(next.url),
        },
        "following webhook redirect",
      );

      if (next.url.origin !== url.origin) headers = withoutCredentials(headers);
      if (status === 303) {
        method = "GET";
        body = undefined;
        headers = { ...headers };
        delete headers["content-type"];
      }
      url = next.url;
    }
  }

  /** Checks one redirect hop; the guarded connector checks its address again when it connects. */
  #redirectTarget(
    status: number,
    location: string,
    from: URL,
    hops: number,
  ): { url: URL } | AttemptFailure {
    let target: URL;
    try {
      target = new URL(location, from);
    } catch {
      return {
        code: WebhookErrorCode.REDIRECT_REJECTED,
        retryable: false,
        status,
        message: `endpoint responded ${status} with an invalid Location header`,
      };
    }
    if (!this.#config.followRedirects) {
      return {
        code: WebhookErrorCode.REDIRECT_REJECTED,
        retryable: false,
        status,
        message: `endpoint responded ${status} with a redirect to ${redactUrl(target)}; update the URL, or set followRedirects: true to follow redirects`,
      };
    }
    if (target.protocol !== "http:" && target.protocol !== "https:") {
      return {
        code: WebhookErrorCode.REDIRECT_REJECTED,
        retryable: false,
        status,
        message: `endpoint redirected to a ${target.protocol} URL; only http and https are followed`,
      };
    }
    if (hops + 1 > this.#config.maxRedirects) {
      return {
        code: WebhookErrorCode.REDIRECT_REJECTED,
        retryable: false,
        status,
        message: `endpoint redirected more than maxRedirects (${this.#config.maxRedirects}) times`,
      };
    }
    return { url: target };
  }

  #failure(failure: AttemptFailure): ActionOutcome {
    return {
      ok: false,
      retryable: failure.retryable,
      ...(failure.status === undefined ? {} : { status: failure.status }),
      ...(failure.retryAfterMs === undefined
        ? {}
        : { retryAfterMs: failure.retryAfterMs }),
      message: this.#scrubber.scrub(`${failure.code}: ${failure.message}`),
    };
  }
}

function timedOut(url: URL): AttemptFailure {
  return {
    code: WebhookErrorCode.TIMEOUT,
    retryable: true,
    message: `request to ${redactUrl(url)} timed out`,
  };
}

function cancelled(url: URL): AttemptFailure {
  return {
    code: WebhookErrorCode.NETWORK,
    retryable: true,
    message: `request to ${redactUrl(url)} was cancelled because the trigger is stopping`,
  };
}

function statusFailure(
  status: number,
  retryAfterMs: number | undefined,
): AttemptFailure {
  const retryable = status >= 500 || retryableStatuses.has(status);
  return {
    code: WebhookErrorCode.HTTP_STATUS,
    retryable,
    status,
    ...(retryable && retryAfterMs !== undefined ? { retryAfterMs } : {}),
    message: `endpoint responded with HTTP ${status}${retryable ? "" : "; a 4xx other than 408 and 429 is not retried, so fix the request or the endpoint and redeliver"}`,
  };
}

function requestFailure(
  error: unknown,
  signal: AbortSignal,
  url: URL,
): AttemptFailure {
  if (signal.aborted) return cancelled(url);
  if (isWeftError(error))
    return {
      code: error.code as WebhookErrorCodeValue,
      retryable: error.retryable,
      message: error.message,
    };
  if (
    error instanceof undiciErrors.ConnectTimeoutError ||
    error instanceof undiciErrors.HeadersTimeoutError ||
    error instanceof undiciErrors.BodyTimeoutError
  ) {
    return {
      code: WebhookErrorCode.TIMEOUT,
      retryable: true,
      message: `request to ${redactUrl(url)} timed out: ${(error as Error).message}`,
    };
  }
  const code = (error as NodeJS.ErrnoException).code;
  return {
    code: WebhookErrorCode.NETWORK,
    retryable: true,
    message: `request to ${redactUrl(url)} failed: ${code ? `${code} ` : ""}${(error as Error).message}`,
  };
}

/** Reads at most `limit` bytes of a response and drops the rest with the connection. */
async function discardBody(
  body: Dispatcher.ResponseData["body"],
  limit: number,
): Promise<void> {
  try {
    // undici reads up to `limit` bytes and destroys the stream past it; it treats 0 as "use the default".
    await body.dump({ limit: Math.max(1, limit) });
  } catch {
    // The status is known; a body that breaks off changes nothing about the outcome.
  }
}

function parseEndpoint(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw webhookError(
      WebhookErrorCode.CONFIG_INVALID,
      `url ${redactUrl(text)} is not a valid URL; write an absolute http or https URL`,
      { details: { path: "url" } },
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw webhookError(
      WebhookErrorCode.CONFIG_INVALID,
      `url must use http or https, got ${url.protocol}`,
      { details: { path: "url" } },
    );
  }
  return url;
}

function checkHeaders(headers: Record<string, string>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      throw webhookError(
        WebhookErrorCode.CONFIG_INVALID,
        `headers: ${JSON.stringify(name)} is not a valid header name`,
        { details: { path: `headers.${name}` } },
      );
    }
    if (reservedHeaders.has(lower)) {
      throw webhookError(
        WebhookErrorCode.CONFIG_INVALID,
        `headers.${name}: the action sets this header itself; remove it from headers`,
        { details: { path: `headers.${name}` } },
      );
    }
    if (/[\r\n]/.test(value)) {
      throw webhookError(
        WebhookErrorCode.CONFIG_INVALID,
        `headers.${name}: the value contains a line break; check the variable it comes from`,
        { details: { path: `headers.${name}` } },
      );
    }
    result[lower] = value;
  }
  return result;
}

/** Values that must never appear in an outcome message: credential headers, URL credentials and query values, and the secrets. */
function secretValues(config: WebhookActionConfig, url: URL): string[] {
  const values: string[] = [];
  for (const [name, value] of Object.entries(config.headers)) {
    if (!isSensitiveHeader(name)) continue;
    values.push(value);
    // `Bearer abc` may appear without its scheme.
    const token = value.split(/\s+/).pop();
    if (token) values.push(token);
  }
  if (url.username) values.push(decodeURIComponent(url.username), url.username);
  if (url.password) values.push(decodeURIComponent(url.password), url.password);
  for (const value of url.searchParams.values()) values.push(value);
  const secrets =
    typeof config.secrets === "string"
      ? config.secrets.split(/[\s,]+/)
      : config.secrets;
  values.push(...secrets);
  return values;
}

/** Drops credential headers before a hop to another origin, as browsers do. */
function withoutCredentials(
  headers: Record<string, string>,
): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith("webhook-") || !isSensitiveHeader(name))
      result[name] = value;
  }
  return result;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
