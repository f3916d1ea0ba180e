import type { Database, Statement } from "better-sqlite3";

const objectColumns = "id, properties, vector, version, updated_at";
const objectColumnsWithoutVector = "id, properties, version, updated_at";
const changeColumns =
  "seq, op, class, id, before, after, vector, timestamp, tx_id, origin, metadata";

/** Statements of the read-write connection, prepared once per open. */
export interface WriteStatements {
  lastSeq: Statement;
  writeLastSeq: Statement;
  minSeq: Statement;
  selectObject: Statement;
  insertObject: Statement;
  updateObject: Statement;
  deleteObject: Statement;
  insertChange: Statement;
  upsertPosition: Statement;
  upsertState: Statement;
  deleteState: Statement;
  upsertCheckpoint: Statement;
  deleteCheckpoint: Statement;
  minCheckpoint: Statement;
  checkpointsBefore: Statement;
  firstYoungSeq: Statement;
  deleteChangesBefore: Statement;
}

export function prepareWriteStatements(db: Database): WriteStatements {
  return {
    lastSeq: db
      .prepare("SELECT value FROM meta WHERE key = 'last_seq'")
      .pluck(),
    writeLastSeq: db.prepare(
      "UPDATE meta SET value = ? WHERE key = 'last_seq'",
    ),
    minSeq: db.prepare("SELECT min(seq) FROM changes").pluck(),
    // The rowid lets the update or delete that follows skip the (class, id) index search.
    selectObject: db.prepare(
      `SELECT rowid, ${objectColumns} FROM objects WHERE class = ? AND id = ?`,
    ),
    insertObject: db.prepare(
      "INSERT INTO objects (class, id, properties, vector, version, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
    ),
    // Both take the rowid that selectObject read in the same transaction.
    updateObject: db.prepare(
      "UPDATE objects SET properties = ?, vector = ?, version = ?, updated_at = ? WHERE rowid = ?",
    ),
    deleteObject: db.prepare("DELETE FROM objects WHERE rowid = ?"),
    insertChange: db.prepare(
      `INSERT INTO changes (seq, op, class, id, before, after, vector, timestamp, timestamp_ms, tx_id, origin, metadata)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    upsertPosition: db.prepare(
      `INSERT INTO positions (source, stream, position) VALUES (?, ?, ?)
       ON CONFLICT (source, stream) DO UPDATE SET position = excluded.position`,
    ),
    upsertState: db.prepare(
      `INSERT INTO state (plugin, key, value) VALUES (?, ?, ?)
       ON CONFLICT (plugin, key) DO UPDATE SET value = excluded.value`,
    ),
    deleteState: db.prepare("DELETE FROM state WHERE plugin = ? AND key = ?"),
    upsertCheckpoint: db.prepare(
      `INSERT INTO checkpoints (name, next_seq) VALUES (?, ?)
       ON CONFLICT (name) DO UPDATE SET next_seq = excluded.next_seq`,
    ),
    deleteCheckpoint: db.prepare("DELETE FROM checkpoints WHERE name = ?"),
    minCheckpoint: db.prepare("SELECT min(next_seq) FROM checkpoints").pluck(),
    checkpointsBefore: db.prepare(
      "SELECT name, next_seq FROM checkpoints WHERE next_seq < ? ORDER BY name",
    ),
    // Arguments: first seq to look at, seq to stop before, cutoff time in ms since the epoch.
    firstYoungSeq: db
      .prepare(
        "SELECT seq FROM changes WHERE seq >= ? AND seq < ? AND timestamp_ms >= ? ORDER BY seq LIMIT 1",
      )
      .pluck(),
    deleteChangesBefore: db.prepare("DELETE FROM changes WHERE seq < ?"),
  };
}

/** Keyset-paged listing of one class, with or without the vector column. */
export interface ListStatements {
  first: Statement;
  after: Statement;
  scanFirst: Statement;
  scanAfter: Statement;
}

/** Statements of the read-only connection, prepared once per open. */
export interface ReadStatements {
  lastSeq: Statement;
  minSeq: Statement;
  getObject: Statement;
  getObjectWithoutVector: Statement;
  listWithVector: ListStatements;
  listWithoutVector: ListStatements;
  changesFrom: Statement;
  checkpoints: Statement;
  positions: Statement;
  stateGet: Statement;
  stateFrom: Statement;
}

function prepareList(db: Database, columns: string): ListStatements {
  return {
    first: db.prepare(
      `SELECT ${columns} FROM objects WHERE class = ? ORDER BY id LIMIT ?`,
    ),
    after: db.prepare(
      `SELECT ${columns} FROM objects WHERE class = ? AND id > ? ORDER BY id LIMIT ?`,
    ),
    scanFirst: db.prepare(
      `SELECT ${columns} FROM objects WHERE class = ? ORDER BY id`,
    ),
    scanAfter: db.prepare(
      `SELECT ${columns} FROM objects WHERE class = ? AND id > ? ORDER BY id`,
    ),
  };
}

export function prepareReadStatements(db: Database): ReadStatements {
  return {
    lastSeq: db
      .prepare("SELECT value FROM meta WHERE key = 'last_seq'")
      .pluck(),
    minSeq: db.prepare("SELECT min(seq) FROM changes").pluck(),
    getObject: db.prepare(
      `SELECT ${objectColumns} FROM objects WHERE class = ? AND id = ?`,
    ),
    getObjectWithoutVector: db.prepare(
      `SELECT ${objectColumnsWithoutVector} FROM objects WHERE class = ? AND id = ?`,
    ),
    listWithVector: prepareList(db, objectColumns),
    listWithoutVector: prepareList(db, objectColumnsWithoutVector),
    changesFrom: db.prepare(
      `SELECT ${changeColumns} FROM changes WHERE seq >= ? ORDER BY seq LIMIT ?`,
    ),
    checkpoints: db.prepare(
      "SELECT name, next_seq FROM checkpoints ORDER BY name",
    ),
    positions: db.prepare(
      "SELECT source, stream, position FROM positions WHERE source = ? ORDER BY stream",
    ),
    stateGet: db
      .prepare("SELECT value FROM state WHERE plugin = ? AND key = ?")
      .pluck(),
    stateFrom: db.prepare(
      "SELECT key, value FROM state WHERE plugin = ? AND key >= ? ORDER BY key",
    ),
  };
}
