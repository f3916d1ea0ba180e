import type { Snapshot, Store, StoredObject } from "@weft/core";
import type { SnapshotMarker, SnapshotRow } from "./formats/types.js";

/** Consistent snapshots of the sink's classes, each as of its own seq. */
export interface SnapshotSet {
  snapshots: Array<{ className: string; snapshot: Snapshot }>;
  /** The seq each class's snapshot was taken at. */
  seqs: Record<string, number>;
  startedAtMs: number;
}

/** Takes one snapshot per class, in the given order. */
export async function takeSnapshots(
  store: Store,
  classNames: string[],
): Promise<SnapshotSet> {
  const startedAtMs = Date.now();
  const snapshots: SnapshotSet["snapshots"] = [];
  for (const className of classNames)
    snapshots.push({ className, snapshot: await store.snapshot(className) });
  return {
    snapshots,
    seqs: Object.fromEntries(
      snapshots.map(({ className, snapshot }) => [className, snapshot.seq]),
    ),
    startedAtMs,
  };
}

/**
 * Picks Debezium's marker for a snapshot row, with Debezium's precedence
 * (`RelationalSnapshotChangeEventSource`): last of the snapshot, first of the
 * snapshot, last of its class, first of its class, else `true`.
 */
export function snapshotMarker(position: {
  firstInSnapshot: boolean;
  lastInSnapshot: boolean;
  firstInClass: boolean;
  lastInClass: boolean;
}): SnapshotMarker {
  if (position.lastInSnapshot) return "last";
  if (position.firstInSnapshot) return "first";
  if (position.lastInClass) return "last_in_data_collection";
  if (position.firstInClass) return "first_in_data_collection";
  return "true";
}

/**
 * Yields the accepted objects of every snapshot as rows with their markers.
 * It reads one object ahead, because a row's marker depends on whether
 * another row follows.
 */
export async function* snapshotRows(
  set: SnapshotSet,
  accept: (object: StoredObject) => boolean,
): AsyncIterable<SnapshotRow> {
  let pending:
    { object: StoredObject; seq: number; firstInClass: boolean } | undefined;
  let emitted = 0;

  const toRow = (next: { object: StoredObject } | undefined): SnapshotRow => {
    const current = pending!;
    const lastInClass =
      next === undefined || next.object.class !== current.object.class;
    const marker = snapshotMarker({
      firstInSnapshot: emitted === 0,
      lastInSnapshot: next === undefined,
      firstInClass: current.firstInClass,
      lastInClass,
    });
    emitted += 1;
    return {
      object: current.object,
      marker,
      seq: current.seq,
      startedAtMs: set.startedAtMs,
    };
  };

  for (const { snapshot } of set.snapshots) {
    let firstInClass = true;
    for await (const object of snapshot.objects) {
      if (!accept(object)) continue;
      if (pending) yield toRow({ object });
      pending = { object, seq: snapshot.seq, firstInClass };
      firstInClass = false;
    }
  }
  if (pending) yield toRow(undefined);
}
