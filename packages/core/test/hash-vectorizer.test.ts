import t from "tap";
import { createHashVectorizer } from "@weft/core";

const norm = (vector: number[]) =>
  Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
const cosine = (a: number[], b: number[]) =>
  a.reduce((sum, value, i) => sum + value * b[i], 0);

t.test("deterministic, sized and L2-normalised", async (t) => {
  const vectorizer = createHashVectorizer(64);
  const [a, b, empty] = await vectorizer.vectorize([
    "Red running shoes",
    "Red running shoes",
    "",
  ]);
  t.equal(a.length, 64);
  t.same(a, b);
  t.ok(Math.abs(norm(a) - 1) < 1e-6, "unit length");
  t.same(empty, new Array(64).fill(0), "empty text gives the zero vector");
});

t.test("shared words score higher than unrelated text", async (t) => {
  const vectorizer = createHashVectorizer();
  const [query, near, far] = await vectorizer.vectorize([
    "red running shoes",
    "running shoes in red",
    "chocolate cake recipe",
  ]);
  t.ok(
    cosine(query, near) > cosine(query, far) + 0.3,
    "related text is closer",
  );
});

t.test("case and punctuation do not matter", async (t) => {
  const vectorizer = createHashVectorizer();
  const [a, b] = await vectorizer.vectorize(["Hello, World!", "hello world"]);
  t.same(a, b);
});
