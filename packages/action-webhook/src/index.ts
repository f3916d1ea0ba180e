export { default, createWebhookPlugin, actionNames } from "./plugin.js";
export {
  WebhookActionSchema,
  WebhookPluginSchema,
  type WebhookActionConfig,
} from "./config.js";
export {
  createWebhookAction,
  type WebhookDependencies,
  type WebhookContext,
} from "./webhook-action.js";
export {
  AddressGuard,
  type AddressGuardOptions,
  type AddressVerdict,
} from "./address-guard.js";
export {
  createGuardedConnector,
  systemResolve,
  type GuardedConnectorOptions,
  type ResolveHost,
  type ResolvedAddress,
  type SocketConnector,
} from "./connector.js";
export {
  WebhookSigner,
  decodeSecrets,
  signatureHeader,
  signingKeys,
} from "./signature.js";
export { encodePayload, type WebhookPayload } from "./payload.js";
export { parseRetryAfter } from "./retry-after.js";
export { redactUrl, isSensitiveHeader } from "./redact.js";
export { WebhookErrorCode, type WebhookErrorCodeValue } from "./errors.js";
