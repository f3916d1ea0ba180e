import type { TSchema } from "@sinclair/typebox";
import type { Logger } from "pino";
import { Registry, collectDefaultMetrics } from "prom-client";
import { ChangeFeed } from "./changes/change-feed.js";
import type { ClassDefinition } from "./classes/types.js";
import { ErrorCode, WeftError, isWeftError } from "./errors.js";
import { compileChangeFilter } from "./filter/change-filter.js";
import { compileFilter } from "./filter/compile-filter.js";
import {
  TapAttribution,
  attributeError,
  type TapRecord,
} from "./hooks/attribution.js";
import { createHooks, type HostHooks } from "./hooks/hooks.js";
import { runTapsWithDeadline, withDeadline } from "./hooks/run-taps.js";
import { ApiKeyAuth } from "./http/auth.js";
import { HttpServer } from "./http/http-server.js";
import { registerHostRoutes } from "./http/host-routes.js";
import { createLogger } from "./logger.js";
import { Capabilities } from "./plugin/capabilities.js";
import type {
  Disposer,
  Plugin,
  RegisterContext,
} from "./plugin/define-plugin.js";
import { resolvePluginConfig } from "./plugin/plugin-config.js";
import type { PluginHost, PluginStatus } from "./plugin/plugin-host.js";
import { Readiness } from "./readiness.js";
import { createPluginState, type PluginState } from "./state/plugin-state.js";
import type { Store } from "./store/types.js";
import { createHashVectorizer } from "./vectorizer/hash-vectorizer.js";
import { vectorizeBatch } from "./vectorizer/vectorize-tap.js";
import type { WriteOptions, WriteRequest, WriteResult } from "./write/types.js";
import { WriteMetrics } from "./write/write-metrics.js";
import { Writer } from "./write/writer.js";

/** Settings of a {@link Host}. */
export interface HostOptions {
  classes?: ClassDefinition[];
  /** HTTP settings; `false` runs without a server (embedded use, benchmarks). */
  server?:
    | {
        host?: string;
        port?: number;
        bodyLimit?: number;
        corsOrigins?: string[];
      }
    | false;
  apiKeys?: string[];
  logger?: Logger;
  /** Deadline of each plugin's `start` taps. Default 30 s. */
  startTimeoutMs?: number;
  /** Budget of the whole shutdown; each plugin's stop gets what is left. Default 10 s. */
  shutdownTimeoutMs?: number;
  hashDimensions?: number;
  /** Writes queued before `writeQueue.full` turns true. Default 64. */
  maxQueuedWrites?: number;
  /** Registers Node's process metrics on the registry. Default true. */
  processMetrics?: boolean;
}

/** A registered plugin, as `weft plugins` lists it. */
export interface RegisteredPlugin {
  name: string;
  version: string;
  dependencies: string[];
  capabilities: string[];
  hooks: string[];
}

type HostPhase = "created" | "starting" | "running" | "stopping" | "stopped";

/**
 * A weft host: owns the hooks, the plugin registry, the write path, the
 * change feed and the HTTP server. Lifecycle: `register` plugins, `start`,
 * `stop`.
 */
