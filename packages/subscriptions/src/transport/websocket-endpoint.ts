import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { GRAPHQL_TRANSPORT_WS_PROTOCOL } from "graphql-ws";
import { WebSocketServer } from "ws";
import type { PluginHost } from "@weft/core";
import type { SubscriptionsSettings } from "../config.js";
import type { SubscriptionManager } from "../manager/subscription-manager.js";
import { EndpointCloseCode } from "./close-codes.js";
import { Connection, type ConnectionContext } from "./connection.js";

/** How long {@link WebSocketEndpoint.close} waits for clients to reply to the close frame. */
const CLOSE_GRACE_MS = 1000;

/** Options of a {@link WebSocketEndpoint}. */
export interface WebSocketEndpointOptions {
  host: PluginHost;
  manager: SubscriptionManager;
  settings: SubscriptionsSettings;
}

/**
 * The graphql-transport-ws endpoint: accepts upgrades handed over by the
 * host's HTTP server, and runs one keep-alive timer for all connections.
 */
export class WebSocketEndpoint {
  readonly #options: WebSocketEndpointOptions;
  /** Shared by every connection, so dispatching to thousands of them reads one object. */
  readonly #connectionContext: ConnectionContext;
  readonly #server: WebSocketServer;
  readonly #connections = new Set<Connection>();
  /** Connections whose outbox waits for the end of the current dispatch batch. */
  readonly #batchWriters: Connection[] = [];
  readonly #keepAlive: NodeJS.Timeout | undefined;
  #nextId = 1;
  #closing: Promise<void> | undefined;
  #idleWaiters: Array<() => void> = [];

  constructor(options: WebSocketEndpointOptions) {
    this.#options = options;
    this.#connectionContext = {
      ...options,
      onClosed: (closed) => this.#onClosed(closed),
      onBatchWrite: (writer) => this.#batchWriters.push(writer),
    };
    this.#server = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: options.settings.maxMessageBytes,
      handleProtocols: (protocols) =>
        protocols.has(GRAPHQL_TRANSPORT_WS_PROTOCOL)
          ? GRAPHQL_TRANSPORT_WS_PROTOCOL
          : false,
    });

    options.manager.onBatchEnd(() => {
      for (const connection of this.#batchWriters) connection.endBatch();
      this.#batchWriters.length = 0;
    });

    const interval = options.settings.keepAliveMs;
    if (interval > 0) {
      this.#keepAlive = setInterval(() => {
        for (const connection of this.#connections) connection.keepAlive();
      }, interval);
      this.#keepAlive.unref();
    }
  }

  /** Open connections. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Completes a WebSocket upgrade on the endpoint's path. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.#closing) {
      socket.end(
        "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
      );
      return;
    }
    socket.on("error", (error) =>
      this.#options.host.logger.debug({ err: error }, "websocket socket error"),
    );

    this.#server.handleUpgrade(request, socket, head, (ws) => {
      const connection = new Connection(
        this.#nextId++,
        ws,
        socket,
        request,
        this.#connectionContext,
      );
      // The close event fires asynchronously, also for a connection refused in its constructor.
      this.#connections.add(connection);
    });
  }

  /**
   * Rejects new upgrades, closes every connection with 1001 (going away),
   * and terminates the ones that have not replied within a second.
   * Calling it again returns the same promise.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    clearInterval(this.#keepAlive);
    for (const connection of this.#connections)
      connection.close(EndpointCloseCode.GoingAway, "Going away");

    if (this.#connections.size > 0) {
      const idle = new Promise<void>((resolve) =>
        this.#idleWaiters.push(resolve),
      );
      const grace = new Promise<void>((resolve) =>
        setTimeout(resolve, CLOSE_GRACE_MS).unref(),
      );
      await Promise.race([idle, grace]);
    }
    for (const connection of this.#connections) connection.terminate();
    this.#server.close();
  }

  #onClosed(connection: Connection): void {
    this.#connections.delete(connection);
    if (this.#connections.size === 0)
      for (const wake of this.#idleWaiters.splice(0)) wake();
  }
}
