import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A message as kcat's JSON output (`-J`) prints it. */
export interface KcatMessage {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  payload: string | null;
}

/** Options of {@link kcatProduce} and {@link kcatConsume}. */
export interface KcatOptions {
  /** Extra librdkafka settings, passed as `-X name=value`. */
  settings?: Record<string, string>;
  /** Time after which kcat is killed and the call rejects, in ms. Default 30000. */
  timeoutMs?: number;
}

/** Tells whether kcat is on PATH; bin/setup.mjs installs it. */
export function hasKcat(): boolean {
  return spawnSync("kcat", ["-V"]).error === undefined;
}

function settingArgs(settings: Record<string, string> = {}): string[] {
  return Object.entries(settings).flatMap(([name, value]) => [
    "-X",
    `${name}=${value}`,
  ]);
}

function runKcat(args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("kcat", args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(
        new Error(
          `running kcat failed: ${error.message}; install it with \`apt-get install kcat\``,
        ),
      );
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) {
        resolve(stdout);
        return;
      }
      const reason =
        signal === "SIGKILL"
          ? `timed out after ${timeoutMs} ms`
          : `exited with code ${code}`;
      reject(new Error(`kcat ${args.join(" ")} ${reason}:\n${stderr}`));
    });
  });
}

/**
 * Produces one message per element of `values` with kcat (librdkafka), using
 * the given compression codec. Each value is written to a file first, so
 * binary and multi-line values arrive byte for byte.
 */
export async function kcatProduce(
  brokers: string[],
  topic: string,
  values: Array<string | Buffer>,
  compression: "none" | "gzip" | "snappy" | "lz4" | "zstd",
  options: KcatOptions = {},
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "weft-kcat-"));
  try {
    const files = values.map((value, index) => {
      const file = join(dir, `message-${index}`);
      writeFileSync(file, value);
      return file;
    });
    const args = [
      "-P",
      "-b",
      brokers.join(","),
      "-t",
      topic,
      "-z",
      compression,
      ...settingArgs(options.settings),
    ];
    await runKcat([...args, ...files], options.timeoutMs ?? 30_000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Reads `count` messages of `topic` from the beginning with kcat and returns them in offset order per partition. */
export async function kcatConsume(
  brokers: string[],
  topic: string,
  count: number,
  options: KcatOptions = {},
): Promise<KcatMessage[]> {
  const args = [
    "-C",
    "-b",
    brokers.join(","),
    "-t",
    topic,
    "-o",
    "beginning",
    "-c",
    String(count),
    "-J",
    "-q",
  ];
  const output = await runKcat(
    [...args, ...settingArgs(options.settings)],
    options.timeoutMs ?? 30_000,
  );
  return output
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as KcatMessage);
}
