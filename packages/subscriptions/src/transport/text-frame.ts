/** FIN bit plus the text opcode: a complete text message in one frame (RFC 6455, section 5.2). */
const FIN_TEXT = 0x81;

/**
 * Encodes a WebSocket text frame from the server (unmasked, RFC 6455
 * section 5.2) whose payload is the concatenation of `parts`, in one
 * buffer, so it leaves in one write.
 */
export function encodeTextFrame(parts: readonly Buffer[]): Buffer {
  let length = 0;
  for (const part of parts) length += part.length;
  let headerLength = 10;
  if (length < 126) headerLength = 2;
  else if (length < 65_536) headerLength = 4;

  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = FIN_TEXT;
  if (headerLength === 2) {
    frame[1] = length;
  } else if (headerLength === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }

  let offset = headerLength;
  for (const part of parts) offset += part.copy(frame, offset);
  return frame;
}
