import t from "tap";
import { toObjectId } from "@weft/core";
import { brokers, readTopic, uniqueTopic } from "@weft/testkit";
import {
  consumer,
  metricValue,
  newTopic,
  objects,
  produce,
  produceWithKcat,
  startSource,
  waitFor,
  waitForObjects,
} from "./helpers.js";

const header = (value: unknown) =>
  Buffer.isBuffer(value) ? value.toString("utf8") : value;

t.test(
  "each bad-message kind goes to the dead-letter topic and the next good message is written",
  async (t) => {
    const topic = await newTopic("dlq-source");
    const deadLetterTopic = await newTopic("dlq");
    const binaryHeader = Buffer.from([0x00, 0xff, 0x10, 0x80]);

    const bad = [
      {
        kind: "invalid JSON",
        code: "WEFT_ERR_SOURCE_KAFKA_INVALID_JSON",
        key: "b1",
        value: "not json {",
      },
      {
        kind: "wrong type",
        code: "WEFT_ERR_OBJECT_INVALID",
        key: "b2",
        value: '{"sku":123}',
      },
      {
        kind: "too large",
        code: "WEFT_ERR_SOURCE_KAFKA_TOO_LARGE",
        key: "b3",
        value: JSON.stringify({ sku: "x".repeat(400) }),
      },
      {
        kind: "missing id",
        code: "WEFT_ERR_SOURCE_KAFKA_MISSING_ID",
        key: null,
        value: '{"sku":"no-key"}',
      },
      {
        kind: "empty value",
        code: "WEFT_ERR_SOURCE_KAFKA_EMPTY_VALUE",
        key: "b5",
        value: "",
      },
      {
        kind: "not an object",
        code: "WEFT_ERR_SOURCE_KAFKA_NOT_OBJECT",
        key: "b6",
        value: "[1,2]",
      },
      {
        kind: "unknown property",
        code: "WEFT_ERR_OBJECT_INVALID",
        key: "b7",
        value: '{"colour":"red"}',
      },
    ];
    const messages = bad.flatMap((message, i) => [
      {
        key: message.key,
        value: message.value,
        headers: { "x-binary": binaryHeader, "x-repeated": ["one", "two"] },
      },
      { key: `good-${i}`, value: { sku: `good-${i}` } },
    ]);
    await produce(topic, messages);

    const host = await startSource(t, {
      consumers: [
        consumer(topic, {
          name: "dlq-test",
          deadLetterTopic,
          maxMessageBytes: 300,
        }),
      ],
    });

    const stored = await waitForObjects(host, "Product", bad.length);
    for (let i = 0; i < bad.length; i++)
      t.ok(
        stored.has(toObjectId(`good-${i}`)),
        `good message after ${bad[i].kind} is written`,
      );

    const letters = await readTopic(await brokers(), deadLetterTopic, {
      expected: bad.length,
    });
    t.equal(letters.length, bad.length, "one dead letter per bad message");

    for (const [i, expected] of bad.entries()) {
      const letter = letters.find(
        (candidate) =>
          header(candidate.headers["weft.dlq.source.offset"]) === String(i * 2),
      );
      if (!letter) {
        t.fail(`no dead letter for ${expected.kind}`);
        continue;
      }
      t.equal(
        header(letter.headers["weft.dlq.error.code"]),
        expected.code,
        `${expected.kind}: error code`,
      );
      t.ok(
        String(header(letter.headers["weft.dlq.error.message"])).length > 0,
        `${expected.kind}: error message`,
      );
      t.equal(
        header(letter.headers["weft.dlq.source.topic"]),
        topic,
        `${expected.kind}: source topic`,
      );
      t.equal(
        header(letter.headers["weft.dlq.source.partition"]),
        "0",
        `${expected.kind}: source partition`,
      );
      t.ok(
        !Number.isNaN(
          Date.parse(String(header(letter.headers["weft.dlq.time"]))),
        ),
        `${expected.kind}: time`,
      );
      t.same(
        letter.key,
        expected.key === null ? null : Buffer.from(expected.key),
        `${expected.kind}: original key`,
      );
      t.same(
        letter.value,
        Buffer.from(expected.value),
        `${expected.kind}: original value`,
      );
      t.same(
        letter.headers["x-binary"],
        binaryHeader,
        `${expected.kind}: binary header bytes unchanged`,
      );
      t.same(
        (letter.headers["x-repeated"] as Buffer[]).map((value) =>
          value.toString(),
        ),
        ["one", "two"],
        `${expected.kind}: repeated header kept`,
      );
    }

    t.equal(
      await metricValue(host, "weft_source_kafka_dead_letters_total", {
        consumer: "dlq-test",
        reason: "WEFT_ERR_OBJECT_INVALID",
      }),
      2,
    );
    t.equal(
      await metricValue(host, "weft_source_kafka_dead_letters_total", {
        consumer: "dlq-test",
        reason: "WEFT_ERR_SOURCE_KAFKA_INVALID_JSON",
      }),
      1,
    );
    t.equal(
      await metricValue(host, "weft_source_kafka_messages_total", {
        consumer: "dlq-test",
        topic,
        outcome: "dead_letter",
      }),
      bad.length,
    );
  },
);

t.test(
  "dead letter of a message with a null header lists the header",
  async (t) => {
    const topic = await newTopic("dlq-null-header");
    // Not created here: the source creates a missing dead-letter topic at start.
    const deadLetterTopic = uniqueTopic("sk-dlq-created");
    await produceWithKcat(topic, {
      key: "k",
      value: "{broken",
      headers: [
        ["x-null", null],
        ["x-text", "kept"],
      ],
    });

    await startSource(t, { consumers: [consumer(topic, { deadLetterTopic })] });
    const [letter] = await readTopic(await brokers(), deadLetterTopic, {
      expected: 1,
    });
    t.equal(header(letter.headers["weft.dlq.null.headers"]), '["x-null"]');
    t.equal(header(letter.headers["x-text"]), "kept");
    t.equal(
      header(letter.headers["weft.dlq.error.code"]),
      "WEFT_ERR_SOURCE_KAFKA_INVALID_JSON",
    );
  },
);

t.test(
  "without deadLetterTopic bad messages are counted and skipped",
  async (t) => {
    const topic = await newTopic("no-dlq");
    await produce(topic, [
      { key: "bad", value: "nope" },
      { key: "good", value: { sku: "good" } },
    ]);
    const host = await startSource(t, {
      consumers: [consumer(topic, { name: "no-dlq" })],
    });

    await waitForObjects(host, "Product", 1);
    await waitFor(
      "the dead-letter count",
      async () =>
        (await metricValue(host, "weft_source_kafka_dead_letters_total", {
          consumer: "no-dlq",
          reason: "WEFT_ERR_SOURCE_KAFKA_INVALID_JSON",
        })) === 1,
    );
    t.equal((await objects(host.store, "Product")).size, 1);
  },
);
