import t from "tap";
import { rawJsonText } from "@weft/source-kafka";

t.test("rawJsonText returns a number's source text", async (t) => {
  const text = '{"id":12345678901234567890,"name":"x"}';
  t.equal(rawJsonText(text, ["id"]), "12345678901234567890");
  t.equal(
    JSON.parse(text).id,
    12345678901234567000,
    "JSON.parse rounds the same number",
  );
});

t.test(
  "rawJsonText follows nested paths and skips other members",
  async (t) => {
    const text = JSON.stringify({
      before: {
        id: 1,
        note: 'a "quoted" } string with ] brackets',
        list: [1, { id: 9 }, "]"],
      },
      after: { id: 2, nested: { id: 3 } },
    });
    t.equal(rawJsonText(text, ["after", "id"]), "2");
    t.equal(rawJsonText(text, ["after", "nested", "id"]), "3");
    t.equal(rawJsonText(text, ["before", "id"]), "1");
    t.equal(
      rawJsonText(text, ["before", "note"]),
      '"a \\"quoted\\" } string with ] brackets"',
    );
  },
);

t.test("rawJsonText keeps the exact notation", async (t) => {
  t.equal(rawJsonText('{ "id" : -1.50e+3 }', ["id"]), "-1.50e+3");
  t.equal(
    rawJsonText('{"id":0.1000000000000000000001}', ["id"]),
    "0.1000000000000000000001",
  );
  t.equal(rawJsonText('\n\t{"a":{},"id":\n7\n}', ["id"]), "7");
});

t.test(
  "rawJsonText takes the last of repeated members, as JSON.parse does",
  async (t) => {
    t.equal(rawJsonText('{"id":1,"id":2}', ["id"]), "2");
    t.equal(JSON.parse('{"id":1,"id":2}').id, 2);
  },
);

t.test("rawJsonText decodes escaped member names", async (t) => {
  t.equal(rawJsonText('{"\\u0069d":5,"x\\\\":6}', ["id"]), "5");
  t.equal(rawJsonText('{"\\u0069d":5,"x\\\\":6}', ["x\\"]), "6");
  t.equal(
    rawJsonText('{"a\\"b":1,"id":8}', ["id"]),
    "8",
    "an escaped quote in a name does not end it",
  );
});

t.test("rawJsonText returns undefined for missing paths", async (t) => {
  t.equal(rawJsonText('{"a":1}', ["id"]), undefined);
  t.equal(
    rawJsonText('{"a":1}', ["a", "b"]),
    undefined,
    "a step into a number",
  );
  t.equal(rawJsonText("{}", ["id"]), undefined);
  t.equal(rawJsonText("[1,2]", ["id"]), undefined, "the root is not an object");
  t.equal(
    rawJsonText('{"a":[{"id":1}]}', ["id"]),
    undefined,
    "members of nested values are not members of the root",
  );
});
