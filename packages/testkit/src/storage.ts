import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { saslCredentials } from "./broker-config.js";
import { cacheDir, javaCommand, type KafkaInstall } from "./paths.js";

/** Returns a random Kafka cluster id: 16 random bytes in unpadded base64url, as `kafka-storage random-uuid` prints. */
function randomClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString("base64url");
    // Kafka's own generator also rejects ids that start with "-", since they read like command-line flags.
    if (!id.startsWith("-")) return id;
  }
}

function runJava(
  args: string[],
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(javaCommand(), args, {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, output }));
  });
}

/**
 * Formats a storage folder once per Kafka version with `kafka.tools.StorageTool`,
 * with the SCRAM users of {@link saslCredentials}. Formatting starts a JVM
 * (about 2 s), so brokers copy this template instead of formatting each time.
 * The formatted files hold the cluster id, node id, metadata version and SCRAM
 * credentials, but no ports, so one template serves every broker.
 */
async function storageTemplate(install: KafkaInstall): Promise<string> {
  const templateDir = join(
    cacheDir(),
    `kafka-${install.version}`,
    "storage-template",
  );
  if (existsSync(join(templateDir, "meta.properties"))) return templateDir;

  // Format under a temporary name and rename, so a concurrent or interrupted run never reads a partial template.
  const partialDir = `${templateDir}.partial-${process.pid}`;
  rmSync(partialDir, { recursive: true, force: true });
  mkdirSync(partialDir, { recursive: true });
  const propertiesFile = join(
    partialDir,
    "..",
    `format-${process.pid}.properties`,
  );
  writeFileSync(
    propertiesFile,
    [
      "process.roles=broker,controller",
      "node.id=1",
      "controller.quorum.voters=1@127.0.0.1:9093",
      "controller.listener.names=CONTROLLER",
      "listeners=PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093",
      `log.dirs=${partialDir}`,
      "",
    ].join("\n"),
  );

  const { username, password } = saslCredentials;
  const scram = (mechanism: string) =>
    `${mechanism}=[name="${username}",password="${password}"]`;
  const result = await runJava([
    "-Xmx128m",
    "-XX:TieredStopAtLevel=1",
    "-cp",
    install.classPath,
    "kafka.tools.StorageTool",
    "format",
    "--cluster-id",
    randomClusterId(),
    "--config",
    propertiesFile,
    "--add-scram",
    scram("SCRAM-SHA-256"),
    "--add-scram",
    scram("SCRAM-SHA-512"),
  ]);
  rmSync(propertiesFile, { force: true });
  if (result.code !== 0) {
    rmSync(partialDir, { recursive: true, force: true });
    throw new Error(
      `kafka.tools.StorageTool format failed with exit code ${result.code}:\n${result.output}`,
    );
  }

  try {
    renameSync(partialDir, templateDir);
  } catch (error) {
    // A concurrent run renamed its template first; both are equally valid.
    if (!existsSync(join(templateDir, "meta.properties"))) throw error;
    rmSync(partialDir, { recursive: true, force: true });
  }
  return templateDir;
}

/** Fills `dataDir` with formatted KRaft storage, ready for `kafka.Kafka`. */
export async function prepareStorage(
  install: KafkaInstall,
  dataDir: string,
): Promise<void> {
  const templateDir = await storageTemplate(install);
  cpSync(templateDir, dataDir, { recursive: true });
}
