import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { performance } from "node:perf_hooks";
import Database from "better-sqlite3";
import {
  WeftError,
  applyMutation,
  compileFilter,
  decodeCursor,
  encodeCursor,
  truncatedError,
  type ChangeEvent,
  type ClassDefinition,
  type CommitBatch,
  type CommitResult,
  type ListPage,
  type ListQuery,
  type Mutation,
  type MutationOutcome,
  type Snapshot,
  type SourcePosition,
  type Store,
  type StoreOpenContext,
  type StoredObject,
} from "@weft/core";
import { checkClasses } from "./class-check.js";
import {
  buildEvent,
  encodeVector,
  rowToEvent,
  rowToObject,
  type ChangeRow,
  type ObjectRow,
} from "./codec.js";
import {
  resolveOptions,
  type ResolvedOptions,
  type SqliteStoreOptions,
} from "./config.js";
import { SqliteErrorCode, sqliteCode, sqliteError } from "./errors.js";
import {
  registerMetrics,
  type ChangeLogStatus,
  type StoreMetrics,
} from "./metrics.js";
import { checkFileInfo, migrate, readFileInfo } from "./schema.js";
import { WalCheckpointer } from "./wal-checkpointer.js";
import {
  prepareReadStatements,
  prepareWriteStatements,
  type ReadStatements,
  type WriteStatements,
} from "./statements.js";

type Connection = Database.Database;
type Logger = StoreOpenContext["logger"];

/**
 * SQLite result codes (without extended suffixes) after which the same commit
 * may succeed later. Busy and locked errors get their own code.
 */
const retryableCodes = new Set([
  "SQLITE_FULL",
  "SQLITE_IOERR",
  "SQLITE_PROTOCOL",
]);

/** The connection of one snapshot and its row iterator once reading has started. */
interface SnapshotReader {
  connection: Connection;
  rows: IterableIterator<ObjectRow> | undefined;
  /** Set by `close()`, so a reader that resumes afterwards fails instead of ending early. */
  closed: boolean;
}

/** Everything that exists only while the store is open. */
interface OpenState {
  writer: Connection;
  reader: Connection;
  write: WriteStatements;
  read: ReadStatements;
  classes: Map<string, ClassDefinition>;
  logger: Logger;
  metrics: StoreMetrics;
  /** Snapshots whose objects have not been fully read yet. */
  snapshots: Set<SnapshotReader>;
  /** Checkpoints already reported as behind retention, so each is logged once until it catches up. */
  reportedBehind: Set<string>;
  walCheckpointer: WalCheckpointer;
  commit: (batch: CommitBatch) => { result: CommitResult; deleted: number };
}

/**
 * A weft store in one SQLite file. Objects, their change-log rows, source
 * positions and plugin state of a batch commit in one transaction on a
 * read-write connection in WAL mode. Reads go through a separate read-only
 * connection, and each snapshot gets its own, so reads never take the write
 * lock and a long read never delays a commit.
 *
 * better-sqlite3 is synchronous: every method runs its SQL on the calling
 * thread, so a commit of a large batch blocks the event loop while it runs.
 */
export class SqliteStore implements Store {
  readonly kind = "sqlite";
  readonly transactionalPositions = true;

  readonly #options: ResolvedOptions;
  #state: OpenState | undefined;

  constructor(options: SqliteStoreOptions = {}) {
    this.#options = resolveOptions(options);
  }

  /** Absolute path of the database file. */
  get file(): string {
    return this.#options.file;
  }

