/**
 * Worker thread that copies the WAL into the database file with
 * `PRAGMA wal_checkpoint(PASSIVE)` on a connection of its own, so commits do
 * not wait for a checkpoint or its fsync. The exception is the writer's own
 * checkpoint when the WAL exceeds its limit (see wal-checkpointer.ts).
 *
 * A passive checkpoint takes no lock that a writer or reader waits for: it
 * copies the frames that no reader still needs and returns. The thread has no
 * event loop work of its own. It blocks in `Atomics.wait` until the store
 * counts a commit or requests a stop (see wal-control.ts).
 */
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";
import {
  Slot,
  type CheckpointWorkerData,
  type CheckpointWorkerMessage,
} from "./wal-control.js";

const data = workerData as CheckpointWorkerData;
const control = new Int32Array(data.control);

function report(
  phase: CheckpointWorkerMessage["phase"],
  error: unknown,
  failures: number,
): void {
  const code = (error as { code?: unknown }).code;
  const message: CheckpointWorkerMessage = {
    type: "error",
    phase,
    message: error instanceof Error ? error.message : String(error),
    sqliteCode: typeof code === "string" ? code : undefined,
    failures,
  };
  parentPort?.postMessage(message);
}

function run(db: Database.Database): void {
  // -1, so the first commit count seen starts a checkpoint at once: the store starts the worker when the WAL is already large.
  let seen = -1;
  let notBefore = 0;
  let previousCheckpointed = 0;

  while (Atomics.load(control, Slot.STOP) === 0) {
    const commits = Atomics.load(control, Slot.COMMITS);
    if (commits === seen) {
      Atomics.wait(control, Slot.COMMITS, commits);
      continue;
    }
    const delay = notBefore - Date.now();
    if (delay > 0) {
      // The store notifies STOP when it closes, which ends this wait early.
      Atomics.wait(control, Slot.STOP, 0, delay);
      continue;
    }
    seen = commits;
    // The store is checkpointing on the writer; its next commit wakes this loop again.
    if (Atomics.load(control, Slot.HOLD) === 1) continue;

    try {
      const [result] = db.pragma("wal_checkpoint(PASSIVE)") as Array<{
        busy: number;
        log: number;
        checkpointed: number;
      }>;
      if (result.busy !== 0) {
        // The writer is checkpointing; try again at the next commit.
        Atomics.add(control, Slot.BUSY, 1);
        notBefore = 0;
      } else {
        Atomics.add(control, Slot.DONE, 1);
        // After a WAL reset the count starts again from 0, so a smaller count means all of it is new.
        const copied =
          result.checkpointed >= previousCheckpointed
            ? result.checkpointed - previousCheckpointed
            : result.checkpointed;
        previousCheckpointed = result.checkpointed;
        // A checkpoint that copied a full batch of frames means load, so the
        // next commit triggers another. Otherwise wait one interval, to spare fsyncs.
        notBefore =
          copied >= data.busyFrames ? 0 : Date.now() + data.idleIntervalMs;
      }
    } catch (error) {
      const failures = Atomics.add(control, Slot.FAILED, 1) + 1;
      report("checkpoint", error, failures);
      notBefore = Date.now() + data.idleIntervalMs;
    }
  }
}

/** Opens the connection and runs the loop. An open failure is reported and ends the thread, and the store then checkpoints on the writer. */
function main(): void {
  let db: Database.Database | undefined;
  try {
    db = new Database(data.file, {
      fileMustExist: true,
      timeout: data.busyTimeoutMs,
    });
    db.pragma(`synchronous = ${data.synchronous}`);
  } catch (error) {
    db?.close();
    report("open", error, Atomics.load(control, Slot.FAILED));
    return;
  }
  try {
    run(db);
  } finally {
    db.close();
  }
}

main();
