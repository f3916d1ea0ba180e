import type { KafkaConfig, SASLOptions } from "kafkajs";
import type { Logger } from "pino";
import { createLogCreator, kafkajsLogLevel } from "./log-bridge.js";
import type { ResolvedKafkaConnection } from "./resolve-config.js";

/** Returns the kafkajs client config for a resolved connection, logging to `logger`. */
export function kafkajsConfig(
  connection: ResolvedKafkaConnection,
  logger: Logger,
): KafkaConfig {
  return {
    clientId: connection.clientId,
    brokers: connection.brokers,
    ssl: connection.tls,
    // The schema allows only the mechanisms kafkajs's SASLOptions union lists.
    sasl: connection.sasl as SASLOptions | undefined,
    connectionTimeout: connection.connectionTimeoutMs,
    authenticationTimeout: connection.requestTimeoutMs,
    requestTimeout: connection.requestTimeoutMs,
    logLevel: kafkajsLogLevel(logger),
    logCreator: createLogCreator(logger),
  };
}
