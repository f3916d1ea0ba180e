export { main } from "./main.js";
export { ExitCode } from "./exit-codes.js";
export {
  startCommand,
  validateCommand,
  pluginsCommand,
  type CommandIO,
} from "./commands.js";
