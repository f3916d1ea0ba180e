import { errorFactory } from "@weft/core";

/** Codes raised by `@weft/kafka`. docs/errors.md has one row per code. */
export const KafkaErrorCode = {
  CONFIG_INVALID: "WEFT_ERR_KAFKA_CONFIG_INVALID",
  ENV_MISSING: "WEFT_ERR_KAFKA_ENV_MISSING",
  TLS_INVALID: "WEFT_ERR_KAFKA_TLS_INVALID",
  TLS_FAILED: "WEFT_ERR_KAFKA_TLS_FAILED",
  AUTH_FAILED: "WEFT_ERR_KAFKA_AUTH_FAILED",
  UNREACHABLE: "WEFT_ERR_KAFKA_UNREACHABLE",
  TOPIC_CREATE_FAILED: "WEFT_ERR_KAFKA_TOPIC_CREATE_FAILED",
  TOPIC_MISMATCH: "WEFT_ERR_KAFKA_TOPIC_MISMATCH",
  CODEC_FAILED: "WEFT_ERR_KAFKA_CODEC_FAILED",
} as const;

export type KafkaErrorCodeValue =
  (typeof KafkaErrorCode)[keyof typeof KafkaErrorCode];

/** Creates a {@link WeftError} with one of the {@link KafkaErrorCode} codes. */
export const kafkaError = errorFactory(KafkaErrorCode);