  async open(context: StoreOpenContext): Promise<void> {
    const file = this.#options.file;
    if (this.#state) {
      throw sqliteError(
        SqliteErrorCode.OPEN_FAILED,
        `${file} is already open in this store; call close() first`,
        {
          details: { file },
        },
      );
    }
    // The host's store logger already binds `store`, and pino would print the key twice.
    const logger =
      "store" in context.logger.bindings()
        ? context.logger
        : context.logger.child({ store: this.kind });
    const writer = openWriter(file, this.#options, logger);

    let reader: Connection | undefined;
    try {
      checkClasses(writer, file, context.classes, logger);
      reader = openReader(file, this.#options);
      const write = prepareWriteStatements(writer);
      const read = prepareReadStatements(reader);
      // The callback runs only after `state` below is assigned.
      const transaction = writer.transaction((batch: CommitBatch) =>
        this.#applyBatch(state, batch),
      );
      // The metrics read the checkpointer only when scraped, after it exists.
      const metrics = registerMetrics(
        context.metrics,
        () => this.#changeLogStatus(),
        () => walCheckpointer.status(),
      );
      const walCheckpointer = new WalCheckpointer(writer, {
        file,
        durability: this.#options.durability,
        busyTimeoutMs: this.#options.busyTimeoutMs,
        maxWalBytes: this.#options.maxWalBytes,
        backgroundCheckpoint: this.#options.backgroundCheckpoint,
        workerScript: this.#options.checkpointWorker,
        logger,
        metrics,
      });
      const state: OpenState = {
        writer,
        reader,
        write,
        read,
        classes: new Map(
          context.classes.map((definition) => [definition.name, definition]),
        ),
        logger,
        metrics,
        snapshots: new Set(),
        reportedBehind: new Set(),
        walCheckpointer,
        commit: transaction.immediate,
      };
      this.#state = state;

      const deleted = writer
        .transaction(() => this.#trimChangeLog(state, readLastSeq(write)))
        .immediate();
      state.metrics.retentionDeleted.inc(deleted);
    } catch (error) {
      this.#state?.metrics.unregister();
      this.#state = undefined;
      reader?.close();
      writer.close();
      throw error;
    }

    logger.info(
      {
        file,
        durability: this.#options.durability,
        maxRows: this.#options.maxRows,
        maxAgeMs: this.#options.maxAgeMs,
        force: this.#options.force,
        maxWalBytes: this.#options.maxWalBytes,
        backgroundCheckpoint: this.#options.backgroundCheckpoint,
        lastSeq: await this.lastSeq(),
      },
      "opened store",
    );
  }

  async close(): Promise<void> {
    const state = this.#state;
    if (!state) return;
    this.#state = undefined;

    state.metrics.unregister();
    for (const snapshot of state.snapshots) {
      snapshot.closed = true;
      // better-sqlite3 refuses to close a connection while one of its iterators is open.
      snapshot.rows?.return?.();
      snapshot.connection.close();
    }
    if (state.snapshots.size > 0) {
      state.logger.warn(
        { file: this.#options.file, snapshots: state.snapshots.size },
        "closed snapshots whose objects were not fully read",
      );
    }
    state.reader.close();
    await state.walCheckpointer.close();
    state.writer.close();
    state.logger.info({ file: this.#options.file }, "closed store");
  }

  async commit(batch: CommitBatch): Promise<CommitResult> {
    const state = this.#requireOpen();
    const started = performance.now();
    let outcome: { result: CommitResult; deleted: number };
    try {
      outcome = state.commit(batch);
    } catch (error) {
      throw this.#commitError(error, batch);
    }
    state.walCheckpointer.afterWrite();
    state.metrics.commitSeconds.observe((performance.now() - started) / 1000);
    if (outcome.deleted > 0)
      state.metrics.retentionDeleted.inc(outcome.deleted);
    return outcome.result;
  }

  async get(
    className: string,
    id: string,
    options: { withVector?: boolean } = {},
  ): Promise<StoredObject | undefined> {
    const { read } = this.#requireOpen();
    const statement =
      options.withVector === false
        ? read.getObjectWithoutVector
        : read.getObject;
    const row = statement.get(className, id) as ObjectRow | undefined;
    return row ? rowToObject(className, row) : undefined;
  }

  async getMany(
    className: string,
    ids: string[],
  ): Promise<Map<string, StoredObject>> {
    const { reader, read } = this.#requireOpen();
    const result = new Map<string, StoredObject>();
    // One read transaction, so all objects come from the same committed state.
    reader.transaction(() => {
      for (const id of ids) {
        if (result.has(id)) continue;
        const row = read.getObject.get(className, id) as ObjectRow | undefined;
        if (row) result.set(id, rowToObject(className, row));
      }
    })();
    return result;
  }

  /**
   * Reads one page of a class in id order. Without `where` SQLite returns the
   * page directly. With `where`, rows are scanned in id order from the cursor
   * and filtered in JavaScript by core's `compileFilter`, so a selective
   * filter may scan many rows to fill one page.
   */
  async list(query: ListQuery): Promise<ListPage> {
    const { reader, read, classes } = this.#requireOpen();
    if (!Number.isInteger(query.limit) || query.limit < 1) {
      throw sqliteError(
        SqliteErrorCode.ARGUMENT_INVALID,
        `list limit must be an integer of at least 1, got ${JSON.stringify(query.limit)}`,
        { details: { class: query.class, limit: query.limit } },
      );
    }
    const predicate =
      query.where === undefined
        ? undefined
        : compileFilter(query.where, classes.get(query.class));
    const after =
      query.after === undefined ? undefined : decodeCursor(query.after);
    const statements = query.withVector
      ? read.listWithVector
      : read.listWithoutVector;

    const objects: StoredObject[] = [];
    let hasMore = false;
    reader.transaction(() => {
      if (!predicate) {
        const rows = (
          after === undefined
            ? statements.first.all(query.class, query.limit + 1)
            : statements.after.all(query.class, after, query.limit + 1)
        ) as ObjectRow[];
        hasMore = rows.length > query.limit;
        for (const row of rows.slice(0, query.limit))
          objects.push(rowToObject(query.class, row));
        return;
      }

      const rows = (
        after === undefined
          ? statements.scanFirst.iterate(query.class)
          : statements.scanAfter.iterate(query.class, after)
      ) as IterableIterator<ObjectRow>;
      for (const row of rows) {
        const object = rowToObject(query.class, row);
        if (!predicate(object.properties)) continue;
        if (objects.length === query.limit) {
          hasMore = true;
          // Leaving the loop early resets the statement.
          break;
        }
        objects.push(object);
      }
    })();

    return {
      objects,
      next: hasMore ? encodeCursor(objects[objects.length - 1].id) : null,
    };
  }

  /**
   * Opens a read transaction on a new read-only connection, so the objects are
   * exactly those committed up to `seq`, whatever is committed meanwhile. The
   * connection closes when the objects are fully read or the loop exits early,
   * or at `close()`. Until then SQLite cannot reset the WAL file past this
   * snapshot, so the WAL grows while commits continue.
   */
  async snapshot(className: string): Promise<Snapshot> {
    const state = this.#requireOpen();
    const connection = openReader(this.#options.file, this.#options);
    try {
      connection.prepare("BEGIN").run();
      // The first read fixes the transaction's view of the database.
      const seq =
        (connection
          .prepare("SELECT value FROM meta WHERE key = 'last_seq'")
          .pluck()
          .get() as number) ?? 0;
      const snapshot: SnapshotReader = {
        connection,
        rows: undefined,
        closed: false,
      };
      state.snapshots.add(snapshot);
      return { seq, objects: this.#readSnapshot(state, snapshot, className) };
    } catch (error) {
      connection.close();
      throw error;
    }
  }

  async readChanges(fromSeq: number, limit: number): Promise<ChangeEvent[]> {
    const state = this.#requireOpen();
    if (!Number.isInteger(fromSeq) || !Number.isInteger(limit) || limit < 0) {
      throw sqliteError(
        SqliteErrorCode.ARGUMENT_INVALID,
        `readChanges needs an integer fromSeq and an integer limit of at least 0, got fromSeq ${JSON.stringify(fromSeq)} and limit ${JSON.stringify(limit)}`,
        { details: { fromSeq, limit } },
      );
    }
    const { reader, read } = state;
    // One read transaction, so retention in another process cannot remove rows between the check and the read.
    const rows = reader.transaction(() => {
      const firstSeq = readFirstSeq(read);
      if (fromSeq < firstSeq) {
        state.metrics.truncatedReads.inc();
        throw truncatedError(fromSeq, firstSeq);
      }
      return read.changesFrom.all(fromSeq, limit) as ChangeRow[];
    })();
    return rows.map(rowToEvent);
  }

  async lastSeq(): Promise<number> {
    return readLastSeq(this.#requireOpen().read);
  }

  async firstSeq(): Promise<number> {
    const { reader, read } = this.#requireOpen();
    return reader.transaction(() => readFirstSeq(read))();
  }

  async setCheckpoint(name: string, nextSeq: number | null): Promise<void> {
    const state = this.#requireOpen();
    if (typeof name !== "string" || name === "") {
      throw sqliteError(
        SqliteErrorCode.ARGUMENT_INVALID,
        `checkpoint name must be a non-empty string, got ${JSON.stringify(name)}`,
        {
          details: { name },
        },
      );
    }
    if (nextSeq === null) {
      state.write.deleteCheckpoint.run(name);
      state.reportedBehind.delete(name);
      return;
    }
    if (!Number.isInteger(nextSeq) || nextSeq < 0) {
      throw sqliteError(
        SqliteErrorCode.ARGUMENT_INVALID,
        `checkpoint "${name}": next seq must be a non-negative integer or null, got ${JSON.stringify(nextSeq)}`,
        { details: { name, nextSeq } },
      );
    }
    state.write.upsertCheckpoint.run(name, nextSeq);
    state.walCheckpointer.afterWrite();

    const firstSeq = readFirstSeq(state.read);
    if (nextSeq < firstSeq) this.#reportBehind(state, name, nextSeq, firstSeq);
    else state.reportedBehind.delete(name);
  }

  async checkpoints(): Promise<Map<string, number>> {
    const { read } = this.#requireOpen();
    const rows = read.checkpoints.all() as Array<{
      name: string;
      next_seq: number;
    }>;
    return new Map(rows.map((row) => [row.name, row.next_seq]));
  }

  async positions(source: string): Promise<SourcePosition[]> {
    const { read } = this.#requireOpen();
    return read.positions.all(source) as SourcePosition[];
  }

  async stateGet(plugin: string, key: string): Promise<unknown> {
    const { read } = this.#requireOpen();
    const text = read.stateGet.get(plugin, key) as string | undefined;
    return text === undefined ? undefined : JSON.parse(text);
  }

  async stateSet(plugin: string, key: string, value: unknown): Promise<void> {
    const { write, walCheckpointer } = this.#requireOpen();
    writeState(write, plugin, key, value);
    walCheckpointer.afterWrite();
  }

  async stateDelete(plugin: string, key: string): Promise<void> {
    const { write, walCheckpointer } = this.#requireOpen();
    write.deleteState.run(plugin, key);
    walCheckpointer.afterWrite();
  }

  async stateList(
    plugin: string,
    prefix: string,
  ): Promise<Array<{ key: string; value: unknown }>> {
    const { read } = this.#requireOpen();
    const entries: Array<{ key: string; value: unknown }> = [];
    // Keys sort by code point, so every key that starts with the prefix follows it without a gap.
    for (const row of read.stateFrom.iterate(
      plugin,
      prefix,
    ) as IterableIterator<{ key: string; value: string }>) {
      if (!row.key.startsWith(prefix)) break;
      entries.push({ key: row.key, value: JSON.parse(row.value) });
    }
    return entries;
  }

  #requireOpen(): OpenState {
    if (!this.#state) {
      throw sqliteError(
        SqliteErrorCode.NOT_OPEN,
        `store ${this.#options.file} is not open; call open() first, and do not use the store after close()`,
        { details: { file: this.#options.file } },
      );
    }
    return this.#state;
  }

  /** Runs inside the commit's write transaction; a throw rolls back everything it wrote. */
  #applyBatch(
    state: OpenState,
    batch: CommitBatch,
  ): { result: CommitResult; deleted: number } {
    const { write } = state;
    const originText = JSON.stringify(batch.origin ?? {});
    const metadataText = JSON.stringify(batch.metadata ?? {});
    const origin = JSON.parse(originText) as ChangeEvent["origin"];
    const metadata = JSON.parse(metadataText) as ChangeEvent["metadata"];
    const parsedTime = Date.parse(batch.timestamp);
    // Retention compares this number; an unparsable timestamp counts as now.
    const timestampMs = Number.isNaN(parsedTime) ? Date.now() : parsedTime;

    const startSeq = readLastSeq(write);
    let seq = startSeq;
    const outcomes: MutationOutcome[] = [];
    const events: ChangeEvent[] = [];

    for (const mutation of batch.mutations) {
      const row = write.selectObject.get(mutation.class, mutation.id) as
        (ObjectRow & { rowid: number }) | undefined;
      const current = row ? rowToObject(mutation.class, row) : undefined;
      const effect = applyMutation(
        current,
        roundMutationVector(mutation),
        batch.timestamp,
      );
      if (effect.op === "NOOP") {
        outcomes.push({ id: mutation.id, op: "NOOP" });
        continue;
      }

      const next = effect.next;
      const vectorBlob = next?.vector
        ? vectorBytes(mutation, row, next.vector)
        : null;
      const afterText =
        effect.after === null ? null : JSON.stringify(effect.after);
      if (effect.op === "DELETE") {
        write.deleteObject.run(row!.rowid);
      } else if (effect.op === "INSERT") {
        write.insertObject.run(
          mutation.class,
          mutation.id,
          afterText,
          vectorBlob,
          next!.version,
          batch.timestamp,
        );
      } else {
        write.updateObject.run(
          afterText,
          vectorBlob,
          next!.version,
          batch.timestamp,
          row!.rowid,
        );
      }

      seq += 1;
      write.insertChange.run(
        seq,
        effect.op,
        mutation.class,
        mutation.id,
        row ? row.properties : null,
        afterText,
        vectorBlob,
        batch.timestamp,
        timestampMs,
        batch.txId,
        originText,
        metadataText,
      );
      outcomes.push({ id: mutation.id, op: effect.op, seq });
      events.push(
        buildEvent({
          seq,
          op: effect.op,
          className: mutation.class,
          id: mutation.id,
          before: effect.before,
          after: effect.after,
          vector: next?.vector,
          timestamp: batch.timestamp,
          txId: batch.txId,
          origin,
          metadata,
        }),
      );
    }

    for (const position of batch.positions ?? []) {
      write.upsertPosition.run(
        position.source,
        position.stream,
        position.position,
      );
    }
    for (const entry of batch.state ?? [])
      writeState(write, entry.plugin, entry.key, entry.value);
    if (seq !== startSeq) write.writeLastSeq.run(seq);

    const deleted = seq === startSeq ? 0 : this.#trimChangeLog(state, seq);
    return { result: { outcomes, events }, deleted };
  }

  /**
   * Deletes change-log rows that both limits allow, in seq order: rows more
   * than `maxRows` behind the last seq, and rows older than `maxAge` up to the
   * first younger row. Unless `force` is set it stops at the slowest
   * checkpoint. The scan for old rows covers only rows that are deleted, so
   * its cost follows the number of rows it removes. Returns that number.
   */
  #trimChangeLog(state: OpenState, lastSeq: number): number {
    const { write } = state;
    const firstSeq = write.minSeq.get() as number | null;
    if (firstSeq === null) return 0;

    const slowest = write.minCheckpoint.get() as number | null;
    const limit =
      this.#options.force || slowest === null ? lastSeq + 1 : slowest;
    let keepFrom = Math.max(firstSeq, lastSeq - this.#options.maxRows + 1);
    if (this.#options.maxAgeMs !== undefined && keepFrom < limit) {
      const cutoff = Date.now() - this.#options.maxAgeMs;
      const young = write.firstYoungSeq.get(keepFrom, limit, cutoff) as
        number | undefined;
      keepFrom = young ?? limit;
    }
    keepFrom = Math.min(keepFrom, limit);
    if (keepFrom <= firstSeq) return 0;

    const deleted = write.deleteChangesBefore.run(keepFrom).changes;
    state.logger.debug(
      { file: this.#options.file, deleted, firstSeq: keepFrom },
      "removed change-log rows by retention",
    );
    if (this.#options.force) {
      for (const checkpoint of write.checkpointsBefore.all(keepFrom) as Array<{
        name: string;
        next_seq: number;
      }>) {
        this.#reportBehind(
          state,
          checkpoint.name,
          checkpoint.next_seq,
          keepFrom,
        );
      }
    }
    return deleted;
  }

  #reportBehind(
    state: OpenState,
    name: string,
    nextSeq: number,
    firstSeq: number,
  ): void {
    if (state.reportedBehind.has(name)) return;
    state.reportedBehind.add(name);
    state.logger.warn(
      { file: this.#options.file, checkpoint: name, nextSeq, firstSeq },
      "checkpointed consumer is behind change-log retention and will get WEFT_ERR_CHANGES_TRUNCATED",
    );
  }

  async *#readSnapshot(
    state: OpenState,
    snapshot: SnapshotReader,
    className: string,
  ): AsyncGenerator<StoredObject> {
    try {
      if (snapshot.closed) throw this.#snapshotClosedError(className);
      snapshot.rows = snapshot.connection
        .prepare(
          "SELECT id, properties, vector, version, updated_at FROM objects WHERE class = ? ORDER BY id",
        )
        .iterate(className) as IterableIterator<ObjectRow>;
      for (const row of snapshot.rows) yield rowToObject(className, row);
      if (snapshot.closed) throw this.#snapshotClosedError(className);
    } finally {
      if (state.snapshots.delete(snapshot)) {
        snapshot.rows?.return?.();
        snapshot.connection.close();
      }
    }
  }

  #snapshotClosedError(className: string): WeftError {
    return sqliteError(
      SqliteErrorCode.NOT_OPEN,
      `snapshot of class ${className} in ${this.#options.file} was cut short because the store was closed; take a new snapshot after open()`,
      { details: { file: this.#options.file, class: className } },
    );
  }

  #changeLogStatus(): ChangeLogStatus | undefined {
    const state = this.#state;
    if (!state) return undefined;
    return state.reader.transaction(() => ({
      firstSeq: readFirstSeq(state.read),
      lastSeq: readLastSeq(state.read),
      checkpoints: new Map(
        (
          state.read.checkpoints.all() as Array<{
            name: string;
            next_seq: number;
          }>
        ).map((row) => [row.name, row.next_seq]),
      ),
    }))();
  }

  /**
   * Wraps a commit failure in a WeftError. Its message can reach HTTP
   * clients, so it leaves out the database file's path, which `details.file`
   * keeps for the host's log.
   */
  #commitError(error: unknown, batch: CommitBatch): unknown {
    if (error instanceof WeftError) return error;
    const code = sqliteCode(error);
    const details = {
      file: this.#options.file,
      txId: batch.txId,
      sqliteCode: code,
    };
    if (code === "SQLITE_BUSY" || code === "SQLITE_LOCKED") {
      return sqliteError(
        SqliteErrorCode.BUSY,
        `commit of transaction ${batch.txId} timed out after ${this.#options.busyTimeoutMs} ms waiting for another connection's write lock; retry, and check which other process writes to the file`,
        { cause: error, details, retryable: true },
      );
    }
    const baseCode = code?.split("_").slice(0, 2).join("_");
    return sqliteError(
      SqliteErrorCode.COMMIT_FAILED,
      `commit of transaction ${batch.txId} failed and nothing of it was applied: ${String((error as Error).message).replaceAll(this.#options.file, "<database file>")}`,
      {
        cause: error,
        details,
        retryable: baseCode !== undefined && retryableCodes.has(baseCode),
      },
    );
  }
}

/** Creates a store; the host opens it with the configured classes. */
export function createSqliteStore(
  options: SqliteStoreOptions = {},
): SqliteStore {
  return new SqliteStore(options);
}

function readLastSeq(statements: { lastSeq: Database.Statement }): number {
  return (statements.lastSeq.get() as number | undefined) ?? 0;
}

function readFirstSeq(statements: {
  minSeq: Database.Statement;
  lastSeq: Database.Statement;
}): number {
  const first = statements.minSeq.get() as number | null;
  return first ?? readLastSeq(statements) + 1;
}

function writeState(
  write: WriteStatements,
  plugin: string,
  key: string,
  value: unknown,
): void {
  if (value === undefined) {
    write.deleteState.run(plugin, key);
    return;
  }
  const text = JSON.stringify(value);
  if (text === undefined) {
    throw sqliteError(
      SqliteErrorCode.ARGUMENT_INVALID,
      `state value of plugin "${plugin}" key "${key}" is not JSON-serialisable (${typeof value}); store plain data`,
      { details: { plugin, key } },
    );
  }
  write.upsertState.run(plugin, key, text);
}

/** Returns the bytes of the vector after a write: the stored ones when the write kept the vector. */
function vectorBytes(
  mutation: Mutation,
  row: ObjectRow | undefined,
  vector: number[],
): Buffer {
  if (mutation.op !== "delete" && mutation.vector === undefined && row?.vector)
    return row.vector;
  return encodeVector(vector);
}

/** Rounds a written vector to float32 first, so a rewrite of the same vector compares equal to the stored one. */
function roundMutationVector(mutation: Mutation): Mutation {
  if (mutation.op === "delete" || !mutation.vector) return mutation;
  return {
    ...mutation,
    vector: mutation.vector.map((value) => Math.fround(value)),
  };
}

/**
 * Opens the read-write connection: checks that the file is a weft database
 * before changing anything, then switches to WAL, sets durability and
 * migrates the schema.
 */
function openWriter(
  file: string,
  options: ResolvedOptions,
  logger: Logger,
): Connection {
  try {
    mkdirSync(dirname(file), { recursive: true });
  } catch (error) {
    throw sqliteError(
      SqliteErrorCode.OPEN_FAILED,
      `failed to create the folder of ${file}: ${(error as Error).message}; create it or set "path" to a writable location`,
      { cause: error, details: { file } },
    );
  }

  let db: Connection;
  try {
    db = new Database(file, { timeout: options.busyTimeoutMs });
  } catch (error) {
    throw sqliteError(
      SqliteErrorCode.OPEN_FAILED,
      `failed to open ${file}: ${(error as Error).message}; check that the path is a writable file`,
      { cause: error, details: { file, sqliteCode: sqliteCode(error) } },
    );
  }

  try {
    checkFileInfo(readFileInfo(db), file);
    const mode = db.pragma("journal_mode = WAL", { simple: true }) as string;
    if (mode !== "wal") {
      throw sqliteError(
        SqliteErrorCode.OPEN_FAILED,
        `${file}: SQLite could not switch to WAL mode (journal mode is "${mode}"); put the file on a local file system`,
        { details: { file, journalMode: mode } },
      );
    }
    db.pragma(
      `synchronous = ${options.durability === "full" ? "FULL" : "NORMAL"}`,
    );
    migrate(db, file, logger);
    return db;
  } catch (error) {
    db.close();
    if (error instanceof WeftError) throw error;
    const code = sqliteCode(error);
    if (code === "SQLITE_NOTADB") {
      throw sqliteError(
        SqliteErrorCode.NOT_WEFT_DATABASE,
        `${file} is not a SQLite database, so not a weft database; set the store's "path" to a new file or to an existing weft database`,
        { cause: error, details: { file } },
      );
    }
    throw sqliteError(
      SqliteErrorCode.OPEN_FAILED,
      `failed to open ${file}: ${(error as Error).message}`,
      {
        cause: error,
        details: { file, sqliteCode: code },
      },
    );
  }
}

function openReader(file: string, options: ResolvedOptions): Connection {
  try {
    return new Database(file, {
      readonly: true,
      fileMustExist: true,
      timeout: options.busyTimeoutMs,
    });
  } catch (error) {
    throw sqliteError(
      SqliteErrorCode.OPEN_FAILED,
      `failed to open a read-only connection to ${file}: ${(error as Error).message}`,
      { cause: error, details: { file, sqliteCode: sqliteCode(error) } },
    );
  }
}
