import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import t from "tap";
import { brokers as sharedBrokers, uniqueTopic } from "@weft/testkit";
import { checkDelivery, receive } from "./helpers.js";

const fixture = fileURLToPath(
  new URL("fixtures/crash-host.ts", import.meta.url),
);

interface Status {
  lastSeq: number;
  nextSeq: number | null;
  lagSeq: number | null;
  written: number;
}

/** A running crash-host child and the status lines it printed. */
interface Child {
  process: ChildProcess;
  /** Resolves with the first status that passes `check`. */
  until(
    check: (status: Status) => boolean,
    description: string,
    timeoutMs?: number,
  ): Promise<Status>;
  exited: Promise<number | null>;
}

function startChild(env: Record<string, string>): Child {
  const child = spawn(process.execPath, ["--import=tsx", fixture], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const statuses: Status[] = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout! }).on("line", (line) => {
    statuses.push(JSON.parse(line) as Status);
    for (const wake of waiters) wake();
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );

  return {
    process: child,
    exited,
    until(check, description, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(test);
          reject(
            new Error(
              `timed out after ${timeoutMs} ms waiting for ${description}; last status ${JSON.stringify(statuses.at(-1))}`,
            ),
          );
        }, timeoutMs);
        const test = () => {
          const found = statuses.find(check);
          if (!found) return;
          clearTimeout(timer);
          waiters.delete(test);
          resolve(found);
        };
        waiters.add(test);
        exited.then(() => test());
        test();
      });
    },
  };
}

t.test("host killed mid-publish and restarted loses nothing", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "weft-cdc-crash-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const brokers = await sharedBrokers();
  const env = {
    WEFT_DB: join(dir, "weft.db"),
    CDC_BROKERS: brokers.join(","),
    CDC_TOPIC: uniqueTopic("cdc-crash"),
    KEYS: "250",
    BATCH: "50",
    PAUSE_MS: "5",
  };

  const first = startChild({ ...env, WRITES: "200" });
  t.teardown(() => first.process.kill("SIGKILL"));
  const beforeKill = await first.until(
    (status) =>
      status.nextSeq !== null &&
      status.nextSeq > 2000 &&
      (status.lagSeq ?? 0) > 0,
    "the sink to have published part of the writes",
  );
  first.process.kill("SIGKILL");
  await first.exited;
  t.ok(
    beforeKill.lagSeq! > 0,
    `killed with ${beforeKill.lagSeq} events unpublished at seq ${beforeKill.nextSeq}`,
  );

  const second = startChild({ ...env, WRITES: "20" });
  t.teardown(() => second.process.kill("SIGKILL"));
  const caughtUp = await second.until(
    (status) => status.written === 20 && status.nextSeq === status.lastSeq + 1,
    "the restarted sink to catch up",
  );
  t.ok(
    caughtUp.lastSeq > beforeKill.lastSeq,
    "the restarted host committed more writes",
  );
  second.process.kill("SIGTERM");
  t.equal(await second.exited, 0, "the restarted host stops cleanly");

  const messages = await receive(
    brokers,
    env.CDC_TOPIC,
    caughtUp.lastSeq,
    1000,
  );
  checkDelivery(t, messages, caughtUp.lastSeq);
});
