import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import t from "tap";
import {
  produceMessages,
  readTopic,
  startBroker,
  uniqueTopic,
} from "@weft/testkit";

function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return (
      stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z"
    );
  } catch {
    return false;
  }
}

t.test("private broker stop, restart and close", async (t) => {
  const startedAt = Date.now();
  const broker = await startBroker();
  t.teardown(() => broker.close());
  t.comment(`private broker started in ${Date.now() - startedAt} ms`);

  t.match(broker.brokers[0], /^127\.0\.0\.1:\d+$/);
  t.match(broker.saslBrokers[0], /^127\.0\.0\.1:\d+$/);
  t.match(broker.tlsBrokers[0], /^127\.0\.0\.1:\d+$/);
  const firstPid = broker.pid as number;
  t.ok(isRunning(firstPid), "JVM runs");

  const topic = uniqueTopic("restart");
  await produceMessages(broker.brokers, topic, ["kept"]);
  const address = broker.brokers[0];

  await broker.stop();
  t.equal(broker.pid, undefined);
  t.notOk(isRunning(firstPid), "JVM stopped");
  t.ok(existsSync(join(broker.rootDir, "data")), "data kept while stopped");

  await broker.restart();
  t.equal(broker.brokers[0], address, "same address after restart");
  t.not(broker.pid, firstPid, "new JVM");
  const messages = await readTopic(broker.brokers, topic, { expected: 1 });
  t.equal(messages[0]?.value?.toString(), "kept", "data survives the restart");

  // A crash (SIGKILL) keeps the data too; the broker recovers its log on start.
  await broker.stop({ signal: "SIGKILL" });
  await broker.restart();
  await produceMessages(broker.brokers, topic, ["after crash"]);
  const afterCrash = await readTopic(broker.brokers, topic, { expected: 2 });
  t.same(
    afterCrash.map((message) => message.value?.toString()),
    ["kept", "after crash"],
  );

  const lastPid = broker.pid as number;
  await broker.close();
  t.notOk(isRunning(lastPid), "JVM gone after close");
  t.notOk(existsSync(broker.rootDir), "folder deleted after close");
  await broker.close();
  t.pass("close twice is harmless");
});
