#!/usr/bin/env node
// Prepares what the tests need outside npm: Java 17+, the Apache Kafka broker
// jars (resolved by Maven from Maven Central into packages/testkit/.cache),
// a TLS key store for the broker's TLS listener, and kcat. Plain Node with no
// dependencies, so it runs before anything is built. Once the cache is filled
// a second run uses no network.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath, URL } from "node:url";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const cacheDir =
  process.env.WEFT_TESTKIT_CACHE_DIR ?? join(packageDir, ".cache");
const minimumJava = 17;

function log(message) {
  process.stderr.write(`setup: ${message}\n`);
}

function fail(message) {
  process.stderr.write(`setup: ${message}\n`);
  process.exit(1);
}

function run(command, args, options = {}) {
  return spawnSync(command, args, { encoding: "utf8", ...options });
}

function javaCommand(name) {
  const home = process.env.JAVA_HOME;
  return home ? join(home, "bin", name) : name;
}

function checkNode() {
  const [major, minor] = process.versions.node.split(".").map(Number);
  if (major < 20 || (major === 20 && minor < 18)) {
    fail(
      `Node ${process.versions.node} is too old: weft needs Node 20.18 or newer.`,
    );
  }
}

function checkJava() {
  const java = javaCommand("java");
  const result = run(java, ["-version"]);
  const installHint =
    "Install a JDK 17 or newer, for example `apt-get install openjdk-17-jdk-headless` on Debian or Ubuntu, " +
    "or set JAVA_HOME to one.";
  if (result.error) {
    fail(
      `Java was not found (${java}: ${result.error.message}). ${installHint}`,
    );
  }
  // `java -version` prints to stderr, for example: openjdk version "17.0.15" 2025-04-15
  const match = /version "(\d+)(?:\.(\d+))?/.exec(result.stderr);
  if (!match) {
    fail(
      `Could not read the Java version from \`${java} -version\`: ${result.stderr.trim()}. ${installHint}`,
    );
  }
  // Java 8 and older report "1.8.0_x", so the feature version is the second number.
  const feature = match[1] === "1" ? Number(match[2]) : Number(match[1]);
  if (feature < minimumJava) {
    fail(
      `Java ${feature} found at ${java}, but Kafka 4 needs Java ${minimumJava} or newer. ${installHint}`,
    );
  }
  return feature;
}

// Moves a folder filled under a temporary name into place. When a concurrent
// setup run got there first, its copy is kept and this one is dropped.
function publishDir(partialDir, finalDir) {
  try {
    renameSync(partialDir, finalDir);
  } catch (error) {
    if (!existsSync(finalDir)) throw error;
    rmSync(partialDir, { recursive: true, force: true });
  }
}

function kafkaVersion() {
  const pom = readFileSync(join(packageDir, "pom.xml"), "utf8");
  const match = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom);
  if (!match)
    fail(`kafka.version is missing from ${join(packageDir, "pom.xml")}`);
  return match[1].trim();
}

function mavenCommand() {
  const probe = run("mvn", ["--version"]);
  if (!probe.error && probe.status === 0)
    return { command: "mvn", label: "mvn" };
  // The Maven Wrapper downloads the Maven release named in
  // .mvn/wrapper/maven-wrapper.properties from Maven Central.
  return {
    command: join(packageDir, "mvnw"),
    label: "the Maven Wrapper (mvnw)",
  };
}

function resolveJars(version, installDir) {
  const libDir = join(installDir, "libs");
  if (
    existsSync(libDir) &&
    readdirSync(libDir).some((name) => name.startsWith("kafka_2.13-"))
  ) {
    return libDir;
  }

  // Copy into a temporary folder and rename, so an interrupted download never
  // leaves a half-filled libs folder that a later run would trust.
  const partialDir = join(installDir, `libs.partial-${process.pid}`);
  rmSync(partialDir, { recursive: true, force: true });
  const maven = mavenCommand();
  log(`resolving Kafka ${version} jars with ${maven.label} (first run only)`);
  const result = run(
    maven.command,
    [
      "-B",
      "-q",
      "-f",
      join(packageDir, "pom.xml"),
      "dependency:copy-dependencies",
      `-DoutputDirectory=${partialDir}`,
    ],
    { cwd: packageDir, stdio: ["ignore", "inherit", "inherit"] },
  );
  if (result.error || result.status !== 0) {
    rmSync(partialDir, { recursive: true, force: true });
    fail(
      `resolving the Kafka jars failed (${result.error?.message ?? `exit code ${result.status}`}). ` +
        "Maven needs access to Maven Central on the first run; the output above names the artifact that failed.",
    );
  }
  publishDir(partialDir, libDir);
  return libDir;
}

