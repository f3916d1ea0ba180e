#!/usr/bin/env node
// tap `after` script: releases this test run's hold on the shared Kafka broker
// and stops it, deleting its data, when no other run or `pnpm kafka:start`
// still uses it.
import { loadTestkit } from "./load-testkit.mjs";

if (process.env.KAFKA_BROKERS) process.exit(0);

const { releaseSharedBroker } = await loadTestkit();
const { stopped, remainingOwners } = await releaseSharedBroker(`tap-${process.ppid}`);
if (!stopped && remainingOwners.length > 0) {
  process.stderr.write(`kafka: broker left running for ${remainingOwners.join(", ")}\n`);
}
