/** Exit codes of the `weft` command, as docs and scripts rely on them. */
export const ExitCode = {
  /** Finished, or stopped cleanly after a signal. */
  OK: 0,
  /** The config has problems (`weft validate` found some, or `start` refused it). */
  CONFIG_INVALID: 1,
  /** Wrong command-line usage. */
  USAGE: 2,
  /** The host failed to start or to stop. */
  RUNTIME: 3,
  /** A second SIGINT or SIGTERM ended the stop early. */
  INTERRUPTED: 130,
} as const;
