import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  DurationSchema,
  ErrorCode,
  Type,
  WeftError,
  checkConfig,
  definePlugin,
  formatProblems,
  isWeftError,
  parseDuration,
  type ConfigProblem,
  type PluginHost,
  type Static,
  type StateWrite,
  type WriteOptions,
  type WriteRequest,
} from "@weft/core";
import { readLines, type Line } from "./read-lines.js";

const pluginName = "weft-source-jsonl";

const configSchema = Type.Object({
  path: Type.String({
    minLength: 1,
    description: "JSON-lines file to follow, relative to the config file",
  }),
  class: Type.String({ minLength: 1, description: "class of every line" }),
  keyField: Type.String({
    minLength: 1,
    default: "id",
    description:
      "member of each line that holds the object id (a string or a number)",
  }),
  batchSize: Type.Integer({
    minimum: 1,
    default: 500,
    description: "maximum lines per write",
  }),
  maxLineBytes: Type.Integer({
    minimum: 1,
    default: 1024 * 1024,
    description:
      "longest line accepted, in bytes; longer lines are dead letters",
  }),
  pollInterval: DurationSchema("200ms"),
});

type Config = Static<typeof configSchema>;

/**
 * Follows a JSON-lines file and upserts each line as an object of one class.
 * It uses only the public API of `@weft/core`, as any third-party source can.
 * Each batch goes through `host.write` with the byte position after its last
 * line as a source position, so the store commits the objects and the
 * position in one transaction. At start the source reads the position back
 * from `host.store().positions()` and continues there. Lines that cannot be
 * written are kept as dead letters in the plugin's state.
 */
export default definePlugin({
  name: pluginName,
  version: "0.1.0",
  core: "^0.1.0",
  configSchema,
  register(host, input, context) {
    // A config file's entry arrives checked, but a direct host.register call passes the input as is.
    const problems: ConfigProblem[] = [];
    const config = checkConfig<Config>(
      configSchema,
      input,
      context.configPath,
      problems,
    );
    if (!host.classes.has(config.class)) {
      problems.push({
        path: `${context.configPath}.class`,
        code: ErrorCode.CONFIG_INVALID,
        message: `unknown class ${JSON.stringify(config.class)}; configured classes: ${[...host.classes.keys()].join(", ")}`,
      });
    }
    if (problems.length > 0)
      throw new WeftError(
        ErrorCode.CONFIG_INVALID,
        `invalid ${pluginName} config:\n${formatProblems(problems)}`,
      );

    const follower = new JsonLinesFollower(
      host,
      config,
      resolve(context.configDir, config.path),
    );
    host.hooks.start.tapPromise(pluginName, () => follower.start());
    host.hooks.stopIntake.tapPromise(pluginName, () => follower.stop());
  },
});

/** Returns the state key of a dead letter: file and zero-padded offset, so keys list in file order. */
function deadLetterKey(file: string, offset: number): string {
  return `dead-letters/${file}/${String(offset).padStart(15, "0")}`;
}

class JsonLinesFollower {
  readonly #host: PluginHost;
  readonly #config: Config;
  readonly #file: string;
  readonly #pollMs: number;
  #position = 0;
  #stopping = false;
  #stopSignal = new AbortController();
  #loop: Promise<void> | undefined;

  constructor(host: PluginHost, config: Config, file: string) {
    this.#host = host;
    this.#config = config;
    this.#file = file;
    this.#pollMs = parseDuration(config.pollInterval, "pollInterval");
  }

  async start(): Promise<void> {
    this.#position = await this.#storedPosition();
    this.#host.logger.info(
      { file: this.#file, position: this.#position },
      "following JSON-lines file",
    );
    this.#loop = this.#run();
  }

