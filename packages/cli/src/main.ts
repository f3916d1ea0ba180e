import {
  Command,
  CommanderError,
  InvalidArgumentError,
  Option,
} from "commander";
import { coreVersion } from "@weft/core";
import {
  pluginsCommand,
  startCommand,
  validateCommand,
  type CommandIO,
} from "./commands.js";
import { ExitCode } from "./exit-codes.js";

const defaultIO: CommandIO = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

const exitCodesHelp = `
Exit codes:
  0    finished, or stopped cleanly after SIGINT/SIGTERM
  1    the config has problems
  2    wrong usage
  3    the host failed to start or stop
  130  a second signal ended the stop early`;

/** Runs the `weft` command line and resolves with its exit code. */
export async function main(
  argv: string[],
  io: CommandIO = defaultIO,
): Promise<number> {
  let code: number = ExitCode.OK;
  const program = new Command("weft")
    .description(
      "Run and check weft hosts: an object store with streaming plugins",
    )
    .version(coreVersion, "-v, --version", "print the version of @weft/core")
    .addHelpText("after", exitCodesHelp)
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });

  const configOption = () =>
    new Option(
      "-c, --config <path>",
      "config file: YAML, JSON or an ES module",
    ).default("./weft.yaml");

  program
    .command("start")
    .description("start a host and run it until SIGINT or SIGTERM")
    .addOption(configOption())
    .option(
      "-p, --port <port>",
      "listen on this port instead of server.port (0 picks a free one)",
      parsePort,
    )
    .action(async (options: { config: string; port?: number }) => {
      code = await startCommand(options.config, io, options.port);
    });

  program
    .command("validate")
    .description(
      "check a config and print every problem; exit 1 if there are any",
    )
    .addOption(configOption())
    .action(async (options: { config: string }) => {
      code = await validateCommand(options.config, io);
    });

  program
    .command("plugins")
    .description(
      "list the config's plugins: version, dependencies, hooks tapped, capabilities",
    )
    .addOption(configOption())
    .option("--json", "print JSON")
    .action(async (options: { config: string; json?: boolean }) => {
      code = await pluginsCommand(options.config, io, options.json ?? false);
    });

  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError)
      return error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    throw error;
  }
  return code;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError(
      `invalid port ${JSON.stringify(value)}; use 0 to 65535`,
    );
  return port;
}
