import { deepEqual, vectorsEqual } from "../deep-equal.js";
import type { ChangeOp } from "../changes/types.js";
import { setOwnProperty } from "./own-property.js";
import type { Mutation, StoredObject } from "./types.js";

/** The effect of one mutation on the object it targets. */
export type MutationEffect =
  | { op: "NOOP" }
  | {
      op: ChangeOp;
      /** The object after the change; undefined for deletes. */
      next: StoredObject | undefined;
      before: Record<string, unknown> | null;
      after: Record<string, unknown> | null;
    };

/**
 * Applies weft's write semantics to the current state of one object, so every
 * store decides INSERT, UPDATE, DELETE and NOOP the same way: an upsert
 * replaces the properties, a patch merges over them, an absent vector keeps
 * the stored one and `null` removes it, and a write that changes nothing or a
 * delete of a missing object is a NOOP.
 */
export function applyMutation(
  current: StoredObject | undefined,
  mutation: Mutation,
  timestamp: string,
): MutationEffect {
  if (mutation.op === "delete") {
    if (!current) return { op: "NOOP" };
    return {
      op: "DELETE",
      next: undefined,
      before: current.properties,
      after: null,
    };
  }

  const properties =
    mutation.op === "patch" && current
      ? mergeProperties(current.properties, mutation.properties)
      : dropUndefined(mutation.properties);
  const vector =
    mutation.vector === undefined
      ? current?.vector
      : (mutation.vector ?? undefined);

  if (
    current &&
    deepEqual(current.properties, properties) &&
    vectorsEqual(current.vector, vector)
  )
    return { op: "NOOP" };

  const next: StoredObject = {
    class: mutation.class,
    id: mutation.id,
    properties,
    ...(vector ? { vector } : {}),
    version: current ? current.version + 1 : 1,
    updatedAt: timestamp,
  };
  return {
    op: current ? "UPDATE" : "INSERT",
    next,
    before: current?.properties ?? null,
    after: properties,
  };
}

function mergeProperties(
  current: Record<string, unknown>,
  patch: Record<string, unknown>,
): Record<string, unknown> {
  const merged = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    // A patch sets null to clear a property; undefined means "not in the patch".
    if (value !== undefined) setOwnProperty(merged, key, value);
  }
  return merged;
}

function dropUndefined(
  properties: Record<string, unknown>,
): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const key of Object.keys(properties)) {
    const value = properties[key];
    if (value !== undefined) setOwnProperty(result, key, value);
  }
  return result;
}
