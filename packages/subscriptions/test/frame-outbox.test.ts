import t from "tap";
import { FrameOutbox } from "../src/transport/frame-outbox.js";

/** Encodes an unmasked text frame with a payload below 126 bytes (RFC 6455, section 5.2). */
function textFrame(payload: string): Buffer {
  const bytes = Buffer.from(payload);
  return Buffer.concat([Buffer.from([0x81, bytes.length]), bytes]);
}

const body = Buffer.from(`"data":{"n":1}`);
const tail = Buffer.from("}}");
const prefix = (id: string) =>
  Buffer.from(`{"id":"${id}","type":"next","payload":{`);

t.test("outbox assembles its messages in order", async (t) => {
  const outbox = new FrameOutbox();
  outbox.add(prefix("a"), body, tail);
  outbox.add(prefix("b"), body, Buffer.from(`,"extensions":{"dropped":2}}}`));
  const expected = Buffer.concat([
    textFrame(`{"id":"a","type":"next","payload":{"data":{"n":1}}}`),
    textFrame(
      `{"id":"b","type":"next","payload":{"data":{"n":1},"extensions":{"dropped":2}}}`,
    ),
  ]);
  t.equal(outbox.bytes, expected.length, "bytes counts headers and payloads");

  t.same(outbox.take(), expected);
  t.equal(outbox.bytes, 0, "take empties the outbox");
});

t.test("outbox keeps working after a long batch", async (t) => {
  const outbox = new FrameOutbox();
  for (const count of [20, 5, 1, 20]) {
    const ids = Array.from({ length: count }, (_, i) => String(i));
    for (const id of ids) outbox.add(prefix(id), body, tail);
    const expected = Buffer.concat(
      ids.map((id) =>
        textFrame(`{"id":"${id}","type":"next","payload":{"data":{"n":1}}}`),
      ),
    );
    t.same(outbox.take(), expected, `a batch of ${count} messages`);
  }
});
