import {
  GraphQLError,
  GraphQLScalarType,
  Kind,
  type ObjectValueNode,
  type ValueNode,
} from "graphql";

/**
 * Any JSON value, for `object` properties and the generic `changes`
 * subscription. Literals in a document are read as JSON.
 */
export const JSONScalar = new GraphQLScalarType({
  name: "JSON",
  description: "Any JSON value.",
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: (node, variables) => readLiteral(node, variables),
});

function readLiteral(
  node: ValueNode,
  variables: { [name: string]: unknown } | null | undefined,
): unknown {
  switch (node.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
      return node.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(node.value);
    case Kind.NULL:
      return null;
    case Kind.ENUM:
      return node.value;
    case Kind.LIST:
      return node.values.map((item) => readLiteral(item, variables));
    case Kind.OBJECT:
      return readObject(node, variables);
    case Kind.VARIABLE:
      return variables?.[node.name.value];
  }
}

function readObject(
  node: ObjectValueNode,
  variables: { [name: string]: unknown } | null | undefined,
): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const field of node.fields) {
    result[field.name.value] = readLiteral(field.value, variables);
  }
  return result;
}

function toSafeInteger(value: unknown): number {
  const number = typeof value === "string" ? Number(value) : value;
  if (typeof number === "number" && Number.isSafeInteger(number)) return number;

  throw new GraphQLError(
    `SafeInt must be an integer between -(2^53 - 1) and 2^53 - 1, got ${JSON.stringify(value)}`,
  );
}

/**
 * An integer in JavaScript's safe range (±(2^53 - 1)), for `int`
 * properties: GraphQL's own `Int` is 32-bit, which stored integers may
 * exceed.
 */
export const SafeIntScalar = new GraphQLScalarType({
  name: "SafeInt",
  description: "An integer between -(2^53 - 1) and 2^53 - 1.",
  serialize: toSafeInteger,
  parseValue: toSafeInteger,
  parseLiteral(node) {
    if (node.kind !== Kind.INT) {
      throw new GraphQLError(
        `SafeInt must be an integer literal, got a ${node.kind}`,
        { nodes: node },
      );
    }
    return toSafeInteger(Number(node.value));
  },
});
