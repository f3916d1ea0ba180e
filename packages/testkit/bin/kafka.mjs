#!/usr/bin/env node
// `node packages/testkit/bin/kafka.mjs start|stop|status`: the shared Kafka
// broker for development (`pnpm kafka:start`, `pnpm kafka:stop`). Tests run
// while it is up reuse it, and their end does not stop it.
import { loadTestkit } from "./load-testkit.mjs";

const owner = "manual";
const command = process.argv[2];
const testkit = await loadTestkit();

async function start() {
  const { state, started } = await testkit.acquireSharedBroker(owner, undefined);
  const how = started ? `started in ${(state.startMs / 1000).toFixed(1)} s` : "already running";
  process.stderr.write(`Kafka ${state.kafkaVersion} broker ${how}; stop it with \`pnpm kafka:stop\`\n`);
  process.stderr.write(`  SASL (SCRAM-SHA-256/512, PLAIN) ${state.saslBrokers.join(",")}\n`);
  process.stderr.write(`  TLS ${state.tlsBrokers.join(",")} (CA ${state.caFile})\n`);
  // The plaintext bootstrap address alone on stdout, for `export KAFKA_BROKERS=$(pnpm -s kafka:start)`.
  process.stdout.write(`${state.brokers.join(",")}\n`);
}

async function stop() {
  const { stopped, remainingOwners } = await testkit.releaseSharedBroker(owner);
  if (stopped) {
    process.stderr.write("Kafka broker stopped and its data deleted\n");
  } else if (remainingOwners.length > 0) {
    process.stderr.write(`Kafka broker still used by ${remainingOwners.join(", ")}; it stops when they end\n`);
  } else {
    process.stderr.write("no Kafka broker was running\n");
  }
}

function status() {
  const state = testkit.readSharedState();
  if (!state) {
    process.stderr.write("no Kafka broker is running\n");
    process.exit(1);
  }
  process.stdout.write(`${JSON.stringify(state, null, 2)}\n`);
}

const commands = { start, stop, status };
if (!Object.hasOwn(commands, command)) {
  process.stderr.write("usage: node packages/testkit/bin/kafka.mjs start|stop|status\n");
  process.exit(2);
}
try {
  await commands[command]();
} catch (error) {
  process.stderr.write(`kafka ${command}: ${error.message}\n`);
  process.exit(1);
}
