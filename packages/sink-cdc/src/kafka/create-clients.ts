import {
  createKafkaClient,
  kafkajsConfig,
  registerCodecs,
  resolveConnectionConfig,
  type KafkaClient,
  type KafkaConnectionInput,
} from "@weft/kafka";
import kafkajs, { type Kafka } from "kafkajs";
import type { Logger } from "pino";
import { createQuietLogCreator } from "./quiet-log-creator.js";

// kafkajs is CommonJS, and Node cannot detect all of its named exports for ESM imports.
const { Kafka: KafkaJs } = kafkajs;

/** Retry settings of every kafkajs request and connection attempt of the sink. */
export interface RetrySettings {
  retries: number;
  initialMs: number;
  maxMs: number;
}

/**
 * Creates the sink's Kafka clients from one checked connection config: a
 * `KafkaClient` of `@weft/kafka` for admin work, and a kafkajs client for the
 * producer. The kafkajs client is built from `kafkajsConfig` (the same log
 * bridge and settings as `createKafkaJs`) plus the sink's retry settings,
 * which `createKafkaJs` does not take, and with repeated kafkajs errors
 * logged once per 30 s. kafkajs applies the retry settings to reconnecting
 * too, so a send to a stopped broker fails within one bounded retry cycle
 * instead of kafkajs's default of about 30 s.
 */
export function createClients(
  input: KafkaConnectionInput,
  options: { logger: Logger; path: string; retry: RetrySettings },
): { kafka: Kafka; client: KafkaClient } {
  const connection = resolveConnectionConfig(input, { path: options.path });
  registerCodecs();
  const kafka = new KafkaJs({
    ...kafkajsConfig(connection, options.logger),
    logCreator: createQuietLogCreator(options.logger),
    retry: {
      retries: options.retry.retries,
      initialRetryTime: options.retry.initialMs,
      maxRetryTime: options.retry.maxMs,
    },
  });
  return {
    kafka,
    client: createKafkaClient(connection, { logger: options.logger }),
  };
}
