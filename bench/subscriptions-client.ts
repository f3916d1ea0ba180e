// A client process of bench/subscriptions.ts: opens `count` WebSockets with
// the graphql-transport-ws subprotocol, one subscription each, filtered to
// category c<(offset + i) % categories>, and records the latency from each
// change's commit timestamp to its arrival in 1 ms buckets. It speaks the
// protocol directly over ws, so the clients spend little CPU per message on
// the two cores they share with the host.
import WebSocket from "ws";

const [url, countText, offsetText, categoriesText] = process.argv.slice(2);
const COUNT = Number(countText);
const OFFSET = Number(offsetText);
const CATEGORIES = Number(categoriesText);
const CONNECT_CONCURRENCY = 200;
const MAX_LATENCY_MS = 180_000;

const query = `subscription ($category: String!) {
  productChanges(where: { category: { equals: $category } }) {
    type seq product { id name price category } _metadata { timestamp }
  }
}`;

let histogram = new Uint32Array(MAX_LATENCY_MS + 1);
let received = 0;
let errors = 0;
let closed = 0;
const sockets: WebSocket[] = new Array<WebSocket>(COUNT);
const TIMESTAMP_KEY = '"timestamp":"';

function onMessage(
  ws: WebSocket,
  index: number,
  data: WebSocket.RawData,
): void {
  const text = String(data);
  if (text.startsWith('{"id"') && text.includes('"type":"next"')) {
    const at = text.indexOf(TIMESTAMP_KEY);
    const latency =
      Date.now() -
      Date.parse(
        text.slice(at + TIMESTAMP_KEY.length, at + TIMESTAMP_KEY.length + 24),
      );
    histogram[Math.min(MAX_LATENCY_MS, Math.max(0, latency))] += 1;
    received += 1;
    return;
  }
  const message = JSON.parse(text) as { type: string };
  if (message.type === "connection_ack") {
    const category = `c${(OFFSET + index) % CATEGORIES}`;
    ws.send(
      JSON.stringify({
        id: "1",
        type: "subscribe",
        payload: { query, variables: { category } },
      }),
    );
  } else if (message.type === "next") {
    // A result whose serialization starts differently, such as one with extensions.
    received += 1;
  } else if (message.type === "error") {
    errors += 1;
  } else if (message.type === "ping") {
    ws.send('{"type":"pong"}');
  }
}

/** Set once every socket is connected; a socket that closes before that is opened again. */
let connected = false;

function open(index: number): Promise<void> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, "graphql-transport-ws", {
      perMessageDeflate: false,
    });
    sockets[index] = ws;
    ws.on("open", () => {
      ws.send('{"type":"connection_init"}');
      resolve();
    });
    ws.on("message", (data) => onMessage(ws, index, data));
    ws.on("close", () => {
      closed += 1;
      if (!connected) setTimeout(() => void open(index), 100);
    });
    ws.on("error", (error) => {
      errors += 1;
      process.stderr.write(`socket ${OFFSET + index}: ${error.message}\n`);
      resolve();
    });
  });
}

let next = 0;
await Promise.all(
  Array.from({ length: CONNECT_CONCURRENCY }, async () => {
    while (next < COUNT) await open(next++);
  }),
);
process.send!({ cmd: "connected", count: sockets.length });

process.on("message", (message: { cmd: string }) => {
  if (message.cmd === "reset") {
    connected = true;
    histogram = new Uint32Array(MAX_LATENCY_MS + 1);
    received = 0;
    closed = 0;
    errors = 0;
    process.send!({ cmd: "reset" });
  } else if (message.cmd === "progress") {
    process.send!({ cmd: "progress", received, errors, closed });
  } else if (message.cmd === "report") {
    const buckets: Array<[number, number]> = [];
    histogram.forEach((count, latency) => {
      if (count > 0) buckets.push([latency, count]);
    });
    process.send!({ cmd: "report", received, errors, closed, buckets });
  } else if (message.cmd === "exit") {
    for (const ws of sockets) ws?.terminate();
    process.exit(0);
  }
});
