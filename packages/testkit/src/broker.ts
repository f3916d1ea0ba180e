import { spawn } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  brokerAddresses,
  brokerProperties,
  jvmOptions,
  log4jProperties,
  type BrokerAddresses,
  type BrokerPorts,
} from "./broker-config.js";
import { probeMetadata } from "./metadata-probe.js";
import {
  javaCommand,
  kafkaInstall,
  packageDir,
  type KafkaInstall,
} from "./paths.js";
import { freePorts } from "./ports.js";
import { isAlive, isBrokerProcess, terminate } from "./processes.js";
import { prepareStorage } from "./storage.js";

/** Options of {@link startBroker}. */
export interface StartBrokerOptions {
  /** Maximum JVM heap in MiB. Default 256. */
  heapMb?: number;
  /** Time from JVM start until the broker must respond to a metadata request, in ms. Default 60000. */
  startTimeoutMs?: number;
}

/** Options of {@link Broker.stop}. */
export interface StopBrokerOptions {
  /**
   * SIGTERM (the default) lets the broker shut down cleanly. SIGKILL
   * simulates a crash: the broker recovers its log on the next start.
   */
  signal?: "SIGTERM" | "SIGKILL";
}

/** A Kafka broker process on 127.0.0.1 and the folder that contains its data, logs and config. */
export interface Broker extends BrokerAddresses {
  /** Folder with `data/`, `logs/server.log` and `server.properties`; {@link close} deletes it. */
  readonly rootDir: string;
  /** Pid of the broker JVM, or undefined while it is stopped. */
  readonly pid: number | undefined;
  /** Stops the JVM and keeps the data, so {@link restart} brings back the same topics and offsets. */
  stop(options?: StopBrokerOptions): Promise<void>;
  /** Starts the broker again on the same ports and data, stopping it first if it runs. */
  restart(): Promise<void>;
  /** Stops the JVM at once and deletes the broker's folder. Safe to call twice. */
  close(): Promise<void>;
}

/** Default time a broker may take to respond to its first metadata request. */
const defaultStartTimeoutMs = 60_000;
/** Time a broker may take to shut down cleanly on SIGTERM before it is killed. */
const shutdownGraceMs = 15_000;
/** Attempts with fresh ports when another process took one of ours before the broker bound it. */
const portAttempts = 3;

const watchdogScript = join(packageDir, "bin", "watchdog.mjs");

class BrokerFailedError extends Error {
  constructor(
    message: string,
    readonly portInUse: boolean,
  ) {
    super(message);
    this.name = "BrokerFailedError";
  }
}

/** Adds an owner entry. The watchdog stops the broker once every owner's process has exited. */
export function addOwner(
  rootDir: string,
  name: string,
  pid: number | undefined,
): void {
  const ownersDir = join(rootDir, "owners");
  mkdirSync(ownersDir, { recursive: true });
  // "manual" marks an owner with no process, such as `pnpm kafka:start`; only removeOwner ends it.
  writeFileSync(
    join(ownersDir, name),
    pid === undefined ? "manual" : String(pid),
  );
}

export function removeOwner(rootDir: string, name: string): void {
  rmSync(join(rootDir, "owners", name), { force: true });
}

/** Returns the names of owners whose process still runs, or that have none. */
export function liveOwners(rootDir: string): string[] {
  const ownersDir = join(rootDir, "owners");
  if (!existsSync(ownersDir)) return [];
  return readdirSync(ownersDir).filter((name) => {
    let content: string;
    try {
      content = readFileSync(join(ownersDir, name), "utf8").trim();
    } catch {
      return false;
    }
    return content === "manual" || isAlive(Number(content));
  });
}

/**
 * Starts a detached watchdog process that stops the broker and deletes
 * `rootDir` (and `stateFile`, if given) once no owner is alive, so no JVM
 * outlives a test run that crashed or was killed.
 */
export function startWatchdog(rootDir: string, stateFile?: string): void {
  const args = [watchdogScript, rootDir, ...(stateFile ? [stateFile] : [])];
  // Without NODE_OPTIONS and with coverage off, so tap's loaders do not follow
  // the watchdog and write coverage or process files after the run ended.
  const { NODE_OPTIONS: _nodeOptions, ...env } = process.env;
  env._TAPJS_PROCESSINFO_COVERAGE_ = "0";
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: "ignore",
    env,
  });
  child.unref();
}

function tail(file: string, lines: number): string {
  if (!existsSync(file)) return `(no ${basename(file)} was written)`;
  const text = readFileSync(file, "utf8").trimEnd();
  return text.split("\n").slice(-lines).join("\n");
}

/** A broker's folder, ports and JVM: the state shared by private and shared brokers. */
export class BrokerProcess {
  pid: number | undefined;
  readonly dataDir: string;
  readonly logsDir: string;

  constructor(
    readonly rootDir: string,
    public ports: BrokerPorts,
    readonly install: KafkaInstall,
    readonly heapMb: number,
    readonly startTimeoutMs: number,
  ) {
    this.dataDir = join(rootDir, "data");
    this.logsDir = join(rootDir, "logs");
  }

  get addresses(): BrokerAddresses {
    return brokerAddresses(this.ports);
  }

  /** Writes the config files and formatted storage for the current ports. */
  async prepare(): Promise<void> {
    mkdirSync(this.logsDir, { recursive: true });
    if (!existsSync(join(this.dataDir, "meta.properties"))) {
      await prepareStorage(this.install, this.dataDir);
    }
    writeFileSync(
      join(this.rootDir, "server.properties"),
      brokerProperties(this.ports, this.dataDir, this.install),
    );
    writeFileSync(join(this.rootDir, "log4j2.properties"), log4jProperties);
  }

