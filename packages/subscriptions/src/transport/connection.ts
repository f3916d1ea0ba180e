import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { GraphQLFormattedError } from "graphql";
import {
  GRAPHQL_TRANSPORT_WS_PROTOCOL,
  MessageType,
  parseMessage,
  stringifyMessage,
  type SubscribeMessage,
} from "graphql-ws";
import { WebSocket, type RawData } from "ws";
import type { PluginHost } from "@weft/core";
import type { SubscriptionsSettings } from "../config.js";
import { SubscriptionsErrorCode, graphQLErrorWithCode } from "../errors.js";
import type {
  PreparedOperation,
  PreparedSubscription,
} from "../manager/prepare-request.js";
import { formatError } from "../manager/serialize-result.js";
import type { SerializedResult } from "../manager/serialized-result.js";
import type { SubscriptionSink } from "../manager/subscriber.js";
import {
  SubscribeRejectedError,
  type SubscriptionHandle,
  type SubscriptionManager,
} from "../manager/subscription-manager.js";
import { EndpointCloseCode, limitCloseReason } from "./close-codes.js";
import { FrameOutbox } from "./frame-outbox.js";

/** Ends the `payload` object and the message of a `next` frame. */
const closingBraces = Buffer.from("}}");

/** Dependencies of a connection, provided by its endpoint. */
export interface ConnectionContext {
  host: PluginHost;
  manager: SubscriptionManager;
  settings: SubscriptionsSettings;
  /** Called once when the connection has closed and released its subscriptions. */
  onClosed(connection: Connection): void;
  /**
   * Called when the connection keeps results in its outbox until the
   * current dispatch batch ends. The endpoint then calls
   * {@link Connection.endBatch}.
   */
  onBatchWrite(connection: Connection): void;
}

/** One operation of a connection, from `subscribe` until it completes or fails. */
interface Operation {
  id: string;
  /** Aborted by the client's `complete` or by the connection closing. */
  abort: AbortController;
  handle?: SubscriptionHandle;
}

/**
 * One graphql-transport-ws connection. It follows the protocol's rules
 * (graphql-ws 6, PROTOCOL.md) itself instead of graphql-ws's `makeServer`,
 * because `makeServer` executes and serializes every result per
 * subscriber, while the manager executes once per group and hands each
 * subscriber the shared serialized result.
 */
export class Connection {
  readonly id: number;
  readonly #ws: WebSocket;
  readonly #socket: Duplex;
  readonly #context: ConnectionContext;
  readonly #manager: SubscriptionManager;
  /** The socket's high-water mark, fixed when the socket is created and read once. */
  readonly #highWaterMark: number;
  readonly #operations = new Map<string, Operation>();
  readonly #initTimer: NodeJS.Timeout | undefined;
  #initReceived = false;
  #acknowledged = false;
  #awaitingPong = false;
  /** `next` frames not yet written to the socket. */
  readonly #outbox = new FrameOutbox();
  /** Set while the outbox waits for the end of the dispatch batch. */
  #awaitingBatchEnd = false;
  /** Set while {@link Connection.#flush} moves buffered results into the outbox. */
  #flushing = false;
  /** Set when {@link Connection.acceptsResults} returned false for a full outbox, so subscriber buffers need a flush. */
  #outboxWasFull = false;
  /**
   * Set when {@link Connection.acceptsResults} found the WebSocket open and
   * the socket not waiting for drain. Only a socket write, an event or
   * closing changes either. Every accepted result is written before control
   * returns to the event loop, and each write, close and terminate clears
   * the flag, so one dispatch batch checks the socket once per connection.
   */
  #socketReady = false;
  /** Set once the server decided to close; later messages are ignored. */
  #closing = false;
  #closed = false;

