import { setTimeout as sleep } from "node:timers/promises";
import t from "tap";
import {
  ErrorCode,
  Host,
  MemoryStore,
  Type,
  definePlugin,
  isPlugin,
  isWeftError,
  WeftError,
  type WeftError as WeftErrorType,
} from "@weft/core";
import { productClass, silentLogger, storePlugin } from "./helpers.js";

function newHost(options: ConstructorParameters<typeof Host>[0] = {}) {
  return new Host({
    classes: [productClass],
    server: { port: 0 },
    logger: silentLogger(),
    processMetrics: false,
    ...options,
  });
}

const noop = Type.Object({});

t.test(
  "stop runs intake, drain, stop taps in reverse, then the store",
  async (t) => {
    const steps: string[] = [];
    const store = new MemoryStore();
    const originalClose = store.close.bind(store);
    store.close = async () => {
      steps.push("store closed");
      return originalClose();
    };
    const tracker = (name: string) =>
      definePlugin({
        name,
        version: "1.0.0",
        configSchema: noop,
        register(host) {
          host.hooks.stopIntake.tapPromise(
            name,
            async () => void steps.push(`${name} intake`),
          );
          host.hooks.stop.tapPromise(
            name,
            async () => void steps.push(`${name} stop`),
          );
          return () => void steps.push(`${name} disposed`);
        },
      });

    const host = newHost();
    await host.register(storePlugin(store), {});
    await host.register(tracker("first"), {});
    await host.register(tracker("second"), {});
    await host.start();
    await host.stop();

    t.same(steps, [
      "first intake",
      "second intake",
      "second stop",
      "first stop",
      "second disposed",
      "first disposed",
      "store closed",
    ]);
    t.equal(host.phase, "stopped");
  },
);

t.test("graceful stop drains in-flight writes", async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const slow = definePlugin({
    name: "slow",
    version: "1.0.0",
    configSchema: noop,
    register(host) {
      host.hooks.beforeWrite.tapPromise("slow", async (batch) => {
        await gate;
        return batch;
      });
    },
  });
  const host = newHost();
  await host.register(storePlugin(), {});
  await host.register(slow, {});
  await host.start();

  const inFlight = host.write([
    { op: "upsert", class: "Product", id: "a", properties: { name: "kept" } },
  ]);
  const queued = host.write([
    {
      op: "upsert",
      class: "Product",
      id: "b",
      properties: { name: "kept too" },
    },
  ]);
  const stopped = host.stop();
  await sleep(20);
  release();

  const [first] = await inFlight;
  const [second] = await queued;
  await stopped;
  t.equal(first.status, "ok");
  t.equal(second.status, "ok");
  t.equal(
    await host.store.lastSeq(),
    2,
    "both writes committed before the store closed",
  );
  await t.rejects(
    host.write([{ op: "upsert", class: "Product", properties: {} }]),
    { code: ErrorCode.HOST_STOPPING, retryable: true },
  );
});

t.test("a plugin whose start hangs is named in the error", async (t) => {
  const hanging = definePlugin({
    name: "hanging",
    version: "1.0.0",
    configSchema: noop,
    register(host) {
      host.hooks.start.tapPromise("hanging", () => new Promise(() => {}));
    },
  });
  const host = newHost({ startTimeoutMs: 50 });
  await host.register(storePlugin(), {});
  await host.register(hanging, {});
  const error = (await host.start().catch((e: unknown) => e)) as WeftErrorType;
  t.equal(error.code, ErrorCode.PLUGIN_START_TIMEOUT);
  t.equal(error.details.plugin, "hanging");
  t.match(
    error.message,
    /plugin hanging did not finish hook start within 50 ms/,
  );
  t.equal(host.phase, "stopped", "what started was stopped again");
});

t.test("a plugin whose stop hangs does not block the others", async (t) => {
  const steps: string[] = [];
  const hanging = definePlugin({
    name: "hanging-stop",
    version: "1.0.0",
    configSchema: noop,
    register(host) {
      host.hooks.stop.tapPromise("hanging-stop", () => new Promise(() => {}));
    },
  });
  const polite = definePlugin({
    name: "polite",
    version: "1.0.0",
    configSchema: noop,
    register(host) {
      host.hooks.stop.tapPromise(
        "polite",
        async () => void steps.push("polite stopped"),
      );
    },
  });
  const host = newHost({ shutdownTimeoutMs: 200 });
  await host.register(storePlugin(), {});
  await host.register(polite, {});
  await host.register(hanging, {});
  await host.start();
  const started = Date.now();
  await host.stop();
  t.ok(Date.now() - started < 2000, "stop finished despite the hanging plugin");
  t.same(steps, ["polite stopped"]);
});

t.test("register failure names the plugin", async (t) => {
  const broken = definePlugin({
    name: "broken",
    version: "1.0.0",
    configSchema: noop,
    register() {
      throw new Error("cannot register");
    },
  });
  const host = newHost();
  await t.rejects(host.register(broken, {}), {
    code: ErrorCode.PLUGIN_REGISTER,
    message: /plugin broken failed to register: cannot register/,
  });
});

