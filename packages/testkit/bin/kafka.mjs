#!/usr/bin/env node
// `node packages/testkit/bin/kafka.mjs start|stop|status`: the shared Kafka
// broker for development (`pnpm kafka:start`, `pnpm kafka:stop`). Tests run
// while it is up reuse it, and their end does not stop it.
// `attach PID` and `detach PID` are what the tap before and after scripts run
// for the test runner with that pid.
import { loadTestkit } from "./load-testkit.mjs";

const owner = "manual";
const [command, pidArgument] = process.argv.slice(2);
const testkit = await loadTestkit();

async function start() {
  const { state, started } = await testkit.acquireSharedBroker(
    owner,
    undefined,
  );
  const startNote = started
    ? `started in ${(state.startMs / 1000).toFixed(1)} s`
    : "already running";
  process.stderr.write(
    `Kafka ${state.kafkaVersion} broker ${startNote}; stop it with \`pnpm kafka:stop\`\n`,
  );
  process.stderr.write(
    `  SASL (SCRAM-SHA-256/512, PLAIN) ${state.saslBrokers.join(",")}\n`,
  );
  process.stderr.write(
    `  TLS ${state.tlsBrokers.join(",")} (CA ${state.caFile})\n`,
  );
  // The plaintext bootstrap address alone on stdout, for `export KAFKA_BROKERS=$(pnpm -s kafka:start)`.
  process.stdout.write(`${state.brokers.join(",")}\n`);
}

async function stop() {
  const { stopped, remainingOwners } = await testkit.releaseSharedBroker(owner);
  if (stopped) {
    process.stderr.write("Kafka broker stopped and its data deleted\n");
  } else if (remainingOwners.length > 0) {
    process.stderr.write(
      `Kafka broker still used by ${remainingOwners.join(", ")}; it stops when they end\n`,
    );
  } else {
    process.stderr.write("no Kafka broker was running\n");
  }
}

async function attach() {
  const pid = Number(pidArgument);
  const { state, started } = await testkit.acquireSharedBroker(
    `tap-${pid}`,
    pid,
  );
  const startNote = started
    ? `started in ${(state.startMs / 1000).toFixed(1)} s`
    : "already running, reused";
  process.stderr.write(
    `kafka: broker ${state.kafkaVersion} at ${state.brokers.join(",")} (${startNote})\n`,
  );
}

async function detach() {
  const { stopped, remainingOwners } = await testkit.releaseSharedBroker(
    `tap-${Number(pidArgument)}`,
  );
  if (!stopped && remainingOwners.length > 0) {
    process.stderr.write(
      `kafka: broker left running for ${remainingOwners.join(", ")}\n`,
    );
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

const commands = { start, stop, status, attach, detach };
const needsPid = command === "attach" || command === "detach";
if (
  !Object.hasOwn(commands, command) ||
  (needsPid && !(Number(pidArgument) > 0))
) {
  process.stderr.write(
    "usage: node packages/testkit/bin/kafka.mjs start|stop|status|attach PID|detach PID\n",
  );
  process.exit(2);
}
try {
  await commands[command]();
} catch (error) {
  process.stderr.write(`kafka ${command}: ${error.message}\n`);
  process.exit(1);
}
