import {
  checkConfig,
  formatProblems,
  isWeftError,
  parseDuration,
  type ActionHandler,
  type ChangeEvent,
  type ConfigProblem,
  type PluginHost,
  type TSchema,
} from "@weft/core";
import type { ResolvedTrigger, TriggersConfig } from "./config.js";
import { TriggersErrorCode, triggersError } from "./errors.js";
import { TriggerMetrics } from "./metrics.js";
import { DeliveryPool } from "./pool.js";
import { TriggerRunner } from "./trigger-runner.js";

/** Options of the engine that tests may set. */
export interface EngineOptions {
  /** Source of randomness for retry jitter. */
  random?: () => number;
}

/**
 * Every trigger of one host: resolves their actions once all plugins have
 * registered, loads their stored state when the store is open, and stops
 * them at shutdown.
 */
export class TriggerEngine {
  readonly #host: PluginHost;
  readonly #triggers: ResolvedTrigger[];
  readonly #filters: Map<string, (event: ChangeEvent) => boolean>;
  readonly #pool: DeliveryPool;
  readonly #metrics: TriggerMetrics;
  readonly #stopTimeoutMs: number;
  readonly #options: EngineOptions;
  readonly #runners = new Map<string, TriggerRunner>();
  readonly #handlers = new Map<string, ActionHandler>();
  #running = false;

