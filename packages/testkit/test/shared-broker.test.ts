import t from "tap";
import {
  brokers,
  readSharedState,
  saslBrokers,
  tlsBrokers,
  tlsCa,
  uniqueTopic,
} from "@weft/testkit";

t.test("shared broker found from state file", async (t) => {
  if (process.env.KAFKA_BROKERS) {
    t.skip("KAFKA_BROKERS points at an external cluster");
    return;
  }
  const state = readSharedState();
  t.ok(state, "the tap before script recorded the broker");
  t.same(await brokers(), state?.brokers);
  t.same(await saslBrokers(), state?.saslBrokers);
  t.same(await tlsBrokers(), state?.tlsBrokers);
  t.match(await tlsCa(), /-----BEGIN CERTIFICATE-----/);
});

t.test("KAFKA_BROKERS overrides the shared broker", async (t) => {
  const saved = { ...process.env };
  t.teardown(() => {
    process.env = saved;
  });
  process.env.KAFKA_BROKERS = " k1:9092, k2:9092 ";
  delete process.env.KAFKA_SASL_BROKERS;
  t.same(await brokers(), ["k1:9092", "k2:9092"]);
  await t.rejects(saslBrokers(), /KAFKA_SASL_BROKERS is not/);
  process.env.KAFKA_SASL_BROKERS = "k1:9094";
  t.same(await saslBrokers(), ["k1:9094"]);
});

t.test("uniqueTopic names differ and are valid", async (t) => {
  const names = new Set(
    Array.from({ length: 100 }, () => uniqueTopic("orders/v1 test")),
  );
  t.equal(names.size, 100);
  for (const name of names)
    t.match(name, /^orders-v1-test-\d+-\d+-[0-9a-f]{6}$/);
});
