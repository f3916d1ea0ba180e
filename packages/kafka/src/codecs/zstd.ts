import { compress, init } from "@bokuweb/zstd-wasm";
import { decompress } from "fzstd";

/** zstd level 3, the default of the zstd library and of Kafka's Java producer. */
const compressionLevel = 3;

let ready: Promise<void> | undefined;

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Decompresses zstd with fzstd (pure JavaScript). Java and librdkafka
 * producers write streaming frames that omit the content size, which fzstd
 * decodes; the WebAssembly decoder needs that size up front.
 */
export function zstdDecompress(input: Buffer): Buffer {
  return toBuffer(decompress(input));
}

/** Compresses with the zstd library built to WebAssembly, loading the module on first use. */
export async function zstdCompress(input: Buffer): Promise<Buffer> {
  ready ??= init();
  await ready;
  return toBuffer(compress(input, compressionLevel));
}
