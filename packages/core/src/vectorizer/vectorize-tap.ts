import type { ClassDefinition } from "../classes/types.js";
import { ErrorCode, isWeftError } from "../errors.js";
import type { Store } from "../store/types.js";
import type { WriteBatch, WriteItem } from "../write/write-batch.js";
import type { Vectorizer } from "./types.js";

/** Builds the text a vectorizer gets for an object: the named fields joined by newlines. */
export function vectorText(
  properties: Record<string, unknown>,
  fields: string[],
): string {
  const parts: string[] = [];
  for (const field of fields) {
    const text = fieldText(properties[field]);
    if (text !== undefined) parts.push(text);
  }
  return parts.join("\n");
}

/**
 * Returns the text of one field value, or undefined for a value with none.
 * Vectorizing runs before the class's checks, so a value may still be of any
 * shape. Only the scalar elements of a list are joined, because
 * `Array.join` recurses into nested lists and a list nested 10,000 deep
 * overflowed the stack. An object contributes nothing, and the checks then
 * reject the write.
 */
function fieldText(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (Array.isArray(value))
    return value
      .filter((item) => item === null || typeof item !== "object")
      .join(" ");
  if (typeof value === "object") return undefined;
  return String(value);
}

/**
 * Vectorizes the items of one class whose vector fields changed. Items that
 * carry their own vector are left alone; items whose fields are unchanged
 * keep the stored vector, so a replay costs no vectorizer call.
 */
export async function vectorizeBatch(
  batch: WriteBatch,
  definition: ClassDefinition,
  vectorizer: Vectorizer,
  store: Store,
): Promise<WriteBatch> {
  const fields = definition.vectorizer!.fields;
  const items = batch.items.filter(
    (item) =>
      item.class === definition.name &&
      item.op !== "delete" &&
      item.vector === undefined,
  );
  if (items.length === 0) return batch;

  const stored = await store.getMany(definition.name, [
    ...new Set(items.map((item) => item.id)),
  ]);
  const pending: Array<{ item: WriteItem; text: string }> = [];

  for (const item of items) {
    const current = stored.get(item.id);
    const properties =
      item.op === "patch" && current
        ? { ...current.properties, ...item.properties }
        : item.properties;
    const text = vectorText(properties, fields);
    if (current?.vector && vectorText(current.properties, fields) === text)
      continue;
    pending.push({ item, text });
  }
  if (pending.length === 0) return batch;

  try {
    const vectors = await vectorizer.vectorize(
      pending.map((entry) => entry.text),
    );
    pending.forEach((entry, i) => (entry.item.vector = vectors[i]));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const retryable = isWeftError(error) ? error.retryable : true;
    for (const { item } of pending) {
      batch.reject(
        item,
        ErrorCode.VECTORIZER_FAILED,
        `vectorizer ${definition.vectorizer!.use} failed for class ${definition.name}, id ${item.id}: ${message}`,
        {
          retryable,
        },
      );
    }
  }
  return batch;
}
