/**
 * LZ4 block compressor (greedy, one hash probe per position), following the
 * LZ4 block format's end-of-block rules: the last match starts at least 12
 * bytes before the end of the block and the last 5 bytes are literals.
 * lz4js's compressor can start a match up to 9 bytes before the end, which
 * Java's lz4 decoder (the one Kafka brokers validate batches with) rejects.
 */

const minMatch = 4;
/** The last 5 bytes of a block are always literals. */
const lastLiterals = 5;
/** The last match must start at least 12 bytes before the end of the block. */
const matchStartLimit = 12;
const maxOffset = 65_535;
const hashBits = 16;
/** After 64 positions without a match the search steps faster through incompressible data. */
const skipShift = 6;

/** Returns the worst-case compressed size of `length` bytes, as LZ4_compressBound computes it. */
export function lz4BlockBound(length: number): number {
  return length + Math.floor(length / 255) + 16;
}

function read32(bytes: Uint8Array, index: number): number {
  return (
    (bytes[index] |
      (bytes[index + 1] << 8) |
      (bytes[index + 2] << 16) |
      (bytes[index + 3] << 24)) >>>
    0
  );
}

function hash(sequence: number): number {
  return Math.imul(sequence, 2654435761) >>> (32 - hashBits);
}

/** Writes a length that continues past its 4-bit token field: 255-byte steps, then the remainder. */
function writeLengthExtension(
  output: Uint8Array,
  position: number,
  remaining: number,
): number {
  while (remaining >= 255) {
    output[position++] = 255;
    remaining -= 255;
  }
  output[position++] = remaining;
  return position;
}

function writeSequence(
  input: Uint8Array,
  literalStart: number,
  literalLength: number,
  output: Uint8Array,
  position: number,
  match?: { offset: number; length: number },
): number {
  const matchCode = match ? match.length - minMatch : 0;
  const tokenPosition = position++;
  output[tokenPosition] =
    (Math.min(literalLength, 15) << 4) | Math.min(matchCode, 15);
  if (literalLength >= 15)
    position = writeLengthExtension(output, position, literalLength - 15);
  output.set(
    input.subarray(literalStart, literalStart + literalLength),
    position,
  );
  position += literalLength;
  if (!match) return position;

  output[position++] = match.offset & 0xff;
  output[position++] = match.offset >>> 8;
  if (matchCode >= 15)
    position = writeLengthExtension(output, position, matchCode - 15);
  return position;
}

/**
 * Compresses `input[start, end)` as one independent LZ4 block into `output`
 * at `outputStart`, and returns the number of bytes written. `output` needs
 * {@link lz4BlockBound} bytes of room.
 */
export function lz4CompressBlock(
  input: Uint8Array,
  start: number,
  end: number,
  output: Uint8Array,
  outputStart: number,
): number {
  const table = new Int32Array(1 << hashBits).fill(-1);
  const lastMatchStart = end - matchStartLimit;
  const matchEndLimit = end - lastLiterals;
  let position = outputStart;
  let anchor = start;
  let index = start;

  while (index <= lastMatchStart) {
    const sequence = read32(input, index);
    const slot = hash(sequence);
    const candidate = table[slot];
    table[slot] = index;

    if (
      candidate < start ||
      index - candidate > maxOffset ||
      read32(input, candidate) !== sequence
    ) {
      index += 1 + ((index - anchor) >>> skipShift);
      continue;
    }

    let length = minMatch;
    while (
      index + length < matchEndLimit &&
      input[candidate + length] === input[index + length]
    )
      length++;
    position = writeSequence(input, anchor, index - anchor, output, position, {
      offset: index - candidate,
      length,
    });
    index += length;
    anchor = index;
  }

  position = writeSequence(input, anchor, end - anchor, output, position);
  return position - outputStart;
}
