import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";

/** A request that the receiver recorded. */
export interface ReceivedRequest {
  method: string;
  /** Path and query string, as sent in the request line. */
  path: string;
  /** Request headers, with lowercase names. */
  headers: IncomingHttpHeaders;
  /** Raw body bytes. */
  body: Buffer;
  /** Zero-based position of this request among all received. */
  index: number;
  /** Time the body was complete, in ms since the epoch. */
  receivedAt: number;
}

/** The response to one request. */
export interface WebhookResponse {
  /** HTTP status code. Default 200. */
  status?: number;
  /** Delay before the response is sent, in ms. Default 0. */
  delayMs?: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/**
 * Responses to the requests in arrival order: an array gives the response of
 * request 0, 1, 2, ... and the default response after its end; a function
 * is called with each request.
 */
export type WebhookResponder =
  WebhookResponse[] | ((request: ReceivedRequest) => WebhookResponse);

/** Options of {@link startWebhookReceiver}. */
export interface WebhookReceiverOptions {
  responses?: WebhookResponder;
  /** Response for requests that `responses` does not cover. Default `{ status: 200 }`. */
  defaultResponse?: WebhookResponse;
}

/** A real HTTP server on 127.0.0.1 that records every request, for tests of webhooks and triggers. */
export interface WebhookReceiver {
  /** Base URL, such as `http://127.0.0.1:40123`. */
  readonly url: string;
  /** Requests received so far, in arrival order. */
  readonly requests: readonly ReceivedRequest[];
  /** Replaces the responses to later requests; array positions still count from the first request. */
  respondWith(responses: WebhookResponder): void;
  /** Resolves with the requests once at least `count` arrived; rejects after `timeoutMs` (default 10000). */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  /** Closes the server, open connections and pending delayed responses. */
  close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.once("end", () => resolve(Buffer.concat(chunks)));
    request.once("error", reject);
  });
}

/** Starts a {@link WebhookReceiver} on 127.0.0.1 on a free port. */
export async function startWebhookReceiver(
  options: WebhookReceiverOptions = {},
): Promise<WebhookReceiver> {
  const requests: ReceivedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const waiters = new Set<() => void>();
  let responder: WebhookResponder = options.responses ?? [];
  const defaultResponse = options.defaultResponse ?? { status: 200 };

  const chooseResponse = (request: ReceivedRequest): WebhookResponse => {
    if (typeof responder === "function") return responder(request);
    return responder[request.index] ?? defaultResponse;
  };

  const sendResponse = (response: ServerResponse, planned: WebhookResponse) => {
    if (response.destroyed) return;
    response.writeHead(planned.status ?? 200, planned.headers);
    response.end(planned.body);
  };

  const server = createServer((request, response) => {
    readBody(request).then(
      (body) => {
        const received: ReceivedRequest = {
          method: request.method ?? "",
          path: request.url ?? "",
          headers: request.headers,
          body,
          index: requests.length,
          receivedAt: Date.now(),
        };
        requests.push(received);
        for (const notify of waiters) notify();

        const planned = chooseResponse(received);
        if (!planned.delayMs) {
          sendResponse(response, planned);
          return;
        }
        const timer = setTimeout(() => {
          timers.delete(timer);
          sendResponse(response, planned);
        }, planned.delayMs);
        timers.add(timer);
      },
      () => response.destroy(),
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    respondWith(responses) {
      responder = responses;
    },
    waitFor(count, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (requests.length < count) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve([...requests]);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `webhook receiver: expected ${count} requests within ${timeoutMs} ms, received ${requests.length}`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
