import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { Duplex } from "node:stream";
import { Server as NetServer, type AddressInfo } from "node:net";
import FindMyWay, { type HTTPMethod } from "find-my-way";
import type { Logger } from "pino";
import { ErrorCode, WeftError } from "../errors.js";
import type { ApiKeyAuth } from "./auth.js";
import { readJson } from "./body.js";
import { errorResponse } from "./http-error.js";
import { sendJson } from "./send.js";
import { rejectMalformedRequest } from "./client-error.js";

/** Context passed to a route handler. */
export interface RouteContext {
  request: IncomingMessage;
  response: ServerResponse;
  params: Record<string, string | undefined>;
  query: URLSearchParams;
  /** Reads the body as JSON within the host's body limit. */
  json(): Promise<unknown>;
  /** Sends a JSON response. */
  send(status: number, body: unknown): void;
}

/** A route a plugin or the host adds to the server. */
export interface RouteDefinition {
  method: HTTPMethod | HTTPMethod[];
  url: string;
  /**
   * `host` (default): the host checks the API key before the handler runs.
   * `none`: open to all, like `/healthz`. `self`: the route authenticates
   * inside its own protocol with `host.authenticate()`.
   */
  auth?: "host" | "none" | "self";
  /** The plugin that added it, for logs. */
  plugin?: string;
  handler(context: RouteContext): unknown;
}

/** A WebSocket (or other) upgrade handler on one path; it authenticates inside its protocol. */
export interface UpgradeDefinition {
  path: string;
  plugin?: string;
  handler(request: IncomingMessage, socket: Duplex, head: Buffer): void;
}

/** Options of the {@link HttpServer}. */
export interface HttpServerOptions {
  logger: Logger;
  auth: ApiKeyAuth;
  bodyLimit: number;
  corsOrigins: string[];
}

