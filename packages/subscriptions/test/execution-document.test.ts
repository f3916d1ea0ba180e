import { buildSchema, parse, print } from "graphql";
import t from "tap";
import { executionDocument } from "../src/manager/execution-document.js";

const schema = buildSchema(`
  type Query { version: String }
  input Where { category: String }
  type Product { name(upper: Boolean): String, price: Float }
  type Subscription {
    productChanges(where: Where, afterSeq: String): Product
    required(key: String!, where: Where): Product
  }
`);

/** Parses and prints a document, so expected documents compare without layout differences. */
const normalize = (query: string) => print(parse(query));

t.test("root arguments and their variables are removed", async (t) => {
  const document = executionDocument(
    schema,
    parse(
      `subscription ($category: String, $seq: String) { productChanges(where: { category: $category }, afterSeq: $seq) { name } }`,
    ),
    undefined,
  );
  t.equal(
    print(document),
    normalize(`subscription { productChanges { name } }`),
  );
});

t.test("variables used below the root stay", async (t) => {
  const document = executionDocument(
    schema,
    parse(
      `subscription S($category: String, $upper: Boolean, $withPrice: Boolean!) {
        productChanges(where: { category: $category }) {
          name(upper: $upper)
          price @include(if: $withPrice)
        }
      }`,
    ),
    "S",
  );
  t.equal(
    print(document),
    normalize(
      `subscription S($upper: Boolean, $withPrice: Boolean!) {
        productChanges { name(upper: $upper) price @include(if: $withPrice) }
      }`,
    ),
  );
});

t.test("root fields in fragments lose their arguments", async (t) => {
  const document = executionDocument(
    schema,
    parse(
      `subscription ($category: String) { ...Root ... on Subscription { other: productChanges(afterSeq: "1") { price } } }
      fragment Root on Subscription { productChanges(where: { category: $category }) { name } }
      fragment Fields on Product { name }`,
    ),
    undefined,
  );
  t.equal(
    print(document),
    normalize(
      `subscription { ...Root ... on Subscription { other: productChanges { price } } }
      fragment Root on Subscription { productChanges { name } }
      fragment Fields on Product { name }`,
    ),
  );
});

t.test("required root arguments stay", async (t) => {
  const document = executionDocument(
    schema,
    parse(
      `subscription ($key: String!, $category: String) { required(key: $key, where: { category: $category }) { name } }`,
    ),
    undefined,
  );
  t.equal(
    print(document),
    normalize(`subscription ($key: String!) { required(key: $key) { name } }`),
  );
});

t.test("only the named operation is kept", async (t) => {
  const document = executionDocument(
    schema,
    parse(
      `subscription A { productChanges(afterSeq: "1") { name } }
      subscription B { productChanges { price } }`,
    ),
    "B",
  );
  t.equal(
    print(document),
    normalize(`subscription B { productChanges { price } }`),
  );
});
