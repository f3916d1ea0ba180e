/** FIN bit plus the text opcode: a complete text message in one frame (RFC 6455, section 5.2). */
const FIN_TEXT = 0x81;

/** Bytes of the header of an unmasked frame with a payload of `payloadLength` bytes. */
export function textFrameHeaderLength(payloadLength: number): number {
  if (payloadLength < 126) return 2;
  if (payloadLength < 65_536) return 4;
  return 10;
}

/**
 * Writes the header of a WebSocket text frame from the server (unmasked,
 * RFC 6455 section 5.2) at `offset` and returns the offset after it.
 */
export function writeTextFrameHeader(
  target: Buffer,
  offset: number,
  payloadLength: number,
): number {
  target[offset] = FIN_TEXT;
  if (payloadLength < 126) {
    target[offset + 1] = payloadLength;
    return offset + 2;
  }
  if (payloadLength < 65_536) {
    target[offset + 1] = 126;
    target[offset + 2] = payloadLength >>> 8;
    target[offset + 3] = payloadLength & 0xff;
    return offset + 4;
  }
  target[offset + 1] = 127;
  target.writeUInt32BE(Math.floor(payloadLength / 2 ** 32), offset + 2);
  target.writeUInt32BE(payloadLength >>> 0, offset + 6);
  return offset + 10;
}
