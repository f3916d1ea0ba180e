import type { GraphQLFormattedError } from "graphql";
import { SubscriptionsErrorCode, graphQLErrorWithCode } from "../errors.js";
import type { SerializedResult } from "./serialized-result.js";
import { SubscribeRejectedError } from "./subscribe-rejected-error.js";
import type { SubscriptionSink } from "./subscriber.js";

/**
 * The sink behind {@link SubscriptionManager.iterate}: writable only while
 * the consumer waits for a result, so everything else waits in the
 * subscriber's buffer.
 */
export class IteratorChannel implements SubscriptionSink {
  #waiting:
    ((step: IteratorResult<Record<string, unknown>>) => void) | undefined;
  #failure: Error | undefined;
  #done = false;

  get writable(): boolean {
    return this.#waiting !== undefined;
  }

  next(serialized: SerializedResult, dropped: number): void {
    const result = JSON.parse(`{${serialized.members}}`) as Record<
      string,
      unknown
    >;
    if (dropped > 0)
      result.extensions = {
        ...(result.extensions as object | undefined),
        dropped,
      };
    this.#resolve({ done: false, value: result });
  }

  error(errors: readonly GraphQLFormattedError[]): void {
    this.#failure = new SubscribeRejectedError(errors);
    this.#resolve({ done: true, value: undefined });
  }

  disconnect(reason: string): void {
    this.#failure = new SubscribeRejectedError([
      graphQLErrorWithCode(
        SubscriptionsErrorCode.SLOW_CONSUMER,
        reason,
      ).toJSON(),
    ]);
    this.#resolve({ done: true, value: undefined });
  }

  /** Waits for the next result; `pull` lets a buffered one through at once. */
  async take(
    pull: () => boolean,
  ): Promise<IteratorResult<Record<string, unknown>>> {
    if (this.#failure) throw this.#failure;
    if (this.#done) return { done: true, value: undefined };

    const step = new Promise<IteratorResult<Record<string, unknown>>>(
      (resolve) => (this.#waiting = resolve),
    );
    pull();
    const result = await step;
    if (this.#failure) throw this.#failure;
    return result;
  }

  #resolve(step: IteratorResult<Record<string, unknown>>): void {
    if (step.done) this.#done = true;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.(step);
  }
}