  constructor(
    host: PluginHost,
    config: TriggersConfig,
    triggers: ResolvedTrigger[],
    options: EngineOptions = {},
  ) {
    this.#host = host;
    this.#triggers = triggers;
    this.#options = options;
    this.#pool = new DeliveryPool(config.concurrency);
    this.#stopTimeoutMs = parseDuration(config.stopTimeout, "stopTimeout");
    // Compiled at registration, so a bad class or filter fails before anything starts.
    this.#filters = new Map(
      triggers.map((trigger) => [
        trigger.name,
        host.compileChangeFilter(
          {
            classes: trigger.classes,
            operations: trigger.on,
            where: trigger.where,
          },
          trigger.path,
        ),
      ]),
    );
    this.#metrics = new TriggerMetrics(host.metrics, () =>
      this.#runners.values(),
    );
  }

  /** Whether the triggers are loaded and running, so the API can serve them. */
  get running(): boolean {
    return this.#running;
  }

  runner(name: string): TriggerRunner {
    const runner = this.#runners.get(name);
    if (runner) return runner;
    if (!this.#running) {
      throw triggersError(
        TriggersErrorCode.NOT_RUNNING,
        "triggers are not running (the host is starting or stopping); try again shortly",
        { retryable: true },
      );
    }
    const known = [...this.#runners.keys()].join(", ") || "none";
    throw triggersError(
      TriggersErrorCode.NOT_FOUND,
      `no trigger named "${name}"; configured triggers: ${known}`,
      { details: { trigger: name } },
    );
  }

  runners(): TriggerRunner[] {
    if (!this.#running)
      throw triggersError(
        TriggersErrorCode.NOT_RUNNING,
        "triggers are not running (the host is starting or stopping); try again shortly",
        { retryable: true },
      );
    return [...this.#runners.values()];
  }

  /**
   * Looks up each trigger's action by name, checks the trigger's action
   * settings against that action's schema and creates its handler. Runs in
   * the `init` hook, when every plugin has provided its capabilities.
   * @throws WeftError naming every invalid setting with its config path.
   */
  resolveActions(): void {
    const problems: ConfigProblem[] = [];
    for (const trigger of this.#triggers) {
      const path = `${trigger.path}.action`;
      const known = problems.length;
      let definition;
      try {
        definition = this.#host.action(trigger.actionName);
      } catch (error) {
        problems.push({
          path: `${path}.use`,
          code: isWeftError(error)
            ? error.code
            : TriggersErrorCode.CONFIG_INVALID,
          message: (error as Error).message,
        });
        continue;
      }

      const settings = checkConfig<Record<string, unknown>>(
        definition.configSchema as TSchema,
        trigger.actionSettings,
        path,
        problems,
      );
      if (problems.length > known) continue;
      try {
        const logger = this.#host.logger.child({ trigger: trigger.name });
        this.#handlers.set(
          trigger.name,
          definition.create(settings, { trigger: trigger.name, logger }),
        );
      } catch (error) {
        problems.push(...actionProblems(error, path));
      }
    }

    if (problems.length > 0) {
      throw triggersError(
        TriggersErrorCode.CONFIG_INVALID,
        `invalid trigger actions:\n${formatProblems(problems)}`,
        { details: { problems } },
      );
    }
  }

  /** Loads every trigger's stored state and starts the enabled ones. Runs in the `start` hook. */
  async start(): Promise<void> {
    for (const trigger of this.#triggers) {
      const runner = new TriggerRunner({
        host: this.#host,
        trigger,
        handler: this.#handlers.get(trigger.name)!,
        filter: this.#filters.get(trigger.name)!,
        pool: this.#pool,
        metrics: this.#metrics,
        logger: this.#host.logger,
        onStateChange: () => this.#reportStatus(),
        ...(this.#options.random ? { random: this.#options.random } : {}),
      });
      await runner.load();
      this.#runners.set(trigger.name, runner);
    }
    await this.#releaseStaleCheckpoints();

    for (const runner of this.#runners.values()) runner.start();
    this.#running = true;
    this.#reportStatus();
  }

  /** Stops every trigger; each waits up to `stopTimeout` for its deliveries in flight. */
  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(
      [...this.#runners.values()].map((runner) =>
        runner.stop(this.#stopTimeoutMs),
      ),
    );
    // Handlers of triggers that never started (start failed) still hold connections.
    const started = new Set(this.#runners.keys());
    for (const [name, handler] of this.#handlers)
      if (!started.has(name)) await handler.close?.();
  }

  /**
   * Removes the checkpoints of triggers that are no longer configured: the
   * store would otherwise keep the change log from their position forever.
   */
  async #releaseStaleCheckpoints(): Promise<void> {
    const prefix = `${this.#host.name}/`;
    const current = new Set(
      [...this.#runners.values()].map((runner) => runner.checkpointName),
    );
    for (const name of (await this.#host.store().checkpoints()).keys()) {
      if (!name.startsWith(prefix) || current.has(name)) continue;
      await this.#host.changes.checkpoint(name, null);
      this.#host.logger.info(
        { checkpoint: name },
        "released the change-log checkpoint of a trigger that is no longer configured",
      );
    }
  }

  #reportStatus(): void {
    const disabled = [...this.#runners.values()]
      .filter((runner) => !runner.enabled)
      .map((runner) => runner.name);
    if (disabled.length === 0)
      this.#host.setStatus("ready", { triggers: this.#runners.size });
    else
      this.#host.setStatus("degraded", {
        triggers: this.#runners.size,
        disabled,
      });
  }
}

/**
 * Turns an error of an action's `create` into config problems under the
 * action's path: one per entry of `details.problems` when the action lists
 * several, else one at `details.path` inside the action when it names one.
 */
function actionProblems(error: unknown, actionPath: string): ConfigProblem[] {
  if (!isWeftError(error))
    return [
      {
        path: actionPath,
        code: TriggersErrorCode.CONFIG_INVALID,
        message: (error as Error).message,
      },
    ];

  const at = (path: unknown) =>
    typeof path === "string" && path !== ""
      ? `${actionPath}.${path}`
      : actionPath;
  const listed = error.details.problems;
  if (Array.isArray(listed) && listed.length > 0)
    return listed.map((problem: { path?: unknown; message?: unknown }) => ({
      path: at(problem.path),
      code: error.code,
      message: String(problem.message),
    }));
  return [
    { path: at(error.details.path), code: error.code, message: error.message },
  ];
}
