import t from "tap";
import kafkajs from "kafkajs";
import { pino } from "pino";
import { createLogCreator, kafkajsLogLevel } from "@weft/kafka";
import { captureLogger, levels } from "./log-capture.js";

const { logLevel } = kafkajs;

t.test("kafkajs levels map to pino levels", async (t) => {
  const { logger, lines } = captureLogger();
  const log = createLogCreator(logger)(logLevel.DEBUG);
  const entry = (level: kafkajs.logLevel, message: string) =>
    log({
      namespace: "Consumer",
      level,
      label: "",
      log: { timestamp: "now", message, logger: "kafkajs", groupId: "g1" },
    });

  entry(logLevel.ERROR, "crashed");
  entry(logLevel.WARN, "slow");
  entry(logLevel.INFO, "joined");
  entry(logLevel.DEBUG, "fetched");

  t.same(
    lines.map((line) => [line.level, line.msg]),
    [
      [levels.error, "crashed"],
      [levels.warn, "slow"],
      [levels.info, "joined"],
      [levels.debug, "fetched"],
    ],
  );
  t.equal(lines[0].kafkajs, "Consumer", "namespace kept");
  t.equal(lines[0].groupId, "g1", "kafkajs fields kept");
  t.notOk("timestamp" in lines[0], "kafkajs timestamp dropped");
  t.notOk("logger" in lines[0], "kafkajs logger name dropped");
});

t.test("kafkajs log level follows the pino level", async (t) => {
  const cases = [
    ["trace", logLevel.DEBUG],
    ["debug", logLevel.DEBUG],
    ["info", logLevel.INFO],
    ["warn", logLevel.WARN],
    ["error", logLevel.ERROR],
    ["fatal", logLevel.ERROR],
    ["silent", logLevel.NOTHING],
  ] as const;
  for (const [level, expected] of cases) {
    t.equal(kafkajsLogLevel(pino({ level })), expected, level);
  }
});
