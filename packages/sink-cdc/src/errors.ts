import { errorFactory } from "@weft/core";

/**
 * Codes raised by `@weft/sink-cdc`. docs/errors.md has one row per code. The
 * sink also raises core's `WEFT_ERR_CONFIG_INVALID` and
 * `WEFT_ERR_CLASS_UNKNOWN` where core defines the meaning.
 */
export const CdcErrorCode = {
  /** A topic name, or the topic template rendered for a class, is not a valid Kafka topic name. */
  TOPIC_INVALID: "WEFT_ERR_CDC_TOPIC_INVALID",
  /** A class property has the name that the config reserves for the vector field. */
  VECTOR_FIELD_CONFLICT: "WEFT_ERR_CDC_VECTOR_FIELD_CONFLICT",
  /** The change log no longer holds the checkpoint's seq, so events between it and the log's first seq are lost to the sink. */
  CHECKPOINT_TRUNCATED: "WEFT_ERR_CDC_CHECKPOINT_TRUNCATED",
  /** The stored checkpoint is not in the format this package writes. */
  CHECKPOINT_INVALID: "WEFT_ERR_CDC_CHECKPOINT_INVALID",
} as const;

export type CdcErrorCodeValue =
  (typeof CdcErrorCode)[keyof typeof CdcErrorCode];

/** Creates a {@link WeftError} with one of the {@link CdcErrorCode} codes. */
export const cdcError = errorFactory(CdcErrorCode);
