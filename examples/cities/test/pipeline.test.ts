import t from "tap";
import { toObjectId } from "@weft/core";
import { brokers } from "@weft/testkit";
import { MILLION } from "../src/plan.js";
import { runPipeline } from "../src/pipeline.js";

// The first 3,000 cities of the dataset run from Andorra to Argentina, so the
// slice has cities above a million people and a country with many cities.
t.test("cities pipeline end to end", async (t) => {
  const result = await runPipeline({
    brokers: await brokers(),
    limit: 3000,
    updates: 600,
    deletes: 150,
    country: "AR",
    runId: `pipeline-test-${process.pid}-${Date.now()}`,
    idleTimeoutMs: 30_000,
  });

  t.equal(result.actual.produced, 3750, "messages produced");
  t.equal(
    result.actual.storeObjects,
    result.expected.storeObjects,
    "objects in the store",
  );
  t.equal(
    result.actual.cdcEvents,
    result.expected.cdcEvents,
    "change events on the CDC topic",
  );
  t.equal(
    result.actual.cdcTombstones,
    result.expected.cdcTombstones,
    "tombstones on the CDC topic",
  );
  t.equal(
    result.actual.subscriptionEvents,
    result.expected.subscriptionEvents,
    "subscription events",
  );
  t.equal(
    result.actual.webhooks,
    result.expected.webhooks,
    "webhooks by webhook-id",
  );
  t.ok(
    result.expected.webhooks > 0,
    "the slice has cities above a million people",
  );
  t.ok(
    result.expected.subscriptionEvents > 0,
    "the slice has cities in the watched country",
  );

  t.same(
    result.cdc.ops,
    { c: 3000, u: 600, d: 150 },
    "Debezium ops on the topic",
  );
  const first = result.cdc.samples.find(
    (payload) => (payload as { source: { seq: number } }).source.seq === 1,
  ) as Record<string, unknown>;
  t.equal(first.op, "c");
  t.equal(first.before, null);
  // The topic has 8 partitions, so seq 1 is whichever city the host committed first.
  const after = first.after as {
    cityId: number;
    name: string;
    population: number;
  };
  const produced = result.plan.inserts.find(
    (message) => message.value!.cityId === after.cityId,
  )?.value;
  t.ok(produced, "seq 1 is a produced city");
  t.equal(after.name, produced?.name);
  t.equal(after.population, produced?.population);
  t.match(first.source, {
    connector: "weft",
    name: "cities",
    class: "City",
    seq: 1,
  });
  const last = result.cdc.samples.find(
    (payload) =>
      (payload as { source: { seq: number } }).source.seq ===
      result.expected.cdcEvents,
  ) as Record<string, unknown>;
  t.equal(last.op, "d", "the last event is a delete");
  t.equal(last.after, null);
  t.ok(last.before, "a delete carries the before image");

  const updates = result.changes.filter((change) => change.type === "UPDATE");
  t.ok(updates.length > 0, "the subscriber saw updates");
  for (const change of updates)
    t.ok(
      change.city!.population > change.previous!.population,
      `update of ${change.city!.name} raises the population`,
    );
  t.ok(
    result.changes.every((change) => (change.city?.country ?? "AR") === "AR"),
    "only the watched country",
  );

  const body = result.webhookBodies[0] as {
    type: string;
    trigger: string;
    data: { class: string; after: { population: number } };
  };
  t.equal(body.trigger, "million-cities");
  t.match(body.type, /^object\.(inserted|updated)$/);
  t.equal(body.data.class, "City");
  t.ok(body.data.after.population > MILLION);

  const stored = result.spotCheck.updated.stored as {
    id: string;
    properties: { population: number };
  };
  t.equal(stored.id, toObjectId(result.spotCheck.updated.key));
  t.equal(
    stored.properties.population,
    result.spotCheck.updated.expectedPopulation,
    "the last update won",
  );
  t.equal(result.spotCheck.deletedStatus, 404, "a deleted city is gone");
});
