import kafkajs from "kafkajs";
import { KafkaErrorCode, kafkaError } from "../errors.js";
import { lz4Compress, lz4Decompress } from "./lz4.js";
import { snappyCompress, snappyDecompress } from "./snappy.js";
import { zstdCompress, zstdDecompress } from "./zstd.js";

// kafkajs is CommonJS, and Node cannot detect all of its named exports for ESM imports.
const { CompressionCodecs, CompressionTypes } = kafkajs;

/** Compression codecs by the names Kafka's `compression.type` uses. */
export type CompressionName = "none" | "gzip" | "snappy" | "lz4" | "zstd";

/** The part of kafkajs's Encoder that a codec reads. */
interface Encoder {
  buffer: Buffer;
}

function codec(
  name: string,
  compress: (input: Buffer) => Buffer | Promise<Buffer>,
  decompress: (input: Buffer) => Buffer,
) {
  return () => ({
    async compress(encoder: Encoder): Promise<Buffer> {
      return compress(encoder.buffer);
    },
    async decompress(buffer: Buffer): Promise<Buffer> {
      try {
        return decompress(buffer);
      } catch (error) {
        throw kafkaError(
          KafkaErrorCode.CODEC_FAILED,
          `decompressing a ${name} record batch of ${buffer.length} bytes failed: ${(error as Error).message}`,
          { cause: error, details: { codec: name, bytes: buffer.length } },
        );
      }
    },
  });
}

/**
 * Registers Snappy, LZ4 and zstd codecs in kafkajs, which decodes only gzip
 * by itself, so batches from Java and librdkafka producers are readable. The
 * codecs are pure JavaScript or WebAssembly, so nothing is compiled at
 * install. kafkajs keeps codecs in one table per loaded copy of kafkajs, and
 * calling this again is harmless.
 */
export function registerCodecs(): void {
  CompressionCodecs[CompressionTypes.Snappy] = codec(
    "snappy",
    snappyCompress,
    snappyDecompress,
  );
  CompressionCodecs[CompressionTypes.LZ4] = codec(
    "lz4",
    lz4Compress,
    lz4Decompress,
  );
  CompressionCodecs[CompressionTypes.ZSTD] = codec(
    "zstd",
    zstdCompress,
    zstdDecompress,
  );
}
