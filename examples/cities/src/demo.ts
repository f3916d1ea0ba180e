// The main job: the whole weft pipeline on the GeoNames cities, with a
// private Kafka broker. Run from the repository root with `pnpm demo`.
// Exits 0 when every count matches what was produced, 1 otherwise.
import { startBroker } from "@weft/testkit";
import { runPipeline, type PipelineResult } from "./pipeline.js";

const country = process.env.DEMO_COUNTRY ?? "NO";
const limit = process.env.DEMO_LIMIT
  ? Number(process.env.DEMO_LIMIT)
  : undefined;

function printSummary(result: PipelineResult): boolean {
  const rows: Array<[string, keyof PipelineResult["expected"]]> = [
    ["messages produced", "produced"],
    ["objects in the store", "storeObjects"],
    ["change events on the CDC topic", "cdcEvents"],
    ["tombstones on the CDC topic", "cdcTombstones"],
    [`subscription events (${country})`, "subscriptionEvents"],
    ["webhooks received (unique webhook-id)", "webhooks"],
  ];
  let ok = true;
  console.log("\nsummary                                   actual   expected");
  for (const [label, key] of rows) {
    const match = result.actual[key] === result.expected[key];
    ok &&= match;
    console.log(
      `${match ? "ok  " : "FAIL"} ${label.padEnd(38)} ${String(result.actual[key]).padStart(8)} ${String(result.expected[key]).padStart(10)}`,
    );
  }
  console.log(`\nCDC ops: ${JSON.stringify(result.cdc.ops)}`);
  console.log(
    `ingest after the last message was produced: ${result.seconds.ingest.toFixed(1)} s; whole run ${result.seconds.total.toFixed(1)} s`,
  );
  return ok;
}

console.log("starting a local Kafka broker …");
const broker = await startBroker();
let exitCode = 1;
const stopBroker = () => broker.close();
process.once(
  "SIGINT",
  () => void stopBroker().finally(() => process.exit(130)),
);

try {
  console.log(`broker: ${broker.brokers.join(",")}`);
  const result = await runPipeline({
    brokers: broker.brokers,
    ...(limit ? { limit } : {}),
    updates: 20_000,
    deletes: 5_000,
    country,
    runId: `demo-${Date.now()}`,
    log: (line) => console.log(line),
    onChange: (change, received) => {
      if (received <= 10 || received % 500 === 0) {
        const city = change.city ?? {
          name: "?",
          population: change.previous?.population,
        };
        console.log(
          `  [${country} #${received}] ${change.type.padEnd(6)} seq ${change.seq} ${city.name} (population ${city.population})`,
        );
      }
    },
  });
  exitCode = printSummary(result) ? 0 : 1;
} catch (error) {
  console.error(`demo failed: ${(error as Error).stack ?? error}`);
} finally {
  await stopBroker();
}
process.exit(exitCode);
