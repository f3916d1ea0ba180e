import { errorFactory } from "@weft/core";

/**
 * Codes raised by `@weft/action-webhook`. docs/errors.md has one row per
 * code. Delivery failures do not throw: they come back as action outcomes
 * whose message starts with the code.
 */
export const WebhookErrorCode = {
  /** The action settings of a trigger are invalid (URL, header, secret or network). */
  CONFIG_INVALID: "WEFT_ERR_WEBHOOK_CONFIG_INVALID",
  /** The address guard rejected every address of the target host. */
  ADDRESS_BLOCKED: "WEFT_ERR_WEBHOOK_ADDRESS_BLOCKED",
  /** The host name of the URL did not resolve. */
  DNS_FAILED: "WEFT_ERR_WEBHOOK_DNS_FAILED",
  /** The endpoint responded with a redirect that the action does not follow. */
  REDIRECT_REJECTED: "WEFT_ERR_WEBHOOK_REDIRECT_REJECTED",
  /** The endpoint responded with a status that is neither 2xx nor a redirect. */
  HTTP_STATUS: "WEFT_ERR_WEBHOOK_HTTP_STATUS",
  /** The request did not finish within `timeout`. */
  TIMEOUT: "WEFT_ERR_WEBHOOK_TIMEOUT",
  /** The connection failed or broke before a response arrived. */
  NETWORK: "WEFT_ERR_WEBHOOK_NETWORK",
} as const;

export type WebhookErrorCodeValue =
  (typeof WebhookErrorCode)[keyof typeof WebhookErrorCode];

/** Creates a {@link WeftError} with one of the {@link WebhookErrorCode} codes. */
export const webhookError = errorFactory(WebhookErrorCode);
