import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import t from "tap";
import { GraphQLInputObjectType, GraphQLObjectType } from "graphql";
import { createHostFromFile, createLogger, loadConfig } from "@weft/core";
import { SubscriptionsErrorCode, buildSchema } from "@weft/subscriptions";
import { articleClass, productClass } from "./helpers.js";

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");

function inputFields(
  schema: ReturnType<typeof buildSchema>["schema"],
  name: string,
): string[] {
  return Object.keys(
    (schema.getType(name) as GraphQLInputObjectType).getFields(),
  ).sort();
}

t.test("where inputs have operators typed by property type", async (t) => {
  const { schema } = buildSchema([productClass]);
  const common = ["equals", "in", "isNull", "notEquals", "notIn"];

  t.same(
    inputFields(schema, "TextCondition"),
    [...common, "contains", "like"].sort(),
  );
  t.same(
    inputFields(schema, "NumberCondition"),
    [...common, "gt", "gte", "lt", "lte"].sort(),
  );
  t.same(
    inputFields(schema, "IntCondition"),
    [...common, "gt", "gte", "lt", "lte"].sort(),
  );
  t.same(
    inputFields(schema, "DateCondition"),
    [...common, "gt", "gte", "lt", "lte"].sort(),
  );
  t.same(inputFields(schema, "BooleanCondition"), common);
  t.same(inputFields(schema, "ProductWhere"), [
    "active",
    "and",
    "blob",
    "category",
    "name",
    "not",
    "or",
    "price",
    "released",
    "stock",
    "tags",
  ]);
  t.equal(
    String(
      (schema.getType("ProductWhere") as GraphQLInputObjectType).getFields()
        .price.type,
    ),
    "NumberCondition",
  );
  t.equal(
    String(
      (schema.getType("ProductWhere") as GraphQLInputObjectType).getFields()
        .stock.type,
    ),
    "IntCondition",
  );
});

t.test("each class gets a subscription and queries", async (t) => {
  const generated = buildSchema([productClass, articleClass]);
  const subscription = Object.keys(
    generated.schema.getSubscriptionType()!.getFields(),
  ).sort();
  const query = Object.keys(
    generated.schema.getQueryType()!.getFields(),
  ).sort();

  t.same(subscription, ["articleChanges", "changes", "productChanges"]);
  t.same(query, [
    "article",
    "articleList",
    "articleNearText",
    "articleNearVector",
    "lastSeq",
    "product",
    "productList",
    "productNearVector",
  ]);
  const change = generated.schema.getType("ProductChange") as GraphQLObjectType;
  t.same(Object.keys(change.getFields()).sort(), [
    "_metadata",
    "previous",
    "product",
    "seq",
    "type",
  ]);
  t.equal(
    String(change.getFields().seq.type),
    "String!",
    "seq is a string of digits",
  );
  const args = generated.schema
    .getSubscriptionType()!
    .getFields()
    .productChanges.args.map((arg) => `${arg.name}: ${String(arg.type)}`);
  t.same(args, [
    "where: ProductWhere",
    "operations: [ChangeOperation!]",
    "afterSeq: String",
  ]);
});

t.test("properties that clash with generated names are left out", async (t) => {
  const generated = buildSchema([
    {
      name: "Thing",
      properties: [
        { name: "label", type: "text" },
        { name: "_vector", type: "text" },
        { name: "and", type: "text" },
      ],
    },
  ]);
  const object = generated.schema.getType("Thing") as GraphQLObjectType;
  t.equal(
    String(object.getFields()._vector.type),
    "[Float!]",
    "the plugin's _vector field stays",
  );
  t.ok(object.getFields().and, "and is a field of the object");
  t.same(
    inputFields(generated.schema, "ThingWhere"),
    ["and", "label", "not", "or"],
    "the property and is not filterable",
  );
  t.same(
    generated.omitted.map((omission) => omission.property),
    ["_vector", "and"],
  );
});