  constructor(
    id: number,
    ws: WebSocket,
    socket: Duplex,
    request: IncomingMessage,
    context: ConnectionContext,
  ) {
    this.id = id;
    this.#ws = ws;
    this.#socket = socket;
    this.#context = context;
    this.#manager = context.manager;
    this.#highWaterMark = socket.writableHighWaterMark;

    ws.on("close", () => this.#onClosed());
    ws.on("error", (error) =>
      context.host.logger.debug(
        { err: error, connection: id },
        "websocket error",
      ),
    );
    ws.on("pong", () => (this.#awaitingPong = false));
    socket.on("drain", () => this.#flush());

    if (ws.protocol !== GRAPHQL_TRANSPORT_WS_PROTOCOL) {
      context.host.logger.debug(
        {
          connection: id,
          protocols: request.headers["sec-websocket-protocol"],
        },
        "websocket client did not offer graphql-transport-ws",
      );
      this.close(
        EndpointCloseCode.SubprotocolNotAcceptable,
        "Subprotocol not acceptable",
      );
      return;
    }

    ws.on("message", (data) => this.#onMessage(data));
    this.#initTimer = setTimeout(() => {
      if (!this.#initReceived)
        this.close(
          EndpointCloseCode.ConnectionInitialisationTimeout,
          "Connection initialisation timeout",
        );
    }, context.settings.connectionInitTimeoutMs);
  }

  /** Operations running on this connection. */
  get operationCount(): number {
    return this.#operations.size;
  }

  /**
   * Releases every subscription of the connection, writes the results it
   * already took, then closes it with `code`.
   */
  close(code: number, reason: string): void {
    this.#closing = true;
    this.#releaseAll();
    this.#writeOutbox();
    if (
      this.#ws.readyState === WebSocket.OPEN ||
      this.#ws.readyState === WebSocket.CONNECTING
    ) {
      this.#ws.close(code, limitCloseReason(reason));
    }
  }

  /**
   * Writes the results one dispatch batch gave this connection, all in one
   * socket write, then moves on results that had to wait in subscriber
   * buffers because the outbox was full.
   */
  endBatch(): void {
    this.#awaitingBatchEnd = false;
    this.#writeOutbox();
    if (this.#outboxWasFull && !this.#socket.writableNeedDrain) this.#flush();
  }

  /** Ends the connection without a closing handshake. */
  terminate(): void {
    this.#closing = true;
    this.#socketReady = false;
    this.#releaseAll();
    this.#outbox.clear();
    this.#ws.terminate();
  }

  /**
   * Returns whether a subscription of this connection may hand it a result
   * now. The socket must be open, and both Node's writable buffer and the
   * outbox must be below the socket's high-water mark.
   */
  acceptsResults(): boolean {
    if (!this.#socketReady) {
      if (
        this.#ws.readyState !== WebSocket.OPEN ||
        this.#socket.writableNeedDrain
      )
        return false;
      this.#socketReady = true;
    }
    if (this.#outbox.bytes < this.#highWaterMark) return true;
    this.#outboxWasFull = true;
    return false;
  }

  /**
   * Sends one `next` message: `prefix` is the operation's start of the
   * message, `result` the shared serialization of the execution result.
   * During a dispatch batch the frame waits in the outbox until the batch
   * ends, so each connection gets one socket write per batch. Outside a
   * batch it is written at once.
   */
  sendNext(prefix: Buffer, result: SerializedResult, dropped: number): void {
    if (!this.#socketReady && this.#ws.readyState !== WebSocket.OPEN) return;
    const suffix =
      dropped > 0
        ? Buffer.from(`,"extensions":{"dropped":${dropped}}}}`)
        : closingBraces;
    this.#outbox.add(prefix, result.bytes, suffix);
    if (this.#flushing) return;
    if (this.#manager.inBatch) {
      if (!this.#awaitingBatchEnd) {
        this.#awaitingBatchEnd = true;
        this.#context.onBatchWrite(this);
      }
      return;
    }
    this.#writeOutbox();
  }

  /** Ends one operation with an `error` message, unless it already ended. */
  failOperation(
    operation: Operation,
    errors: readonly GraphQLFormattedError[],
  ): void {
    if (this.#operations.get(operation.id) !== operation) return;
    this.#operations.delete(operation.id);
    this.#sendError(operation.id, errors);
  }

  /**
   * Sends a WebSocket ping, or terminates the connection when the previous
   * ping got no pong: the endpoint's keep-alive, as graphql-ws's `useServer`
   * does it. Browsers and the ws library reply to pings on their own.
   */
  keepAlive(): void {
    if (this.#closed || this.#ws.readyState !== WebSocket.OPEN) return;
    if (this.#awaitingPong) {
      this.#context.host.logger.debug(
        { connection: this.id },
        "websocket peer did not answer the keep-alive ping; terminating",
      );
      this.terminate();
      return;
    }
    this.#awaitingPong = true;
    this.#ws.ping();
  }

  #onMessage(data: RawData): void {
    if (this.#closing || this.#closed) return;

    let message;
    try {
      message = parseMessage(String(data));
    } catch (error) {
      this.close(
        EndpointCloseCode.BadRequest,
        `Invalid message received: ${(error as Error).message}`,
      );
      return;
    }

    switch (message.type) {
      case MessageType.ConnectionInit:
        return this.#onConnectionInit(message.payload);
      case MessageType.Ping:
        return this.#send(
          stringifyMessage(
            message.payload
              ? { type: MessageType.Pong, payload: message.payload }
              : { type: MessageType.Pong },
          ),
        );
      case MessageType.Pong:
        return;
      case MessageType.Subscribe:
        return this.#onSubscribe(message);
      case MessageType.Complete:
        return this.#release(message.id);
      default:
        this.close(
          EndpointCloseCode.BadRequest,
          `Unexpected message of type ${message.type} received`,
        );
    }
  }

  #onConnectionInit(payload: Record<string, unknown> | null | undefined): void {
    if (this.#initReceived) {
      this.close(
        EndpointCloseCode.TooManyInitialisationRequests,
        "Too many initialisation requests",
      );
      return;
    }
    this.#initReceived = true;
    clearTimeout(this.#initTimer);

    const authorization = payload?.authorization;
    if (
      !this.#context.host.authenticate(
        typeof authorization === "string" ? authorization : undefined,
      )
    ) {
      this.#context.host.logger.debug(
        {
          connection: this.id,
          authorization: authorization === undefined ? "missing" : "invalid",
        },
        "websocket connection rejected: missing or invalid API key in connection_init",
      );
      this.close(EndpointCloseCode.Forbidden, "Forbidden");
      return;
    }

    this.#acknowledged = true;
    this.#send(stringifyMessage({ type: MessageType.ConnectionAck }));
  }

  #onSubscribe(message: SubscribeMessage): void {
    if (!this.#acknowledged) {
      this.close(EndpointCloseCode.Unauthorized, "Unauthorized");
      return;
    }
    const { id } = message;
    if (this.#operations.has(id)) {
      this.close(
        EndpointCloseCode.SubscriberAlreadyExists,
        `Subscriber for ${id} already exists`,
      );
      return;
    }
    if (
      this.#operations.size >=
      this.#context.settings.maxSubscriptionsPerConnection
    ) {
      const limit = this.#context.settings.maxSubscriptionsPerConnection;
      this.#sendError(id, [
        graphQLErrorWithCode(
          SubscriptionsErrorCode.CONNECTION_LIMIT,
          `this connection already runs ${limit} operations (maxSubscriptionsPerConnection); complete one or open another connection`,
        ).toJSON(),
      ]);
      return;
    }

    const prepared = this.#context.manager.prepare(message.payload);
    if ("errors" in prepared) {
      this.#sendError(
        id,
        prepared.errors.map((error) =>
          formatError(error, (internal) => this.#logInternal(internal, id)),
        ),
      );
      return;
    }

    const operation: Operation = { id, abort: new AbortController() };
    this.#operations.set(id, operation);
    if (prepared.kind === "subscription")
      void this.#subscribe(operation, prepared);
    else void this.#query(operation, prepared);
  }

  async #subscribe(
    operation: Operation,
    prepared: PreparedSubscription,
  ): Promise<void> {
    try {
      operation.handle = await this.#context.manager.subscribe(
        prepared,
        new OperationSink(this, operation),
        {
          signal: operation.abort.signal,
        },
      );
    } catch (error) {
      if (this.#operations.get(operation.id) !== operation) return;
      this.#operations.delete(operation.id);
      const errors =
        error instanceof SubscribeRejectedError
          ? error.errors
          : [this.#internalError(error, operation.id)];
      this.#sendError(operation.id, errors);
    }
  }

  async #query(
    operation: Operation,
    prepared: PreparedOperation,
  ): Promise<void> {
    let result: Record<string, unknown>;
    try {
      result = await this.#context.manager.execute(prepared);
    } catch (error) {
      result = { errors: [this.#internalError(error, operation.id)] };
    }
    // The client may have completed the operation, or closed, meanwhile.
    if (this.#operations.get(operation.id) !== operation) return;
    this.#operations.delete(operation.id);
    this.#send(
      stringifyMessage({
        id: operation.id,
        type: MessageType.Next,
        payload: result,
      }),
    );
    this.#send(
      stringifyMessage({ id: operation.id, type: MessageType.Complete }),
    );
  }

  /** Ends an operation: the client's `complete`, or the connection closing. */
  #release(id: string): void {
    const operation = this.#operations.get(id);
    if (!operation) return;
    this.#operations.delete(id);
    operation.abort.abort();
    operation.handle?.unsubscribe();
  }

  #releaseAll(): void {
    clearTimeout(this.#initTimer);
    for (const id of [...this.#operations.keys()]) this.#release(id);
  }

  /**
   * Sends buffered results round-robin over the connection's subscriptions
   * while the socket takes them: one result per subscription and round,
   * each round in one socket write.
   */
  #flush(): void {
    this.#outboxWasFull = false;
    this.#flushing = true;
    try {
      for (;;) {
        let sent = false;
        for (const operation of this.#operations.values()) {
          if (operation.handle?.flushOne()) sent = true;
        }
        this.#writeOutbox();
        if (!sent || !this.acceptsResults()) return;
      }
    } finally {
      this.#flushing = false;
    }
  }

  #writeOutbox(): void {
    const socketReady = this.#socketReady;
    this.#socketReady = false;
    if (this.#outbox.bytes === 0) return;
    const frames = this.#outbox.take();
    if (socketReady || this.#ws.readyState === WebSocket.OPEN)
      this.#socket.write(frames);
  }

  #sendError(id: string, errors: readonly GraphQLFormattedError[]): void {
    this.#send(
      stringifyMessage({ id, type: MessageType.Error, payload: errors }),
    );
  }

  /** Sends a protocol message through ws, after the results taken before it. */
  #send(text: string): void {
    this.#writeOutbox();
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.send(text);
  }

  #internalError(error: unknown, operationId: string): GraphQLFormattedError {
    this.#logInternal(error, operationId);
    return graphQLErrorWithCode(
      SubscriptionsErrorCode.INTERNAL,
      "internal error; see the host log",
    ).toJSON();
  }

