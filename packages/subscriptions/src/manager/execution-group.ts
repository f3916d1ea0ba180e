import {
  execute,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLSchema,
} from "graphql";
import type { ChangeEvent, ChangeOp, Predicate } from "@weft/core";
import { SubscriptionsErrorCode, graphQLErrorWithCode } from "../errors.js";
import { executionDocument } from "./execution-document.js";
import type { PreparedSubscription } from "./prepare-request.js";
import {
  serializeResultMembers,
  type InternalErrorListener,
} from "./serialize-result.js";
import type { SerializedResult } from "./serialized-result.js";
import type { Subscriber } from "./subscriber.js";

/** The events a group receives: classes, operations and an optional `where`. */
export interface GroupFilter {
  classes: readonly string[];
  operations: readonly ChangeOp[];
  /** Compiled `where`, applied to the after image, or the before image for deletes. */
  where?: Predicate;
}

/**
 * Subscribers that share one document and variables. The dispatcher checks
 * the group's filter and executes its document once per matching event,
 * and every live member receives the same serialized result.
 */
export class ExecutionGroup {
  readonly key: string;
  readonly filter: GroupFilter;
  /** Members that receive live events; resuming members join once their replay reaches the dispatcher. */
  readonly live = new Set<Subscriber>();
  /** Live members plus members still replaying; the group is discarded when it reaches zero. */
  members = 0;
  readonly #schema: GraphQLSchema;
  readonly #prepared: PreparedSubscription;
  readonly #document: DocumentNode;
  readonly #onInternal: InternalErrorListener;

  constructor(
    schema: GraphQLSchema,
    prepared: PreparedSubscription,
    filter: GroupFilter,
    onInternal: InternalErrorListener,
  ) {
    this.key = prepared.groupKey;
    this.filter = filter;
    this.#schema = schema;
    this.#prepared = prepared;
    this.#document = executionDocument(
      schema,
      prepared.document,
      prepared.operationName,
    );
    this.#onInternal = onInternal;
  }

  /** Checks the `where` filter; class and operation are already matched by the dispatcher's index. */
  matches(event: ChangeEvent): boolean {
    const where = this.filter.where;
    if (!where) return true;
    const image = event.op === "DELETE" ? event.before : event.after;
    return image !== null && where(image);
  }

  /** Checks class, operation and `where`, for replayed events that bypass the index. */
  accepts(event: ChangeEvent): boolean {
    return (
      this.filter.classes.includes(event.class) &&
      this.filter.operations.includes(event.op) &&
      this.matches(event)
    );
  }

  /** Executes the document against one event and serializes the result once for all members. */
  execute(event: ChangeEvent): SerializedResult {
    const result = execute({
      schema: this.#schema,
      document: this.#document,
      rootValue: event,
      variableValues: this.#prepared.variables,
      operationName: this.#prepared.operationName,
    });
    if (isPromiseLike(result)) {
      result.then(undefined, this.#onInternal);
      return serializeResultMembers(asyncResolverResult(), this.#onInternal);
    }
    return serializeResultMembers(result, this.#onInternal);
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<ExecutionResult> {
  return typeof (value as PromiseLike<unknown> | null)?.then === "function";
}

/**
 * Every field under the subscription root resolves synchronously from the
 * event, so execution returns a result, not a promise. This guards that
 * invariant should an asynchronous field ever be added.
 */
function asyncResolverResult(): ExecutionResult {
  return {
    errors: [
      graphQLErrorWithCode(
        SubscriptionsErrorCode.INTERNAL,
        "a subscription field resolved asynchronously; subscription fields must resolve from the change event alone",
      ),
    ],
  };
}
