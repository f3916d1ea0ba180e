import { deepEqual } from "../deep-equal.js";
import { ErrorCode, WeftError } from "../errors.js";
import type { ClassDefinition, PropertyType } from "../classes/types.js";
import type { Condition, Where } from "./types.js";

/** A compiled `where` clause. */
export type Predicate = (object: Record<string, unknown>) => boolean;

const operators = new Set([
  "equals",
  "notEquals",
  "gt",
  "gte",
  "lt",
  "lte",
  "in",
  "notIn",
  "contains",
  "like",
  "isNull",
  "path",
]);
const orderedTypes = new Set<PropertyType>(["int", "number", "date"]);

/**
 * Maximum nesting of `and`, `or` and `not` in one `where` clause. Compiling
 * and matching recurse once per level, so an unbounded filter from a client
 * could exhaust the stack.
 */
export const MAX_WHERE_DEPTH = 64;

interface CompileContext {
  definition?: ClassDefinition;
  /** Config or request path of the clause, for error messages. */
  where: string;
  /** Levels of `and`, `or` and `not` around the clause. */
  depth: number;
}

function invalid(
  context: CompileContext,
  message: string,
  value?: unknown,
): never {
  throw new WeftError(
    ErrorCode.FILTER_INVALID,
    `${context.where}: ${message}`,
    {
      details: { path: context.where, value },
    },
  );
}

/**
 * Compiles a `where` clause once into a predicate over an object's
 * properties. With a class definition, property names and operand types are
 * checked here, so a typo fails at compile time instead of matching nothing.
 * @throws WeftError `WEFT_ERR_FILTER_INVALID` naming the clause's path.
 */
export function compileFilter(
  where: Where | undefined,
  definition?: ClassDefinition,
  path = "where",
): Predicate {
  if (where === undefined || where === null) return () => true;
  return compileClause(where, { definition, where: path, depth: 0 });
}

function compileClause(where: Where, context: CompileContext): Predicate {
  if (typeof where !== "object" || where === null || Array.isArray(where)) {
    invalid(
      context,
      `expected an object of property conditions, got ${JSON.stringify(where)}`,
      where,
    );
  }
  if (Array.isArray(where.path))
    return compileCondition(
      where.path as string[],
      where as Condition,
      context,
    );

  const parts: Predicate[] = [];
  for (const [key, value] of Object.entries(where)) {
    const inner = { ...context, where: `${context.where}.${key}` };
    if (key === "and" || key === "or" || key === "not") checkDepth(inner);

    if (key === "and" || key === "or") {
      if (!Array.isArray(value))
        invalid(inner, `expected a list of clauses`, value);
      const clauses = value.map((clause, i) =>
        compileClause(clause as Where, {
          ...context,
          where: `${inner.where}[${i}]`,
          depth: context.depth + 1,
        }),
      );
      parts.push(
        key === "and"
          ? (o) => clauses.every((c) => c(o))
          : (o) => clauses.some((c) => c(o)),
      );
    } else if (key === "not") {
      const clause = compileClause(value as Where, {
        ...inner,
        depth: context.depth + 1,
      });
      parts.push((o) => !clause(o));
    } else {
      parts.push(compileCondition([key], value as Condition, inner));
    }
  }

  if (parts.length === 1) return parts[0];
  return (object) => parts.every((part) => part(object));
}

function checkDepth(context: CompileContext): void {
  if (context.depth < MAX_WHERE_DEPTH) return;
  invalid(
    context,
    `nested deeper than ${MAX_WHERE_DEPTH} levels of and, or and not; flatten the filter`,
  );
}

function propertyType(
  path: string[],
  context: CompileContext,
): PropertyType | undefined {
  if (!context.definition) return undefined;

  const property = context.definition.properties.find(
    (p) => p.name === path[0],
  );
  if (!property) {
    const names = context.definition.properties.map((p) => p.name).join(", ");
    invalid(
      context,
      `unknown property "${path[0]}" of class ${context.definition.name}; known properties: ${names}`,
      path[0],
    );
  }
  if (path.length > 1 && property.type !== "object") {
    invalid(
      context,
      `property "${path[0]}" is ${property.type}, so it has no nested path ${path.join(".")}`,
    );
  }
  return path.length > 1 ? undefined : property.type;
}

function readPath(object: Record<string, unknown>, path: string[]): unknown {
  let value: unknown = object;
  for (const key of path) {
    if (typeof value !== "object" || value === null) return null;
    value = (value as Record<string, unknown>)[key];
  }
  return value === undefined ? null : value;
}

function compileCondition(
  path: string[],
  condition: Condition,
  context: CompileContext,
): Predicate {
  if (
    typeof condition !== "object" ||
    condition === null ||
    Array.isArray(condition)
  ) {
    invalid(
      context,
      `expected a condition such as { equals: … }, got ${JSON.stringify(condition)}`,
      condition,
    );
  }
  const type = propertyType(path, context);
  const tests: Array<(value: unknown) => boolean> = [];

  for (const [operator, operand] of Object.entries(condition)) {
    if (!operators.has(operator)) {
      invalid(
        context,
        `unknown operator "${operator}"; use one of ${[...operators].filter((o) => o !== "path").join(", ")}`,
        operator,
      );
    }
    if (operator === "path") continue;
    tests.push(
      compileOperator(operator, operand, type, {
        ...context,
        where: `${context.where}.${operator}`,
      }),
    );
  }
  if (tests.length === 0)
    invalid(context, "empty condition; add an operator such as equals");

  return (object) => {
    const value = readPath(object, path);
    return tests.every((test) => test(value));
  };
}

