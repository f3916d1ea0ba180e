import t from "tap";
import {
  DeliveryPool,
  retryDelay,
  type PoolMember,
  type RetryPolicy,
} from "@weft/triggers";

const policy: RetryPolicy = {
  maxAttempts: 10,
  initialDelayMs: 100,
  maxDelayMs: 1000,
  multiplier: 2,
  jitter: "none",
};

t.test("retry delay grows, caps and honours Retry-After", async (t) => {
  t.same(
    [1, 2, 3, 4, 5, 6].map((attempt) => retryDelay(policy, attempt)),
    [100, 200, 400, 800, 1000, 1000],
  );
  t.equal(
    retryDelay(policy, 1, 600),
    600,
    "Retry-After longer than the backoff wins",
  );
  t.equal(
    retryDelay(policy, 3, 50),
    400,
    "Retry-After shorter than the backoff changes nothing",
  );
  t.equal(
    retryDelay(policy, 1, 60_000),
    1000,
    "Retry-After is capped at maxDelay",
  );
  t.equal(
    retryDelay(policy, 500),
    1000,
    "a huge attempt number stays at maxDelay",
  );

  const full = { ...policy, jitter: "full" as const };
  t.equal(
    retryDelay(full, 3, undefined, () => 0),
    0,
  );
  t.equal(
    retryDelay(full, 3, undefined, () => 0.5),
    200,
  );
  t.equal(
    retryDelay(full, 3, undefined, () => 0.999999),
    399,
    "full jitter stays below the cap",
  );
  t.equal(
    retryDelay(full, 3, 700, () => 0),
    700,
    "jitter never shortens a Retry-After",
  );
});

function member(
  name: string,
  onPump: () => void = () => undefined,
): PoolMember {
  return { name, pump: onPump };
}

t.test("pool keeps one slot for each idle trigger", async (t) => {
  const pool = new DeliveryPool(4);
  const slow = member("slow");
  const a = member("a");
  const b = member("b");
  for (const m of [slow, a, b]) pool.setActive(m, true);

  t.ok(pool.tryAcquire(slow));
  t.ok(pool.tryAcquire(slow), "a second slot while two stay free for a and b");
  t.notOk(pool.tryAcquire(slow), "not the slots kept for a and b");
  t.ok(pool.tryAcquire(a));
  t.ok(pool.tryAcquire(b));
  t.equal(pool.used, 4);
  t.notOk(pool.tryAcquire(a), "the pool is full");

  pool.setActive(b, false);
  pool.release(b);
  t.ok(pool.tryAcquire(slow), "an inactive trigger keeps no slot");
});

t.test("pool wakes waiting triggers in turn", async (t) => {
  const pool = new DeliveryPool(2);
  const woken: string[] = [];
  const a: PoolMember = member("a", () => {
    woken.push("a");
    while (pool.tryAcquire(a));
  });
  const b: PoolMember = member("b", () => {
    woken.push("b");
    while (pool.tryAcquire(b));
  });
  pool.setActive(a, true);
  pool.setActive(b, true);

  t.ok(pool.tryAcquire(a));
  t.ok(pool.tryAcquire(b));
  t.notOk(pool.tryAcquire(a));
  t.notOk(pool.tryAcquire(b));

  pool.release(a);
  pool.release(b);
  pool.release(a);
  t.same(
    woken,
    ["a", "b", "a"],
    "a woken trigger that wants more goes to the back",
  );
});
