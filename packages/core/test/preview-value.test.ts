import t from "tap";
import { previewValue } from "@weft/core";

t.test("previewValue writes short values whole", async (t) => {
  t.equal(previewValue("cheap"), '"cheap"');
  t.equal(previewValue(42), "42");
  t.equal(previewValue(null), "null");
  t.equal(previewValue({ a: [1, true] }), '{"a":[1,true]}');
  t.equal(previewValue(10n), "10n");
  t.equal(previewValue(Number.NaN), "NaN");
  t.equal(previewValue(undefined), "undefined");
});

t.test("previewValue cuts long and deep values", async (t) => {
  const long = previewValue("x".repeat(1_000_000));
  t.ok(long.length <= 41, "a long string is cut");
  t.ok(long.endsWith("…"));

  let deep: unknown[] = [];
  for (let i = 0; i < 100_000; i++) deep = [deep];
  const deepText = previewValue(deep);
  t.equal(deepText, `${"[".repeat(40)}…`, "an array nested 100,000 deep");

  const wide: Record<string, number> = {};
  for (let i = 0; i < 100_000; i++) wide[`key${i}`] = i;
  const wideText = previewValue(wide);
  t.ok(wideText.length <= 41, "an object with 100,000 keys");
  t.match(wideText, /^\{"key0":0,"key1":1/);

  t.equal(previewValue("abcdef", 3), '"ab…', "a custom length");
});