function createKeyStore(tlsDir) {
  const keyStoreFile = join(tlsDir, "broker.p12");
  const caFile = join(tlsDir, "ca.pem");
  const passwordFile = join(tlsDir, "password");
  if (
    existsSync(keyStoreFile) &&
    existsSync(caFile) &&
    existsSync(passwordFile)
  ) {
    return {
      keyStoreFile,
      caFile,
      keyStorePassword: readFileSync(passwordFile, "utf8"),
    };
  }

  // A self-signed certificate for 127.0.0.1, used only by the test broker's
  // TLS listener. Clients trust it by passing ca.pem.
  const partialDir = `${tlsDir}.partial-${process.pid}`;
  rmSync(partialDir, { recursive: true, force: true });
  mkdirSync(partialDir, { recursive: true });
  const keyStorePassword = randomBytes(12).toString("hex");
  const keytool = javaCommand("keytool");
  const partialKeyStore = join(partialDir, "broker.p12");
  const common = [
    "-keystore",
    partialKeyStore,
    "-storetype",
    "PKCS12",
    "-storepass",
    keyStorePassword,
  ];
  const generated = run(keytool, [
    "-genkeypair",
    "-alias",
    "broker",
    "-keyalg",
    "EC",
    "-groupname",
    "secp256r1",
    "-dname",
    "CN=127.0.0.1",
    "-ext",
    "SAN=ip:127.0.0.1,dns:localhost",
    "-validity",
    "3650",
    ...common,
  ]);
  if (generated.error || generated.status !== 0) {
    fail(
      `keytool failed to create the broker's TLS key store: ${generated.error?.message ?? generated.stderr}`,
    );
  }
  const exported = run(keytool, [
    "-exportcert",
    "-rfc",
    "-alias",
    "broker",
    "-file",
    join(partialDir, "ca.pem"),
    ...common,
  ]);
  if (exported.error || exported.status !== 0) {
    fail(
      `keytool failed to export the broker certificate: ${exported.error?.message ?? exported.stderr}`,
    );
  }
  writeFileSync(join(partialDir, "password"), keyStorePassword, {
    mode: 0o600,
  });
  rmSync(tlsDir, { recursive: true, force: true });
  publishDir(partialDir, tlsDir);
  return {
    keyStoreFile,
    caFile,
    keyStorePassword: readFileSync(passwordFile, "utf8"),
  };
}

function ensureKcat() {
  if (!run("kcat", ["-V"]).error) return;

  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  const hasApt = !run("apt-get", ["--version"]).error;
  if (!isRoot || !hasApt) {
    log(
      "kcat is missing and this script can only install it as root with apt-get. " +
        "Install it with `sudo apt-get install kcat` (Debian, Ubuntu) or `brew install kcat` (macOS); " +
        "the compression interoperability tests fail without it.",
    );
    return;
  }
  log("installing kcat with apt-get");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const options = { env, stdio: ["ignore", "ignore", "inherit"] };
  let result = run("apt-get", ["install", "-y", "-qq", "kcat"], options);
  if (result.status !== 0) {
    // A fresh machine may have no package lists yet.
    run("apt-get", ["update", "-qq"], options);
    result = run("apt-get", ["install", "-y", "-qq", "kcat"], options);
  }
  if (result.error || result.status !== 0) {
    log(
      "installing kcat with apt-get failed (output above); the compression interoperability tests fail without it.",
    );
  }
}

function main() {
  checkNode();
  const java = checkJava();
  const version = kafkaVersion();
  const installDir = join(cacheDir, `kafka-${version}`);
  const manifestFile = join(installDir, "install.json");
  mkdirSync(installDir, { recursive: true });

  const libDir = resolveJars(version, installDir);
  const tls = createKeyStore(join(cacheDir, "tls"));
  const jars = readdirSync(libDir)
    .filter((name) => name.endsWith(".jar"))
    .sort()
    .map((name) => resolve(libDir, name));
  const manifest = { version, classPath: jars.join(":"), ...tls };
  const text = `${JSON.stringify(manifest, null, 2)}\n`;
  if (
    !existsSync(manifestFile) ||
    readFileSync(manifestFile, "utf8") !== text
  ) {
    writeFileSync(manifestFile, text);
  }

  ensureKcat();
  log(
    `ready: Java ${java}, Kafka ${version} (${jars.length} jars in ${libDir})`,
  );
}

main();
