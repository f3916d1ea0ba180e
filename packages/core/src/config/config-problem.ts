import { ErrorCode, WeftError } from "../errors.js";

/** One problem of a config file: where it is, a stable code and what to do. */
export interface ConfigProblem {
  /** Path in the config, such as `plugins[2].consumers[0].batchSize`. */
  path: string;
  code: string;
  message: string;
}

/** Formats problems one per line, as `weft validate` prints them. */
export function formatProblems(problems: readonly ConfigProblem[]): string {
  return problems
    .map(
      (problem) =>
        `${problem.path || "(root)"}: ${problem.message} [${problem.code}]`,
    )
    .join("\n");
}

/** The error a config with problems raises: every problem at once. */
export function configError(
  file: string,
  problems: ConfigProblem[],
): WeftError {
  const noun = problems.length === 1 ? "problem" : "problems";
  return new WeftError(
    ErrorCode.CONFIG_INVALID,
    `config ${file} has ${problems.length} ${noun}:\n${formatProblems(problems)}`,
    {
      details: { file, problems },
    },
  );
}

/** Joins a config path and a key the way messages print paths. */
export function joinPath(base: string, key: string | number): string {
  if (typeof key === "number") return `${base}[${key}]`;
  return base === "" ? key : `${base}.${key}`;
}
