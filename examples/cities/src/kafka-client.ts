import kafkajs from "kafkajs";

// kafkajs is CommonJS; Node cannot see all of its named exports from ESM.
const { Kafka, Partitioners, logLevel } = kafkajs;

/** Creates a kafkajs client for the demo's own producer and topic reader. */
export function createKafka(brokers: string[], clientId: string) {
  return new Kafka({ clientId, brokers, logLevel: logLevel.WARN });
}

/** kafkajs's default partitioner, named so kafkajs does not warn that its default changed in v2. */
export const defaultPartitioner = Partitioners.DefaultPartitioner;