  /** Starts the JVM detached and waits until it responds to a metadata request. */
  async launch(): Promise<void> {
    const jvmLog = join(this.logsDir, "jvm.log");
    const output = openSync(jvmLog, "a");
    const args = [
      ...jvmOptions(
        this.heapMb,
        this.logsDir,
        join(this.rootDir, "log4j2.properties"),
      ),
      "-cp",
      this.install.classPath,
      "kafka.Kafka",
      join(this.rootDir, "server.properties"),
    ];
    // Detached: the broker gets its own process group, so Ctrl-C in a terminal
    // reaches the test runner and the watchdog stops the broker, in that order.
    const child = spawn(javaCommand(), args, {
      detached: true,
      stdio: ["ignore", output, output],
    });
    closeSync(output);
    const spawnError = new Promise<Error>((resolve) =>
      child.once("error", resolve),
    );
    child.unref();

    const pid = child.pid;
    if (pid === undefined) {
      const error = await spawnError;
      throw new BrokerFailedError(
        `starting ${javaCommand()} failed: ${error.message}`,
        false,
      );
    }
    this.pid = pid;
    writeFileSync(join(this.rootDir, "broker.pid"), String(pid));
    await this.waitUntilReady(pid);
  }

  private async waitUntilReady(pid: number): Promise<void> {
    const address = this.addresses.brokers[0];
    const deadline = Date.now() + this.startTimeoutMs;
    let lastError = "";
    while (Date.now() < deadline) {
      if (!isAlive(pid)) {
        throw this.failure(
          `the broker JVM (pid ${pid}) exited during start-up`,
        );
      }
      try {
        await probeMetadata(address);
        return;
      } catch (error) {
        lastError = (error as Error).message;
      }
      await sleep(200);
    }
    await terminate(pid, 0);
    throw this.failure(
      `the broker at ${address} did not respond to a metadata request within ${this.startTimeoutMs} ms (last error: ${lastError})`,
    );
  }

  private failure(reason: string): BrokerFailedError {
    const serverLog = join(this.logsDir, "server.log");
    const jvmLog = join(this.logsDir, "jvm.log");
    const logs = `${tail(jvmLog, 20)}\n${tail(serverLog, 40)}`;
    const portInUse = /Address already in use|BindException/.test(logs);
    return new BrokerFailedError(
      `Kafka ${this.install.version} broker failed to start: ${reason}. ` +
        `Last lines of jvm.log (JVM output) and server.log:\n${logs}`,
      portInUse,
    );
  }

  /** Stops the JVM; SIGTERM waits for a clean shutdown (killing it after 15 s), SIGKILL does not wait. */
  async stop(signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> {
    const pid = this.pid;
    this.pid = undefined;
    if (pid === undefined || !isBrokerProcess(pid, this.rootDir)) return;
    await terminate(pid, signal === "SIGKILL" ? 0 : shutdownGraceMs);
  }
}

/**
 * Creates a broker folder under the OS temp dir, picks free ports and starts
 * the broker, picking new ports when one was taken in the meantime.
 * `beforeLaunch` runs once the folder exists, to register owners and the
 * watchdog before a JVM can be left behind.
 */
export async function createBroker(
  options: StartBrokerOptions,
  beforeLaunch: (rootDir: string) => void,
): Promise<BrokerProcess> {
  const install = kafkaInstall();
  const rootDir = mkdtempSync(join(tmpdir(), "weft-kafka-"));
  beforeLaunch(rootDir);

  for (let attempt = 1; ; attempt++) {
    const [plaintext, sasl, tls, controller] = await freePorts(4);
    const broker = new BrokerProcess(
      rootDir,
      { plaintext, sasl, tls, controller },
      install,
      options.heapMb ?? 256,
      options.startTimeoutMs ?? defaultStartTimeoutMs,
    );
    try {
      await broker.prepare();
      await broker.launch();
      return broker;
    } catch (error) {
      await broker.stop("SIGKILL");
      const retry =
        error instanceof BrokerFailedError &&
        error.portInUse &&
        attempt < portAttempts;
      if (!retry) {
        rmSync(rootDir, { recursive: true, force: true });
        throw error;
      }
      // The dead JVM may have written a partial metadata log; start the next attempt from clean storage.
      rmSync(broker.dataDir, { recursive: true, force: true });
      rmSync(broker.logsDir, { recursive: true, force: true });
    }
  }
}

/**
 * Starts a private broker for a test that stops and restarts it, for example
 * to test an outage. It listens on 127.0.0.1 on free ports: plaintext on
 * `brokers`, SASL (SCRAM-SHA-256, SCRAM-SHA-512, PLAIN with
 * {@link saslCredentials}) on `saslBrokers` and TLS on `tlsBrokers`. A watchdog
 * stops it if the calling process exits without calling `close()`.
 */
export async function startBroker(
  options: StartBrokerOptions = {},
): Promise<Broker> {
  const ownerName = `pid-${process.pid}`;
  const broker = await createBroker(options, (rootDir) => {
    addOwner(rootDir, ownerName, process.pid);
    startWatchdog(rootDir);
  });

  return {
    get brokers() {
      return broker.addresses.brokers;
    },
    get saslBrokers() {
      return broker.addresses.saslBrokers;
    },
    get tlsBrokers() {
      return broker.addresses.tlsBrokers;
    },
    rootDir: broker.rootDir,
    get pid() {
      return broker.pid;
    },
    async stop(options: StopBrokerOptions = {}) {
      await broker.stop(options.signal);
    },
    async restart() {
      await broker.stop();
      await broker.launch();
    },
    async close() {
      await broker.stop("SIGKILL");
      rmSync(broker.rootDir, { recursive: true, force: true });
    },
  };
}
