import t from "tap";
import { startBroker } from "@weft/testkit";
import {
  checkDelivery,
  fastRetries,
  published,
  sinkStatus,
  startSinkHost,
  waitFor,
  waitForCaughtUp,
} from "./helpers.js";

/** Connection settings that give up quickly on a stopped broker, so retries start within seconds. */
const quickConnection = {
  connectionTimeout: "500ms",
  requestTimeout: "2s",
  startupTimeout: "1s",
  sendTimeout: "2s",
};

t.test("broker outage mid-stream loses nothing", async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.close());

  const { host, topic, brokers } = await startSinkHost(t, {
    sink: {
      brokers: broker.brokers,
      format: "plain",
      maxBatch: 20,
      ...quickConnection,
      ...fastRetries,
    },
    host: { server: { port: 0 } },
  });

  const keys = Array.from({ length: 10 }, (_, index) => `item-${index}`);
  let round = 0;
  const writeRound = async () => {
    round += 1;
    await host.write(
      keys.map((key) => ({
        op: "upsert" as const,
        class: "Order",
        id: key,
        properties: { total: round },
      })),
    );
  };

  for (let i = 0; i < 5; i++) await writeRound();
  await waitForCaughtUp(host);

  await broker.stop();
  const startedWriting = Date.now();
  for (let i = 0; i < 10; i++) await writeRound();
  t.ok(
    Date.now() - startedWriting < 5000,
    "writes go on while the broker is down",
  );

  await waitFor(
    () => sinkStatus(host).details.retrying === true,
    "the first send to fail",
  );
  const { status, details } = sinkStatus(host);
  t.equal(status, "degraded", "the sink reports degraded");
  t.ok(
    (details.lagSeq as number) > 0,
    `lag in events shows: ${details.lagSeq}`,
  );
  t.ok(
    typeof details.lastError === "string" && details.lastError.length > 0,
    "the last error shows",
  );
  const readyz = (await (await fetch(`${host.http!.url}/readyz`)).json()) as {
    plugins: Record<
      string,
      { status: string; details: { lagSeq: number; lagMs: number } }
    >;
  };
  const overHttp = readyz.plugins["@weft/sink-cdc"];
  t.equal(overHttp.status, "degraded", "/readyz shows the sink degraded");
  t.ok(overHttp.details.lagSeq > 0, "/readyz shows the lag in events");
  await waitFor(
    () => (sinkStatus(host).details.lagMs as number) > 0,
    "the lag in time to grow",
  );

  const metrics = await host.metrics.metrics();
  t.match(metrics, /weft_cdc_lag_events [1-9]\d*/, "the lag metric shows");
  t.match(
    metrics,
    /weft_cdc_send_failures_total\{reason="[^"]+"\} [1-9]/,
    "failed sends are counted",
  );

  await broker.restart();
  for (let i = 0; i < 5; i++) await writeRound();
  await waitForCaughtUp(host, 60_000);
  t.equal(sinkStatus(host).status, "ready", "ready again once caught up");

  const total = host.changes.lastSeq();
  t.equal(total, 200);
  const messages = await published(host, brokers, topic, total, 1000);
  checkDelivery(t, messages, total);
});
