import {
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  addOwner,
  createBroker,
  liveOwners,
  removeOwner,
  startWatchdog,
  type StartBrokerOptions,
} from "./broker.js";
import type { BrokerAddresses } from "./broker-config.js";
import { cacheDir } from "./paths.js";
import { isAlive, isBrokerProcess, terminate } from "./processes.js";

/**
 * The shared test broker, as recorded in `.cache/shared-broker.json` by the
 * process that started it (the tap `before` script or `pnpm kafka:start`).
 */
export interface SharedBrokerState extends BrokerAddresses {
  kafkaVersion: string;
  /** Folder with the broker's data, logs and owners; deleted when the broker stops. */
  rootDir: string;
  /** Pid of the broker JVM. */
  pid: number;
  /** PEM certificate that clients trust to reach `tlsBrokers`. */
  caFile: string;
  /** Milliseconds from JVM start until the broker responded to a metadata request. */
  startMs: number;
}

/** Result of {@link acquireSharedBroker}. */
export interface AcquiredBroker {
  state: SharedBrokerState;
  /** False when an already running shared broker was reused. */
  started: boolean;
}

/**
 * Time to wait for another process that has the state lock. Starting the
 * broker under the lock may take three attempts with new ports, of up to 60 s each.
 */
const lockTimeoutMs = 300_000;

export function sharedStateFile(): string {
  return join(cacheDir(), "shared-broker.json");
}

/**
 * Runs `action` while holding a lock folder next to the state file, so that
 * concurrent test runs on one checkout start one broker between them and never
 * stop it under each other. A lock whose holder has exited is taken over.
 */
async function withStateLock<T>(action: () => Promise<T>): Promise<T> {
  const lockDir = `${sharedStateFile()}.lock`;
  mkdirSync(cacheDir(), { recursive: true });
  const deadline = Date.now() + lockTimeoutMs;
  for (;;) {
    try {
      mkdirSync(lockDir);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = readLockHolder(lockDir);
    if (holder !== undefined && !isAlive(holder)) {
      rmSync(lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${lockTimeoutMs} ms waiting for the shared broker lock ${lockDir} held by pid ${holder}; ` +
          "if no test run is active, delete that folder",
      );
    }
    await sleep(100);
  }
  writeFileSync(join(lockDir, "pid"), String(process.pid));
  try {
    return await action();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

function readLockHolder(lockDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(lockDir, "pid"), "utf8"));
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Reads the state file; returns undefined when it is missing or its broker no longer runs. */
export function readSharedState(): SharedBrokerState | undefined {
  let state: SharedBrokerState;
  try {
    state = JSON.parse(
      readFileSync(sharedStateFile(), "utf8"),
    ) as SharedBrokerState;
  } catch {
    return undefined;
  }
  return existsSync(state.rootDir) && isBrokerProcess(state.pid, state.rootDir)
    ? state
    : undefined;
}

async function stopSharedBroker(state: SharedBrokerState): Promise<void> {
  // The data is deleted right after, so there is nothing to shut down cleanly.
  if (isBrokerProcess(state.pid, state.rootDir)) await terminate(state.pid, 0);
  rmSync(state.rootDir, { recursive: true, force: true });
  rmSync(sharedStateFile(), { force: true });
}

/**
 * Registers `owner` as a user of the shared broker, starting the broker when
 * none runs. `pid` is the owner's process: once it exits the owner counts as
 * gone, and the watchdog stops the broker when no owner is left. Without a pid
 * the owner lasts until {@link releaseSharedBroker}.
 */
export async function acquireSharedBroker(
  owner: string,
  pid: number | undefined,
  options: StartBrokerOptions = {},
): Promise<AcquiredBroker> {
  return withStateLock(async () => {
    const running = readSharedState();
    if (running) {
      addOwner(running.rootDir, owner, pid);
      return { state: running, started: false };
    }

    // A state file whose broker is gone is left from a run that was killed.
    const stale = existsSync(sharedStateFile());
    if (stale) rmSync(sharedStateFile(), { force: true });

    const startedAt = Date.now();
    const broker = await createBroker(options, (rootDir) => {
      addOwner(rootDir, owner, pid);
      startWatchdog(rootDir, sharedStateFile());
    });
    const state: SharedBrokerState = {
      ...broker.addresses,
      kafkaVersion: broker.install.version,
      rootDir: broker.rootDir,
      pid: broker.pid as number,
      caFile: broker.install.caFile,
      startMs: Date.now() - startedAt,
    };
    writeFileSync(sharedStateFile(), `${JSON.stringify(state, null, 2)}\n`);
    return { state, started: true };
  });
}

/** Result of {@link releaseSharedBroker}. */
export interface ReleaseResult {
  /** True when this call stopped the broker. */
  stopped: boolean;
  /** Owners that still use the broker, when it keeps running. */
  remainingOwners: string[];
}

/**
 * Removes `owner` from the shared broker's users and stops the broker, deleting
 * its data, when no other owner is left.
 */
export async function releaseSharedBroker(
  owner: string,
): Promise<ReleaseResult> {
  return withStateLock(async () => {
    const state = readSharedState();
    if (!state) {
      rmSync(sharedStateFile(), { force: true });
      return { stopped: false, remainingOwners: [] };
    }
    removeOwner(state.rootDir, owner);
    const remainingOwners = liveOwners(state.rootDir);
    if (remainingOwners.length > 0) return { stopped: false, remainingOwners };
    await stopSharedBroker(state);
    return { stopped: true, remainingOwners: [] };
  });
}
