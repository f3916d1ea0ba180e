import type { GraphQLFormattedError } from "graphql";

/** A subscribe request the manager rejected, with the errors for the client. */
export class SubscribeRejectedError extends Error {
  readonly errors: readonly GraphQLFormattedError[];

  constructor(errors: readonly GraphQLFormattedError[]) {
    super(errors.map((error) => error.message).join("; "));
    this.name = "SubscribeRejectedError";
    this.errors = errors;
  }
}