/** The host's one HTTP server: routing, auth, CORS, body limits, JSON errors and upgrades. */
export class HttpServer {
  readonly #router = FindMyWay({
    ignoreTrailingSlash: true,
    caseSensitive: true,
    // find-my-way's default of 100 characters would turn a longer id into
    // "no route". Node's 16 KiB limit on the request line bounds it instead.
    maxParamLength: 16 * 1024,
    defaultRoute: (request, response) =>
      this.#noRoute(request, response as ServerResponse),
    onBadUrl: (path, request, response) =>
      this.#badUrl(path, request, response as ServerResponse),
  });
  /** Every method with at least one route, for the `Allow` header of a 405. */
  readonly #methods = new Set<HTTPMethod>();
  readonly #upgrades = new Map<string, UpgradeDefinition>();
  readonly #options: HttpServerOptions;
  readonly #server: Server;
  #inFlight = 0;
  /** Responses of the requests running now, so a stop can end their keep-alive. */
  readonly #running = new Set<ServerResponse>();
  /** Set once the server stops accepting connections. */
  #closing = false;
  #idleWaiters: Array<() => void> = [];

  constructor(options: HttpServerOptions) {
    this.#options = options;
    this.#server = createServer(
      (request, response) => void this.#handle(request, response),
    );
    this.#server.on("upgrade", (request, socket, head) =>
      this.#upgrade(request, socket, head),
    );
    this.#server.on("clientError", (error, socket) =>
      rejectMalformedRequest(error, socket),
    );
  }

  /** The underlying Node server, for protocols that attach to it. */
  get server(): Server {
    return this.#server;
  }

  /** `http://host:port` once listening. */
  get url(): string | undefined {
    const address = this.#server.address() as AddressInfo | null;
    if (!address) return undefined;
    const host =
      address.family === "IPv6" ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  }

  route(definition: RouteDefinition): void {
    const methods = Array.isArray(definition.method)
      ? definition.method
      : [definition.method];
    for (const method of methods) {
      if (this.#router.hasRoute(method, definition.url)) {
        throw new WeftError(
          ErrorCode.HTTP_ROUTE_DUPLICATE,
          `route ${method} ${definition.url} is already registered; plugin ${definition.plugin ?? "host"} must use another path`,
          {
            details: { method, url: definition.url, plugin: definition.plugin },
          },
        );
      }
      const handler: FindMyWay.Handler<FindMyWay.HTTPVersion.V1> = (
        request,
        response,
        params,
      ) =>
        this.#run(
          definition,
          request,
          response as ServerResponse,
          params as Record<string, string | undefined>,
        );
      this.#router.on(method, definition.url, handler);
      this.#methods.add(method);

      // HEAD gets the GET handler; Node sends the headers and drops the body.
      if (method === "GET" && !this.#router.hasRoute("HEAD", definition.url)) {
        this.#router.on("HEAD", definition.url, handler);
        this.#methods.add("HEAD");
      }
    }
  }

  upgrade(definition: UpgradeDefinition): void {
    if (this.#upgrades.has(definition.path)) {
      throw new WeftError(
        ErrorCode.HTTP_ROUTE_DUPLICATE,
        `upgrade path ${definition.path} is already registered`,
        { details: { path: definition.path } },
      );
    }
    this.#upgrades.set(definition.path, definition);
  }

  listen(port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(port, host, () => {
        this.#server.off("error", reject);
        resolve();
      });
    });
  }

  /** Stops accepting connections; in-flight requests finish. */
  stopAccepting(): Promise<void> {
    this.#closing = true;
    // net.Server's close only stops listening. http.Server's close would also
    // close idle kept-alive connections at once, which resets a request the
    // client is sending on one. Instead such a request gets a 503 with
    // Connection: close, and closeAll ends what is left.
    if (this.#server.listening) NetServer.prototype.close.call(this.#server);
    for (const response of this.#running) closeAfterResponse(response);
    return Promise.resolve();
  }

  /** Waits until no request is running. */
  async drain(): Promise<void> {
    if (this.#inFlight === 0) return;
    await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Closes every connection still open, upgraded sockets included. */
  closeAll(): void {
    this.#server.closeAllConnections();
  }

  async #handle(
    request: IncomingMessage,
    response: ServerResponse,
  ): Promise<void> {
    this.#applyCors(request, response);
    if (this.#closing) return this.#refuseWhileStopping(request, response);
    if (
      request.method === "OPTIONS" &&
      request.headers["access-control-request-method"]
    ) {
      response.writeHead(204, {
        "access-control-allow-methods":
          "GET, POST, PUT, PATCH, DELETE, OPTIONS",
        "access-control-allow-headers": "authorization, content-type",
        "access-control-max-age": "600",
      });
      return void response.end();
    }
    this.#router.lookup(request, response);
  }

  async #run(
    definition: RouteDefinition,
    request: IncomingMessage,
    response: ServerResponse,
    params: Record<string, string | undefined>,
  ): Promise<void> {
    this.#inFlight += 1;
    this.#running.add(response);
    const url = new URL(request.url ?? "/", "http://localhost");
    const context: RouteContext = {
      request,
      response,
      params,
      query: url.searchParams,
      json: () => readJson(request, this.#options.bodyLimit),
      send: (status, body) => sendJson(response, status, body),
    };

    try {
      if (
        (definition.auth ?? "host") === "host" &&
        !this.#options.auth.authenticate(request.headers.authorization)
      ) {
        throw new WeftError(
          ErrorCode.HTTP_UNAUTHORIZED,
          "missing or invalid API key; send Authorization: Bearer <key>",
        );
      }
      await definition.handler(context);
    } catch (error) {
      this.#sendError(error, request, response, definition);
    } finally {
      this.#running.delete(response);
      this.#inFlight -= 1;
      if (this.#inFlight === 0)
        for (const wake of this.#idleWaiters.splice(0)) wake();
    }
  }

  /** Rejects a request that arrived after the stop began with 503, and closes the connection after it. */
  #refuseWhileStopping(
    request: IncomingMessage,
    response: ServerResponse,
  ): void {
    closeAfterResponse(response);
    request.resume();
    this.#sendError(
      new WeftError(
        ErrorCode.HOST_STOPPING,
        "host is stopping and accepts no more requests; retry against a running host",
        { retryable: true },
      ),
      request,
      response,
    );
  }

  #sendError(
    error: unknown,
    request: IncomingMessage,
    response: ServerResponse,
    definition?: RouteDefinition,
  ): void {
    const { status, body } = errorResponse(error);
    const log = {
      err: error,
      method: request.method,
      url: request.url,
      plugin: definition?.plugin,
      status,
    };
    // A 503 is an expected, retryable state (the host stops, a vectorizer is
    // down), so it is a warning without the stack, not an error.
    if (status === 503)
      this.#options.logger.warn(
        {
          ...log,
          err: undefined,
          code: (error as WeftError).code,
          reason: (error as WeftError).message,
        },
        "request refused for now",
      );
    else if (status >= 500) this.#options.logger.error(log, "request failed");
    else this.#options.logger.debug(log, "request rejected");

    if (response.headersSent) return void response.destroy();
    if (status === 401)
      response.setHeader("www-authenticate", 'Bearer realm="weft"');
    if (status === 503) response.setHeader("retry-after", "1");
    // The body may not have been read; close so the client does not keep sending it.
    if (status === 413) response.setHeader("connection", "close");
    sendJson(response, status, body);
  }

  /** Sends 405 with `Allow` when the path has routes for other methods, else 404. */
  #noRoute(request: IncomingMessage, response: ServerResponse): void {
    const path = (request.url ?? "/").split("?", 1)[0];
    const allowed = [...this.#methods].filter(
      (method) => this.#router.find(method, path) !== null,
    );
    if (allowed.length === 0) {
      sendJson(response, 404, {
        error: {
          code: ErrorCode.HTTP_NOT_FOUND,
          message: `no route ${request.method} ${shorten(request.url ?? "/")}`,
        },
      });
      return;
    }

    response.setHeader("allow", allowed.join(", "));
    sendJson(response, 405, {
      error: {
        code: ErrorCode.HTTP_METHOD_NOT_ALLOWED,
        message: `${request.method} is not allowed on ${shorten(path)}; use ${allowed.join(", ")}`,
        details: { method: request.method, allowed },
      },
    });
  }

  #badUrl(
    path: string,
    request: IncomingMessage,
    response: ServerResponse,
  ): void {
    sendJson(response, 400, {
      error: {
        code: ErrorCode.HTTP_URL_INVALID,
        message: `the path ${shorten(path)} has invalid percent-encoding; encode reserved characters in ids as %XX with two hex digits (encodeURIComponent does this)`,
        details: { method: request.method, path },
      },
    });
  }

  #applyCors(request: IncomingMessage, response: ServerResponse): void {
    const origin = request.headers.origin;
    const allowed = this.#options.corsOrigins;
    if (!origin || allowed.length === 0) return;
    if (allowed.includes("*") || allowed.includes(origin)) {
      response.setHeader(
        "access-control-allow-origin",
        allowed.includes("*") ? "*" : origin,
      );
      response.setHeader("vary", "Origin");
    }
  }

  #upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    const definition = this.#upgrades.get(path);
    if (!definition) {
      socket.end(
        "HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
      );
      return;
    }
    definition.handler(request, socket, head);
  }
}

/** Cuts a URL for an error message, so a 15 KB path does not come back whole. */
function shorten(url: string): string {
  return url.length <= 200
    ? url
    : `${url.slice(0, 200)}… (${url.length} characters)`;
}

/** Asks Node to close the connection after this response, unless its headers are already out. */
function closeAfterResponse(response: ServerResponse): void {
  if (!response.headersSent) response.setHeader("connection", "close");
}
