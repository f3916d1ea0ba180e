import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { createRequire } from "node:module";

/** A weft host running as a child process of the `weft` command. */
export interface HostProcess {
  url: string;
  /** Stops the host with SIGTERM and waits for it to exit; SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<number | null>;
}

const weftBin = createRequire(import.meta.url)
  .resolve("@weft/cli/package.json")
  .replace(/package\.json$/, "dist/bin.js");

/**
 * Starts `weft start -c config` with `env`, writes its log lines to
 * `logFile`, and resolves once the host logs its listen address.
 */
export function startHostProcess(
  config: string,
  env: NodeJS.ProcessEnv,
  logFile: string,
): Promise<HostProcess> {
  const child = spawn(process.execPath, [weftBin, "start", "-c", config], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const log = createWriteStream(logFile);
  child.stdout.pipe(log);
  child.stderr.pipe(log);

  return new Promise((resolve, reject) => {
    let buffered = "";
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      const match = /"url":"(http:\/\/[^"]+)","msg":"listening"/.exec(buffered);
      if (!match) return;
      child.stdout.off("data", onData);
      child.off("exit", onEarlyExit);
      resolve({ url: match[1], stop: (graceMs) => stopChild(child, graceMs) });
    };
    const onEarlyExit = (code: number | null) =>
      reject(
        new Error(
          `weft host exited with code ${code} before listening; see ${logFile}`,
        ),
      );
    child.stdout.on("data", onData);
    child.once("exit", onEarlyExit);
  });
}

function stopChild(
  child: ChildProcess,
  graceMs = 30_000,
): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve(child.exitCode);

  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    child.kill("SIGTERM");
  });
}
