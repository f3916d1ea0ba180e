import { errorFactory } from "@weft/core";

/**
 * Codes raised by `@weft/source-kafka`. docs/errors.md has one row per code.
 * The message codes are also the `weft.dlq.error.code` header of dead
 * letters and the `reason` label of the dead-letter metric. Items that the
 * host rejects carry core's codes there instead, such as
 * `WEFT_ERR_OBJECT_INVALID`.
 */
export const SourceKafkaErrorCode = {
  /** The value is not valid JSON. */
  INVALID_JSON: "WEFT_ERR_SOURCE_KAFKA_INVALID_JSON",
  /** The value is JSON but not an object. */
  NOT_OBJECT: "WEFT_ERR_SOURCE_KAFKA_NOT_OBJECT",
  /** The value has zero bytes; only a null value is a tombstone. */
  EMPTY_VALUE: "WEFT_ERR_SOURCE_KAFKA_EMPTY_VALUE",
  /** The value is larger than `maxMessageBytes`. */
  TOO_LARGE: "WEFT_ERR_SOURCE_KAFKA_TOO_LARGE",
  /** Neither the message key nor the key field gives an object id. */
  MISSING_ID: "WEFT_ERR_SOURCE_KAFKA_MISSING_ID",
  /** Routing found no class for the message. */
  NO_CLASS: "WEFT_ERR_SOURCE_KAFKA_NO_CLASS",
  /** A `format: debezium` value is not a change envelope weft can apply. */
  DEBEZIUM_INVALID: "WEFT_ERR_SOURCE_KAFKA_DEBEZIUM_INVALID",
  /** Producing to the dead-letter topic failed; the batch is retried. */
  DEAD_LETTER_FAILED: "WEFT_ERR_SOURCE_KAFKA_DEAD_LETTER_FAILED",
} as const;

export type SourceKafkaErrorCodeValue =
  (typeof SourceKafkaErrorCode)[keyof typeof SourceKafkaErrorCode];

/** Creates a {@link WeftError} with one of the {@link SourceKafkaErrorCode} codes. */
export const sourceKafkaError = errorFactory(SourceKafkaErrorCode);
