import type { CityRecord } from "./dataset.js";

/** Population above which the demo's trigger calls the webhook. */
export const MILLION = 1_000_000;

/** One message the demo produces: a city value, or a tombstone that deletes it. */
export interface PlannedMessage {
  key: string;
  value: CityRecord | null;
}

/** Options of {@link planMessages}. */
export interface PlanOptions {
  /** Population updates after the inserts. */
  updates: number;
  /** Deletes (tombstones) after the updates. */
  deletes: number;
  /** The country whose changes the subscriber watches. */
  country: string;
}

/** The counts each part of the pipeline must reach, derived from what is produced. */
export interface ExpectedCounts {
  produced: number;
  storeObjects: number;
  cdcEvents: number;
  cdcTombstones: number;
  subscriptionEvents: number;
  webhooks: number;
}

/** The messages of one demo run and the counts they must lead to. */
export interface Plan {
  inserts: PlannedMessage[];
  updates: PlannedMessage[];
  deletes: PlannedMessage[];
  expected: ExpectedCounts;
}

/** A small deterministic generator, so every run produces the same stream. */
function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/**
 * Plans the demo stream: every city once, then population updates (each
 * raises the population, so each is a real change and one change event), then
 * deletes of other cities. Updates go to the larger half of the cities, so
 * the webhook trigger gets updates of big cities too.
 */
export function planMessages(cities: CityRecord[], options: PlanOptions): Plan {
  if (options.updates + options.deletes > cities.length) {
    throw new Error(
      `plan needs at least ${options.updates + options.deletes} cities, got ${cities.length}`,
    );
  }
  const random = createRandom(20261204);
  const order = cities
    .map((_, i) => i)
    .sort((a, b) => cities[b].population - cities[a].population || a - b);

  // Updates come from the first half of the cities by population, deletes from the rest,
  // so no city is both updated and deleted and the counts stay easy to check.
  const updatePool = order.slice(
    0,
    Math.max(options.updates, Math.floor(order.length / 2)),
  );
  const deletePool = order.slice(updatePool.length);
  if (deletePool.length < options.deletes)
    throw new Error(
      `plan has ${deletePool.length} cities to delete, needs ${options.deletes}`,
    );

  const populations = new Map(
    cities.map((city) => [city.cityId, city.population]),
  );
  const updates: PlannedMessage[] = [];
  for (let i = 0; i < options.updates; i++) {
    const city = cities[updatePool[Math.floor(random() * updatePool.length)]];
    const population =
      populations.get(city.cityId)! + 1 + Math.floor(random() * 5000);
    populations.set(city.cityId, population);
    updates.push({ key: String(city.cityId), value: { ...city, population } });
  }

  const deleted = new Set<number>();
  while (deleted.size < options.deletes)
    deleted.add(deletePool[Math.floor(random() * deletePool.length)]);
  const deletes = [...deleted].map((index) => ({
    key: String(cities[index].cityId),
    value: null,
  }));

  const inserts = cities.map((city) => ({
    key: String(city.cityId),
    value: city,
  }));
  const inCountry = (message: PlannedMessage, city: CityRecord) =>
    (message.value ?? city).country === options.country;
  const byKey = new Map(cities.map((city) => [String(city.cityId), city]));

  const expected: ExpectedCounts = {
    produced: inserts.length + updates.length + deletes.length,
    storeObjects: inserts.length - deletes.length,
    cdcEvents: inserts.length + updates.length + deletes.length,
    cdcTombstones: deletes.length,
    subscriptionEvents: [...inserts, ...updates, ...deletes].filter((message) =>
      inCountry(message, byKey.get(message.key)!),
    ).length,
    webhooks: [...inserts, ...updates].filter(
      (message) => message.value!.population > MILLION,
    ).length,
  };
  return { inserts, updates, deletes, expected };
}
