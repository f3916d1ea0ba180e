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
  return fields
    .map((field) => properties[field])
    .filter((value) => value !== null && value !== undefined)
    .map((value) => (Array.isArray(value) ? value.join(" ") : String(value)))
    .join("\n");
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
