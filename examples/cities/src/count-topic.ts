import { createKafka } from "./kafka-client.js";

/** Counts of the CDC topic, taken by reading it. */
export interface TopicCount {
  events: number;
  tombstones: number;
  /** Debezium `op` values seen, with their counts. */
  ops: Record<string, number>;
  /** The value of the first event whose key contains `sampleKey`, for spot checks. */
  samples: unknown[];
}

/**
 * Reads `topic` from the beginning with a fresh consumer group until
 * `expected` messages arrived or `timeoutMs` passed without new ones.
 */
export async function countTopic(
  brokers: string[],
  topic: string,
  expected: number,
  timeoutMs: number,
  keep: (value: Record<string, unknown>) => boolean = () => false,
): Promise<TopicCount> {
  const consumer = createKafka(brokers, "weft-demo-reader").consumer({
    groupId: `weft-demo-reader-${process.pid}-${Date.now()}`,
  });
  const count: TopicCount = { events: 0, tombstones: 0, ops: {}, samples: [] };
  let lastMessageAt = Date.now();

  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const message of batch.messages) {
        lastMessageAt = Date.now();
        if (message.value === null) {
          count.tombstones += 1;
          continue;
        }
        count.events += 1;
        const value = JSON.parse(message.value.toString("utf8")) as Record<
          string,
          unknown
        >;
        const payload = (value.payload ?? value) as Record<string, unknown>;
        const op = String(payload.op);
        count.ops[op] = (count.ops[op] ?? 0) + 1;
        if (keep(payload)) count.samples.push(payload);
      }
    },
  });

  while (
    count.events + count.tombstones < expected &&
    Date.now() - lastMessageAt < timeoutMs
  ) {
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await consumer.disconnect();
  return count;
}
