#!/usr/bin/env node
// Watchdog of one test broker: `node watchdog.mjs ROOT_DIR [STATE_FILE]`.
//
// ROOT_DIR/owners/ contains one file per owner, containing the owner's pid, or
// "manual" for an owner without a process (`pnpm kafka:start`). Every 500 ms
// the watchdog drops owners whose process has exited. When none is left it
// kills the broker JVM (pid in ROOT_DIR/broker.pid), deletes ROOT_DIR and
// STATE_FILE, and exits. It also exits when ROOT_DIR disappears, because then
// the broker was stopped normally. It runs detached, so a test run that dies
// from SIGKILL or Ctrl-C still leaves no JVM behind.
import {
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  mkdirSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const [rootDir, stateFile] = process.argv.slice(2);
const pollMs = 500;

if (!rootDir) {
  process.stderr.write("usage: node watchdog.mjs ROOT_DIR [STATE_FILE]\n");
  process.exit(2);
}

// Same rule as isAlive() in src/processes.ts: a zombie counts as exited.
function isAlive(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(
      stat.lastIndexOf(")") + 2,
      stat.lastIndexOf(")") + 3,
    );
    return state !== "Z" && state !== "X";
  } catch {
    // No /proc entry: fall back to signal 0.
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === "EPERM";
  }
}

function hasLiveOwner() {
  const ownersDir = join(rootDir, "owners");
  let names;
  try {
    names = readdirSync(ownersDir);
  } catch {
    return false;
  }
  let alive = false;
  for (const name of names) {
    let content;
    try {
      content = readFileSync(join(ownersDir, name), "utf8").trim();
    } catch {
      continue;
    }
    if (content === "manual" || isAlive(Number(content))) {
      alive = true;
    } else {
      rmSync(join(ownersDir, name), { force: true });
    }
  }
  return alive;
}

function brokerPid() {
  try {
    const pid = Number(readFileSync(join(rootDir, "broker.pid"), "utf8"));
    const commandLine = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    // Only a JVM started for this ROOT_DIR, never a process that reused the pid.
    return commandLine.includes("kafka.Kafka") && commandLine.includes(rootDir)
      ? pid
      : undefined;
  } catch {
    return undefined;
  }
}

// The shared broker's state is guarded by a lock folder (see src/shared-broker.ts),
// so a test run that is attaching to the broker is not cut off halfway.
function withStateLock(action) {
  if (!stateFile) return action();
  const lockDir = `${stateFile}.lock`;
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, "pid"), String(process.pid));
      try {
        return action();
      } finally {
        rmSync(lockDir, { recursive: true, force: true });
      }
    } catch (error) {
      if (error.code !== "EEXIST") throw error;
      let holder = NaN;
      try {
        holder = Number(readFileSync(join(lockDir, "pid"), "utf8"));
      } catch {
        // The holder has not written its pid yet.
      }
      if (Number.isInteger(holder) && holder > 0 && !isAlive(holder)) {
        rmSync(lockDir, { recursive: true, force: true });
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
  }
  return action();
}

function stopBroker() {
  const pid = brokerPid();
  if (pid !== undefined) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  rmSync(rootDir, { recursive: true, force: true });
  if (stateFile && existsSync(stateFile)) {
    try {
      const state = JSON.parse(readFileSync(stateFile, "utf8"));
      if (state.rootDir === rootDir) rmSync(stateFile, { force: true });
    } catch {
      rmSync(stateFile, { force: true });
    }
  }
}

for (;;) {
  if (!existsSync(rootDir)) process.exit(0);
  if (!hasLiveOwner()) {
    const stopped = withStateLock(() => {
      // Check again under the lock: a new owner may have attached meanwhile.
      if (hasLiveOwner()) return false;
      stopBroker();
      return true;
    });
    if (stopped) process.exit(0);
  }
  await sleep(pollMs);
}