  /** Stops reading after the batch in progress is written. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#stopSignal.abort();
    await this.#loop;
    this.#host.logger.info(
      { file: this.#file, position: this.#position },
      "stopped following JSON-lines file",
    );
  }

  /** The byte position to continue at: kept with the objects, or in plugin state for stores that cannot. */
  async #storedPosition(): Promise<number> {
    const store = this.#host.store();
    if (store.transactionalPositions) {
      const positions = await store.positions(pluginName);
      const mine = positions.find((position) => position.stream === this.#file);
      return mine ? Number(mine.position) : 0;
    }
    return (
      (await this.#host.state().get<number>(`position/${this.#file}`)) ?? 0
    );
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      let lines: Line[] = [];
      try {
        lines = await this.#nextLines();
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
          this.#host.logger.error(
            { err: error, file: this.#file },
            "reading the file failed; trying again",
          );
        }
      }
      if (lines.length === 0) {
        await this.#pause(this.#pollMs);
        continue;
      }
      await this.#writeBatch(lines);
    }
  }

  async #nextLines(): Promise<Line[]> {
    const { size } = await stat(this.#file);
    if (size < this.#position) {
      this.#host.logger.warn(
        { file: this.#file, size, position: this.#position },
        "file is shorter than the stored position, so it was truncated or replaced; reading it from the start",
      );
      this.#position = 0;
    }
    if (size === this.#position) return [];
    return readLines(
      this.#file,
      this.#position,
      this.#config.batchSize,
      this.#config.maxLineBytes,
    );
  }

  /**
   * Writes one batch with its position, retrying failures that are not the
   * lines' fault with backoff. Lines that cannot become objects are dead
   * letters in the same transaction; lines the host rejects are dead letters
   * written right after it.
   */
  async #writeBatch(lines: Line[]): Promise<void> {
    const requests: WriteRequest[] = [];
    const requestLines: Line[] = [];
    const deadLetters: StateWrite[] = [];
    for (const line of lines) {
      const parsed = this.#parse(line);
      if (parsed === undefined) continue;
      if ("reason" in parsed)
        deadLetters.push(this.#deadLetter(line, parsed.reason));
      else {
        requests.push(parsed.request);
        requestLines.push(line);
      }
    }

    const end = lines[lines.length - 1].end;
    const transactional = this.#host.store().transactionalPositions;
    const options: WriteOptions = { state: deadLetters };
    if (transactional)
      options.positions = [
        { source: pluginName, stream: this.#file, position: String(end) },
      ];

    const results = await this.#writeWithRetry(requests, options);
    if (!results) return;

    const rejected = results.flatMap((result, index) =>
      result.status === "rejected"
        ? [
            this.#deadLetter(
              requestLines[index],
              `${result.error?.code}: ${result.error?.message}`,
            ),
          ]
        : [],
    );
    for (const letter of rejected)
      await this.#host.state().set(letter.key, letter.value);
    if (!transactional)
      await this.#host.state().set(`position/${this.#file}`, end);

    const dead = deadLetters.length + rejected.length;
    if (dead > 0)
      this.#host.logger.warn(
        { file: this.#file, count: dead },
        "lines could not be written; kept as dead letters in plugin state",
      );
    this.#position = end;
  }

  /** Calls host.write until it succeeds; returns undefined when the host is shutting down. */
  async #writeWithRetry(requests: WriteRequest[], options: WriteOptions) {
    for (let attempt = 1; ; attempt++) {
      if (this.#host.writeQueue.full)
        await this.#host.writeQueue.waitForCapacity();
      try {
        return await this.#host.write(requests, options);
      } catch (error) {
        if (isWeftError(error) && error.code === ErrorCode.HOST_STOPPING)
          return undefined;
        const delayMs = Math.min(30_000, 100 * 2 ** Math.min(attempt, 10));
        this.#host.logger.warn(
          { err: error, file: this.#file, attempt, delayMs },
          "writing lines failed; retrying",
        );
        await sleep(delayMs);
      }
    }
  }

  /** Returns undefined for a blank line, a request, or why the line is a dead letter. */
  #parse(
    line: Line,
  ): { request: WriteRequest } | { reason: string } | undefined {
    if (line.text === undefined)
      return {
        reason: `line has ${line.bytes} bytes, more than maxLineBytes ${this.#config.maxLineBytes}`,
      };
    if (line.text.trim() === "") return undefined;

    let value: unknown;
    try {
      value = JSON.parse(line.text);
    } catch (error) {
      return { reason: `invalid JSON: ${(error as Error).message}` };
    }
    if (typeof value !== "object" || value === null || Array.isArray(value))
      return { reason: "line is not a JSON object" };

    const id = (value as Record<string, unknown>)[this.#config.keyField];
    if (typeof id !== "string" && typeof id !== "number") {
      return {
        reason: `key field ${this.#config.keyField} is missing or not a string or number`,
      };
    }
    return {
      request: {
        op: "upsert",
        class: this.#config.class,
        id,
        properties: value as Record<string, unknown>,
      },
    };
  }

  #deadLetter(line: Line, reason: string): StateWrite {
    return {
      plugin: pluginName,
      key: deadLetterKey(this.#file, line.start),
      value: {
        file: this.#file,
        offset: line.start,
        reason,
        line: line.text?.slice(0, 64 * 1024) ?? null,
        time: new Date().toISOString(),
      },
    };
  }

  async #pause(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.#stopSignal.signal }).catch(
      () => undefined,
    );
  }
}
