import { checkVector } from "../classes/validate-object.js";
import { ErrorCode } from "../errors.js";
import { isObjectId, newObjectId, toObjectId } from "../ids.js";
import type { ItemError, WriteRequest } from "./types.js";
import type { WriteItem } from "./write-batch.js";

const ops = new Set(["upsert", "patch", "delete"]);

/** A request turned into a batch item, or the reason it cannot be one. */
export type PreparedItem =
  { item: WriteItem } | { index: number; id?: string; error: ItemError };

function reject(
  index: number,
  code: string,
  message: string,
  id?: string,
): PreparedItem {
  return {
    index,
    ...(id ? { id } : {}),
    error: { code, message, retryable: false },
  };
}

/** Checks the shape of one request and resolves its id. */
export function prepareItem(
  request: WriteRequest,
  index: number,
  classNames: ReadonlySet<string>,
): PreparedItem {
  if (typeof request !== "object" || request === null)
    return reject(index, ErrorCode.OBJECT_INVALID, "request must be an object");
  if (!ops.has(request.op)) {
    return reject(
      index,
      ErrorCode.OBJECT_INVALID,
      `op must be upsert, patch or delete, got ${JSON.stringify(request.op)}`,
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
      `unknown class ${JSON.stringify(request.class)}; configured classes: ${[...classNames].join(", ") || "none"}`,
    );
  }

  const id = resolveId(request);
  if (typeof id !== "string")
    return reject(
      index,
      ErrorCode.ID_INVALID,
      `class ${request.class}: ${id.message}`,
    );

  if (request.op !== "delete") {
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
    if (request.vector !== undefined && request.vector !== null) {
      const problem = checkVector(request.vector);
      if (problem)
        return reject(
          index,
          ErrorCode.OBJECT_INVALID,
          `class ${request.class}, id ${id}: ${problem}`,
          id,
        );
    }
  }

  return {
    item: {
      index,
      op: request.op,
      class: request.class,
      id,
      properties:
        request.op === "delete" ? {} : { ...(request.properties ?? {}) },
      ...(request.op !== "delete" && request.vector !== undefined
        ? { vector: request.vector && request.vector.map(Math.fround) }
        : {}),
    },
  };
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
    if (/\p{Surrogate}/u.test(key))
      return {
        message: `id ${JSON.stringify(key)} is not well-formed Unicode`,
      };
    return toObjectId(key);
  }
  if (
    typeof key === "bigint" ||
    (typeof key === "number" && Number.isFinite(key))
  )
    return toObjectId(key);
  return {
    message: `id must be a UUID, another string or a number, got ${JSON.stringify(key)}`,
  };
}
