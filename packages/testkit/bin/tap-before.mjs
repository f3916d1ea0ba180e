#!/usr/bin/env node
// tap `before` script: makes sure the shared Kafka broker runs for this test
// run. tap runs it as a child of its runner process, whose pid is recorded as
// the broker's owner, so the watchdog stops the broker if the runner dies
// without running the `after` script.
import { runWithoutCoverage } from "./run-without-coverage.mjs";

if (process.env.KAFKA_BROKERS) {
  process.stderr.write(
    `kafka: using KAFKA_BROKERS=${process.env.KAFKA_BROKERS}\n`,
  );
  process.exit(0);
}
process.exit(runWithoutCoverage(["attach", String(process.ppid)]));
