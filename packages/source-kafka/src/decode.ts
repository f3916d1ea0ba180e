import type { WriteRequest } from "@weft/core";
import type { ConsumerConfig, MappingConfig } from "./config.js";
import { SourceKafkaErrorCode } from "./errors.js";
import { idFromKeyBytes, idFromKeyText, type IdStrategy } from "./ids.js";
import { getPath, isRecord, removePath, splitPath } from "./paths.js";
import { rawJsonText } from "./raw-json.js";

/** Header values as kafkajs decodes them: a repeated header becomes a list, a null value stays null. */
export type HeaderValue = Buffer | string | null | undefined;
export type MessageHeaders = Record<string, HeaderValue | HeaderValue[]>;

/** The parts of a consumed Kafka message that decoding reads. */
export interface SourceMessage {
  key: Buffer | null;
  /** Null for a tombstone. */
  value: Buffer | null;
  headers?: MessageHeaders;
}

/** The result of decoding one message. */
export type Decoded =
  | { kind: "write"; request: WriteRequest }
  | { kind: "skip"; reason: string }
  | { kind: "reject"; code: string; message: string };

/**
 * An object id, or why a message has none. The id is a plain string, so the
 * common case allocates no wrapper object per message.
 */
type IdResult = string | { problem: string };

const reject = (code: string, message: string): Decoded => ({
  kind: "reject",
  code,
  message,
});

/**
 * Turns Kafka messages into write requests for one consumer: routing to a
 * class, the object id, field mapping and, with `format: debezium`, change
 * envelopes. Everything that makes a message unusable comes back as a
 * `reject` with a stable code, so bad message content never makes decoding throw.
 */
export class MessageDecoder {
  readonly #config: ConsumerConfig;
  readonly #classNames: ReadonlySet<string>;
  readonly #keyPath: string[] | undefined;
  readonly #idSource: "key" | "field";
  readonly #strategy: IdStrategy;
  readonly #routeField: string[] | undefined;
  readonly #mapping: CompiledMapping;

  constructor(config: ConsumerConfig, classNames: ReadonlySet<string>) {
    this.#config = config;
    this.#classNames = classNames;
    this.#keyPath = config.keyField ? splitPath(config.keyField) : undefined;
    this.#idSource = config.idSource ?? (config.keyField ? "field" : "key");
    this.#strategy = config.idStrategy;
    this.#routeField = config.route?.field
      ? splitPath(config.route.field)
      : undefined;
    this.#mapping = compileMapping(config.mapping);
  }

  decode(topic: string, message: SourceMessage): Decoded {
    const value = message.value;
    if (value === null) {
      // Debezium writes a tombstone after each delete event for log
      // compaction; the delete event already removed the object.
      if (this.#config.format === "debezium")
        return { kind: "skip", reason: "tombstone" };
      return this.#tombstone(topic, message);
    }
    if (value.length === 0) {
      return reject(
        SourceKafkaErrorCode.EMPTY_VALUE,
        "value is empty (0 bytes); only a null value is a tombstone",
      );
    }
    if (value.length > this.#config.maxMessageBytes) {
      return reject(
        SourceKafkaErrorCode.TOO_LARGE,
        `value has ${value.length} bytes, more than maxMessageBytes ${this.#config.maxMessageBytes}`,
      );
    }

    const text = value.toString("utf8");
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      return reject(
        SourceKafkaErrorCode.INVALID_JSON,
        `value is not valid JSON: ${(error as Error).message}`,
      );
    }
    if (!isRecord(parsed)) {
      return reject(
        SourceKafkaErrorCode.NOT_OBJECT,
        `value must be a JSON object, got ${describe(parsed)}`,
      );
    }

    return this.#config.format === "debezium"
      ? this.#debezium(topic, message, parsed, text)
      : this.#row(topic, message, parsed, text, []);
  }

