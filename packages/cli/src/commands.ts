import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import {
  ErrorCode,
  createHostFromConfig,
  createLogger,
  formatProblems,
  isWeftError,
  loadConfig,
  type ConfigProblem,
  type LoadedConfig,
  type WeftError,
} from "@weft/core";
import { ExitCode } from "./exit-codes.js";

/** Folder of this CLI's install, searched for plugins after the config's folder. */
const cliDir = dirname(fileURLToPath(import.meta.url));

/** Output streams of a command, so tests can capture them. */
export interface CommandIO {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** Printed by `weft validate` after config problems, which stop it before the plugins' own checks. */
const registerChecksNote =
  "The plugins' register and init checks (such as the action each trigger names) run once these problems are fixed.\n";

/** Printed by `weft validate` after a plugin's register error, which stops it before the init checks. */
const initChecksNote =
  "The plugins' init checks (such as the action each trigger names) run once this problem is fixed.\n";

/** Printed by `weft validate` after a valid config, because the checks stop short of anything outside the process. */
const uncheckedNote =
  "Not checked: validate opens no store, port or network connection, and the host names of webhook URLs are checked when they are resolved.\n";

/**
 * Formats an error of the host for the terminal. The host wraps a plugin's
 * error as WEFT_ERR_PLUGIN_REGISTER or WEFT_ERR_HOOK_FAILED. When the
 * plugin's error lists config problems, they print one per line as schema
 * problems do. Otherwise the plugin's own code, the one docs/errors.md
 * describes, is appended in brackets.
 */
function describeError(error: WeftError): string {
  const cause = error.cause;
  const wrapped =
    (error.code === ErrorCode.PLUGIN_REGISTER ||
      error.code === ErrorCode.HOOK_FAILED) &&
    isWeftError(cause);
  if (!wrapped) return `${error.code}: ${error.message}`;

  const problems = configProblemsOf(cause);
  if (problems.length > 0)
    return `plugin ${String(error.details.plugin)} found ${problems.length} problem(s)\n${formatProblems(problems)}`;
  return `${error.code}: ${error.message} [${cause.code}]`;
}

/** Returns the config problems a plugin's error lists in `details.problems`, each with a path and a message. */
function configProblemsOf(error: WeftError): ConfigProblem[] {
  const listed = error.details.problems;
  if (!Array.isArray(listed)) return [];
  const problems: ConfigProblem[] = [];
  for (const item of listed as Array<Partial<ConfigProblem>>) {
    if (typeof item?.path !== "string" || typeof item.message !== "string")
      return [];
    problems.push({
      path: item.path,
      message: item.message,
      code: typeof item.code === "string" ? item.code : error.code,
    });
  }
  return problems;
}

async function load(
  file: string,
  io: CommandIO,
  note = "",
): Promise<LoadedConfig | number> {
  try {
    return await loadConfig(file, { resolveFrom: [process.cwd(), cliDir] });
  } catch (error) {
    if (!isWeftError(error)) throw error;
    const problems = error.details.problems as ConfigProblem[] | undefined;
    io.err(
      problems
        ? `${file}: ${problems.length} problem(s)\n${formatProblems(problems)}\n${note}`
        : `${error.code}: ${error.message}\n`,
    );
    return ExitCode.CONFIG_INVALID;
  }
}

/**
 * Registers the config's plugins on a host that is never started. A plugin
 * that rejects its settings in `register` gets the same report as a schema
 * problem, with exit code 1, instead of a stack trace.
 */
async function register(
  config: LoadedConfig,
  io: CommandIO,
  note = "",
): Promise<Awaited<ReturnType<typeof createHostFromConfig>> | number> {
  try {
    return await createHostFromConfig(config, {
      logger: createLogger({ level: "silent" }),
    });
  } catch (error) {
    if (!isWeftError(error)) throw error;
    io.err(`${config.file}: ${describeError(error)}\n${note}`);
    return ExitCode.CONFIG_INVALID;
  }
}

/**
 * `weft validate`: prints every problem of the config and exits 1, or
 * confirms it. It registers the plugins and runs their `init` checks, but
 * opens no store, port or connection.
 */
export async function validateCommand(
  file: string,
  io: CommandIO,
): Promise<number> {
  const config = await load(file, io, registerChecksNote);
  if (typeof config === "number") return config;

  // Vectorizers come from plugins, so only a registered host can tell whether each class's exists.
  const host = await register(config, io, initChecksNote);
  if (typeof host === "number") return host;
  const missing = config.classes.flatMap((definition, i) =>
    definition.vectorizer &&
    !host.capabilities.hasVectorizer(definition.vectorizer.use)
      ? [
          {
            path: `classes[${i}].vectorizer.use`,
            code: ErrorCode.CAPABILITY_NOT_FOUND,
            message: `no vectorizer named "${definition.vectorizer.use}"; add the plugin that provides it, or use hash`,
          },
        ]
      : [],
  );

  // Plugins make the checks that need every plugin registered (the action a
  // trigger names, for example) in init. A missing vectorizer does not affect
  // them, so both are reported in one run.
  let initError: WeftError | undefined;
  try {
    await host.init();
  } catch (error) {
    if (!isWeftError(error)) throw error;
    initError = error;
  }

  if (missing.length > 0)
    io.err(
      `${file}: ${missing.length} problem(s)\n${formatProblems(missing)}\n`,
    );
  if (initError) io.err(`${config.file}: ${describeError(initError)}\n`);
  if (missing.length > 0 || initError) return ExitCode.CONFIG_INVALID;

  const names = [config.store, ...config.plugins]
    .map((loaded) => loaded.plugin.name)
    .join(", ");
  io.out(
    `${config.file} is valid: ${config.classes.length} class(es); plugins: ${names}\n`,
  );
  io.out(uncheckedNote);
  return ExitCode.OK;
}

/** `weft plugins`: registers the config's plugins (without starting) and lists them. */
export async function pluginsCommand(
  file: string,
  io: CommandIO,
  json: boolean,
): Promise<number> {
  const config = await load(file, io);
  if (typeof config === "number") return config;

  const host = await register(config, io);
  if (typeof host === "number") return host;
  const plugins = host.plugins;
  if (json) {
    io.out(`${JSON.stringify(plugins, null, 2)}\n`);
    return ExitCode.OK;
  }
  for (const plugin of plugins) {
    io.out(`${plugin.name} ${plugin.version}\n`);
    io.out(`  dependencies: ${plugin.dependencies.join(", ") || "none"}\n`);
    io.out(`  hooks:        ${plugin.hooks.join(", ") || "none"}\n`);
    io.out(`  capabilities: ${plugin.capabilities.join(", ") || "none"}\n`);
  }
  return ExitCode.OK;
}

/** `weft start`: runs a host until SIGINT or SIGTERM. Resolves with the exit code. */
export async function startCommand(
  file: string,
  io: CommandIO,
  port?: number,
): Promise<number> {
  const config = await load(file, io);
  if (typeof config === "number") return config;

  const logger = createLogger({ level: config.host.logLevel });
  try {
    const host = await createHostFromConfig(config, {
      logger,
      ...(port !== undefined ? { port } : {}),
    });
    logger.info(
      {
        config: config.file,
        plugins: host.plugins.map(
          (plugin) => `${plugin.name}@${plugin.version}`,
        ),
      },
      "plugins loaded",
    );

    // A second signal must end the process at once, even while the stop still runs.
    const exited = new Promise<number>((resolve) =>
      host.stopOnSignals((code) =>
        code === ExitCode.INTERRUPTED ? process.exit(code) : resolve(code),
      ),
    );
    await host.start();
    logger.info({ url: host.http?.url }, "listening");
    return await exited;
  } catch (error) {
    logger.error({ err: error }, "host failed");
    const hint =
      (error as NodeJS.ErrnoException).code === "EADDRINUSE"
        ? `; another process listens on that address: stop it, or set server.port in ${config.file} (or --port) to a free port`
        : "";
    io.err(
      `${isWeftError(error) ? describeError(error) : (error as Error).message}${hint}\n`,
    );
    return ExitCode.RUNTIME;
  }
}
