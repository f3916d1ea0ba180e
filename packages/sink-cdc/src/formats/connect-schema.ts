import type { ClassDefinition, PropertyType } from "@weft/core";

/**
 * A Kafka Connect schema as its JSON converter writes it
 * (`org.apache.kafka.connect.json.JsonSchema`). Connect's FLOAT32 and
 * FLOAT64 are spelled `float` and `double` in this form.
 */
export interface ConnectSchema {
  type:
    | "int8"
    | "int16"
    | "int32"
    | "int64"
    | "float"
    | "double"
    | "boolean"
    | "string"
    | "bytes"
    | "array"
    | "map"
    | "struct";
  optional: boolean;
  name?: string;
  version?: number;
  parameters?: Record<string, string>;
  default?: unknown;
  items?: ConnectSchema;
  fields?: ConnectField[];
}

/** A struct member: a schema plus its field name. */
export type ConnectField = ConnectSchema & { field: string };

/** Debezium's semantic type names, from `io.debezium.data` and `io.debezium.time` (Debezium 3.x). */
export const SemanticType = {
  UUID: "io.debezium.data.Uuid",
  JSON: "io.debezium.data.Json",
  ZONED_TIMESTAMP: "io.debezium.time.ZonedTimestamp",
  /** The logical name that `io.debezium.data.vector.FloatVector` declares: an array of FLOAT32. */
  FLOAT_VECTOR: "io.debezium.data.FloatVector",
  ENUM: "io.debezium.data.Enum",
} as const;

/** Debezium's schema version of the change event envelope since Debezium 2.6, when `ts_us` and `ts_ns` were added. */
export const ENVELOPE_SCHEMA_VERSION = 2;

/** `source.snapshot` values in Debezium's order, the `allowed` parameter of its enum schema. */
export const SNAPSHOT_VALUES =
  "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental";

/** Name of the source block's schema, following Debezium's `io.debezium.connector.<connector>.Source`. */
export const SOURCE_SCHEMA_NAME = "weft.Source";

function field(name: string, schema: ConnectSchema): ConnectField {
  return { ...schema, field: name };
}

/** The Connect schema of one property type; every property is optional because weft allows null for all. */
export function propertySchema(type: PropertyType): ConnectSchema {
  switch (type) {
    case "text":
      return { type: "string", optional: true };
    case "text[]":
      return {
        type: "array",
        items: { type: "string", optional: false },
        optional: true,
      };
    case "int":
      return { type: "int64", optional: true };
    case "number":
      return { type: "double", optional: true };
    case "boolean":
      return { type: "boolean", optional: true };
    case "date":
      return {
        type: "string",
        optional: true,
        name: SemanticType.ZONED_TIMESTAMP,
        version: 1,
      };
    case "uuid":
      return {
        type: "string",
        optional: true,
        name: SemanticType.UUID,
        version: 1,
      };
    case "object":
      return {
        type: "string",
        optional: true,
        name: SemanticType.JSON,
        version: 1,
      };
  }
}

/** Schema of the vector field: Debezium's FloatVector, an array of FLOAT32. */
export function vectorSchema(): ConnectSchema {
  return {
    type: "array",
    items: { type: "float", optional: false },
    optional: true,
    name: SemanticType.FLOAT_VECTOR,
    version: 1,
  };
}

/** Schema of the `before` and `after` rows of a class: its properties, then the vector field when included. */
export function rowSchema(
  definition: ClassDefinition,
  schemaPrefix: string,
  vectorField: string | undefined,
): ConnectSchema {
  const fields = definition.properties.map((property) =>
    field(property.name, propertySchema(property.type)),
  );
  if (vectorField !== undefined)
    fields.push(field(vectorField, vectorSchema()));
  return {
    type: "struct",
    fields,
    optional: true,
    name: `${schemaPrefix}.Value`,
  };
}

/** Schema of the message key `{ id }`. */
export function keySchema(schemaPrefix: string): ConnectSchema {
  return {
    type: "struct",
    fields: [
      field("id", {
        type: "string",
        optional: false,
        name: SemanticType.UUID,
        version: 1,
      }),
    ],
    optional: false,
    name: `${schemaPrefix}.Key`,
  };
}

/**
 * Schema of the source block. It has Debezium's common fields (version,
 * connector, name, ts_ms, snapshot, db, ts_us) plus weft's class, seq and
 * txId in place of a database's table and log position.
 */
export function sourceSchema(): ConnectSchema {
  return {
    type: "struct",
    fields: [
      field("version", { type: "string", optional: false }),
      field("connector", { type: "string", optional: false }),
      field("name", { type: "string", optional: false }),
      field("ts_ms", { type: "int64", optional: false }),
      field("snapshot", {
        type: "string",
        optional: true,
        name: SemanticType.ENUM,
        version: 1,
        parameters: { allowed: SNAPSHOT_VALUES },
        default: "false",
      }),
      field("db", { type: "string", optional: false }),
      field("ts_us", { type: "int64", optional: true }),
      field("class", { type: "string", optional: false }),
      field("seq", { type: "int64", optional: false }),
      field("txId", { type: "string", optional: true }),
    ],
    optional: false,
    name: SOURCE_SCHEMA_NAME,
    version: 1,
  };
}

/** Debezium's transaction block schema (`event.block`, version 1). */
export function transactionSchema(): ConnectSchema {
  return {
    type: "struct",
    fields: [
      field("id", { type: "string", optional: false }),
      field("total_order", { type: "int64", optional: false }),
      field("data_collection_order", { type: "int64", optional: false }),
    ],
    optional: true,
    name: "event.block",
    version: 1,
  };
}

/** Schema of the whole change event value, named `<prefix>.Envelope` as Debezium names it. */
export function envelopeSchema(
  definition: ClassDefinition,
  schemaPrefix: string,
  vectorField: string | undefined,
): ConnectSchema {
  const row = rowSchema(definition, schemaPrefix, vectorField);
  return {
    type: "struct",
    fields: [
      field("before", row),
      field("after", row),
      field("source", sourceSchema()),
      field("transaction", transactionSchema()),
      field("op", { type: "string", optional: false }),
      field("ts_ms", { type: "int64", optional: true }),
      field("ts_us", { type: "int64", optional: true }),
    ],
    optional: false,
    name: `${schemaPrefix}.Envelope`,
    version: ENVELOPE_SCHEMA_VERSION,
  };
}
