// A client process of bench/subscriptions.ts: opens `count` WebSockets with
// the graphql-transport-ws subprotocol, one subscription each, filtered to
// category c<(offset + i) % categories>, and records the latency from each
// change's commit timestamp to its arrival in 1 ms buckets.
//
// The clients share the machine's two cores with the host, so they are
// kept lean. Each one speaks WebSocket (RFC 6455) over plain TCP sockets
// itself: the HTTP upgrade with its Sec-WebSocket-Accept check, masked
// frames to the server, and a frame parser that reads a `next` message's
// seq and commit timestamp straight from the received bytes. Only the few
// other messages (connection_ack, error, ping) go through JSON.parse. In a
// side-by-side run with 2,000 subscribers at 100 to 600 writes/s, a client
// process on the ws library used 26 to 40 % more CPU per message.
import { createHash, randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";

const [url, countText, offsetText, categoriesText] = process.argv.slice(2);
const COUNT = Number(countText);
const OFFSET = Number(offsetText);
const CATEGORIES = Number(categoriesText);
const CONNECT_CONCURRENCY = 200;
const MAX_LATENCY_MS = 180_000;
/** The GUID of RFC 6455 section 1.3, for the Sec-WebSocket-Accept check. */
const WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

const target = new URL(url);
const port = Number(target.port);

const query = `subscription ($category: String!) {
  productChanges(where: { category: { equals: $category } }) {
    type seq product { id name price category } _metadata { timestamp }
  }
}`;

/**
 * The start of a `next` message of the one operation (id "1") each socket
 * runs, the same for both servers: graphql-ws's stringifyMessage and
 * @weft/subscriptions write the same members in the same order.
 */
const NEXT_PREFIX = Buffer.from('{"id":"1","type":"next","payload":');
const SEQ_KEY = Buffer.from('"seq":"');
const TIMESTAMP_KEY = Buffer.from('"timestamp":"');
/** Length of an ISO 8601 timestamp such as 2026-12-04T19:02:49.123Z. */
const TIMESTAMP_LENGTH = 24;

const OPCODE_TEXT = 0x1;
const OPCODE_CLOSE = 0x8;
const OPCODE_PING = 0x9;
const OPCODE_PONG = 0xa;

/**
 * The one receive buffer of all sockets (net's `onread` option): each read
 * is handled before the next one starts, so a socket copies only the bytes
 * of an incomplete frame, and no Buffer is allocated per read.
 */
const receiveBuffer = Buffer.allocUnsafe(256 * 1024);

let histogram = new Uint32Array(MAX_LATENCY_MS + 1);
let received = 0;
let errors = 0;
let closed = 0;
/** Results whose seq was not above the previous one of the same socket: duplicates or reordering. */
let outOfOrder = 0;
let cpuAtReset = process.cpuUsage();
/** Set once every socket is connected; a socket that closes before that is opened again. */
let connected = false;

/** Encodes a masked frame from the client (RFC 6455 section 5.3); payloads stay below 64 KiB here. */
function clientFrame(firstByte: number, payload: Buffer): Buffer {
  const headerLength = payload.length < 126 ? 2 : 4;
  const frame = Buffer.allocUnsafe(headerLength + 4 + payload.length);
  frame[0] = firstByte;
  if (headerLength === 2) {
    frame[1] = 0x80 | payload.length;
  } else {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(payload.length, 2);
  }
  const mask = randomBytes(4);
  mask.copy(frame, headerLength);
  const start = headerLength + 4;
  for (let i = 0; i < payload.length; i++)
    frame[start + i] = payload[i] ^ mask[i & 3];
  return frame;
}

/** Reads the decimal digits at `at` up to the first non-digit. */
function readDigits(data: Buffer, at: number, end: number): number {
  let value = 0;
  for (let i = at; i < end; i++) {
    const digit = data[i] - 48;
    if (digit < 0 || digit > 9) break;
    value = value * 10 + digit;
  }
  return value;
}

/** Parses an ISO 8601 UTC timestamp with milliseconds (24 bytes) into epoch milliseconds. */
function readTimestamp(data: Buffer, at: number): number {
  const number = (from: number, digits: number) => {
    let value = 0;
    for (let i = 0; i < digits; i++)
      value = value * 10 + data[at + from + i] - 48;
    return value;
  };
  return Date.UTC(
    number(0, 4),
    number(5, 2) - 1,
    number(8, 2),
    number(11, 2),
    number(14, 2),
    number(17, 2),
    number(20, 3),
  );
}

/** One WebSocket with its one subscription. */
class Subscriber {
  readonly index: number;
  readonly socket: Socket;
  readonly #key = randomBytes(16).toString("base64");
  #upgraded = false;
  /** Received bytes of an incomplete frame, or of the HTTP response while upgrading. */
  #leftover: Buffer | undefined;
  #lastSeq = 0;

  constructor(index: number, onUpgraded: () => void) {
    this.index = index;
    this.socket = connect({
      host: target.hostname,
      port,
      onread: {
        buffer: receiveBuffer,
        callback: (length, buffer) => {
          const chunk = buffer.subarray(0, length);
          if (this.#upgraded) this.#onFrames(chunk);
          else if (this.#onHandshake(chunk)) onUpgraded();
          return true;
        },
      },
    });
    this.socket.setNoDelay(true);
    this.socket.on("connect", () =>
      this.socket.write(
        `GET ${target.pathname} HTTP/1.1\r\n` +
          `Host: ${target.host}\r\n` +
          "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
          `Sec-WebSocket-Key: ${this.#key}\r\n` +
          "Sec-WebSocket-Version: 13\r\n" +
          "Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n",
      ),
    );
  }

  sendText(text: string): void {
    this.socket.write(clientFrame(0x80 | OPCODE_TEXT, Buffer.from(text)));
  }

  /** Checks the upgrade response; returns true once it is complete and valid. */
  #onHandshake(chunk: Buffer): boolean {
    const data = this.#leftover
      ? Buffer.concat([this.#leftover, chunk])
      : chunk;
    const end = data.indexOf("\r\n\r\n");
    if (end < 0) {
      this.#leftover = Buffer.from(data);
      return false;
    }
    this.#leftover = undefined;
    const [status, ...lines] = data.toString("latin1", 0, end).split("\r\n");
    const headers = new Map<string, string>();
    for (const line of lines) {
      const colon = line.indexOf(":");
      headers.set(
        line.slice(0, colon).trim().toLowerCase(),
        line.slice(colon + 1).trim(),
      );
    }
    const accept = createHash("sha1")
      .update(this.#key + WEBSOCKET_GUID)
      .digest("base64");
    if (
      !status.startsWith("HTTP/1.1 101") ||
      headers.get("sec-websocket-accept") !== accept ||
      headers.get("sec-websocket-protocol") !== "graphql-transport-ws"
    ) {
      errors += 1;
      process.stderr.write(
        `socket ${OFFSET + this.index}: upgrade failed: ${status}\n`,
      );
      this.socket.destroy();
      return false;
    }
    this.#upgraded = true;
    this.sendText('{"type":"connection_init"}');
    if (end + 4 < data.length) this.#onFrames(data.subarray(end + 4));
    return true;
  }

  #onFrames(chunk: Buffer): void {
    let data = chunk;
    if (this.#leftover) {
      data = Buffer.concat([this.#leftover, chunk]);
      this.#leftover = undefined;
    }
    let offset = 0;
    while (offset + 2 <= data.length) {
      const first = data[offset];
      const second = data[offset + 1];
      let length = second & 0x7f;
      let start = offset + 2;
      if (length === 126) {
        if (start + 2 > data.length) break;
        length = data.readUInt16BE(offset + 2);
        start += 2;
      } else if (length === 127) {
        if (start + 8 > data.length) break;
        length =
          data.readUInt32BE(offset + 2) * 2 ** 32 +
          data.readUInt32BE(offset + 6);
        start += 8;
      }
      const end = start + length;
      if (end > data.length) break;
      if ((first & 0x80) === 0 || (second & 0x80) !== 0) {
        // The servers send whole, unmasked frames (FIN set) only.
        errors += 1;
        process.stderr.write(
          `socket ${OFFSET + this.index}: unexpected fragmented or masked frame\n`,
        );
        this.socket.destroy();
        return;
      }
      this.#onFrame(first & 0x0f, data, start, end);
      offset = end;
    }
    if (offset < data.length)
      this.#leftover = Buffer.from(data.subarray(offset));
  }

  #onFrame(opcode: number, data: Buffer, start: number, end: number): void {
    if (opcode === OPCODE_TEXT) {
      if (
        end - start > NEXT_PREFIX.length &&
        data.compare(
          NEXT_PREFIX,
          0,
          NEXT_PREFIX.length,
          start,
          start + NEXT_PREFIX.length,
        ) === 0
      )
        this.#onNext(data, start, end);
      else this.#onOtherMessage(data.toString("utf8", start, end));
    } else if (opcode === OPCODE_PING) {
      this.socket.write(
        clientFrame(0x80 | OPCODE_PONG, data.subarray(start, end)),
      );
    } else if (opcode === OPCODE_CLOSE) {
      this.socket.end(
        clientFrame(0x80 | OPCODE_CLOSE, data.subarray(start, end)),
      );
    }
  }

  /** Counts one result and records its latency from the commit timestamp. */
  #onNext(data: Buffer, start: number, end: number): void {
    received += 1;
    const seqAt = data.indexOf(SEQ_KEY, start);
    if (seqAt >= 0 && seqAt < end) {
      const seq = readDigits(data, seqAt + SEQ_KEY.length, end);
      if (seq <= this.#lastSeq) outOfOrder += 1;
      this.#lastSeq = seq;
    }
    const at = data.indexOf(TIMESTAMP_KEY, start);
    if (at < 0 || at + TIMESTAMP_KEY.length + TIMESTAMP_LENGTH > end) return;
    const latency = Date.now() - readTimestamp(data, at + TIMESTAMP_KEY.length);
    histogram[Math.min(MAX_LATENCY_MS, Math.max(0, latency))] += 1;
  }

  #onOtherMessage(text: string): void {
    const message = JSON.parse(text) as { type: string };
    if (message.type === "connection_ack") {
      const category = `c${(OFFSET + this.index) % CATEGORIES}`;
      this.sendText(
        JSON.stringify({
          id: "1",
          type: "subscribe",
          payload: { query, variables: { category } },
        }),
      );
    } else if (message.type === "next") {
      // A result serialized differently, which neither server does today.
      received += 1;
    } else if (message.type === "error") {
      errors += 1;
      process.stderr.write(`socket ${OFFSET + this.index}: ${text}\n`);
    } else if (message.type === "ping") {
      this.sendText('{"type":"pong"}');
    }
  }
}

const subscribers = new Array<Subscriber>(COUNT);

function open(index: number): Promise<void> {
  return new Promise((resolve) => {
    const subscriber = new Subscriber(index, resolve);
    subscribers[index] = subscriber;
    subscriber.socket.on("close", () => {
      closed += 1;
      resolve();
      if (!connected) setTimeout(() => void open(index), 100);
    });
    subscriber.socket.on("error", (error) => {
      errors += 1;
      process.stderr.write(`socket ${OFFSET + index}: ${error.message}\n`);
    });
  });
}

let next = 0;
await Promise.all(
  Array.from({ length: CONNECT_CONCURRENCY }, async () => {
    while (next < COUNT) await open(next++);
  }),
);
process.send!({ cmd: "connected", count: subscribers.length });

process.on("message", (message: { cmd: string }) => {
  if (message.cmd === "reset") {
    connected = true;
    histogram = new Uint32Array(MAX_LATENCY_MS + 1);
    received = 0;
    closed = 0;
    errors = 0;
    outOfOrder = 0;
    cpuAtReset = process.cpuUsage();
    process.send!({ cmd: "reset" });
  } else if (message.cmd === "progress") {
    process.send!({ cmd: "progress", received, errors, closed });
  } else if (message.cmd === "report") {
    const buckets: Array<[number, number]> = [];
    histogram.forEach((count, latency) => {
      if (count > 0) buckets.push([latency, count]);
    });
    const cpu = process.cpuUsage(cpuAtReset);
    process.send!({
      cmd: "report",
      received,
      errors,
      closed,
      outOfOrder,
      cpuUs: cpu.user + cpu.system,
      buckets,
    });
  } else if (message.cmd === "exit") {
    for (const subscriber of subscribers) subscriber?.socket.destroy();
    process.exit(0);
  }
});
