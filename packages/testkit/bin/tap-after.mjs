#!/usr/bin/env node
// tap `after` script: releases this test run's hold on the shared Kafka broker
// and stops it, deleting its data, when no other test run or
// `pnpm kafka:start` still uses it.
import { runWithoutCoverage } from "./run-without-coverage.mjs";

if (process.env.KAFKA_BROKERS) process.exit(0);
process.exit(runWithoutCoverage(["detach", String(process.ppid)]));
