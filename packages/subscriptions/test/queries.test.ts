import t from "tap";
import { SubscriptionsErrorCode } from "@weft/subscriptions";
import { postQuery, startHost } from "./helpers.js";

t.test("get by id returns the object and its vector on request", async (t) => {
  const testHost = await startHost(t);
  await testHost.write([
    {
      op: "upsert",
      class: "Article",
      id: "a1",
      properties: { title: "Kafka streams", topic: "data" },
    },
  ]);

  const plain = await postQuery(testHost, {
    query: `{ article(id: "a1") { id title topic _version _updatedAt } }`,
  });
  t.equal(plain.status, 200);
  const article = plain.body.data!.article as Record<string, unknown>;
  t.equal(article.title, "Kafka streams");
  t.equal(article._version, 1);
  t.match(article.id, /^[0-9a-f-]{36}$/);

  const withVector = await postQuery(testHost, {
    query: `query ($id: ID!) { article(id: $id) { _vector } }`,
    variables: { id: article.id },
  });
  const vector = (withVector.body.data!.article as { _vector: number[] })
    ._vector;
  t.equal(vector.length, 32, "the hash vectorizer's dimensions");

  const missing = await postQuery(testHost, {
    query: `{ article(id: "nope") { id } }`,
  });
  t.same(missing.body, { data: { article: null } });
});

t.test("list pages through filtered objects", async (t) => {
  const testHost = await startHost(t);
  await testHost.write(
    Array.from({ length: 7 }, (_, i) => ({
      op: "upsert" as const,
      class: "Product",
      id: `p${i}`,
      properties: {
        name: `p${i}`,
        price: i,
        category: i % 2 === 0 ? "E" : "X",
      },
    })),
  );
  const query = `query ($after: String) { productList(where: { category: { equals: "E" } }, limit: 3, after: $after) { objects { name price } next } }`;

  const names: string[] = [];
  let after: string | null = null;
  let pages = 0;
  do {
    const response = await postQuery(testHost, { query, variables: { after } });
    const page = response.body.data!.productList as {
      objects: Array<{ name: string }>;
      next: string | null;
    };
    names.push(...page.objects.map((object) => object.name));
    after = page.next;
    pages += 1;
  } while (after !== null);

  t.same(names.sort(), ["p0", "p2", "p4", "p6"]);
  t.equal(pages, 2);
});

t.test("nearVector ranks by cosine similarity", async (t) => {
  const testHost = await startHost(t);
  await testHost.write([
    {
      op: "upsert",
      class: "Product",
      id: "east",
      properties: { name: "east", category: "A" },
      vector: [1, 0],
    },
    {
      op: "upsert",
      class: "Product",
      id: "north",
      properties: { name: "north", category: "A" },
      vector: [0, 1],
    },
    {
      op: "upsert",
      class: "Product",
      id: "east-ish",
      properties: { name: "east-ish", category: "B" },
      vector: [0.9, 0.1],
    },
    {
      op: "upsert",
      class: "Product",
      id: "flat",
      properties: { name: "flat", category: "A" },
    },
  ]);

  const response = await postQuery(testHost, {
    query: `{ productNearVector(vector: [1, 0], limit: 2) { object { name } similarity distance } }`,
  });
  const hits = response.body.data!.productNearVector as Array<{
    object: { name: string };
    similarity: number;
    distance: number;
  }>;
  t.same(
    hits.map((hit) => hit.object.name),
    ["east", "east-ish"],
  );
  t.equal(hits[0].similarity, 1);
  t.equal(hits[0].distance, 0);
  t.ok(hits[1].similarity > 0.99 && hits[1].similarity < 1);

  const filtered = await postQuery(testHost, {
    query: `{ productNearVector(vector: [1, 0], where: { category: { equals: "A" } }) { object { name } } }`,
  });
  t.same(
    (
      filtered.body.data!.productNearVector as Array<{
        object: { name: string };
      }>
    ).map((hit) => hit.object.name),
    ["east", "north"],
    "where applies and objects without a vector are skipped",
  );

  const zero = await postQuery(testHost, {
    query: `{ productNearVector(vector: [0, 0]) { distance } }`,
  });
  t.equal(
    zero.body.errors![0].extensions!.code,
    SubscriptionsErrorCode.ARGUMENT_INVALID,
  );
});

t.test("nearText vectorizes with the class's vectorizer", async (t) => {
  const testHost = await startHost(t);
  await testHost.write([
    {
      op: "upsert",
      class: "Article",
      id: "a1",
      properties: { title: "stream processing with kafka", topic: "data" },
    },
    {
      op: "upsert",
      class: "Article",
      id: "a2",
      properties: { title: "baking sourdough bread", topic: "food" },
    },
    {
      op: "upsert",
      class: "Article",
      id: "a3",
      properties: {
        title: "graphql subscriptions over websockets",
        topic: "web",
      },
    },
  ]);

  const response = await postQuery(testHost, {
    query: `{ articleNearText(text: "baking sourdough bread", limit: 3) { object { title } similarity } }`,
  });
  const hits = response.body.data!.articleNearText as Array<{
    object: { title: string };
    similarity: number;
  }>;
  t.equal(hits.length, 3);
  t.equal(hits[0].object.title, "baking sourdough bread");
  t.ok(
    Math.abs(hits[0].similarity - 1) < 1e-9,
    "the same text has similarity 1",
  );

  const noVectorizer = await postQuery(testHost, {
    query: `{ productNearText(text: "x") { distance } }`,
  });
  t.match(
    noVectorizer.body.errors![0].message,
    /Cannot query field "productNearText"/,
  );
});

t.test("query errors carry codes", async (t) => {
  const testHost = await startHost(t, { config: { maxPageSize: 10 } });

  const tooMany = await postQuery(testHost, {
    query: `{ productList(limit: 11) { next } }`,
  });
  t.equal(tooMany.status, 200);
  t.equal(
    tooMany.body.errors![0].extensions!.code,
    SubscriptionsErrorCode.ARGUMENT_INVALID,
  );

  const badDate = await postQuery(testHost, {
    query: `{ productList(where: { released: { gte: "yesterday" } }, limit: 5) { next } }`,
  });
  t.equal(badDate.body.errors![0].extensions!.code, "WEFT_ERR_FILTER_INVALID");

  const subscription = await postQuery(testHost, {
    query: `subscription { productChanges { seq } }`,
  });
  t.equal(
    subscription.body.errors![0].extensions!.code,
    SubscriptionsErrorCode.BAD_REQUEST,
  );
  t.match(subscription.body.errors![0].message, /WebSocket/);

  const invalid = await postQuery(testHost, { query: `{ nope }` });
  t.equal(invalid.status, 200);
  t.match(invalid.body.errors![0].message, /Cannot query field "nope"/);

  const malformed = await postQuery(testHost, { variables: {} });
  t.equal(malformed.status, 400);
  t.equal(
    malformed.body.errors![0].extensions!.code,
    SubscriptionsErrorCode.BAD_REQUEST,
  );

  const lastSeq = await postQuery(testHost, { query: `{ lastSeq }` });
  t.same(lastSeq.body, { data: { lastSeq: "0" } });
});

t.test("queries need the API key when keys are configured", async (t) => {
  const testHost = await startHost(t, { apiKeys: ["secret-1"] });
  const anonymous = await postQuery(testHost, { query: `{ lastSeq }` });
  t.equal(anonymous.status, 401);
  const authorized = await postQuery(
    testHost,
    { query: `{ lastSeq }` },
    "secret-1",
  );
  t.equal(authorized.status, 200);
});
