// Prints each webhook the quickstart host sends, and checks its signature
// with the standardwebhooks package: node examples/quickstart/receive-webhooks.mjs
import { Buffer } from "node:buffer";
import { createServer } from "node:http";
import { Webhook } from "standardwebhooks";

const secret =
  process.env.WEBHOOK_SECRET ??
  "whsec_d2VmdC1xdWlja3N0YXJ0LWV4YW1wbGUtc2VjcmV0ISE=";
const verifier = new Webhook(secret);
const port = Number(process.env.RECEIVER_PORT ?? 9090);

const server = createServer((request, response) => {
  const chunks = [];
  request.on("data", (chunk) => chunks.push(chunk));
  request.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    try {
      const payload = verifier.verify(body, request.headers);
      console.log(
        `${request.headers["webhook-id"]} verified: ${payload.type} ${JSON.stringify(payload.data.after)}`,
      );
      response.writeHead(204).end();
    } catch (error) {
      console.log(`rejected a request with a bad signature: ${error.message}`);
      response.writeHead(400).end();
    }
  });
});
server.listen(port, "127.0.0.1", () =>
  console.log(`receiving webhooks on http://127.0.0.1:${port}`),
);
process.on("SIGINT", () => server.close(() => process.exit(0)));
