import { checkVector } from "../classes/validate-object.js";
import { ErrorCode } from "../errors.js";
import {
  isObjectId,
  isWellFormed,
  newObjectId,
  toObjectId,
  uuidV5FromText,
} from "../ids.js";
import { previewValue } from "../preview-value.js";
import { setOwnProperty } from "../store/own-property.js";
import type { ItemError, WriteRequest } from "./types.js";
import type { WriteItem } from "./write-batch.js";

const ops = new Set(["upsert", "patch", "delete"]);

/** A request that cannot become a batch item, and why. */
export interface PreparedRejection {
  index: number;
  id?: string;
  error: ItemError;
}

function reject(
  index: number,
  code: string,
  message: string,
  id?: string,
): PreparedRejection {
  return {
    index,
    ...(id ? { id } : {}),
    error: { code, message, retryable: false },
  };
}

/** Tells a rejection from an item; items never have an `error` field. */
export function isRejection(
  prepared: WriteItem | PreparedRejection,
): prepared is PreparedRejection {
  return "error" in prepared;
}

/**
 * Checks the shape of one request, resolves its id and returns it as a batch
 * item. With `copyProperties` the item gets its own copy of the properties
 * without undefined values, so `beforeWrite` taps that change an item in
 * place leave the caller's request as it was. Without it the item shares the
 * request's properties object. The writer passes false only when no tap can
 * see the item, and the store copies the properties before keeping them:
 * `applyMutation`, which the memory store and store-sqlite use, copies them
 * without undefined values.
 */
export function prepareItem(
  request: WriteRequest,
  index: number,
  classNames: ReadonlySet<string>,
  copyProperties: boolean,
): WriteItem | PreparedRejection {
  if (typeof request !== "object" || request === null)
    return reject(index, ErrorCode.OBJECT_INVALID, "request must be an object");
  if (!ops.has(request.op)) {
    return reject(
      index,
      ErrorCode.OBJECT_INVALID,
      `op must be upsert, patch or delete, got ${previewValue(request.op)}`,
    );
  }
  if (request.class === undefined || request.class === null) {
    return reject(
      index,
      ErrorCode.CLASS_UNKNOWN,
      `class is missing; set "class" to one of ${[...classNames].join(", ") || "the configured classes"}`,
    );
  }
  if (typeof request.class !== "string" || !classNames.has(request.class)) {
    return reject(
      index,
      ErrorCode.CLASS_UNKNOWN,
      `unknown class ${previewValue(request.class)}; configured classes: ${[...classNames].join(", ") || "none"}`,
    );
  }

  const id = resolveId(request);
  if (typeof id !== "string")
    return reject(
      index,
      ErrorCode.ID_INVALID,
      `class ${request.class}: ${id.message}`,
    );

  if (request.op === "delete")
    return { index, op: request.op, class: request.class, id, properties: {} };

  const properties = request.properties ?? {};
  if (
    typeof properties !== "object" ||
    properties === null ||
    Array.isArray(properties)
  ) {
    return reject(
      index,
      ErrorCode.OBJECT_INVALID,
      `class ${request.class}, id ${id}: properties must be an object`,
      id,
    );
  }
  const item: WriteItem = {
    index,
    op: request.op,
    class: request.class,
    id,
    properties: copyProperties ? definedProperties(properties) : properties,
  };
  if (request.vector !== undefined) {
    if (request.vector !== null) {
      const problem = checkVector(request.vector);
      if (problem)
        return reject(
          index,
          ErrorCode.OBJECT_INVALID,
          `class ${request.class}, id ${id}: ${problem}`,
          id,
        );
    }
    item.vector = request.vector && request.vector.map(Math.fround);
  }
  return item;
}

/** Returns a copy of the properties without undefined values, which mean "no value" and are never stored. */
function definedProperties(
  properties: Record<string, unknown>,
): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(properties)) {
    const value = properties[key];
    if (value !== undefined) setOwnProperty(copy, key, value);
  }
  return copy;
}

function resolveId(request: WriteRequest): string | { message: string } {
  const key = request.id;
  if (typeof key === "number" && !Number.isFinite(key))
    return { message: `id must be a finite number, got ${String(key)}` };
  if (key === undefined || key === null) {
    return request.op === "upsert"
      ? newObjectId()
      : { message: `${request.op} needs an id` };
  }
  if (typeof key === "string") {
    if (key.trim().length === 0)
      return { message: "id must not be empty or blank" };
    if (isObjectId(key)) return key.toLowerCase();
    // A lone UTF-16 surrogate has no UTF-8 form, so it cannot name an object.
    if (!isWellFormed(key))
      return {
        message: `id ${previewValue(key)} is not well-formed Unicode`,
      };
    return uuidV5FromText(key);
  }
  if (
    typeof key === "bigint" ||
    (typeof key === "number" && Number.isFinite(key))
  )
    return toObjectId(key);
  return {
    message: `id must be a UUID, another string or a number, got ${previewValue(key)}`,
  };
}
