import { definePlugin, type ActionDefinition, type Plugin } from "@weft/core";
import {
  WebhookActionSchema,
  WebhookPluginSchema,
  type WebhookActionConfig,
} from "./config.js";
import {
  createWebhookAction,
  type WebhookDependencies,
} from "./webhook-action.js";
import { packageVersion } from "./version.js";

/** The names the action is provided under; triggers pick it with `action: { use: <name> }`. */
export const actionNames = ["@weft/action-webhook", "webhook"] as const;

/**
 * Creates the plugin. The default export uses the system resolver and
 * undici's connector; tests pass their own to watch connection attempts.
 */
export function createWebhookPlugin(
  dependencies: WebhookDependencies = {},
): Plugin<typeof WebhookPluginSchema> {
  return definePlugin({
    name: "@weft/action-webhook",
    version: packageVersion,
    core: "^0.1.0",
    configSchema: WebhookPluginSchema,
    register(host) {
      const action: ActionDefinition<typeof WebhookActionSchema> = {
        configSchema: WebhookActionSchema,
        create: (config: WebhookActionConfig, context) =>
          createWebhookAction(config, context, dependencies),
      };
      for (const name of actionNames)
        host.provideAction(name, action as unknown as ActionDefinition);
    },
  });
}

const webhookPlugin = createWebhookPlugin();
export default webhookPlugin;
