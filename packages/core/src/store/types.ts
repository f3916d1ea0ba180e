import type { ClassDefinition } from "../classes/types.js";
import type {
  ChangeEvent,
  ChangeOp,
  ChangeOrigin,
  ChangeMetadata,
} from "../changes/types.js";
import type { Where } from "../filter/types.js";
import type { Logger } from "pino";
import type { Registry } from "prom-client";

/** A stored object as reads return it. */
export interface StoredObject {
  class: string;
  id: string;
  properties: Record<string, unknown>;
  vector?: number[];
  /** Starts at 1 on insert and grows by one with every committed change. */
  version: number;
  /** ISO-8601 time of the last committed change. */
  updatedAt: string;
}

/**
 * One mutation that passed the host's hooks and validation, in the form the
 * store commits. Ids are final here (UUIDs).
 */
export type Mutation =
  | {
      op: "upsert";
      class: string;
      id: string;
      properties: Record<string, unknown>;
      /** Absent keeps the stored vector; `null` removes it. */
      vector?: number[] | null;
    }
  | {
      op: "patch";
      class: string;
      id: string;
      /** Merged over the stored properties; a patch of a missing object inserts it. */
      properties: Record<string, unknown>;
      vector?: number[] | null;
    }
  | { op: "delete"; class: string; id: string };

/** The position a source has read up to, committed with a batch. */
export interface SourcePosition {
  /** The source's name, usually the plugin name plus its consumer. */
  source: string;
  /** For Kafka `topic/partition`; for a file source its path. */
  stream: string;
  /** The next position to read: for Kafka the next offset, as a string of digits. */
  position: string;
}

/** A plugin state entry written in the same transaction as a batch. */
export interface StateWrite {
  plugin: string;
  key: string;
  /** JSON-serialisable value; `undefined` deletes the key. */
  value: unknown;
}

/** Everything one store transaction commits: all in or all out. */
export interface CommitBatch {
  txId: string;
  mutations: readonly Mutation[];
  origin: ChangeOrigin;
  metadata: ChangeMetadata;
  positions: SourcePosition[];
  state: StateWrite[];
  /** Commit time, ISO-8601; the store stamps events and objects with it. */
  timestamp: string;
}

/** Outcome of one mutation in a commit, in mutation order. */
export interface MutationOutcome {
  id: string;
  /** `NOOP` when the write changed nothing or deleted a missing id. */
  op: ChangeOp | "NOOP";
  seq?: number;
}

export interface CommitResult {
  outcomes: MutationOutcome[];
  /** The committed change events in seq order; NOOP mutations have none. */
  events: ChangeEvent[];
}

/** A page of objects of one class. */
export interface ListQuery {
  class: string;
  where?: Where;
  limit: number;
  /** Opaque cursor from a previous page's `next`. */
  after?: string;
  withVector?: boolean;
}

export interface ListPage {
  objects: StoredObject[];
  /** Cursor of the next page; null on the last page. */
  next: string | null;
}

/** Every object of a class as of one seq. */
export interface Snapshot {
  /** The last seq the snapshot contains; stream from `seq + 1` afterwards. */
  seq: number;
  objects: AsyncIterable<StoredObject>;
}

/** Context the host passes to a store when it opens it. */
export interface StoreOpenContext {
  classes: ClassDefinition[];
  logger: Logger;
  metrics: Registry;
}

/**
 * The durable object store behind a host. Every method may be called
 * concurrently; `commit` calls are serialised by the host.
 */
export interface Store {
  /** Short name for logs and `/readyz`, such as `memory` or `sqlite`. */
  readonly kind: string;
  /** Whether `commit` persists `positions` and `state` atomically with objects. */
  readonly transactionalPositions: boolean;

  open(context: StoreOpenContext): Promise<void>;
  close(): Promise<void>;

  /** Applies a batch in one transaction and returns its change events. */
  commit(batch: CommitBatch): Promise<CommitResult>;

  get(
    className: string,
    id: string,
    options?: { withVector?: boolean },
  ): Promise<StoredObject | undefined>;
  getMany(className: string, ids: string[]): Promise<Map<string, StoredObject>>;
  list(query: ListQuery): Promise<ListPage>;
  snapshot(className: string): Promise<Snapshot>;

  /**
   * Reads up to `limit` change events with `seq >= fromSeq`, in seq order.
   * Throws `WEFT_ERR_CHANGES_TRUNCATED` when retention removed `fromSeq`.
   */
  readChanges(fromSeq: number, limit: number): Promise<ChangeEvent[]>;
  /** The highest committed seq, 0 when the log is empty. */
  lastSeq(): Promise<number>;
  /** The lowest seq still in the change log; `lastSeq() + 1` when it is empty. */
  firstSeq(): Promise<number>;

  /**
   * Records the next seq a named consumer needs, so retention keeps it.
   * `null` removes the checkpoint.
   */
  setCheckpoint(name: string, nextSeq: number | null): Promise<void>;
  checkpoints(): Promise<Map<string, number>>;

  /** Source positions committed with earlier batches. */
  positions(source: string): Promise<SourcePosition[]>;

  stateGet(plugin: string, key: string): Promise<unknown>;
  stateSet(plugin: string, key: string, value: unknown): Promise<void>;
  stateDelete(plugin: string, key: string): Promise<void>;
  /** Entries of a plugin whose keys start with `prefix`, in key order. */
  stateList(
    plugin: string,
    prefix: string,
  ): Promise<Array<{ key: string; value: unknown }>>;
}
