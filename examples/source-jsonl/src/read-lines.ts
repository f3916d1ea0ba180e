import { open } from "node:fs/promises";

/** One complete line of the file. */
export interface Line {
  /** Byte offset of the line's first byte. */
  start: number;
  /** Byte offset just past the line's newline: the position to store once the line is written. */
  end: number;
  /** The line without its line ending; undefined when it is longer than the limit. */
  text: string | undefined;
  /** Length of the line in bytes, without the line ending. */
  bytes: number;
}

const chunkBytes = 64 * 1024;
const NEWLINE = 0x0a;

/**
 * Reads up to `maxLines` complete lines from byte offset `from`. A last line
 * without its newline is left for a later call, because the writer may still
 * be appending to it. Lines longer than `maxLineBytes` come back without
 * text, so one huge line cannot exhaust memory.
 */
export async function readLines(
  file: string,
  from: number,
  maxLines: number,
  maxLineBytes: number,
): Promise<Line[]> {
  const handle = await open(file, "r");
  try {
    const lines: Line[] = [];
    const chunk = Buffer.alloc(chunkBytes);
    let parts: Buffer[] = [];
    let partBytes = 0;
    let lineStart = from;
    let offset = from;

    const keep = (bytes: Buffer) => {
      partBytes += bytes.length;
      // The chunk buffer is reused for the next read, so kept bytes are copied.
      if (partBytes <= maxLineBytes) parts.push(Buffer.from(bytes));
    };

    while (lines.length < maxLines) {
      const { bytesRead } = await handle.read(chunk, 0, chunkBytes, offset);
      if (bytesRead === 0) break;

      let start = 0;
      while (lines.length < maxLines) {
        const newline = chunk.subarray(0, bytesRead).indexOf(NEWLINE, start);
        if (newline === -1) {
          keep(chunk.subarray(start, bytesRead));
          break;
        }
        keep(chunk.subarray(start, newline));
        const end = offset + newline + 1;
        const text =
          partBytes <= maxLineBytes
            ? Buffer.concat(parts).toString("utf8").replace(/\r$/, "")
            : undefined;
        lines.push({ start: lineStart, end, text, bytes: partBytes });
        parts = [];
        partBytes = 0;
        lineStart = end;
        start = newline + 1;
      }
      offset += bytesRead;
    }
    return lines;
  } finally {
    await handle.close();
  }
}