  /** A JSON value, or a Debezium row: upsert into the routed class. */
  #row(
    topic: string,
    message: SourceMessage,
    row: Record<string, unknown>,
    text: string,
    rowPath: string[],
  ): Decoded {
    const className = this.#route(topic, message.headers, row);
    if (className === undefined)
      return this.#noClass(topic, message.headers, row);

    const id = this.#id(message.key, row, text, rowPath);
    if (typeof id !== "string")
      return reject(SourceKafkaErrorCode.MISSING_ID, id.problem);

    return {
      kind: "write",
      request: {
        op: "upsert",
        class: className,
        id,
        properties: this.#mapping.apply(row, message.headers),
      },
    };
  }

  #tombstone(topic: string, message: SourceMessage): Decoded {
    if (message.key === null || message.key.length === 0) {
      return reject(
        SourceKafkaErrorCode.MISSING_ID,
        "tombstone (null value) without a key: there is no id to delete",
      );
    }
    const className = this.#route(topic, message.headers, undefined);
    if (className === undefined)
      return this.#noClass(topic, message.headers, undefined);

    return {
      kind: "write",
      request: {
        op: "delete",
        class: className,
        id: idFromKeyBytes(message.key, this.#strategy),
      },
    };
  }

  #debezium(
    topic: string,
    message: SourceMessage,
    parsed: Record<string, unknown>,
    text: string,
  ): Decoded {
    // A converter with schemas enabled wraps the envelope as { schema, payload }.
    const wrapped =
      Object.hasOwn(parsed, "schema") && Object.hasOwn(parsed, "payload");
    const envelope = wrapped ? parsed.payload : parsed;
    const prefix = wrapped ? ["payload"] : [];
    if (envelope === null) return { kind: "skip", reason: "tombstone" };
    if (!isRecord(envelope)) {
      return reject(
        SourceKafkaErrorCode.DEBEZIUM_INVALID,
        `debezium payload must be an object, got ${describe(envelope)}`,
      );
    }

    const op = envelope.op;
    switch (op) {
      case "c":
      case "u":
      case "r": {
        const after = envelope.after;
        if (!isRecord(after)) {
          return reject(
            SourceKafkaErrorCode.DEBEZIUM_INVALID,
            `debezium op "${op}" needs an object in "after", got ${describe(after)}`,
          );
        }
        return this.#row(topic, message, after, text, [...prefix, "after"]);
      }
      case "d":
        return this.#debeziumDelete(topic, message, envelope.before, text, [
          ...prefix,
          "before",
        ]);
      case "t":
      case "m":
        // Truncates and logical-decoding messages name no row.
        return { kind: "skip", reason: `debezium op ${op}` };
      default:
        return reject(
          SourceKafkaErrorCode.DEBEZIUM_INVALID,
          `debezium op must be c, u, r, d, t or m, got ${describe(op)}`,
        );
    }
  }

  #debeziumDelete(
    topic: string,
    message: SourceMessage,
    before: unknown,
    text: string,
    beforePath: string[],
  ): Decoded {
    const row = isRecord(before) ? before : undefined;
    const className = this.#route(topic, message.headers, row);
    if (className === undefined)
      return this.#noClass(topic, message.headers, row);

    const id = this.#id(message.key, row, text, beforePath);
    if (typeof id !== "string")
      return reject(SourceKafkaErrorCode.MISSING_ID, id.problem);
    return {
      kind: "write",
      request: { op: "delete", class: className, id },
    };
  }

  /**
   * Resolves the object id. `idSource: field` reads the key field of the
   * row and falls back to the message key; `idSource: key` does the
   * reverse. `rowPath` locates the row in `text` for the lossless read of
   * numeric ids.
   */
  #id(
    key: Buffer | null,
    row: Record<string, unknown> | undefined,
    text: string,
    rowPath: string[],
  ): IdResult {
    const first =
      this.#idSource === "field"
        ? this.#idFromField(row, text, rowPath)
        : this.#idFromKey(key);
    if (typeof first === "string") return first;
    if (this.#idSource === "key" && !this.#keyPath) {
      return {
        problem: `${first.problem}; set keyField to take ids from the value`,
      };
    }

    const second =
      this.#idSource === "field"
        ? this.#idFromKey(key)
        : this.#idFromField(row, text, rowPath);
    if (typeof second === "string") return second;
    return { problem: `no object id: ${first.problem}, and ${second.problem}` };
  }

  #idFromKey(key: Buffer | null): IdResult {
    if (key === null || key.length === 0)
      return { problem: "message key is null or empty" };
    return this.#config.format === "debezium"
      ? this.#idFromDebeziumKey(key)
      : idFromKeyBytes(key, this.#strategy);
  }

  #idFromField(
    row: Record<string, unknown> | undefined,
    text: string,
    rowPath: string[],
  ): IdResult {
    const keyPath = this.#keyPath;
    if (!keyPath) return { problem: "no keyField is configured" };
    const field = this.#config.keyField;

    const value = row === undefined ? undefined : getPath(row, keyPath);
    if (typeof value === "string" && value.length > 0) {
      return this.#textId(value, `key field ${field}`);
    }
    if (typeof value === "number") {
      // JSON.parse rounded the number to a float64; read its digits from the text.
      const digits =
        rawJsonText(text, [...rowPath, ...keyPath]) ?? String(value);
      return this.#textId(digits, `key field ${field}`);
    }
    if (value === undefined || value === null || value === "") {
      return { problem: `key field ${field} is missing, null or empty` };
    }
    return {
      problem: `key field ${field} must be a string or a number, got ${describe(value)}`,
    };
  }

  /**
   * Debezium keys are JSON structs of the primary key, such as `{"id":42}`,
   * possibly wrapped as `{ schema, payload }`. With one column the column
   * value is the key, so the id matches a JSON source keyed by the same
   * value. With several columns the struct's source text is the key.
   */
  #idFromDebeziumKey(key: Buffer): IdResult {
    const text = key.toString("utf8");
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return idFromKeyBytes(key, this.#strategy);
    }

    const wrapped =
      isRecord(parsed) &&
      Object.hasOwn(parsed, "schema") &&
      Object.hasOwn(parsed, "payload");
    const struct = wrapped
      ? (parsed as Record<string, unknown>).payload
      : parsed;
    const prefix = wrapped ? ["payload"] : [];
    if (!isRecord(struct)) return idFromKeyBytes(key, this.#strategy);

    if (this.#keyPath) {
      const fromStruct = this.#idFromField(struct, text, prefix);
      if (typeof fromStruct === "string") return fromStruct;
    }
    const names = Object.keys(struct);
    if (names.length === 1) {
      const only = struct[names[0]];
      if (typeof only === "string" && only.length > 0)
        return this.#textId(only, "message key");
      if (typeof only === "number") {
        const digits = rawJsonText(text, [...prefix, names[0]]) ?? String(only);
        return this.#textId(digits, "message key");
      }
    }
    const structText = wrapped ? rawJsonText(text, prefix) : text.trim();
    return this.#textId(structText ?? text, "message key");
  }

  #textId(text: string, what: string): IdResult {
    const id = idFromKeyText(text, this.#strategy);
    return (
      id ?? {
        problem: `${what} is not valid Unicode (it has a lone surrogate)`,
      }
    );
  }

  /** Returns the class of a message, or undefined when routing finds none. */
  #route(
    topic: string,
    headers: MessageHeaders | undefined,
    row: Record<string, unknown> | undefined,
  ): string | undefined {
    if (this.#config.class) return this.#config.class;

    const route = this.#config.route;
    if (!route) return undefined;
    const value = this.#routingValue(topic, headers, row);
    let mapped = value;
    // Own keys only: a routing value such as "constructor" must not find Object.prototype members.
    if (value !== undefined && route.classes) {
      mapped = Object.hasOwn(route.classes, value)
        ? route.classes[value]
        : undefined;
    }
    if (mapped !== undefined && this.#classNames.has(mapped)) return mapped;
    return route.default;
  }

  #routingValue(
    topic: string,
    headers: MessageHeaders | undefined,
    row: Record<string, unknown> | undefined,
  ): string | undefined {
    const route = this.#config.route;
    if (route?.topic) return topic;
    if (route?.header) return headerText(headers?.[route.header]) ?? undefined;
    if (this.#routeField && row) {
      const value = getPath(row, this.#routeField);
      if (typeof value === "string" || typeof value === "number")
        return String(value);
    }
    return undefined;
  }

  #noClass(
    topic: string,
    headers: MessageHeaders | undefined,
    row: Record<string, unknown> | undefined,
  ): Decoded {
    const value = this.#routingValue(topic, headers, row);
    const by = this.#config.route?.topic
      ? "topic"
      : this.#config.route?.header
        ? `header ${this.#config.route.header}`
        : `field ${this.#config.route?.field}`;
    const found =
      value === undefined ? "is missing" : `is ${JSON.stringify(value)}`;
    return reject(
      SourceKafkaErrorCode.NO_CLASS,
      `no class for this message: routing ${by} ${found}, which maps to no configured class, and route.default is not set`,
    );
  }
}

