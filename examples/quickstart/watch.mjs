// Prints the Product changes of one category as they commit, over a GraphQL
// subscription: node examples/quickstart/watch.mjs [category] [url]
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const category = process.argv[2] ?? "Electronics";
const url = process.argv[3] ?? "ws://127.0.0.1:8080/v1/graphql";
const client = createClient({ url, webSocketImpl: WebSocket });

const query = `subscription ($category: String!) {
  productChanges(where: { category: { equals: $category } }) {
    type
    seq
    product { id name price }
    previous { price }
  }
}`;

console.log(`watching ${category} products at ${url}; Ctrl-C to stop`);
client.subscribe(
  { query, variables: { category } },
  {
    next: (result) =>
      console.log(JSON.stringify(result.data?.productChanges ?? result.errors)),
    error: (error) => {
      console.error("subscription failed:", error);
      process.exitCode = 1;
    },
    complete: () => {},
  },
);
process.on("SIGINT", () => client.dispose().then(() => process.exit(0)));
