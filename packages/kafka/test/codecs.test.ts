import { randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";
import t from "tap";
import kafkajs from "kafkajs";
import { registerCodecs } from "@weft/kafka";

const { CompressionCodecs, CompressionTypes } = kafkajs;

registerCodecs();

type Codec = {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
};
const codecs: Record<string, Codec> = {
  snappy: CompressionCodecs[CompressionTypes.Snappy]() as Codec,
  lz4: CompressionCodecs[CompressionTypes.LZ4]() as Codec,
  zstd: CompressionCodecs[CompressionTypes.ZSTD]() as Codec,
};

/** Payloads that exercise empty input, incompressible data, long runs and several 64 KB LZ4 blocks. */
const payloads: Record<string, Buffer> = {
  empty: Buffer.alloc(0),
  short: Buffer.from("weft"),
  text: Buffer.from("the quick brown fox jumps over the lazy dog ".repeat(100)),
  random: randomBytes(200_000),
  run: Buffer.alloc(300_000, 7),
  mixed: Buffer.concat([
    randomBytes(70_000),
    Buffer.from("abc".repeat(50_000)),
    randomBytes(13),
  ]),
};

for (const [name, codec] of Object.entries(codecs)) {
  t.test(`${name} round trip`, async (t) => {
    for (const [label, payload] of Object.entries(payloads)) {
      const compressed = await codec.compress({ buffer: payload });
      const restored = await codec.decompress(compressed);
      t.ok(
        restored.equals(payload),
        `${label}: ${payload.length} bytes restored`,
      );
    }
    const text = payloads.text;
    t.ok(
      (await codec.compress({ buffer: text })).length < text.length / 5,
      `${name} compresses repetitive text`,
    );
  });

  t.test(`${name} corrupt input raises codec error`, async (t) => {
    await t.rejects(
      codec.decompress(Buffer.from("definitely not compressed data")),
      {
        code: "WEFT_ERR_KAFKA_CODEC_FAILED",
        details: { codec: name },
      },
    );
  });
}

t.test("snappy reads xerial framing", async (t) => {
  // The Java producer's framing: magic, version 1, compatible version 1, then length-prefixed raw blocks.
  const first = Buffer.from("first block ".repeat(10));
  const second = Buffer.from("second block ".repeat(10));
  const { compress } = await import("snappyjs");
  const blocks = [first, second].map((block) => {
    const raw = Buffer.from(compress(block));
    const length = Buffer.alloc(4);
    length.writeUInt32BE(raw.length);
    return Buffer.concat([length, raw]);
  });
  const header = Buffer.from([
    0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1,
  ]);
  const restored = await codecs.snappy.decompress(
    Buffer.concat([header, ...blocks]),
  );
  t.ok(restored.equals(Buffer.concat([first, second])));
});

t.test("lz4 frame header", async (t) => {
  const compressed = await codecs.lz4.compress({ buffer: payloads.mixed });
  t.equal(compressed.readUInt32LE(0), 0x184d2204, "LZ4 frame magic");
  t.equal(compressed[4], 0x60, "version 01 with independent blocks");
  t.equal(compressed[5], 0x40, "64 KB maximum block size");
  t.equal(compressed.readUInt32LE(compressed.length - 4), 0, "end mark");
});

t.test("gzip stays with kafkajs", async (t) => {
  const gzip = CompressionCodecs[CompressionTypes.GZIP]() as Codec;
  const restored = await gzip.decompress(gzipSync(payloads.text));
  t.ok(restored.equals(payloads.text));
});
