import { decompress } from "lz4js";
import { hash as xxh32 } from "lz4js/xxh32.js";
import { lz4BlockBound, lz4CompressBlock } from "./lz4-block.js";

const frameMagic = 0x184d2204;
/** FLG byte: format version 01 and the block-independence flag. */
const frameFlags = 0x60;
/** BD byte: 64 KB maximum block size, the size the Java Kafka producer writes. */
const blockDescriptor = 0x40;
const maxBlockSize = 64 * 1024;
/** Block size field bit that marks a block stored uncompressed. */
const uncompressedBit = 0x80000000;

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Decompresses an LZ4 frame as Kafka stores it (record batch format v2). */
export function lz4Decompress(input: Buffer): Buffer {
  return toBuffer(decompress(input));
}

/**
 * Compresses into an LZ4 frame of independent 64 KB blocks without
 * checksums, the layout Java's Kafka LZ4 reader expects: it decodes each
 * block on its own. lz4js's own frame writer is not used because its blocks
 * may refer to earlier blocks and may break the end-of-block rules.
 */
export function lz4Compress(input: Buffer): Buffer {
  const blockCount = Math.max(1, Math.ceil(input.length / maxBlockSize));
  const output = Buffer.alloc(
    7 + blockCount * (4 + lz4BlockBound(maxBlockSize)) + 4,
  );

  output.writeUInt32LE(frameMagic, 0);
  output[4] = frameFlags;
  output[5] = blockDescriptor;
  // Header checksum: second byte of XXH32 over the descriptor bytes, seed 0.
  output[6] = (xxh32(0, output, 4, 2) >>> 8) & 0xff;
  let offset = 7;

  for (let start = 0; start < input.length; start += maxBlockSize) {
    const length = Math.min(maxBlockSize, input.length - start);
    const compressedSize = lz4CompressBlock(
      input,
      start,
      start + length,
      output,
      offset + 4,
    );
    if (compressedSize < length) {
      output.writeUInt32LE(compressedSize, offset);
      offset += 4 + compressedSize;
    } else {
      // Incompressible: store the block as is, which the size field's high bit marks.
      output.writeUInt32LE((uncompressedBit | length) >>> 0, offset);
      input.copy(output, offset + 4, start, start + length);
      offset += 4 + length;
    }
  }

  // End mark: a zero block size.
  output.writeUInt32LE(0, offset);
  return output.subarray(0, offset + 4);
}