export class Host {
  readonly hooks: HostHooks = createHooks();
  readonly logger: Logger;
  readonly metrics = new Registry();
  readonly classes: ReadonlyMap<string, ClassDefinition>;
  readonly changes: ChangeFeed;
  readonly readiness = new Readiness();
  readonly capabilities = new Capabilities();
  readonly http: HttpServer | undefined;
  readonly auth: ApiKeyAuth;
  readonly #options: HostOptions;
  readonly #attribution: TapAttribution;
  readonly #writer: Writer;
  readonly #plugins: Array<{
    plugin: Plugin;
    capabilities: string[];
    disposer?: Disposer;
  }> = [];
  #phase: HostPhase = "created";
  /** Set once the `init` taps succeeded; no plugin registers after that. */
  #initialized = false;
  #stopPromise: Promise<void> | undefined;

  constructor(options: HostOptions = {}) {
    this.#options = options;
    this.logger = options.logger ?? createLogger();
    this.classes = new Map(
      (options.classes ?? []).map((definition) => [
        definition.name,
        definition,
      ]),
    );
    this.#attribution = new TapAttribution(this.hooks, this.logger);
    this.changes = new ChangeFeed(() => this.store);
    this.auth = new ApiKeyAuth(options.apiKeys ?? []);
    if (options.processMetrics !== false)
      collectDefaultMetrics({ register: this.metrics });

    this.#writer = new Writer({
      hooks: this.hooks,
      store: () => this.store,
      classes: this.classes,
      feed: this.changes,
      logger: this.logger,
      metrics: new WriteMetrics(this.metrics),
      maxQueued: options.maxQueuedWrites ?? 64,
      vectorDimensions: (className) => this.#vectorDimensions(className),
    });
    this.capabilities.provideVectorizer(
      "hash",
      createHashVectorizer(options.hashDimensions),
      "core",
    );

    if (options.server !== false) {
      const server = options.server ?? {};
      this.http = new HttpServer({
        logger: this.logger.child({ component: "http" }),
        auth: this.auth,
        bodyLimit: server.bodyLimit ?? 10 * 1024 * 1024,
        corsOrigins: server.corsOrigins ?? [],
      });
      registerHostRoutes(this);
    }
  }

  /** The store; available once a plugin provided it. */
  get store(): Store {
    return this.capabilities.store;
  }

  get phase(): HostPhase {
    return this.#phase;
  }

  get stopping(): boolean {
    return this.#phase === "stopping" || this.#phase === "stopped";
  }

  get writeQueue(): Writer {
    return this.#writer;
  }

  /** Plugins in registration order, with the hooks they tapped. */
  get plugins(): RegisteredPlugin[] {
    return this.#plugins.map(({ plugin, capabilities }) => ({
      name: plugin.name,
      version: plugin.version,
      dependencies: [...(plugin.dependencies ?? [])],
      capabilities,
      hooks: [
        ...new Set(
          this.#attribution.taps
            .filter((tap: TapRecord) => tap.plugin === plugin.name)
            .map((tap) => tap.hook),
        ),
      ],
    }));
  }

  /** Writes one batch: hooks, validation, one transaction, change events. */
  write(
    requests: WriteRequest[],
    options: WriteOptions = {},
  ): Promise<WriteResult[]> {
    return this.#writer.write(requests, options);
  }

  /** Returns the durable state area of a plugin. */
  state(plugin: string): PluginState {
    return createPluginState(() => this.store, plugin);
  }

  /**
   * Registers a plugin: applies its config schema as the config loader does
   * (defaults, type conversion, unknown keys rejected), then calls its
   * `register` with a host view bound to it. Plugins must be registered in
   * dependency order, before `start`.
   * @throws WeftError `WEFT_ERR_CONFIG_INVALID` when the config does not fit the plugin's schema.
   */
  async register(
    plugin: Plugin,
    config: Record<string, unknown>,
    context: Partial<RegisterContext> = {},
  ): Promise<void> {
    if (this.#phase !== "created" || this.#initialized) {
      throw new WeftError(
        ErrorCode.HOST_STATE,
        `plugin ${plugin.name} must be registered before the host initializes or starts`,
        { details: { plugin: plugin.name } },
      );
    }
    const configPath = context.configPath ?? plugin.name;
    const resolved = resolvePluginConfig(plugin, config, configPath);
    const entry: {
      plugin: Plugin;
      capabilities: string[];
      disposer?: Disposer;
    } = { plugin, capabilities: [] };
    const view = this.#pluginView(plugin.name, entry.capabilities);
    this.readiness.set(plugin.name, "starting");

    try {
      const disposer = await this.#attribution.during(plugin.name, () =>
        plugin.register(view, resolved as never, {
          configDir: context.configDir ?? process.cwd(),
          configPath,
        }),
      );
      if (typeof disposer === "function") entry.disposer = disposer;
    } catch (error) {
      throw new WeftError(
        ErrorCode.PLUGIN_REGISTER,
        `plugin ${plugin.name} failed to register: ${(error as Error).message}`,
        {
          cause: error,
          details: {
            plugin: plugin.name,
            ...(isWeftError(error) ? { causeCode: error.code } : {}),
          },
        },
      );
    }
    this.#plugins.push(entry);
  }

  /**
   * Runs the `init` taps once, without opening the store or listening: the
   * checks that need every plugin registered, such as an action that a
   * trigger names. `start` runs it when it has not run, and `weft validate`
   * runs it alone, so a config that validates does not fail these checks at
   * start.
   */
  async init(): Promise<void> {
    if (this.#phase !== "created")
      throw new WeftError(
        ErrorCode.HOST_STATE,
        `host cannot initialize from phase ${this.#phase}`,
      );
    await this.#runInit();
  }

  async #runInit(): Promise<void> {
    if (this.#initialized) return;
    this.#checkVectorDimensions();
    await runTapsWithDeadline(this.hooks.init as never, {
      hookName: "init",
      timeoutMs: this.#startTimeout,
      code: ErrorCode.PLUGIN_START_TIMEOUT,
    });
    this.#initialized = true;
  }

  /**
   * Starts the host: `init` taps (unless {@link Host.init} ran them), store
   * open, vectorizer taps, HTTP listen, then each plugin's `start` taps under
   * their own deadline.
   */
  async start(): Promise<void> {
    if (this.#phase !== "created")
      throw new WeftError(
        ErrorCode.HOST_STATE,
        `host cannot start from phase ${this.#phase}`,
      );
    this.#phase = "starting";

    try {
      await this.#runInit();
      await this.store.open({
        classes: [...this.classes.values()],
        logger: this.logger.child({
          component: "store",
          store: this.store.kind,
        }),
        metrics: this.metrics,
      });
      this.changes.reset(await this.store.lastSeq());
      this.#tapVectorizers();

      if (this.http) {
        const server = this.#options.server || {};
        await this.http.listen(server.port ?? 8080, server.host ?? "127.0.0.1");
      }
      await runTapsWithDeadline(this.hooks.start as never, {
        hookName: "start",
        timeoutMs: this.#startTimeout,
        code: ErrorCode.PLUGIN_START_TIMEOUT,
      });
    } catch (error) {
      this.logger.error(
        { err: error },
        "host failed to start; stopping what started",
      );
      await this.stop().catch((stopError: unknown) =>
        this.logger.error({ err: stopError }, "stop after failed start failed"),
      );
      throw error;
    }

    for (const { plugin } of this.#plugins) {
      if (this.#statusOf(plugin.name) === "starting")
        this.readiness.set(plugin.name, "ready");
    }
    this.#phase = "running";
    this.logger.info(
      {
        url: this.http?.url,
        store: this.store.kind,
        plugins: this.#plugins.map((p) => p.plugin.name),
      },
      "host started",
    );
  }

  /**
   * Stops the host. Intake stops first: HTTP accepts nothing new, and sources
   * finish and commit their in-flight batch. Then queued writes drain, `stop`
   * taps run in reverse registration order, plugin disposers run, and the
   * store closes. Each step has its own deadline inside `shutdownTimeoutMs`.
   * Calling it again returns the same promise.
   */
  stop(): Promise<void> {
    this.#stopPromise ??= this.#stop();
    return this.#stopPromise;
  }

  /**
   * Stops gracefully on SIGINT or SIGTERM and exits; a second signal exits at
   * once with code 130.
   */
  stopOnSignals(
    exit: (code: number) => void = (code) => process.exit(code),
  ): () => void {
    let received = false;
    let finished = false;
    const onSignal = (signal: NodeJS.Signals) => {
      // A signal that arrives after the stop finished changes nothing.
      if (finished) return;
      if (received) {
        this.logger.warn(
          { signal },
          "second signal: exiting without finishing the stop",
        );
        return exit(130);
      }
      received = true;
      this.logger.info({ signal }, "stopping");
      this.stop().then(
        () => {
          finished = true;
          exit(0);
        },
        (error: unknown) => {
          finished = true;
          this.logger.error({ err: error }, "stop failed");
          exit(1);
        },
      );
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    return () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    };
  }

  get #startTimeout(): number {
    return this.#options.startTimeoutMs ?? 30_000;
  }

  async #stop(): Promise<void> {
    const wasRunning = this.#phase !== "created";
    this.#phase = "stopping";
    const deadline = Date.now() + (this.#options.shutdownTimeoutMs ?? 10_000);
    const remaining = () => Math.max(1, deadline - Date.now());
    const logFailure = (step: string) => (error: unknown, plugin?: string) =>
      this.logger.error({ err: error, plugin, step }, "shutdown step failed");
    for (const { plugin } of this.#plugins)
      this.readiness.set(plugin.name, "stopping");

    await this.http?.stopAccepting();
    await this.#bounded(
      this.http?.drain() ?? Promise.resolve(),
      remaining(),
      "http drain",
    );
    await runTapsWithDeadline(this.hooks.stopIntake as never, {
      hookName: "stopIntake",
      timeoutMs: remaining(),
      code: ErrorCode.PLUGIN_STOP_TIMEOUT,
      onError: logFailure("stopIntake"),
    });
    await this.#bounded(this.#writer.drain(), remaining(), "write drain");
    this.#writer.close();
    this.changes.close();

    await runTapsWithDeadline(this.hooks.stop as never, {
      hookName: "stop",
      timeoutMs: remaining(),
      code: ErrorCode.PLUGIN_STOP_TIMEOUT,
      reverse: true,
      onError: logFailure("stop"),
    });
    for (const entry of [...this.#plugins].reverse()) {
      if (!entry.disposer) continue;
      await withDeadline(
        Promise.resolve().then(entry.disposer),
        remaining(),
        () =>
          new WeftError(
            ErrorCode.PLUGIN_STOP_TIMEOUT,
            `plugin ${entry.plugin.name} did not finish its cleanup in time`,
            { details: { plugin: entry.plugin.name } },
          ),
      ).catch((error: unknown) =>
        logFailure("dispose")(
          attributeError(error, entry.plugin.name, "dispose"),
          entry.plugin.name,
        ),
      );
    }

    this.http?.closeAll();
    if (wasRunning && this.capabilities.hasStore)
      await this.store.close().catch(logFailure("store close"));
    for (const { plugin } of this.#plugins)
      this.readiness.set(plugin.name, "stopped");
    this.#phase = "stopped";
    this.logger.info("host stopped");
  }

  async #bounded(
    promise: Promise<void>,
    ms: number,
    step: string,
  ): Promise<void> {
    await withDeadline(
      promise,
      ms,
      () =>
        new WeftError(
          ErrorCode.PLUGIN_STOP_TIMEOUT,
          `${step} did not finish within the shutdown timeout`,
        ),
    ).catch((error: unknown) =>
      this.logger.error({ err: error, step }, "shutdown step timed out"),
    );
  }

  /**
   * Rejects a class whose `vectorDimensions` differs from its vectorizer's
   * dimensions, because every vector write to it would then be rejected.
   * A vectorizer that is not registered is reported elsewhere.
   * @throws WeftError `WEFT_ERR_CONFIG_INVALID` naming the class and both sizes.
   */
  #checkVectorDimensions(): void {
    let index = 0;
    for (const definition of this.classes.values()) {
      const declared = definition.vectorDimensions;
      const produced = this.#vectorDimensions(definition.name);
      if (
        declared !== undefined &&
        produced !== undefined &&
        declared !== produced
      )
        throw new WeftError(
          ErrorCode.CONFIG_INVALID,
          `classes[${index}].vectorDimensions: class ${definition.name} declares ${declared} dimensions, but its vectorizer ${definition.vectorizer?.use} produces ${produced}; set vectorDimensions to ${produced} or remove it`,
          { details: { path: `classes[${index}].vectorDimensions` } },
        );
      index += 1;
    }
  }

  #vectorDimensions(className: string): number | undefined {
    const binding = this.classes.get(className)?.vectorizer;
    if (!binding || !this.capabilities.hasVectorizer(binding.use))
      return undefined;
    return this.capabilities.vectorizer(binding.use).dimensions;
  }

  #statusOf(plugin: string): PluginStatus | undefined {
    return (
      this.readiness.toJSON()[plugin] as { status: PluginStatus } | undefined
    )?.status;
  }

  /** Taps the built-in vectorization step for each class that names vectorizer fields. */
  #tapVectorizers(): void {
    for (const definition of this.classes.values()) {
      if (!definition.vectorizer) continue;
      const vectorizer = this.capabilities.vectorizer(
        definition.vectorizer.use,
      );
      this.hooks.beforeWriteFor
        .for(definition.name)
        .tapPromise({ name: "core:vectorizer", stage: 1000 }, (batch) =>
          vectorizeBatch(batch, definition, vectorizer, this.store),
        );
    }
  }

  #pluginView(name: string, capabilities: string[]): PluginHost {
    const logger = this.logger.child({ plugin: name });
    const isStopping = () => this.stopping;
    const serverUrl = () => this.http?.url;
    return {
      name,
      hooks: this.hooks,
      logger,
      metrics: this.metrics,
      classes: this.classes,
      changes: this.changes,
      writeQueue: this.#writer,
      get stopping() {
        return isStopping();
      },
      get url() {
        return serverUrl();
      },
      write: (requests, options = {}) =>
        this.write(requests, {
          ...options,
          origin: { plugin: name, ...options.origin },
        }),
      store: () => this.store,
      state: (plugin = name) => this.state(plugin),
      provideStore: (store) => {
        this.capabilities.provideStore(store, name);
        capabilities.push(`store:${store.kind}`);
      },
      provideVectorizer: (vectorizerName, vectorizer) => {
        this.capabilities.provideVectorizer(vectorizerName, vectorizer, name);
        capabilities.push(`vectorizer:${vectorizerName}`);
      },
      provideAction: (actionName, action) => {
        this.capabilities.provideAction(actionName, action, name);
        capabilities.push(`action:${actionName}`);
      },
      vectorizer: (vectorizerName) =>
        this.capabilities.vectorizer(vectorizerName),
      action: (actionName) => this.capabilities.action(actionName),
      setStatus: (status, details) => this.readiness.set(name, status, details),
      route: (definition) =>
        this.#requireHttp(name).route({ ...definition, plugin: name }),
      upgrade: (definition) =>
        this.#requireHttp(name).upgrade({ ...definition, plugin: name }),
      authenticate: (authorization) => this.auth.authenticate(authorization),
      compileFilter: (where, className) =>
        compileFilter(
          where,
          className ? this.classes.get(className) : undefined,
        ),
      compileChangeFilter: (spec, path) =>
        compileChangeFilter(spec, this.classes, path),
    };
  }

  #requireHttp(plugin: string): HttpServer {
    if (!this.http)
      throw new WeftError(
        ErrorCode.HOST_STATE,
        `plugin ${plugin} adds HTTP routes, but this host runs without a server`,
        { details: { plugin } },
      );
    return this.http;
  }
}

/** The schema type plugins declare, re-exported for plugin authors. */
export type { TSchema };
