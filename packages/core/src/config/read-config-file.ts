import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import { pathToFileURL } from "node:url";
import { parseDocument } from "yaml";
import { ErrorCode, WeftError } from "../errors.js";
import { maxConfigDepth } from "./check-depth.js";
import { configError } from "./config-problem.js";

/**
 * Reads a config file: YAML (`.yaml`, `.yml`), JSON (`.json`), or an ES
 * module (`.js`, `.mjs`) whose default export is the config object.
 */
export async function readConfigFile(file: string): Promise<unknown> {
  const extension = extname(file).toLowerCase();
  if (extension === ".js" || extension === ".mjs") return importConfig(file);

  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw notFound(file, error);
  }
  return extension === ".json" ? parseJson(file, text) : parseYaml(file, text);
}

function notFound(file: string, cause: unknown): WeftError {
  return new WeftError(
    ErrorCode.CONFIG_NOT_FOUND,
    `config file ${file} cannot be read; pass its path with -c or create it`,
    {
      cause,
      details: { file },
    },
  );
}

function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new WeftError(
      ErrorCode.CONFIG_PARSE,
      `config file ${file} is not valid JSON: ${(error as Error).message}`,
      { cause: error, details: { file } },
    );
  }
}

function parseYaml(file: string, text: string): unknown {
  let document: ReturnType<typeof parseDocument>;
  let value: unknown;
  try {
    document = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
    value = document.errors.length > 0 ? undefined : document.toJS();
  } catch (error) {
    if (isStackOverflow(error)) throw tooDeep(file);
    throw error;
  }

  if (document.errors.length > 0) {
    const first = document.errors[0];
    if (isStackOverflow(first)) throw tooDeep(file);
    const where = first.linePos
      ? ` at line ${first.linePos[0].line}, column ${first.linePos[0].col}`
      : "";
    // The parser's pretty message repeats the position and ends with a colon before a source excerpt.
    const reason = first.message
      .split("\n")[0]
      .replace(/ at line \d+, column \d+:?$/, "");
    throw new WeftError(
      ErrorCode.CONFIG_PARSE,
      `config file ${file} is not valid YAML${where}: ${reason}`,
      {
        details: {
          file,
          line: first.linePos?.[0].line,
          column: first.linePos?.[0].col,
        },
      },
    );
  }
  return value ?? {};
}

/** Tells whether an error is a call stack overflow, which the YAML parser reports for deeply nested documents. */
function isStackOverflow(error: unknown): boolean {
  return (
    error instanceof RangeError ||
    /Maximum call stack size exceeded/.test((error as Error).message ?? "")
  );
}

/** Builds the config problem of a document too deep for the parser, as the depth check reports a parsed one. */
function tooDeep(file: string): WeftError {
  return configError(file, [
    {
      path: "",
      code: ErrorCode.CONFIG_INVALID,
      message: `nested too deep to parse; the limit is ${maxConfigDepth} levels of objects and arrays, so flatten the config`,
    },
  ]);
}

async function importConfig(file: string): Promise<unknown> {
  let module: { default?: unknown };
  try {
    module = await import(pathToFileURL(file).href);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND")
      throw notFound(file, error);
    throw new WeftError(
      ErrorCode.CONFIG_PARSE,
      `config module ${file} failed to load: ${(error as Error).message}`,
      { cause: error, details: { file } },
    );
  }
  const config =
    typeof module.default === "function"
      ? await (module.default as () => unknown)()
      : module.default;
  if (typeof config !== "object" || config === null) {
    throw new WeftError(
      ErrorCode.CONFIG_PARSE,
      `config module ${file} must export the config object (or a function returning it) as default`,
      {
        details: { file },
      },
    );
  }
  return config;
}
