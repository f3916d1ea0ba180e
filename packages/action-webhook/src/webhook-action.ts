import { isIP } from "node:net";
import type {
  ActionHandler,
  ActionInvocation,
  ActionOutcome,
  PluginHost,
} from "@weft/core";
import { isWeftError, parseDuration } from "@weft/core";
import { Agent, errors as undiciErrors, type Dispatcher } from "undici";
import { AddressGuard, privateRanges } from "./address-guard.js";
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
import { WebhookSigner, decodeSecrets } from "./signature.js";
import { ResponseReader, type ResponseHead } from "./response-reader.js";
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
  /** `origin` and path of the configured URL, computed once: the `URL` getters build new strings on each call. */
  readonly #origin: string;
  readonly #path: string;
  readonly #config: WebhookActionConfig;
  /**
   * The headers every request carries, as undici's flat `[name, value, ...]`
   * list: the configured headers, `content-type` and `user-agent`. Each
   * request copies it and appends its own `webhook-*` headers.
   */
  readonly #baseHeaders: string[];
  readonly #keys: Buffer[];
  readonly #signer: WebhookSigner;
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
    const { url, headers, keys, guard } = checkSettings(config);
    this.#url = url;
    this.#origin = this.#url.origin;
    this.#path = `${this.#url.pathname}${this.#url.search}`;
    this.#baseHeaders = baseHeaders(headers);
    this.#keys = keys;
    this.#signer = new WebhookSigner(this.#keys);
    this.#timeoutMs = parseDuration(config.timeout, "timeout");
    const connectTimeoutMs = parseDuration(
      config.connectTimeout,
      "connectTimeout",
    );
    this.#scrubber = new Scrubber(secretValues(config, this.#url));
    this.#logger = context.logger.child({ action: "webhook" });

    // One agent per trigger: it keeps a pool of up to maxConnections keep-alive connections per origin, without
    // pipelining (undici's default of one request at a time per connection).
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

  execute(invocation: ActionInvocation): Promise<ActionOutcome> {
    const signal = invocation.signal;
    this.#cancelOnAbort(signal);
    if (signal.aborted)
      return Promise.resolve(this.#failure(cancelled(this.#url)));
    // undici reads a timeout of 0 as no timeout; here it leaves no time for the attempt.
    if (this.#timeoutMs <= 0)
      return Promise.resolve(this.#failure(timedOut(this.#url)));

    const body = encodePayload(
      invocation.trigger,
      invocation.event,
      this.#config.includeVector,
    );
    const now = Date.now();
    const timestamp = Math.floor(now / 1000);
    const headers = this.#baseHeaders.slice();
    headers.push(
      "webhook-id",
      invocation.deliveryId,
      "webhook-timestamp",
      String(timestamp),
      "weft-attempt",
      String(invocation.attempt),
    );
    if (this.#signer.hasKeys)
      headers.push(
        "webhook-signature",
        this.#signer.sign(invocation.deliveryId, timestamp, body),
      );
    // One deadline for the attempt: each hop gets the time that is left to receive its response headers.
    const deadline = now + this.#timeoutMs;
    // The reader settles the outcome itself, so a 2xx response costs one promise and no extra hop.
    return new Promise((resolve) => {
      const reader = new ResponseReader(
        this.#config.maxResponseBytes,
        (response) =>
          resolve(
            response.status >= 200 && response.status < 300
              ? { ok: true, status: response.status }
              : this.#handleResponse(response, headers, body, signal, deadline),
          ),
        (error) =>
          resolve(this.#failure(requestFailure(error, signal, this.#url))),
      );
      try {
        this.#dispatch(
          this.#origin,
          this.#path,
          this.#config.method,
          headers,
          body,
          this.#timeoutMs,
          reader,
        );
      } catch (error) {
        resolve(this.#failure(requestFailure(error, signal, this.#url)));
      }
    });
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

  #dispatch(
    origin: string,
    path: string,
    method: string,
    headers: string[],
    body: Buffer | undefined,
    headersTimeout: number,
    reader: ResponseReader,
  ): void {
    this.#agent.dispatch(
      {
        origin,
        path,
        method: method as Dispatcher.HttpMethod,
        headers,
        body: body ?? null,
        headersTimeout,
        bodyTimeout: this.#timeoutMs,
      },
      reader,
    );
  }

  /**
   * Turns a response other than 2xx into the outcome, following redirects
   * when configured. `headers` and `body` are those of the request that got
   * `response`, which went to the configured endpoint.
   */
  async #handleResponse(
    firstResponse: ResponseHead,
    initialHeaders: string[],
    initialBody: Buffer,
    signal: AbortSignal,
    deadline: number,
  ): Promise<ActionOutcome> {
    let response = firstResponse;
    let url = this.#url;
    let method: string = this.#config.method;
    let headers = initialHeaders;
    let body: Buffer | undefined = initialBody;

    for (let hops = 0; ; hops += 1) {
      const status = response.status;
      if (status >= 200 && status < 300) return { ok: true, status };
      const location = response.location;
      if (!redirectStatuses.has(status) || location === undefined)
        return this.#failure(
          statusFailure(status, parseRetryAfter(response.retryAfter)),
        );

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
        headers = withoutHeader(headers, "content-type");
      }
      url = next.url;

      const remaining = deadline - Date.now();
      if (remaining <= 0) return this.#failure(timedOut(url));
      try {
        response = await new Promise<ResponseHead>((resolve, reject) =>
          this.#dispatch(
            url.origin,
            `${url.pathname}${url.search}`,
            method,
            headers,
            body,
            remaining,
            new ResponseReader(this.#config.maxResponseBytes, resolve, reject),
          ),
        );
      } catch (error) {
        return this.#failure(requestFailure(error, signal, url));
      }
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

/** A problem of one webhook setting, with its path inside the trigger's `action` entry. */
interface SettingProblem {
  path: string;
  message: string;
}

/** The settings the constructor needs after every check passed. */
interface CheckedSettings {
  url: URL;
  headers: Record<string, string>;
  keys: Buffer[];
  guard: AddressGuard;
}

/**
 * Checks the URL, headers, secrets and networks of an action, collecting the
 * problems of all four so one `weft validate` run reports them together.
 * @throws WeftError `WEFT_ERR_WEBHOOK_CONFIG_INVALID`. With several problems,
 * `details.problems` lists each with its path inside the `action` entry.
 */
function checkSettings(config: WebhookActionConfig): CheckedSettings {
  const problems: SettingProblem[] = [];

  const guard = collectProblem(
    problems,
    () =>
      new AddressGuard({
        allowPrivateNetworks: config.allowPrivateNetworks,
        allowedNetworks: config.allowedNetworks,
      }),
  );
  const url = parseEndpoint(config.url, guard, problems);
  const headers = checkHeaders(config.headers, problems);
  const keys = collectProblem(problems, () => decodeSecrets(config.secrets));

  if (problems.length === 1) {
    const [problem] = problems;
    throw webhookError(WebhookErrorCode.CONFIG_INVALID, problem.message, {
      details: { path: problem.path },
    });
  }
  if (problems.length > 1) {
    throw webhookError(
      WebhookErrorCode.CONFIG_INVALID,
      `${problems.length} invalid webhook settings:\n${problems.map((problem) => problem.message).join("\n")}`,
      { details: { path: problems[0].path, problems } },
    );
  }
  return { url: url!, headers, keys: keys!, guard: guard! };
}

/** Runs a check that throws `WEFT_ERR_WEBHOOK_CONFIG_INVALID`, and collects its problem instead. */
function collectProblem<T>(
  problems: SettingProblem[],
  check: () => T,
): T | undefined {
  try {
    return check();
  } catch (error) {
    if (!isWeftError(error) || error.code !== WebhookErrorCode.CONFIG_INVALID)
      throw error;
    problems.push({
      path: String(error.details.path ?? ""),
      message: error.message,
    });
    return undefined;
  }
}

/**
 * Parses the endpoint URL. An IP literal that the address guard blocks is a
 * problem here, because every delivery to it would fail. A host name is
 * checked only after DNS, when the connector resolves it.
 */
function parseEndpoint(
  text: string,
  guard: AddressGuard | undefined,
  problems: SettingProblem[],
): URL | undefined {
  const redactedUrl = JSON.stringify(redactUrl(text));
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    problems.push({
      path: "url",
      message: `url ${redactedUrl} is not a valid URL; write an absolute http or https URL`,
    });
    return undefined;
  }

  if (url.protocol !== "http:" && url.protocol !== "https:") {
    problems.push({
      path: "url",
      message: `url ${redactedUrl} uses ${url.protocol.slice(0, -1)}, but the action sends only http and https requests; write an http:// or https:// URL`,
    });
    return undefined;
  }

  // The URL parser writes an IPv6 host in brackets and normalizes IPv4 forms such as 0x7f.1 to dotted decimal.
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const verdict = guard && isIP(host) !== 0 ? guard.check(host) : undefined;
  if (verdict && !verdict.allowed) {
    problems.push({
      path: "url",
      message: `url ${redactedUrl} points to ${host} (range ${verdict.range}), which the address guard blocks, so every delivery would fail; add the network to allowedNetworks (such as allowedNetworks: [${host}${host.includes(":") ? "/128" : "/32"}])${privateRangeHint(verdict.range)}`,
    });
  }
  return url;
}

/** Returns the hint to set `allowPrivateNetworks`, but only for the ranges that setting opens. */
function privateRangeHint(range: string): string {
  return privateRanges.has(range)
    ? ", or set allowPrivateNetworks: true to allow every private network"
    : "";
}

function checkHeaders(
  headers: Record<string, string>,
  problems: SettingProblem[],
): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    const path = `headers.${name}`;
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      problems.push({
        path,
        message: `headers: ${JSON.stringify(name)} is not a valid header name`,
      });
    } else if (reservedHeaders.has(lower)) {
      problems.push({
        path,
        message: `${path}: the action sets this header itself; remove it from headers`,
      });
    } else if (/[\r\n]/.test(value)) {
      problems.push({
        path,
        message: `${path}: the value contains a line break; check the variable it comes from`,
      });
    } else result[lower] = value;
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

/** Builds the fixed part of every request's headers as undici's flat name/value list. */
function baseHeaders(configured: Record<string, string>): string[] {
  const headers: string[] = [];
  for (const [name, value] of Object.entries(configured))
    if (name !== "user-agent") headers.push(name, value);
  headers.push(
    "content-type",
    "application/json",
    "user-agent",
    configured["user-agent"] ?? userAgent,
  );
  return headers;
}

/** Drops credential headers before a hop to another origin, as browsers do. */
function withoutCredentials(headers: string[]): string[] {
  const result: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i];
    if (name.startsWith("webhook-") || !isSensitiveHeader(name))
      result.push(name, headers[i + 1]);
  }
  return result;
}

function withoutHeader(headers: string[], removed: string): string[] {
  const result: string[] = [];
  for (let i = 0; i < headers.length; i += 2)
    if (headers[i] !== removed) result.push(headers[i], headers[i + 1]);
  return result;
}
