import t from "tap";
import {
  MAX_WHERE_DEPTH,
  compileFilter,
  ErrorCode,
  type Where,
} from "@weft/core";
import { productClass } from "./helpers.js";

const lamp = {
  name: "Desk lamp",
  price: 25.5,
  stock: 3,
  category: "Electronics",
  tags: ["home", "light"],
  active: true,
  released: "2024-03-01T10:00:00Z",
  meta: { color: "black" },
};

// Each row: a where clause and whether `lamp` matches it.
const cases: Array<[string, Where, boolean]> = [
  ["equals text", { category: { equals: "Electronics" } }, true],
  ["equals text other", { category: { equals: "Garden" } }, false],
  ["notEquals", { category: { notEquals: "Garden" } }, true],
  ["gt number", { price: { gt: 25 } }, true],
  ["gt number boundary", { price: { gt: 25.5 } }, false],
  ["gte number boundary", { price: { gte: 25.5 } }, true],
  ["lt int", { stock: { lt: 3 } }, false],
  ["lte int", { stock: { lte: 3 } }, true],
  ["in", { category: { in: ["Garden", "Electronics"] } }, true],
  ["notIn", { category: { notIn: ["Garden", "Electronics"] } }, false],
  ["contains text substring", { name: { contains: "lam" } }, true],
  ["contains text[] member", { tags: { contains: "light" } }, true],
  ["contains text[] not substring", { tags: { contains: "lig" } }, false],
  ["like star", { name: { like: "Desk*" } }, true],
  ["like question mark", { name: { like: "Desk l?mp" } }, true],
  ["like is case-sensitive", { name: { like: "desk*" } }, false],
  ["like escapes regexp characters", { name: { like: "Desk.lamp" } }, false],
  ["isNull on missing property", { description: { isNull: true } }, true],
  ["isNull false on present", { name: { isNull: false } }, true],
  ["missing property equals null", { description: { equals: null } }, true],
  [
    "missing property notEquals value",
    { description: { notEquals: "x" } },
    true,
  ],
  [
    "isNull false on missing property",
    { description: { isNull: false } },
    false,
  ],
  [
    "date gt as instant",
    { released: { gt: "2024-03-01T09:59:59+00:00" } },
    true,
  ],
  [
    "date equals across offsets",
    { released: { equals: "2024-03-01T11:00:00+01:00" } },
    true,
  ],
  ["date lt", { released: { lt: "2024-01-01" } }, false],
  ["boolean equals", { active: { equals: true } }, true],
  [
    "and",
    { and: [{ price: { gt: 10 } }, { category: { equals: "Electronics" } }] },
    true,
  ],
  ["or", { or: [{ price: { gt: 100 } }, { stock: { equals: 3 } }] }, true],
  ["not", { not: { category: { equals: "Electronics" } } }, false],
  [
    "keys of one clause combine with and",
    { price: { gt: 10 }, stock: { gt: 5 } },
    false,
  ],
  ["nested path", { path: ["meta", "color"], equals: "black" }, true],
  ["several operators on one property", { price: { gt: 20, lt: 30 } }, true],
];

for (const [name, where, expected] of cases) {
  t.test(name, async (t) => {
    const typed = compileFilter(where, productClass);
    t.equal(typed(lamp), expected, "with class types");
  });
}

t.test("untyped filter treats a type mismatch as no match", async (t) => {
  const predicate = compileFilter({ price: { gt: 10 } });
  t.equal(predicate({ price: "expensive" }), false);
  t.equal(predicate({ price: 11 }), true);
});

t.test("property named like an operator uses path", async (t) => {
  const predicate = compileFilter({ path: ["and"], equals: 1 });
  t.equal(predicate({ and: 1 }), true);
  t.equal(predicate({ and: 2 }), false);
});

const invalid: Array<[string, unknown, string]> = [
  ["unknown property", { colour: { equals: "red" } }, "where.colour"],
  ["unknown operator", { price: { bigger: 1 } }, "where.price"],
  ["gt on text", { name: { gt: "a" } }, "where.name.gt"],
  ["number operand for text", { name: { equals: 3 } }, "where.name.equals"],
  ["text operand for number", { price: { gt: "10" } }, "where.price.gt"],
  ["in without a list", { category: { in: "Garden" } }, "where.category.in"],
  ["like on a number", { price: { like: "1*" } }, "where.price.like"],
  ["and without a list", { and: { price: { gt: 1 } } }, "where.and"],
  ["isNull not boolean", { name: { isNull: "yes" } }, "where.name.isNull"],
  ["bad date operand", { released: { gt: "yesterday" } }, "where.released.gt"],
];

for (const [name, where, path] of invalid) {
  t.test(`invalid: ${name}`, async (t) => {
    t.throws(() => compileFilter(where as Where, productClass), {
      code: ErrorCode.FILTER_INVALID,
      details: { path },
    });
  });
}

/** Wraps a clause in `levels` levels of `and` or `not`. */
function nest(kind: "and" | "not", levels: number): Where {
  let where: Where = { price: { gt: 1 } };
  for (let i = 0; i < levels; i += 1)
    where = kind === "and" ? { and: [where] } : { not: where };
  return where;
}

t.test("nesting up to the limit compiles", async (t) => {
  t.equal(
    compileFilter(nest("and", MAX_WHERE_DEPTH), productClass)(lamp),
    true,
  );
  t.equal(
    compileFilter(nest("not", MAX_WHERE_DEPTH), productClass)(lamp),
    MAX_WHERE_DEPTH % 2 === 0,
  );
});

t.test("nesting past the limit is invalid", async (t) => {
  t.equal(MAX_WHERE_DEPTH, 64, "the limit docs/configuration.md states");
  for (const kind of ["and", "not"] as const) {
    for (const levels of [MAX_WHERE_DEPTH + 1, 2000]) {
      const error = t.throws(
        () =>
          compileFilter(nest(kind, levels), productClass, "plugins[1].where"),
        {
          code: ErrorCode.FILTER_INVALID,
          message:
            /nested deeper than 64 levels of and, or and not; flatten the filter/,
        },
        `${levels} levels of ${kind}`,
      ) as { details?: { path?: string } };
      const step = kind === "and" ? ".and[0]" : ".not";
      t.equal(
        error.details?.path,
        `plugins[1].where${step.repeat(MAX_WHERE_DEPTH)}.${kind}`,
        `path of ${levels} levels of ${kind}`,
      );
    }
  }
});
