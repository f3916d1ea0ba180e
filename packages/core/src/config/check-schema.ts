import { CloneType, Kind, type TSchema } from "@sinclair/typebox";
import { TypeCompiler, type TypeCheck } from "@sinclair/typebox/compiler";
import { Value, ValueErrorType } from "@sinclair/typebox/value";
import { ErrorCode } from "../errors.js";
import { joinPath, type ConfigProblem } from "./config-problem.js";

const compiled = new WeakMap<
  TSchema,
  { strict: TSchema; check: TypeCheck<TSchema> }
>();

/**
 * Compiles a schema once, closing every object schema that does not say
 * otherwise, so an unknown key (usually a typo) is an error instead of being
 * ignored.
 */
export function compileSchema(schema: TSchema): {
  strict: TSchema;
  check: TypeCheck<TSchema>;
} {
  let entry = compiled.get(schema);
  if (!entry) {
    const strict = closeObjects(CloneType(schema));
    entry = { strict, check: TypeCompiler.Compile(strict) };
    compiled.set(schema, entry);
  }
  return entry;
}

function closeObjects(schema: TSchema): TSchema {
  if (schema[Kind] === "Object" && schema.additionalProperties === undefined)
    schema.additionalProperties = false;

  for (const key of ["properties", "patternProperties"]) {
    const children = schema[key] as Record<string, TSchema> | undefined;
    if (children)
      for (const child of Object.values(children)) closeObjects(child);
  }
  for (const key of ["anyOf", "allOf", "oneOf"]) {
    const children = schema[key] as TSchema[] | undefined;
    if (children) children.forEach(closeObjects);
  }
  if (schema.items && typeof schema.items === "object") {
    if (Array.isArray(schema.items))
      (schema.items as TSchema[]).forEach(closeObjects);
    else closeObjects(schema.items as TSchema);
  }
  return schema;
}

/**
 * Applies defaults, converts strings from `${VAR}` and environment overrides
 * to the types the schema wants, and checks the result. Every error comes
 * back as a problem under `basePath`.
 */
export function checkConfig<T>(
  schema: TSchema,
  input: unknown,
  basePath: string,
  problems: ConfigProblem[],
): T {
  const { strict, check } = compileSchema(schema);
  const value = Value.Convert(
    strict,
    Value.Default(strict, structuredClone(input ?? {})),
  );
  if (check.Check(value)) return value as T;

  const seen = new Set<string>();
  for (const error of check.Errors(value)) {
    const path = pointerToPath(basePath, error.path);
    // A union reports its own error plus one per member; the first is enough.
    if (seen.has(path)) continue;
    seen.add(path);
    const isDuration =
      typeof error.schema.description === "string" &&
      error.schema.description.startsWith("duration");
    problems.push({
      path,
      code: isDuration ? ErrorCode.CONFIG_DURATION : ErrorCode.CONFIG_INVALID,
      message: describeError(
        error.type,
        error.message,
        error.schema,
        error.value,
      ),
    });
  }
  return value as T;
}

function pointerToPath(base: string, pointer: string): string {
  let path = base;
  for (const segment of pointer.split("/").slice(1)) {
    const key = segment.replace(/~1/g, "/").replace(/~0/g, "~");
    path = /^\d+$/.test(key)
      ? joinPath(path, Number(key))
      : joinPath(path, key);
  }
  return path;
}

function describeError(
  type: ValueErrorType,
  message: string,
  schema: TSchema,
  value: unknown,
): string {
  const got = value === undefined ? "nothing" : JSON.stringify(value);
  switch (type) {
    case ValueErrorType.ObjectAdditionalProperties:
      return "unknown key; remove it or check its spelling";
    case ValueErrorType.ObjectRequiredProperty:
      return "missing required key";
    case ValueErrorType.Integer:
      return `expected integer, got ${got}`;
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.IntegerMinimum:
      return `expected ${schema.type ?? "number"} >= ${schema.minimum}, got ${got}`;
    case ValueErrorType.NumberMaximum:
    case ValueErrorType.IntegerMaximum:
      return `expected ${schema.type ?? "number"} <= ${schema.maximum}, got ${got}`;
    case ValueErrorType.Union: {
      const options = (schema.anyOf as TSchema[] | undefined)
        ?.map((member) => member.const ?? member.type)
        .filter(Boolean);
      if (schema.description)
        return `expected ${schema.description}, got ${got}`;
      return options && options.length > 0
        ? `expected one of ${options.map((o) => JSON.stringify(o)).join(", ")}, got ${got}`
        : `${message}, got ${got}`;
    }
    default:
      return `${message.charAt(0).toLowerCase()}${message.slice(1)}, got ${got}`;
  }
}
