import { createKafka, defaultPartitioner } from "./kafka-client.js";
import type { PlannedMessage } from "./plan.js";

/** Messages per `send` call: large enough for throughput, small enough for steady progress. */
const CHUNK = 2000;

/**
 * Produces messages to `topic` in order, keyed by cityId. `onProgress` gets
 * the running count after each chunk the broker acknowledged.
 */
export async function produceMessages(
  brokers: string[],
  topic: string,
  messages: PlannedMessage[],
  onProgress: (sent: number) => void = () => {},
  ratePerSecond?: number,
): Promise<void> {
  const producer = createKafka(brokers, "weft-demo-producer").producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: defaultPartitioner,
  });
  await producer.connect();
  const started = Date.now();

  try {
    for (let offset = 0; offset < messages.length; offset += CHUNK) {
      const chunk = messages.slice(offset, offset + CHUNK);
      await producer.send({
        topic,
        messages: chunk.map((message) => ({
          key: message.key,
          value: message.value === null ? null : JSON.stringify(message.value),
        })),
      });
      onProgress(offset + chunk.length);

      if (ratePerSecond) {
        const due = started + ((offset + chunk.length) / ratePerSecond) * 1000;
        if (due > Date.now())
          await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
      }
    }
  } finally {
    await producer.disconnect();
  }
}
