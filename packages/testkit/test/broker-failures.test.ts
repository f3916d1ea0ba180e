import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import t from "tap";
import { startBroker } from "@weft/testkit";

function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return (
      stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z"
    );
  } catch {
    return false;
  }
}

async function waitUntil(
  condition: () => boolean,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

t.test("watchdog stops broker of dead owner", async (t) => {
  // A child process starts a broker and is then killed with SIGKILL, so it never calls close().
  const dist = new URL("../dist/index.js", import.meta.url).href;
  const script = `
    const { startBroker } = await import(${JSON.stringify(dist)});
    const broker = await startBroker();
    process.stdout.write(JSON.stringify({ pid: broker.pid, rootDir: broker.rootDir }) + "\\n");
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });
  const line = await new Promise<string>((resolve, reject) => {
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("\n")) resolve(output.split("\n")[0]);
    });
    child.once("exit", (code) =>
      reject(
        new Error(`child exited with code ${code} before starting the broker`),
      ),
    );
  });
  const { pid, rootDir } = JSON.parse(line) as { pid: number; rootDir: string };
  t.ok(isRunning(pid), "broker JVM runs");

  child.kill("SIGKILL");
  t.ok(
    await waitUntil(() => !isRunning(pid), 10_000),
    "watchdog killed the JVM",
  );
  t.ok(
    await waitUntil(() => !existsSync(rootDir), 5_000),
    "watchdog deleted the broker folder",
  );
});

t.test("failed start shows broker log", async (t) => {
  // 8 MiB of heap is too little for Kafka, so the JVM exits during start-up.
  const error = await startBroker({ heapMb: 8 }).then(
    () => undefined,
    (caught: unknown) => caught as Error,
  );
  t.ok(error, "start-up failed");
  t.match(
    error?.message,
    /broker failed to start: the broker JVM \(pid \d+\) exited during start-up/,
  );
  t.match(
    error?.message,
    /Last lines of jvm\.log \(JVM output\) and server\.log:/,
  );
  t.match(error?.message, /OutOfMemoryError/, "the JVM output is included");
});
