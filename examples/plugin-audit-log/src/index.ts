import { mkdir, open, type FileHandle } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { Type, definePlugin } from "@weft/core";

const configSchema = Type.Object({
  path: Type.String({
    minLength: 1,
    description:
      "file the change events are appended to, relative to the config file",
  }),
  classes: Type.Optional(
    Type.Array(Type.String(), {
      description: "only these classes; all when absent",
    }),
  ),
});

/**
 * Appends each committed change event as one JSON line. It taps `afterWrite`,
 * so it sees events in commit order, and it opens the file at `start` and
 * closes it at `stop`.
 */
export default definePlugin({
  name: "weft-plugin-audit-log",
  version: "0.1.0",
  core: "^0.1.0",
  configSchema,
  register(host, config, context) {
    const file = resolve(context.configDir, config.path);
    const classes = config.classes ? new Set(config.classes) : undefined;
    let handle: FileHandle | undefined;

    host.hooks.start.tapPromise("weft-plugin-audit-log", async () => {
      await mkdir(dirname(file), { recursive: true });
      handle = await open(file, "a");
      host.logger.info({ file }, "audit log open");
    });

    host.hooks.afterWrite.tapPromise(
      "weft-plugin-audit-log",
      async (events) => {
        const lines = events
          .filter((event) => !classes || classes.has(event.class))
          .map((event) => `${JSON.stringify(event)}\n`);
        if (lines.length > 0) await handle?.appendFile(lines.join(""));
      },
    );

    host.hooks.stop.tapPromise("weft-plugin-audit-log", async () => {
      await handle?.close();
      handle = undefined;
    });
  },
});
