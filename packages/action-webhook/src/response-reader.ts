import type { Dispatcher } from "undici";

/** What the outcome of one HTTP exchange depends on. */
export interface ResponseHead {
  status: number;
  location?: string;
  /** The raw `Retry-After` value, read only for a status of 300 or higher. */
  retryAfter?: string;
}

/**
 * An undici dispatch handler that settles with the response's status and
 * headers as soon as they arrive, then reads the body into nothing. A body
 * longer than `maxBytes` aborts the request, which closes the connection.
 * It takes the place of `request()`, which builds a readable stream, an
 * async resource and a parsed header object for every response.
 * NOTE: these are undici's original handler methods (`onConnect`,
 * `onHeaders`, ...), which undici 7 marks deprecated but still calls
 * directly. They are used because the newer `onRequestStart` style costs a
 * wrapper object and a header parse per request.
 */
export class ResponseReader implements Dispatcher.DispatchHandler {
  readonly #maxBytes: number;
  readonly #resolve: (head: ResponseHead) => void;
  readonly #reject: (error: Error) => void;
  #abort: ((error?: Error) => void) | undefined;
  #settled = false;
  #bytes = 0;

  constructor(
    maxBytes: number,
    resolve: (head: ResponseHead) => void,
    reject: (error: Error) => void,
  ) {
    this.#maxBytes = maxBytes;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  onConnect(abort: (error?: Error) => void): void {
    this.#abort = abort;
    this.#bytes = 0;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    // 1xx informational responses come before the final one.
    if (statusCode < 200 || this.#settled) return true;
    this.#settled = true;
    const head: ResponseHead = { status: statusCode };
    if (statusCode >= 300) {
      for (let i = 0; i < rawHeaders.length; i += 2) {
        const name = rawHeaders[i];
        if (name.length !== 8 && name.length !== 11) continue;
        const lower = name.toString("latin1").toLowerCase();
        if (lower === "location" && head.location === undefined)
          head.location = rawHeaders[i + 1].toString("utf8");
        else if (lower === "retry-after" && head.retryAfter === undefined)
          head.retryAfter = rawHeaders[i + 1].toString("latin1");
      }
    }
    this.#resolve(head);
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.#bytes += chunk.length;
    if (this.#bytes <= this.#maxBytes) return true;
    this.#abort?.(
      new Error(`response body exceeds maxResponseBytes (${this.#maxBytes})`),
    );
    return false;
  }

  onComplete(): void {}

  onError(error: Error): void {
    // After the headers arrived the outcome is known; an error while the body is read changes nothing.
    if (this.#settled) return;
    this.#settled = true;
    this.#reject(error);
  }
}