  #logInternal(error: unknown, operationId: string): void {
    this.#context.host.logger.error(
      { err: error, connection: this.id, operation: operationId },
      "subscription operation failed with an unexpected error",
    );
  }

  #onClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#releaseAll();
    this.#outbox.clear();
    this.#context.onClosed(this);
  }
}

/**
 * The sink of one subscription operation. It hands the connection the
 * operation's message prefix and the shared result bytes, and the
 * connection writes the WebSocket frames to the socket itself. ws's `send`
 * would encode the shared result to UTF-8 again for every subscriber and
 * write each message in two parts. Frames are written whole and ws sends
 * nothing compressed or fragmented here, so frames from both never
 * interleave.
 */
class OperationSink implements SubscriptionSink {
  readonly #connection: Connection;
  readonly #operation: Operation;
  /** `{"id":<id>,"type":"next","payload":{`, encoded once per operation. */
  readonly #prefix: Buffer;

  constructor(connection: Connection, operation: Operation) {
    this.#connection = connection;
    this.#operation = operation;
    this.#prefix = Buffer.from(
      `{"id":${JSON.stringify(operation.id)},"type":"next","payload":{`,
    );
  }

  get writable(): boolean {
    return this.#connection.acceptsResults();
  }

  next(result: SerializedResult, dropped: number): void {
    this.#connection.sendNext(this.#prefix, result, dropped);
  }

  error(errors: readonly GraphQLFormattedError[]): void {
    this.#connection.failOperation(this.#operation, errors);
  }

  disconnect(reason: string): void {
    this.#connection.close(EndpointCloseCode.TryAgainLater, reason);
  }
}