/** Returns a header's UTF-8 text; a repeated header gives its last value, a null value null. */
export function headerText(
  value: HeaderValue | HeaderValue[],
): string | null | undefined {
  if (Array.isArray(value))
    return value.length === 0 ? undefined : headerText(value[value.length - 1]);
  if (value === undefined || value === null) return value;
  return typeof value === "string" ? value : value.toString("utf8");
}

interface CompiledMapping {
  apply(
    row: Record<string, unknown>,
    headers: MessageHeaders | undefined,
  ): Record<string, unknown>;
}

/** Prepares the field mapping once; `apply` changes the freshly parsed row in place. */
function compileMapping(mapping: MappingConfig): CompiledMapping {
  const rename = Object.entries(mapping.rename ?? {}).map(
    ([from, to]) => [splitPath(from), to] as const,
  );
  const drop = (mapping.drop ?? []).map(splitPath);
  const headers = Object.entries(mapping.headers ?? {});
  if (rename.length === 0 && drop.length === 0 && headers.length === 0) {
    return { apply: (row) => row };
  }

  return {
    apply(row, messageHeaders) {
      for (const [from, to] of rename) {
        const value = removePath(row, from);
        if (value !== undefined) row[to] = value;
      }
      for (const path of drop) removePath(row, path);
      for (const [header, property] of headers) {
        const value = headerText(messageHeaders?.[header]);
        if (value !== undefined) row[property] = value;
      }
      return row;
    },
  };
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (value === undefined) return "nothing";
  return `${typeof value} ${JSON.stringify(value)?.slice(0, 40)}`;
}
