// Type declarations for the pure-JavaScript codec packages, which ship none.

declare module "snappyjs" {
  /** Compresses into the raw Snappy block format (no framing). */
  export function compress<T extends Uint8Array | ArrayBuffer>(input: T): T;
  /** Decompresses a raw Snappy block; throws when the input is not valid Snappy. */
  export function uncompress<T extends Uint8Array | ArrayBuffer>(input: T, maxLength?: number): T;
}

declare module "lz4js" {
  /** Decompresses an LZ4 frame (magic 0x184D2204), with or without block and content checksums. */
  export function decompress(input: Uint8Array, maxSize?: number): Uint8Array;
  /** Worst-case size of `inputSize` bytes after block compression. */
  export function compressBound(inputSize: number): number;
  /**
   * Compresses `src[sIndex, sIndex + sLength)` into `dst` as one LZ4 block and
   * returns its size, or 0 when nothing matched (store the block uncompressed).
   * `hashTable` (65536 entries) must be zeroed for the block to be independent.
   */
  export function compressBlock(
    src: Uint8Array,
    dst: Uint8Array,
    sIndex: number,
    sLength: number,
    hashTable: Uint32Array,
  ): number;
}

declare module "lz4js/xxh32.js" {
  /** XXH32 of `src[index, index + length)` with `seed`. */
  export function hash(seed: number, src: Uint8Array, index: number, length: number): number;
}
