import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * Tells whether a process exists and is not a zombie. A killed broker whose
 * parent has exited is reaped by PID 1, which not every container init does,
 * so `kill(pid, 0)` alone would report a zombie as alive forever.
 */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The state letter follows the command name, which is in parentheses and may contain spaces.
    const state = stat.slice(
      stat.lastIndexOf(")") + 2,
      stat.lastIndexOf(")") + 3,
    );
    return state !== "Z" && state !== "X";
  } catch {
    // No /proc (not Linux) or no such process: fall back to signal 0.
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Tells whether `pid` runs a Kafka broker whose command line contains
 * `marker`, so a stale pid file never makes us signal an unrelated process
 * that reused the pid.
 */
export function isBrokerProcess(pid: number, marker: string): boolean {
  try {
    const commandLine = readFileSync(`/proc/${pid}/cmdline`, "utf8")
      .split("\0")
      .join(" ");
    return commandLine.includes("kafka.Kafka") && commandLine.includes(marker);
  } catch {
    return isAlive(pid);
  }
}

/** Waits until `pid` has exited; returns false if it still runs after `timeoutMs`. */
export async function waitForExit(
  pid: number,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
  return true;
}

/**
 * Stops a process: SIGTERM, then SIGKILL when it has not exited after
 * `graceMs`. With `graceMs` 0 it sends SIGKILL straight away.
 */
export async function terminate(pid: number, graceMs: number): Promise<void> {
  if (!isAlive(pid)) return;
  if (graceMs > 0) {
    signal(pid, "SIGTERM");
    if (await waitForExit(pid, graceMs)) return;
  }
  signal(pid, "SIGKILL");
  if (!(await waitForExit(pid, 10_000))) {
    throw new Error(`process ${pid} is still running 10 s after SIGKILL`);
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}
