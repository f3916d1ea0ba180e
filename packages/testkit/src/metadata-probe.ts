import kafkajs from "kafkajs";

// kafkajs is CommonJS, and Node cannot detect all of its named exports for ESM imports.
const { Kafka, logLevel } = kafkajs;

/**
 * Sends one metadata request to `address` and resolves when the broker
 * responds. Rejects on any connection or protocol error; callers retry.
 */
export async function probeMetadata(
  address: string,
  timeoutMs = 2_000,
): Promise<void> {
  const kafka = new Kafka({
    clientId: "weft-testkit-probe",
    brokers: [address],
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.fetchTopicMetadata({ topics: [] });
  } finally {
    await admin.disconnect();
  }
}
