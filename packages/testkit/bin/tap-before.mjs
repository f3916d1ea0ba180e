#!/usr/bin/env node
// tap `before` script: makes sure the shared Kafka broker runs for this test
// run. tap runs it as a child of its runner process, whose pid is recorded as
// the broker's owner: the watchdog stops the broker if the runner dies
// without running the `after` script.
import { loadTestkit } from "./load-testkit.mjs";

if (process.env.KAFKA_BROKERS) {
  process.stderr.write(`kafka: using KAFKA_BROKERS=${process.env.KAFKA_BROKERS}\n`);
  process.exit(0);
}

const { acquireSharedBroker } = await loadTestkit();
try {
  const { state, started } = await acquireSharedBroker(`tap-${process.ppid}`, process.ppid);
  const how = started ? `started in ${(state.startMs / 1000).toFixed(1)} s` : "already running, reused";
  process.stderr.write(`kafka: broker ${state.kafkaVersion} at ${state.brokers.join(",")} (${how})\n`);
} catch (error) {
  process.stderr.write(`kafka: ${error.message}\n`);
  process.exit(1);
}
