import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import t from "tap";
import { pino } from "pino";
import { Registry } from "prom-client";
import type { ChangeEvent, StoredObject } from "@weft/core";
import { createSqliteStore } from "@weft/store-sqlite";
import {
  PLUGIN,
  SOURCE,
  STREAM,
  applyToModel,
  crashClass,
  expectedEventCount,
} from "./fixtures/crash-model.mjs";

const testDir = dirname(fileURLToPath(import.meta.url));
const writerScript = join(testDir, "fixtures", "crash-writer.mjs");
const KILLS = 24;

// Each round starts a Node process that loads @weft/core, which takes seconds on a busy 2-core machine.
t.setTimeout(600_000);

interface ChildRun {
  acknowledged: number[];
  signal: NodeJS.Signals | null;
  exitCode: number | null;
  stderr: string;
}

/**
 * Starts the writer and SIGKILLs it `delayMs` after it reports ready, or after
 * it starts when `fromStart` is set, which can hit the open and the schema
 * migration. Returns the batches it acknowledged.
 */
function runWriter(
  path: string,
  durability: string,
  delayMs: number,
  fromStart: boolean,
): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writerScript, path, durability], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let timer: NodeJS.Timeout | undefined;
    const killLater = () =>
      (timer = setTimeout(() => child.kill("SIGKILL"), delayMs));
    if (fromStart) killLater();
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      if (timer === undefined && stdout.includes("\n")) killLater();
    });
    child.stderr
      .setEncoding("utf8")
      .on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (exitCode, signal) => {
      clearTimeout(timer);
      // Only complete lines count: a line cut by the kill was never acknowledged.
      const lines = stdout.split("\n").slice(0, -1);
      const messages = lines.map(
        (line) => JSON.parse(line) as { batch?: number },
      );
      const acknowledged = messages.flatMap((message) =>
        message.batch === undefined ? [] : [message.batch],
      );
      resolve({ acknowledged, signal, exitCode, stderr });
    });
  });
}

async function readAllChanges(
  store: ReturnType<typeof createSqliteStore>,
): Promise<ChangeEvent[]> {
  const events: ChangeEvent[] = [];
  for (;;) {
    const page = await store.readChanges(events.length + 1, 5000);
    if (page.length === 0) return events;
    events.push(...page);
  }
}

t.test("SIGKILLed writer loses no acknowledged batch", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "weft-store-sqlite-crash-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "crash.db");

  const model = new Map<string, Record<string, unknown>>();
  let committed = -1;
  let maxAcknowledged = -1;
  let killsWithAcks = 0;

  for (let round = 0; round < KILLS; round++) {
    const durability = round % 2 === 0 ? "normal" : "full";
    // Every sixth round is killed at a random time after spawn, which may fall before or during the open.
    const fromStart = round % 6 === 0;
    const delayMs = fromStart
      ? Math.floor(Math.random() * 3000)
      : Math.floor(Math.random() * 400);
    const run = await runWriter(path, durability, delayMs, fromStart);
    t.equal(
      run.signal,
      "SIGKILL",
      `round ${round}: writer was killed, not exited (stderr: ${run.stderr.trim()})`,
    );
    if (run.acknowledged.length > 0) {
      killsWithAcks += 1;
      t.equal(
        run.acknowledged[0],
        committed + 1,
        `round ${round}: writer resumed after the last committed batch`,
      );
      maxAcknowledged = run.acknowledged[run.acknowledged.length - 1];
    }

    const store = createSqliteStore({
      path,
      retention: { maxRows: 100_000_000 },
    });
    await store.open({
      classes: [crashClass],
      logger: pino({ level: "silent" }),
      metrics: new Registry(),
    });
    try {
      const events = await readAllChanges(store);
      const lastSeq = await store.lastSeq();
      t.equal(
        lastSeq,
        events.length,
        `round ${round}: lastSeq equals the number of change-log rows`,
      );
      t.ok(
        events.every((event, index) => event.seq === index + 1),
        `round ${round}: seqs run from 1 without gaps`,
      );

      // Group the log by transaction: batches must follow each other and be complete.
      const counts = new Map<string, number>();
      for (const event of events)
        counts.set(event.txId, (counts.get(event.txId) ?? 0) + 1);
      const batches = [...counts.keys()].map((txId) =>
        Number(txId.replace("batch-", "")),
      );
      t.same(
        batches,
        batches.map((_, index) => index),
        `round ${round}: committed batches are 0..n in order`,
      );
      const partial = [...counts].filter(
        ([txId, count]) => count !== expectedEventCount(Number(txId.slice(6))),
      );
      t.same(
        partial,
        [],
        `round ${round}: no batch is partly in the change log`,
      );

      const lastBatch = batches.length - 1;
      t.ok(
        lastBatch >= maxAcknowledged,
        `round ${round}: acknowledged batch ${maxAcknowledged} is committed`,
      );
      // The writer resumes after the last committed batch, which a round without acknowledgements may have left unacknowledged.
      const lastKnown =
        run.acknowledged.length > 0 ? maxAcknowledged : committed;
      t.ok(
        lastBatch <= lastKnown + 1,
        `round ${round}: at most one unacknowledged batch is committed (last batch ${lastBatch}, last acknowledged or previously committed ${lastKnown})`,
      );
      for (let n = committed + 1; n <= lastBatch; n++) applyToModel(model, n);
      committed = lastBatch;

      t.same(
        await store.positions(SOURCE),
        committed >= 0
          ? [
              {
                source: SOURCE,
                stream: STREAM,
                position: String(committed + 1),
              },
            ]
          : [],
        `round ${round}: source position matches the last committed batch`,
      );
      t.equal(
        await store.stateGet(PLUGIN, "nextBatch"),
        committed >= 0 ? committed + 1 : undefined,
        `round ${round}: plugin state matches the last committed batch`,
      );

      const snapshot = await store.snapshot("Crash");
      const stored = new Map<string, StoredObject>();
      for await (const object of snapshot.objects)
        stored.set(object.id, object);
      t.equal(
        snapshot.seq,
        lastSeq,
        `round ${round}: snapshot is as of the last seq`,
      );
      t.equal(
        stored.size,
        model.size,
        `round ${round}: object count matches the committed batches`,
      );
      const mismatched = [...model].filter(([id, properties]) => {
        const object = stored.get(id);
        return (
          !object ||
          JSON.stringify(sortKeys(object.properties)) !==
            JSON.stringify(sortKeys(properties))
        );
      });
      t.same(
        mismatched,
        [],
        `round ${round}: every object has the properties of the committed batches`,
      );
    } finally {
      await store.close();
    }
  }

  t.ok(
    killsWithAcks >= KILLS / 2,
    `writer acknowledged batches in ${killsWithAcks} of ${KILLS} rounds`,
  );
  t.ok(committed > 0, `${committed + 1} batches committed in total`);
});

function sortKeys(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)),
  );
}
