// Runs `kafka.mjs ARGS` in a child process with tap's coverage recording
// switched off. tap records coverage in its before and after scripts even when
// coverage is disabled, and then fails the run for incomplete coverage, so
// these scripts load nothing but Node built-ins themselves.
import { spawnSync } from "node:child_process";
import { fileURLToPath, URL } from "node:url";

export function runWithoutCoverage(args) {
  const script = fileURLToPath(new URL("kafka.mjs", import.meta.url));
  const result = spawnSync(process.execPath, [script, ...args], {
    stdio: "inherit",
    env: { ...process.env, _TAPJS_PROCESSINFO_COVERAGE_: "0" },
  });
  if (result.error) {
    process.stderr.write(
      `kafka: running ${script} failed: ${result.error.message}\n`,
    );
    return 1;
  }
  return result.status ?? 1;
}
