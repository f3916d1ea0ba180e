import { readFileSync } from "node:fs";
import {
  readSharedState,
  sharedStateFile,
  type SharedBrokerState,
} from "./shared-broker.js";

function addressList(value: string): string[] {
  return value
    .split(",")
    .map((address) => address.trim())
    .filter((address) => address.length > 0);
}

function sharedState(): SharedBrokerState {
  const state = readSharedState();
  if (!state) {
    throw new Error(
      `no shared Kafka broker is running (state file ${sharedStateFile()} is missing or stale). ` +
        "Run the tests with `pnpm test` or `pnpm exec tap`, whose before script starts it, " +
        "start one with `pnpm kafka:start`, or set KAFKA_BROKERS to an existing cluster.",
    );
  }
  return state;
}

/**
 * Returns the bootstrap addresses of the shared test broker: `KAFKA_BROKERS`
 * (comma-separated) when set, otherwise the broker that the tap `before`
 * script or `pnpm kafka:start` started.
 */
export async function brokers(): Promise<string[]> {
  const external = process.env.KAFKA_BROKERS;
  if (external !== undefined && external.trim() !== "")
    return addressList(external);
  return sharedState().brokers;
}

/**
 * Returns the addresses of the shared broker's SASL_PLAINTEXT listener, which
 * accepts {@link saslCredentials} with SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN.
 * With `KAFKA_BROKERS` set, `KAFKA_SASL_BROKERS` must name that cluster's SASL
 * listener, where the same user must exist.
 */
export async function saslBrokers(): Promise<string[]> {
  if (process.env.KAFKA_BROKERS) {
    const external = process.env.KAFKA_SASL_BROKERS;
    if (!external) {
      throw new Error(
        "KAFKA_BROKERS is set but KAFKA_SASL_BROKERS is not: set it to the SASL_PLAINTEXT listener of that cluster",
      );
    }
    return addressList(external);
  }
  return sharedState().saslBrokers;
}

/**
 * Returns the addresses of the shared broker's TLS listener, whose certificate
 * {@link tlsCa} returns. With `KAFKA_BROKERS` set, `KAFKA_TLS_BROKERS` and
 * `KAFKA_TLS_CA_FILE` must describe that cluster's TLS listener.
 */
export async function tlsBrokers(): Promise<string[]> {
  if (process.env.KAFKA_BROKERS) {
    const external = process.env.KAFKA_TLS_BROKERS;
    if (!external) {
      throw new Error(
        "KAFKA_BROKERS is set but KAFKA_TLS_BROKERS is not: set it to the SSL listener of that cluster",
      );
    }
    return addressList(external);
  }
  return sharedState().tlsBrokers;
}

/** Returns the PEM certificate that clients trust to reach {@link tlsBrokers}. */
export async function tlsCa(): Promise<string> {
  if (process.env.KAFKA_BROKERS) {
    const file = process.env.KAFKA_TLS_CA_FILE;
    if (!file) {
      throw new Error(
        "KAFKA_BROKERS is set but KAFKA_TLS_CA_FILE is not: set it to the PEM file of that cluster's CA",
      );
    }
    return readFileSync(file, "utf8");
  }
  return readFileSync(sharedState().caFile, "utf8");
}
