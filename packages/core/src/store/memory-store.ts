import { Type, type Static } from "@sinclair/typebox";
import type { ChangeEvent } from "../changes/types.js";
import type { ClassDefinition } from "../classes/types.js";
import { DurationSchema, parseDuration } from "../duration.js";
import { ErrorCode, WeftError } from "../errors.js";
import { compileFilter } from "../filter/compile-filter.js";
import { applyMutation, type MutationEffect } from "./apply-mutation.js";
import { decodeCursor, encodeCursor } from "./list-cursor.js";
import type {
  CommitBatch,
  CommitResult,
  ListPage,
  ListQuery,
  Mutation,
  MutationOutcome,
  Snapshot,
  SourcePosition,
  Store,
  StoreOpenContext,
  StoredObject,
} from "./types.js";

/** Settings of the in-memory store. */
export const MemoryStoreSchema = Type.Object(
  {
    retention: Type.Object(
      {
        maxRows: Type.Integer({
          minimum: 1,
          default: 100_000,
          description: "change-log rows kept",
        }),
        maxAge: Type.Optional(DurationSchema()),
        force: Type.Boolean({
          default: false,
          description: "trim past the slowest checkpoint",
        }),
      },
      { default: {}, additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type MemoryStoreOptions = Static<typeof MemoryStoreSchema>;

/**
 * A store that keeps everything in process memory. Nothing survives a
 * restart; the change log is trimmed to `retention.maxRows` rows, but never
 * past the slowest checkpoint unless `retention.force` is set.
 */
export class MemoryStore implements Store {
  readonly kind = "memory";
  readonly transactionalPositions = true;

  #objects = new Map<string, Map<string, StoredObject>>();
  #log: ChangeEvent[] = [];
  #lastSeq = 0;
  #positions = new Map<string, Map<string, SourcePosition>>();
  #state = new Map<string, Map<string, unknown>>();
  #checkpoints = new Map<string, number>();
  #classes = new Map<string, ClassDefinition>();
  readonly #maxRows: number;
  readonly #maxAgeMs: number | undefined;
  readonly #force: boolean;

  constructor(options: Partial<MemoryStoreOptions> = {}) {
    this.#maxRows = options.retention?.maxRows ?? 100_000;
    this.#maxAgeMs =
      options.retention?.maxAge === undefined
        ? undefined
        : parseDuration(options.retention.maxAge, "retention.maxAge");
    this.#force = options.retention?.force ?? false;
  }

  async open(context: StoreOpenContext): Promise<void> {
    this.#classes = new Map(
      context.classes.map((definition) => [definition.name, definition]),
    );
  }

  async close(): Promise<void> {}

  async commit(batch: CommitBatch): Promise<CommitResult> {
    const outcomes: MutationOutcome[] = [];
    const events: ChangeEvent[] = [];
    let seq = this.#lastSeq;

    // Mutations change the maps in place, one lookup and one set per
    // object. A throw restores every object touched so far, so it leaves
    // nothing applied.
    const undo = new UndoLog();
    try {
      for (const mutation of batch.mutations) {
        const objects = this.#objectsOf(mutation.class);
        const current = objects.get(mutation.id);
        const effect = applyMutation(current, mutation, batch.timestamp);
        if (effect.op === "NOOP") {
          outcomes.push({ id: mutation.id, op: "NOOP" });
          continue;
        }

        undo.record(objects, mutation.id, current);
        if (effect.next) objects.set(mutation.id, effect.next);
        else objects.delete(mutation.id);
        seq += 1;
        outcomes.push({ id: mutation.id, op: effect.op, seq });
        events.push(changeEvent(batch, mutation, effect, seq));
      }
    } catch (error) {
      undo.restore();
      throw error;
    }

    for (const position of batch.positions)
      this.#sourcePositions(position.source).set(position.stream, {
        ...position,
      });
    for (const write of batch.state)
      this.#applyState(write.plugin, write.key, write.value);

    for (const event of events) this.#log.push(event);
    this.#lastSeq = seq;
    this.#trim();
    return { outcomes, events };
  }

  async get(
    className: string,
    id: string,
    options: { withVector?: boolean } = {},
  ): Promise<StoredObject | undefined> {
    const object = this.#objects.get(className)?.get(id);
    if (!object) return undefined;
    return options.withVector === false ? withoutVector(object) : object;
  }

  async getMany(
    className: string,
    ids: string[],
  ): Promise<Map<string, StoredObject>> {
    const result = new Map<string, StoredObject>();
    const objects = this.#objects.get(className);
    for (const id of ids) {
      const object = objects?.get(id);
      if (object) result.set(id, object);
    }
    return result;
  }

  async list(query: ListQuery): Promise<ListPage> {
    const predicate = compileFilter(
      query.where,
      this.#classes.get(query.class),
    );
    const after =
      query.after === undefined ? undefined : decodeCursor(query.after);
    const ids = [...(this.#objects.get(query.class)?.keys() ?? [])].sort();
    const objects: StoredObject[] = [];

    for (const id of ids) {
      if (after !== undefined && id <= after) continue;
      const object = this.#objects.get(query.class)!.get(id)!;
      if (!predicate(object.properties)) continue;
      if (objects.length === query.limit)
        return { objects, next: encodeCursor(objects[objects.length - 1].id) };
      objects.push(query.withVector ? object : withoutVector(object));
    }
    return { objects, next: null };
  }

  async snapshot(className: string): Promise<Snapshot> {
    const copy = [...(this.#objects.get(className)?.values() ?? [])].sort(
      (a, b) => (a.id < b.id ? -1 : 1),
    );
    return { seq: this.#lastSeq, objects: iterate(copy) };
  }

  async readChanges(fromSeq: number, limit: number): Promise<ChangeEvent[]> {
    const first = this.#log.length > 0 ? this.#log[0].seq : this.#lastSeq + 1;
    if (fromSeq < first) throw truncatedError(fromSeq, first);

    const start = fromSeq - first;
    return this.#log.slice(start, start + limit);
  }

  async lastSeq(): Promise<number> {
    return this.#lastSeq;
  }

  async firstSeq(): Promise<number> {
    return this.#log.length > 0 ? this.#log[0].seq : this.#lastSeq + 1;
  }

  async setCheckpoint(name: string, nextSeq: number | null): Promise<void> {
    if (nextSeq === null) this.#checkpoints.delete(name);
    else this.#checkpoints.set(name, nextSeq);
  }

  async checkpoints(): Promise<Map<string, number>> {
    return new Map(this.#checkpoints);
  }

  async positions(source: string): Promise<SourcePosition[]> {
    return [...(this.#positions.get(source)?.values() ?? [])].map(
      (position) => ({ ...position }),
    );
  }

  async stateGet(plugin: string, key: string): Promise<unknown> {
    return structuredClone(this.#state.get(plugin)?.get(key));
  }

  async stateSet(plugin: string, key: string, value: unknown): Promise<void> {
    this.#applyState(plugin, key, value);
  }

  async stateDelete(plugin: string, key: string): Promise<void> {
    this.#state.get(plugin)?.delete(key);
  }

  async stateList(
    plugin: string,
    prefix: string,
  ): Promise<Array<{ key: string; value: unknown }>> {
    const entries = [...(this.#state.get(plugin)?.entries() ?? [])].filter(
      ([key]) => key.startsWith(prefix),
    );
    return entries
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([key, value]) => ({ key, value: structuredClone(value) }));
  }

  #objectsOf(className: string): Map<string, StoredObject> {
    let objects = this.#objects.get(className);
    if (!objects) this.#objects.set(className, (objects = new Map()));
    return objects;
  }

  #sourcePositions(source: string): Map<string, SourcePosition> {
    let positions = this.#positions.get(source);
    if (!positions) this.#positions.set(source, (positions = new Map()));
    return positions;
  }

  #applyState(plugin: string, key: string, value: unknown): void {
    let entries = this.#state.get(plugin);
    if (!entries) this.#state.set(plugin, (entries = new Map()));
    if (value === undefined) entries.delete(key);
    else entries.set(key, structuredClone(value));
  }

  #trim(): void {
    let keepFrom = Math.max(1, this.#lastSeq - this.#maxRows + 1);
    if (this.#maxAgeMs !== undefined) {
      const cutoff = Date.now() - this.#maxAgeMs;
      const young = this.#log.findIndex(
        (event) => Date.parse(event.timestamp) >= cutoff,
      );
      keepFrom = Math.max(
        keepFrom,
        young === -1 ? this.#lastSeq + 1 : this.#log[young].seq,
      );
    }
    if (!this.#force && this.#checkpoints.size > 0)
      keepFrom = Math.min(keepFrom, ...this.#checkpoints.values());

    const first = this.#log.length > 0 ? this.#log[0].seq : this.#lastSeq + 1;
    if (keepFrom > first)
      this.#log.splice(0, Math.min(keepFrom - first, this.#log.length));
  }
}

type AppliedEffect = Exclude<MutationEffect, { op: "NOOP" }>;

/** The objects a commit replaced, so a failed commit can put them back. */
class UndoLog {
  readonly #maps: Array<Map<string, StoredObject>> = [];
  readonly #ids: string[] = [];
  readonly #previous: Array<StoredObject | undefined> = [];

  record(
    objects: Map<string, StoredObject>,
    id: string,
    previous: StoredObject | undefined,
  ): void {
    this.#maps.push(objects);
    this.#ids.push(id);
    this.#previous.push(previous);
  }

  /** Puts back the recorded objects, latest first, so an id changed twice ends at its first recorded state. */
  restore(): void {
    for (let i = this.#ids.length - 1; i >= 0; i--) {
      const previous = this.#previous[i];
      if (previous) this.#maps[i].set(this.#ids[i], previous);
      else this.#maps[i].delete(this.#ids[i]);
    }
  }
}

/** Returns the change event of an applied mutation, with `vector` only when the object has one. */
function changeEvent(
  batch: CommitBatch,
  mutation: Mutation,
  effect: AppliedEffect,
  seq: number,
): ChangeEvent {
  // Two literals instead of a conditional spread, which allocates a temporary object and copies it property by property.
  const vector = effect.next?.vector;
  return vector
    ? {
        seq,
        op: effect.op,
        class: mutation.class,
        id: mutation.id,
        before: effect.before,
        after: effect.after,
        vector,
        timestamp: batch.timestamp,
        txId: batch.txId,
        origin: batch.origin,
        metadata: batch.metadata,
      }
    : {
        seq,
        op: effect.op,
        class: mutation.class,
        id: mutation.id,
        before: effect.before,
        after: effect.after,
        timestamp: batch.timestamp,
        txId: batch.txId,
        origin: batch.origin,
        metadata: batch.metadata,
      };
}

/** Creates the error a reader gets when retention removed the seq it asked for. */
export function truncatedError(fromSeq: number, firstSeq: number): WeftError {
  return new WeftError(
    ErrorCode.CHANGES_TRUNCATED,
    `change log no longer holds seq ${fromSeq}: retention removed everything before seq ${firstSeq}; resync from a snapshot, then read from its seq`,
    { details: { fromSeq, firstSeq } },
  );
}

function withoutVector(object: StoredObject): StoredObject {
  if (!object.vector) return object;
  const { vector: _vector, ...rest } = object;
  return rest;
}

async function* iterate<T>(items: T[]): AsyncIterable<T> {
  yield* items;
}
