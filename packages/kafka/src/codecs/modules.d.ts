// Type declarations for the pure-JavaScript codec packages, which ship none.

declare module "snappyjs" {
  /** Compresses into the raw Snappy block format (no framing). */
  export function compress<T extends Uint8Array | ArrayBuffer>(input: T): T;
  /** Decompresses a raw Snappy block; throws when the input is not valid Snappy. */
  export function uncompress<T extends Uint8Array | ArrayBuffer>(
    input: T,
    maxLength?: number,
  ): T;
}

declare module "lz4js" {
  /** Decompresses an LZ4 frame (magic 0x184D2204), with or without block and content checksums. */
  export function decompress(input: Uint8Array, maxSize?: number): Uint8Array;
}

declare module "lz4js/xxh32.js" {
  /** XXH32 of `src[index, index + length)` with `seed`. */
  export function hash(
    seed: number,
    src: Uint8Array,
    index: number,
    length: number,
  ): number;
}