t.test(
  "class names that produce the same GraphQL name are rejected",
  async (t) => {
    t.throws(() => buildSchema([{ name: "Change", properties: [] }]), {
      code: SubscriptionsErrorCode.SCHEMA_CONFLICT,
      message: /Change/,
    });
    t.throws(
      () =>
        buildSchema([productClass, { name: "ProductList", properties: [] }]),
      {
        code: SubscriptionsErrorCode.SCHEMA_CONFLICT,
        message: /productList/,
      },
    );
    t.throws(() => buildSchema([{ name: "LastSeq", properties: [] }]), {
      code: SubscriptionsErrorCode.SCHEMA_CONFLICT,
    });
  },
);

t.test(
  "a config file loads the plugin by its short name with environment overrides",
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "weft-subscriptions-"));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, "weft.yaml");
    await writeFile(
      file,
      [
        "store: { use: memory }",
        "classes:",
        "  - name: Product",
        "    properties: [{ name: name, type: text }]",
        "plugins:",
        "  - use: subscriptions",
        "    maxSubscribers: 50",
        "",
      ].join("\n"),
    );

    const env = {
      STREAMING_SUBSCRIPTIONS_MAX: "7",
      STREAMING_SUBSCRIPTIONS_BUFFER_SIZE: "3",
    };
    const config = await loadConfig(file, { env, resolveFrom: [packageDir] });
    const entry = config.plugins.find(
      (plugin) => plugin.plugin.name === "@weft/subscriptions",
    )!;
    t.equal(
      entry.config.maxSubscribers,
      7,
      "the environment wins over the file",
    );
    t.equal(entry.config.bufferSize, 3);
    t.same(entry.envApplied.sort(), [
      "STREAMING_SUBSCRIPTIONS_BUFFER_SIZE",
      "STREAMING_SUBSCRIPTIONS_MAX",
    ]);

    const disabled = await loadConfig(file, {
      env: { STREAMING_SUBSCRIPTIONS_ENABLED: "false" },
      resolveFrom: [packageDir],
    });
    t.notOk(
      disabled.plugins.some(
        (plugin) => plugin.plugin.name === "@weft/subscriptions",
      ),
      "STREAMING_SUBSCRIPTIONS_ENABLED=false leaves the plugin out",
    );

    const invalid = loadConfig(file, {
      env: { STREAMING_SUBSCRIPTIONS_MAX: "many" },
      resolveFrom: [packageDir],
    });
    await t.rejects(invalid, { code: "WEFT_ERR_CONFIG_INVALID" });

    const host = await createHostFromFile(file, {
      port: 0,
      env: {},
      resolveFrom: [packageDir],
      logger: createLogger({ level: "silent" }),
    });
    await host.start();
    t.teardown(() => host.stop());
    const response = await fetch(`${host.http!.url}/v1/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "{ lastSeq }" }),
    });
    t.same(await response.json(), { data: { lastSeq: "0" } });
  },
);

t.test("enabled false registers no endpoint", async (t) => {
  const { Host, MemoryStore, Type, definePlugin } = await import("@weft/core");
  const { default: plugin, subscriptionManagerOf } =
    await import("@weft/subscriptions");
  const host = new Host({
    classes: [productClass],
    server: { port: 0 },
    logger: createLogger({ level: "silent" }),
    processMetrics: false,
  });
  await host.register(
    definePlugin({
      name: "store",
      version: "1.0.0",
      configSchema: Type.Object({}),
      register: (view) => view.provideStore(new MemoryStore()),
    }),
    {},
  );
  await host.register(plugin, { enabled: false });
  await host.start();
  t.teardown(() => host.stop());

  t.equal(subscriptionManagerOf(host), undefined);
  const response = await fetch(`${host.http!.url}/v1/graphql`, {
    method: "POST",
    body: "{}",
  });
  t.equal(response.status, 404);
});
