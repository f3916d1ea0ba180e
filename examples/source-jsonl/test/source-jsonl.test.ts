import { appendFile, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import t from "tap";
import {
  Host,
  toObjectId,
  type ClassDefinition,
  type Plugin,
} from "@weft/core";
import sqliteStore from "@weft/store-sqlite";
import { pino } from "pino";
import sourceJsonl from "weft-source-jsonl";

const eventClass: ClassDefinition = {
  name: "Event",
  properties: [
    { name: "id", type: "text" },
    { name: "n", type: "int" },
  ],
};

async function startHost(dir: string): Promise<Host> {
  const host = new Host({
    classes: [eventClass],
    server: false,
    logger: pino({ level: process.env.TEST_LOG ?? "silent" }),
    processMetrics: false,
  });
  await host.register(sqliteStore as unknown as Plugin, {
    path: join(dir, "weft.db"),
  });
  await host.register(
    sourceJsonl as unknown as Plugin,
    {
      path: "events.jsonl",
      class: "Event",
      pollInterval: "20ms",
      batchSize: 2,
    },
    { configDir: dir },
  );
  await host.start();
  return host;
}

async function waitForEvents(host: Host, count: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while ((await host.store.lastSeq()) < count) {
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${count} change events, have ${await host.store.lastSeq()}`,
      );
    await sleep(20);
  }
}

const line = (id: string, n: number) => `${JSON.stringify({ id, n })}\n`;

t.test(
  "the source resumes at the byte position kept in the store",
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "weft-source-jsonl-"));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, "events.jsonl");

    // Three good lines, a bad one, and a last line still being written.
    await writeFile(
      file,
      line("a", 1) + line("b", 2) + "not json\n" + line("c", 3) + '{"id":"d",',
    );
    const first = await startHost(dir);
    t.teardown(() => first.stop());
    await waitForEvents(first, 3);
    const [partial] = await first.store.positions("weft-source-jsonl");
    t.equal(
      Number(partial.position),
      (await stat(file)).size - '{"id":"d",'.length,
      "an unfinished line is not consumed",
    );

    await appendFile(file, '"n":4}\n' + line("a", 5));
    await waitForEvents(first, 5);
    await first.stop();

    // Written while no host runs.
    await appendFile(file, line("e", 6) + line("b", 7));
    const second = await startHost(dir);
    t.teardown(() => second.stop());
    await waitForEvents(second, 7);

    const events = await second.store.readChanges(1, 100);
    t.same(
      events.map((event) => `${event.op}:${event.after?.id}:${event.after?.n}`),
      [
        "INSERT:a:1",
        "INSERT:b:2",
        "INSERT:c:3",
        "INSERT:d:4",
        "UPDATE:a:5",
        "INSERT:e:6",
        "UPDATE:b:7",
      ],
      "every line applied once, in file order, across the restart",
    );
    const [position] = await second.store.positions("weft-source-jsonl");
    t.same(position, {
      source: "weft-source-jsonl",
      stream: file,
      position: String((await stat(file)).size),
    });
    t.equal(
      (await second.store.get("Event", toObjectId("b")))?.properties.n,
      7,
    );

    const deadLetters = await second
      .state("weft-source-jsonl")
      .list<{ reason: string; line: string }>("dead-letters/");
    t.equal(deadLetters.length, 1, "the bad line is one dead letter");
    t.equal(deadLetters[0].value.line, "not json");
    t.match(deadLetters[0].value.reason, /invalid JSON/);
  },
);
