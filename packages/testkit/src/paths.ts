import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The testkit package folder, found from this module's place in dist/. */
export const packageDir = fileURLToPath(new URL("..", import.meta.url));

/**
 * Returns the git-ignored cache folder for Kafka jars, TLS material and the
 * shared broker's state. `WEFT_TESTKIT_CACHE_DIR` moves it, for example to
 * share one download between two checkouts.
 */
export function cacheDir(): string {
  return process.env.WEFT_TESTKIT_CACHE_DIR ?? join(packageDir, ".cache");
}

/** Reads the pinned Kafka version from pom.xml, the one place it is set. */
export function kafkaVersion(): string {
  const pom = readFileSync(join(packageDir, "pom.xml"), "utf8");
  const match = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom);
  if (!match) {
    throw new Error(
      `kafka.version is missing from ${join(packageDir, "pom.xml")}`,
    );
  }
  return match[1].trim();
}

/** Returns the java executable: `$JAVA_HOME/bin/java` when JAVA_HOME is set, else `java` on PATH. */
export function javaCommand(): string {
  const home = process.env.JAVA_HOME;
  return home ? join(home, "bin", "java") : "java";
}

/** Files of the Kafka installation that bin/setup.mjs prepares. */
export interface KafkaInstall {
  version: string;
  /** Java class path of the broker: every jar Maven resolved. */
  classPath: string;
  /** PKCS#12 key store of the broker's TLS listener. */
  keyStoreFile: string;
  keyStorePassword: string;
  /** PEM certificate that clients trust to reach the TLS listener. */
  caFile: string;
}

/**
 * Reads the install that bin/setup.mjs wrote, or throws telling the caller to
 * run it. Nothing here downloads, so tests never touch the network.
 */
export function kafkaInstall(): KafkaInstall {
  const version = kafkaVersion();
  const manifestFile = join(cacheDir(), `kafka-${version}`, "install.json");
  if (!existsSync(manifestFile)) {
    throw new Error(
      `Kafka ${version} is not installed in ${cacheDir()}: run \`node packages/testkit/bin/setup.mjs\` ` +
        "(pnpm test runs it), which resolves the broker jars through Maven.",
    );
  }
  return JSON.parse(readFileSync(manifestFile, "utf8")) as KafkaInstall;
}
