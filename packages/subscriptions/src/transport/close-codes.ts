import { CloseCode } from "graphql-ws";

/**
 * Close codes the WebSocket endpoint uses. The 44xx codes and their
 * meaning come from the graphql-transport-ws protocol (graphql-ws 6,
 * PROTOCOL.md); the others are standard WebSocket codes (RFC 6455).
 */
export const EndpointCloseCode = {
  /** A message that is not valid JSON or not a protocol message. */
  BadRequest: CloseCode.BadRequest,
  /** `subscribe` before the connection was acknowledged. */
  Unauthorized: CloseCode.Unauthorized,
  /** `connection_init` without a valid API key. */
  Forbidden: CloseCode.Forbidden,
  /** The client did not offer the graphql-transport-ws subprotocol. */
  SubprotocolNotAcceptable: CloseCode.SubprotocolNotAcceptable,
  /** No `connection_init` within `connectionInitTimeout`. */
  ConnectionInitialisationTimeout: CloseCode.ConnectionInitialisationTimeout,
  /** A `subscribe` with the id of an operation still running. */
  SubscriberAlreadyExists: CloseCode.SubscriberAlreadyExists,
  /** A second `connection_init`. */
  TooManyInitialisationRequests: CloseCode.TooManyInitialisationRequests,
  /** The host is stopping (RFC 6455 "going away"). */
  GoingAway: 1001,
  /**
   * A subscriber's buffer overflowed under the `disconnect` policy (RFC 6455
   * "try again later"). graphql-ws clients treat it as retryable.
   */
  TryAgainLater: 1013,
  /** An unexpected server failure. */
  InternalServerError: CloseCode.InternalServerError,
} as const;

/** WebSocket close reasons are limited to 123 bytes of UTF-8. */
export function limitCloseReason(reason: string): string {
  if (Buffer.byteLength(reason) <= 123) return reason;
  let cut = reason.slice(0, 120);
  while (Buffer.byteLength(cut) > 120) cut = cut.slice(0, -1);
  return `${cut}...`;
}
