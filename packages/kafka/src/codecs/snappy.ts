import { compress, uncompress } from "snappyjs";

/**
 * Magic bytes of the xerial snappy-java stream format ("\x82SNAPPY\0"),
 * which the Java Kafka producer writes. librdkafka and kafkajs write raw
 * Snappy blocks instead, so decompression accepts both.
 */
const xerialMagic = Buffer.from([
  0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00,
]);
/** Magic, then a 4-byte version and a 4-byte minimum compatible version. */
const xerialHeaderSize = 16;

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Decompresses a Kafka Snappy payload, raw or in xerial framing. */
export function snappyDecompress(input: Buffer): Buffer {
  if (
    input.length < xerialHeaderSize ||
    !input.subarray(0, xerialMagic.length).equals(xerialMagic)
  ) {
    return toBuffer(uncompress(input));
  }

  // After the header come chunks, each a big-endian int32 length and a raw Snappy block.
  const chunks: Buffer[] = [];
  let offset = xerialHeaderSize;
  while (offset < input.length) {
    if (offset + 4 > input.length)
      throw new Error(`truncated xerial chunk header at byte ${offset}`);
    const size = input.readUInt32BE(offset);
    offset += 4;
    if (offset + size > input.length)
      throw new Error(`xerial chunk at byte ${offset} overruns the input`);
    chunks.push(toBuffer(uncompress(input.subarray(offset, offset + size))));
    offset += size;
  }
  return Buffer.concat(chunks);
}

/**
 * Compresses into one raw Snappy block, as librdkafka does. Java consumers
 * read it too: snappy-java's stream reader falls back to raw Snappy when the
 * xerial magic is absent.
 */
export function snappyCompress(input: Buffer): Buffer {
  return toBuffer(compress(input));
}
