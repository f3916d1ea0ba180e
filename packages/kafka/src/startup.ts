import { setTimeout as sleep } from "node:timers/promises";
import kafkajs from "kafkajs";
import type { Logger } from "pino";
import type { WeftError } from "@weft/core";
import { KafkaErrorCode, kafkaError } from "./errors.js";
import { kafkajsConfig } from "./kafkajs-config.js";
import type { ResolvedKafkaConnection } from "./resolve-config.js";

// kafkajs is CommonJS, and Node cannot detect all of its named exports for ESM imports.
const { Kafka, logLevel } = kafkajs;

/** Backoff between start-up attempts: doubles from the first delay up to the maximum, with ±20% jitter. */
const firstRetryDelayMs = 250;
const maxRetryDelayMs = 5_000;

/** Node and OpenSSL error codes of a TLS handshake that failed for a reason retrying will not fix. */
const tlsErrorCodes = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "ERR_SSL_WRONG_VERSION_NUMBER",
  "ERR_SSL_UNSUPPORTED_PROTOCOL",
  "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA",
  "ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE",
  "ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE",
  "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED",
  "EPROTO",
]);

interface ErrorWithCode extends Error {
  code?: string;
  originalError?: unknown;
}

/** Returns the innermost error: kafkajs wraps the socket error once per retry layer. */
function rootCause(error: unknown): ErrorWithCode {
  let current = error as ErrorWithCode;
  for (let depth = 0; depth < 5; depth++) {
    const inner = current.originalError ?? current.cause;
    if (!(inner instanceof Error)) break;
    current = inner as ErrorWithCode;
  }
  return current;
}

/**
 * Turns a failed connection attempt into a final error, or returns undefined
 * when the failure may pass (broker down, starting or restarting) and the
 * attempt should be retried.
 */
export function classifyConnectError(
  error: unknown,
  connection: ResolvedKafkaConnection,
): WeftError | undefined {
  const cause = rootCause(error);
  const brokers = connection.brokers.join(",");

  if (
    cause.name === "KafkaJSSASLAuthenticationError" ||
    (error as Error).name === "KafkaJSSASLAuthenticationError"
  ) {
    const sasl = connection.sasl;
    return kafkaError(
      KafkaErrorCode.AUTH_FAILED,
      `SASL authentication as ${JSON.stringify(sasl?.username)} with ${sasl?.mechanism} failed at ${brokers}: ` +
        `${cause.message}. Check sasl.username, sasl.password and sasl.mechanism, and that the user exists on the cluster.`,
      {
        cause: error,
        details: {
          brokers: connection.brokers,
          mechanism: sasl?.mechanism,
          username: sasl?.username,
        },
      },
    );
  }

  if (connection.tls) {
    const code = cause.code ?? "";
    // The server closed the socket during the handshake: usually a listener without TLS.
    const resetDuringHandshake =
      code === "ECONNRESET" && /secure TLS connection/.test(cause.message);
    if (
      tlsErrorCodes.has(code) ||
      resetDuringHandshake ||
      /certificate|ssl routines/i.test(cause.message)
    ) {
      const hint = resetDuringHandshake
        ? "the broker closed the connection during the TLS handshake, so the listener probably does not use TLS: " +
          "remove ssl or connect to the broker's SSL or SASL_SSL listener"
        : "check ssl.ca (or ssl.caFile) against the CA that signed the broker certificate, and that the broker " +
          "address matches a name in the certificate (or set ssl.servername)";
      return kafkaError(
        KafkaErrorCode.TLS_FAILED,
        `TLS connection to ${brokers} failed: ${cause.message}${code ? ` (${code})` : ""}; ${hint}`,
        { cause: error, details: { brokers: connection.brokers, code } },
      );
    }
  }
  return undefined;
}

/** Connects a short-lived admin client once; connecting fetches metadata from a seed broker. */
async function attemptConnect(
  connection: ResolvedKafkaConnection,
  logger: Logger,
): Promise<void> {
  // A separate client without retries and without logs: this loop does the
  // retrying and logs one line per attempt instead of kafkajs's several.
  const kafka = new Kafka({
    ...kafkajsConfig(connection, logger),
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
    logCreator: undefined,
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Waits until a broker of `connection` responds, retrying with exponential
 * backoff. Stops early on failures that retrying cannot fix (authentication,
 * TLS). The total time is bounded by `startupTimeoutMs` plus at most one
 * attempt, whose length `connectionTimeoutMs` and `requestTimeoutMs` bound.
 * @throws WeftError `WEFT_ERR_KAFKA_UNREACHABLE` (retryable),
 *   `WEFT_ERR_KAFKA_AUTH_FAILED` or `WEFT_ERR_KAFKA_TLS_FAILED`.
 */
export async function waitForBroker(
  connection: ResolvedKafkaConnection,
  logger: Logger,
): Promise<void> {
  const startedAt = Date.now();
  const deadline = startedAt + connection.startupTimeoutMs;
  let delayMs = firstRetryDelayMs;

  for (let attempt = 1; ; attempt++) {
    try {
      await attemptConnect(connection, logger);
      if (attempt > 1)
        logger.info(
          { brokers: connection.brokers, attempt },
          "kafka broker reachable",
        );
      return;
    } catch (error) {
      const final = classifyConnectError(error, connection);
      if (final) {
        logger.error(
          { err: final, brokers: connection.brokers, code: final.code },
          "kafka connection failed",
        );
        throw final;
      }

      const elapsedMs = Date.now() - startedAt;
      const remainingMs = deadline - Date.now();
      const reason = rootCause(error).message;
      if (remainingMs <= 0) {
        const unreachable = kafkaError(
          KafkaErrorCode.UNREACHABLE,
          `no Kafka broker of ${connection.brokers.join(",")} responded within ${elapsedMs} ms ` +
            `(${attempt} attempts, last error: ${reason}). Check that the brokers run and that the addresses, ` +
            "ssl and sasl settings match their listeners, or raise startupTimeout.",
          {
            cause: error,
            retryable: true,
            details: {
              brokers: connection.brokers,
              attempts: attempt,
              elapsedMs,
            },
          },
        );
        logger.error(
          { err: unreachable, brokers: connection.brokers, attempts: attempt },
          "kafka broker unreachable",
        );
        throw unreachable;
      }

      const jitter = 0.8 + Math.random() * 0.4;
      const waitMs = Math.min(Math.round(delayMs * jitter), remainingMs);
      logger.warn(
        {
          brokers: connection.brokers,
          attempt,
          retryInMs: waitMs,
          error: reason,
        },
        "kafka broker unreachable, retrying",
      );
      await sleep(waitMs);
      delayMs = Math.min(delayMs * 2, maxRetryDelayMs);
    }
  }
}
