import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  Host,
  MemoryStore,
  Type,
  createLogger,
  definePlugin,
  type ClassDefinition,
  type HostOptions,
  type PluginHost,
} from "@weft/core";

export const productClass: ClassDefinition = {
  name: "Product",
  properties: [
    { name: "name", type: "text" },
    { name: "description", type: "text" },
    { name: "price", type: "number" },
    { name: "stock", type: "int" },
    { name: "category", type: "text" },
    { name: "tags", type: "text[]" },
    { name: "active", type: "boolean" },
    { name: "released", type: "date" },
    { name: "ref", type: "uuid" },
    { name: "meta", type: "object" },
  ],
};

export const silentLogger = () => createLogger({ level: "silent" });

/** Creates a plugin that provides a store and hands its host view to the test. */
export function storePlugin(
  store = new MemoryStore(),
  onRegister?: (host: PluginHost) => void,
) {
  return definePlugin({
    name: "test-store",
    version: "1.0.0",
    configSchema: Type.Object({}),
    register(host) {
      host.provideStore(store);
      onRegister?.(host);
    },
  });
}

/** Starts a host with the memory store and the given extra plugins. Stops it at teardown. */
export async function startHost(
  t: { teardown(fn: () => unknown): void },
  options: HostOptions & {
    plugins?: Array<{
      plugin: Parameters<Host["register"]>[0];
      config?: Record<string, unknown>;
    }>;
  } = {},
): Promise<Host> {
  const { plugins = [], ...hostOptions } = options;
  const host = new Host({
    classes: [productClass],
    server: { port: 0 },
    logger: silentLogger(),
    processMetrics: false,
    ...hostOptions,
  });
  await host.register(storePlugin(), {});
  for (const { plugin, config } of plugins)
    await host.register(plugin, config ?? {});
  await host.start();
  t.teardown(() => host.stop());
  return host;
}

/** Creates a fresh temp folder, removed at teardown. */
export async function tempDir(t: {
  teardown(fn: () => unknown): void;
}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "weft-test-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes a config file into `dir` and returns its path. */
export async function writeConfig(
  dir: string,
  text: string,
  name = "weft.yaml",
): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

/** Sends a JSON request to a running host. */
export async function request(
  host: Host,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const response = await fetch(`${host.http!.url}${path}`, {
    method,
    headers: { "content-type": "application/json", ...headers },
    ...(body === undefined
      ? {}
      : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? JSON.parse(text) : undefined,
  };
}
