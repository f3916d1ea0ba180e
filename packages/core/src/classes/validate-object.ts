import { isObjectId } from "../ids.js";
import { findTooDeep } from "../nesting-depth.js";
import { previewValue } from "../preview-value.js";
import type { ClassDefinition, PropertyType } from "./types.js";

/** One invalid property of an object. */
export interface PropertyProblem {
  property: string;
  message: string;
}

const isoDate =
  /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

function describe(value: unknown): string {
  if (value === null) return "null";
  // JSON.parse turns 1e400 into Infinity, which JSON.stringify would print as null.
  if (typeof value === "number") return `number ${String(value)}`;
  if (Array.isArray(value)) return "array";
  return `${typeof value} ${previewValue(value)}`;
}

/** Tells why a value does not fit a property type, or returns undefined when it fits. */
export function checkPropertyValue(
  type: PropertyType,
  value: unknown,
): string | undefined {
  switch (type) {
    case "text":
      return typeof value === "string"
        ? undefined
        : `expected text, got ${describe(value)}`;
    case "text[]":
      return Array.isArray(value) &&
        value.every((item) => typeof item === "string")
        ? undefined
        : `expected a list of text, got ${describe(value)}`;
    case "int":
      return typeof value === "number" && Number.isSafeInteger(value)
        ? undefined
        : `expected int, got ${describe(value)}`;
    case "number":
      return typeof value === "number" && Number.isFinite(value)
        ? undefined
        : `expected number, got ${describe(value)}`;
    case "boolean":
      return typeof value === "boolean"
        ? undefined
        : `expected boolean, got ${describe(value)}`;
    case "date":
      return typeof value === "string" &&
        isoDate.test(value) &&
        !Number.isNaN(Date.parse(value))
        ? undefined
        : `expected an ISO-8601 date, got ${describe(value)}`;
    case "uuid":
      return isObjectId(value)
        ? undefined
        : `expected a UUID, got ${describe(value)}`;
    case "object":
      if (typeof value !== "object" || value === null || Array.isArray(value))
        return `expected an object, got ${describe(value)}`;
      return findTooDeep(value, MAX_NESTING_DEPTH)
        ? `value is nested more than ${MAX_NESTING_DEPTH} levels deep; flatten it`
        : undefined;
  }
}

/**
 * Maximum nesting of an `object` property's value: the value itself is level
 * 1, and each object or array inside it adds a level. Stores and hooks walk
 * values recursively, so a deeper value could overflow their call stack.
 */
export const MAX_NESTING_DEPTH = 64;

/**
 * Checks properties against their class. Null is allowed for every property
 * and means "no value"; unknown property names are problems, so a typo is
 * never stored silently.
 */
export function validateProperties(
  definition: ClassDefinition,
  properties: Record<string, unknown>,
): PropertyProblem[] {
  const problems: PropertyProblem[] = [];
  const types = propertyTypes(definition);

  // for...in also visits inherited enumerable keys, which stores drop, so it
  // checks a superset of what is stored without allocating a key list.
  for (const name in properties) {
    const value = properties[name];
    const type = types.get(name);
    if (type === undefined) {
      problems.push({
        property: name,
        message: `unknown property; class ${definition.name} has ${[...types.keys()].join(", ") || "no properties"}`,
      });
      continue;
    }
    if (value === null || value === undefined) continue;

    const message = checkPropertyValue(type, value);
    if (message) problems.push({ property: name, message });
  }
  return problems;
}

const typeCache = new WeakMap<ClassDefinition, Map<string, PropertyType>>();

function propertyTypes(definition: ClassDefinition): Map<string, PropertyType> {
  let types = typeCache.get(definition);
  if (!types) {
    types = new Map(
      definition.properties.map((property) => [property.name, property.type]),
    );
    typeCache.set(definition, types);
  }
  return types;
}

/** Largest finite float32 value; stores keep vectors as float32. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Checks a vector: a non-empty list of finite numbers that stay finite when
 * rounded to float32, so a stored vector never contains Infinity.
 */
export function checkVector(vector: unknown): string | undefined {
  if (!Array.isArray(vector) || vector.length === 0)
    return "vector must be a non-empty list of numbers";

  for (let i = 0; i < vector.length; i++) {
    const item: unknown = vector[i];
    if (typeof item !== "number" || !Number.isFinite(item))
      return `vector[${i}] must be a finite number, got ${describe(item)}`;
    // Math.fround keeps values that round to FLOAT32_MAX, such as 3.4028235e38.
    if (!Number.isFinite(Math.fround(item)))
      return `vector[${i}] is outside the float32 range (absolute value at most ${FLOAT32_MAX}), got ${describe(item)}`;
  }
  return undefined;
}