t.test(
  "capability slots reject duplicates and report missing names",
  async (t) => {
    const host = newHost();
    await host.register(storePlugin(), {});
    await t.rejects(
      host.register(
        definePlugin({ ...storePlugin(), name: "other-store" }),
        {},
      ),
      {
        code: ErrorCode.PLUGIN_REGISTER,
        cause: {
          code: ErrorCode.STORE_DUPLICATE,
          message:
            /plugin other-store provides a store, but plugin test-store already did/,
        },
      },
    );

    const actions = definePlugin({
      name: "actions",
      version: "1.0.0",
      configSchema: noop,
      register(host) {
        host.provideAction("notify", {
          configSchema: noop,
          create: () => ({ execute: async () => ({ ok: true }) }),
        });
        host.provideAction("notify", {
          configSchema: noop,
          create: () => ({ execute: async () => ({ ok: true }) }),
        });
      },
    });
    await t.rejects(host.register(actions, {}), {
      cause: { code: ErrorCode.CAPABILITY_DUPLICATE },
    });
    t.throws(() => host.capabilities.vectorizer("missing"), {
      code: ErrorCode.CAPABILITY_NOT_FOUND,
      message: /known: hash/,
    });
  },
);

t.test("init runs its taps once", async (t) => {
  let inits = 0;
  let opened = false;
  const store = new MemoryStore();
  const originalOpen = store.open.bind(store);
  store.open = async (options) => {
    opened = true;
    return originalOpen(options);
  };
  const checker = definePlugin({
    name: "checker",
    version: "1.0.0",
    configSchema: noop,
    register(host) {
      host.hooks.init.tap(host.name, () => {
        inits += 1;
      });
    },
  });
  const host = newHost();
  await host.register(storePlugin(store), {});
  await host.register(checker, {});

  await host.init();
  t.equal(inits, 1);
  t.equal(opened, false, "init opens no store");
  t.equal(host.phase, "created");
  await t.rejects(host.register(storePlugin(), {}), {
    code: ErrorCode.HOST_STATE,
    message: /must be registered before the host initializes or starts/,
  });

  await host.start();
  t.teardown(() => host.stop());
  t.equal(inits, 1, "start does not run init again");
  t.equal(opened, true);
  await t.rejects(host.init(), {
    code: ErrorCode.HOST_STATE,
    message: /cannot initialize from phase running/,
  });
});

t.test("failing init check names plugin", async (t) => {
  const picky = definePlugin({
    name: "picky",
    version: "1.0.0",
    configSchema: noop,
    register(host) {
      host.hooks.init.tap(host.name, () => {
        throw new Error('action "mail" is not provided by any plugin');
      });
    },
  });
  const host = newHost();
  await host.register(storePlugin(), {});
  await host.register(picky, {});
  await t.rejects(host.init(), {
    code: ErrorCode.HOOK_FAILED,
    message: /plugin picky failed in hook init: action "mail" is not provided/,
  });
});

t.test("start without a store fails clearly", async (t) => {
  const host = newHost();
  await t.rejects(host.start(), { code: ErrorCode.STORE_MISSING });
});

t.test("a vectorizer name nobody provides fails the start", async (t) => {
  const host = newHost({
    classes: [
      {
        name: "Doc",
        properties: [{ name: "title", type: "text" }],
        vectorizer: { use: "openai", fields: ["title"] },
      },
    ],
  });
  await host.register(storePlugin(), {});
  await t.rejects(host.start(), {
    code: ErrorCode.CAPABILITY_NOT_FOUND,
    message: /no vectorizer named "openai"/,
  });
});

t.test("plugin and error brands work across copies of core", async (t) => {
  // A plugin or error built by another copy of core carries the same registered symbols.
  const foreignPlugin = {
    name: "foreign",
    version: "1",
    configSchema: noop,
    register() {},
    [Symbol.for("weft.plugin")]: true,
  };
  t.ok(isPlugin(foreignPlugin));
  t.notOk(isPlugin({ name: "plain" }));

  const foreignError = Object.assign(new Error("x"), {
    code: "WEFT_ERR_X",
    [Symbol.for("weft.error")]: true,
  });
  t.ok(isWeftError(foreignError));
  t.ok(isWeftError(new WeftError("WEFT_ERR_Y", "y")));
  t.notOk(isWeftError(new Error("plain")));
});

t.test("plugins list their hooks and capabilities", async (t) => {
  const host = newHost();
  await host.register(storePlugin(), {});
  await host.register(
    definePlugin({
      name: "lister",
      version: "3.1.0",
      dependencies: ["test-store"],
      configSchema: noop,
      register(host) {
        host.hooks.afterWrite.tap("lister", () => {});
        host.hooks.beforeWriteFor
          .for("Product")
          .tap("lister", (batch) => batch);
        host.provideVectorizer("upper", {
          vectorize: async (texts) => texts.map(() => [1]),
        });
      },
    }),
    {},
  );
  const lister = host.plugins.find((plugin) => plugin.name === "lister")!;
  t.same(lister.hooks.sort(), ["afterWrite", "beforeWriteFor(Product)"]);
  t.same(lister.capabilities, ["vectorizer:upper"]);
  t.same(lister.dependencies, ["test-store"]);
  t.same(host.plugins[0].capabilities, ["store:memory"]);
});

t.test("second signal exits at once", async (t) => {
  let release!: () => void;
  const hanging = definePlugin({
    name: "hangs-on-stop",
    version: "1.0.0",
    configSchema: noop,
    register(host) {
      host.hooks.stop.tapPromise(
        "hangs-on-stop",
        () => new Promise<void>((resolve) => (release = resolve)),
      );
    },
  });
  const host = newHost({ shutdownTimeoutMs: 60_000 });
  await host.register(storePlugin(), {});
  await host.register(hanging, {});
  await host.start();

  const codes: number[] = [];
  const exited = new Promise<void>((resolve) => {
    const remove = host.stopOnSignals((code) => {
      codes.push(code);
      remove();
      resolve();
    });
  });
  process.emit("SIGTERM", "SIGTERM");
  await sleep(50);
  process.emit("SIGTERM", "SIGTERM");
  await exited;
  t.same(codes, [130]);
  release();
  await host.stop();
});