function toInstant(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : time;
}

function checkOperand(
  operand: unknown,
  type: PropertyType | undefined,
  context: CompileContext,
): void {
  if (type === undefined || operand === null) return;

  const ok =
    type === "int" || type === "number"
      ? typeof operand === "number"
      : type === "boolean"
        ? typeof operand === "boolean"
        : type === "date"
          ? toInstant(operand) !== undefined
          : type === "object"
            ? true
            : typeof operand === "string";
  if (!ok)
    invalid(
      context,
      `operand ${JSON.stringify(operand)} does not fit property type ${type}`,
      operand,
    );
}

function equalsFor(
  type: PropertyType | undefined,
): (value: unknown, operand: unknown) => boolean {
  if (type === "date")
    return (value, operand) =>
      value !== null && toInstant(value) === toInstant(operand);
  if (type === "text[]") {
    return (value, operand) =>
      Array.isArray(operand)
        ? deepEqual(value, operand)
        : Array.isArray(value) && value.includes(operand);
  }
  return (value, operand) =>
    operand === null ? value === null : deepEqual(value, operand);
}

function compileOperator(
  operator: string,
  operand: unknown,
  type: PropertyType | undefined,
  context: CompileContext,
) {
  const equals = equalsFor(type);

  switch (operator) {
    case "equals":
      if (type !== "text[]") checkOperand(operand, type, context);
      return (value: unknown) => equals(value, operand);
    case "notEquals":
      if (type !== "text[]") checkOperand(operand, type, context);
      return (value: unknown) => !equals(value, operand);
    case "in":
    case "notIn": {
      if (!Array.isArray(operand))
        invalid(
          context,
          `expected a list, got ${JSON.stringify(operand)}`,
          operand,
        );
      operand.forEach((item, i) =>
        checkOperand(item, type === "text[]" ? "text" : type, {
          ...context,
          where: `${context.where}[${i}]`,
        }),
      );
      const member = (value: unknown) =>
        Array.isArray(value) && type !== "object"
          ? value.some((v) => operand.some((o) => equals(v, o)))
          : operand.some((o) => equals(value, o));
      return operator === "in" ? member : (value: unknown) => !member(value);
    }
    case "gt":
    case "gte":
    case "lt":
    case "lte":
      return compileOrdering(operator, operand, type, context);
    case "contains":
      if (type !== undefined && type !== "text" && type !== "text[]")
        invalid(context, `contains applies to text and text[], not ${type}`);
      if (typeof operand !== "string")
        invalid(
          context,
          `expected text, got ${JSON.stringify(operand)}`,
          operand,
        );
      return (value: unknown) =>
        typeof value === "string"
          ? value.includes(operand)
          : Array.isArray(value)
            ? value.includes(operand)
            : false;
    case "like": {
      if (type !== undefined && type !== "text" && type !== "text[]")
        invalid(context, `like applies to text, not ${type}`);
      if (typeof operand !== "string")
        invalid(
          context,
          `expected a pattern string, got ${JSON.stringify(operand)}`,
          operand,
        );
      const pattern = likeToRegExp(operand);
      return (value: unknown) =>
        typeof value === "string"
          ? pattern.test(value)
          : Array.isArray(value)
            ? value.some((v) => typeof v === "string" && pattern.test(v))
            : false;
    }
    case "isNull":
      if (typeof operand !== "boolean")
        invalid(
          context,
          `expected true or false, got ${JSON.stringify(operand)}`,
          operand,
        );
      return (value: unknown) => (value === null) === operand;
  }
  return invalid(context, `unknown operator "${operator}"`);
}

function compileOrdering(
  operator: string,
  operand: unknown,
  type: PropertyType | undefined,
  context: CompileContext,
) {
  if (type !== undefined && !orderedTypes.has(type)) {
    invalid(
      context,
      `${operator} applies to int, number and date properties, not ${type}`,
    );
  }
  const asDate =
    type === "date" || (type === undefined && typeof operand === "string");
  const bound = asDate ? toInstant(operand) : operand;
  if (typeof bound !== "number" || Number.isNaN(bound)) {
    invalid(
      context,
      `expected ${asDate ? "an ISO-8601 date" : "a number"}, got ${JSON.stringify(operand)}`,
      operand,
    );
  }

  const compare = (value: unknown): number | undefined => {
    const left = asDate ? toInstant(value) : value;
    return typeof left === "number" ? left - bound : undefined;
  };
  const accept = {
    gt: (d: number) => d > 0,
    gte: (d: number) => d >= 0,
    lt: (d: number) => d < 0,
    lte: (d: number) => d <= 0,
  }[operator as "gt"];
  return (value: unknown) => {
    const difference = compare(value);
    return difference !== undefined && accept(difference);
  };
}

/** Turns a `like` pattern into an anchored, case-sensitive RegExp: `*` is any run, `?` one character. */
export function likeToRegExp(pattern: string): RegExp {
  let source = "";
  for (const char of pattern) {
    if (char === "*") source += ".*";
    else if (char === "?") source += ".";
    else source += char.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`, "s");
}
