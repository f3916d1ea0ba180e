import { mkdir, open, type FileHandle } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import {
  Type,
  definePlugin,
  type Static,
  type ActionDefinition,
  type ActionHandler,
  type ActionInvocation,
  type ActionOutcome,
} from "@weft/core";

/** Settings of one trigger's `action: { use: log-file, ... }`. */
export const LogFileActionSchema = Type.Object(
  {
    path: Type.String({
      minLength: 1,
      description:
        "JSON Lines file to append to; relative paths start at the config file's folder",
    }),
    includeBefore: Type.Boolean({
      default: true,
      description: "write the previous object image of updates and deletes",
    }),
  },
  { additionalProperties: false },
);

export type LogFileActionConfig = Static<typeof LogFileActionSchema>;

/** One line of the file. */
export interface LogFileLine {
  trigger: string;
  deliveryId: string;
  attempt: number;
  seq: number;
  op: string;
  class: string;
  id: string;
  before?: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

/**
 * Appends one JSON line per delivery. Appends to one file run one at a time,
 * so lines never interleave. A failed write is reported as retryable,
 * because a full disk or a missing mount may recover.
 */
class LogFileAction implements ActionHandler {
  readonly #path: string;
  readonly #includeBefore: boolean;
  #file: Promise<FileHandle> | undefined;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(config: LogFileActionConfig, configDir: string) {
    this.#path = resolve(configDir, config.path);
    this.#includeBefore = config.includeBefore;
  }

  execute(invocation: ActionInvocation): Promise<ActionOutcome> {
    const { event } = invocation;
    const line: LogFileLine = {
      trigger: invocation.trigger,
      deliveryId: invocation.deliveryId,
      attempt: invocation.attempt,
      seq: event.seq,
      op: event.op,
      class: event.class,
      id: event.id,
      ...(this.#includeBefore ? { before: event.before } : {}),
      after: event.after,
    };
    const result = this.#tail.then(() =>
      this.#append(`${JSON.stringify(line)}\n`),
    );
    this.#tail = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    await this.#tail;
    const file = await this.#file?.catch(() => undefined);
    await file?.close();
  }

  async #append(text: string): Promise<ActionOutcome> {
    try {
      this.#file ??= mkdir(dirname(this.#path), { recursive: true }).then(() =>
        open(this.#path, "a"),
      );
      await (await this.#file).appendFile(text);
      return { ok: true };
    } catch (error) {
      this.#file = undefined;
      return {
        ok: false,
        retryable: true,
        message: `appending to ${this.#path} failed: ${(error as Error).message}`,
      };
    }
  }
}

/**
 * The plugin: provides the action `log-file`. List it in `plugins:` next to
 * `@weft/triggers` and pick it with `action: { use: log-file, path: ... }`.
 */
export default definePlugin({
  name: "weft-action-log-file",
  version: "0.1.0",
  core: "^0.1.0",
  configSchema: Type.Object({}, { additionalProperties: false }),
  register(host, _config, context) {
    const action: ActionDefinition<typeof LogFileActionSchema> = {
      configSchema: LogFileActionSchema,
      create: (config: LogFileActionConfig, { trigger, logger }) => {
        logger.info(
          { trigger, path: resolve(context.configDir, config.path) },
          "log-file action writes to file",
        );
        return new LogFileAction(config, context.configDir);
      },
    };
    host.provideAction("log-file", action as unknown as ActionDefinition);
  },
});
