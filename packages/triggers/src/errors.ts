import { errorFactory } from "@weft/core";

/** Codes raised by `@weft/triggers`. docs/errors.md has one row per code. */
export const TriggersErrorCode = {
  /** The plugin's settings or a trigger's settings are invalid. */
  CONFIG_INVALID: "WEFT_ERR_TRIGGERS_CONFIG_INVALID",
  /** The API named a trigger that is not configured. */
  NOT_FOUND: "WEFT_ERR_TRIGGERS_NOT_FOUND",
  /** The API named a dead letter that does not exist (never existed, redelivered or deleted). */
  DEAD_LETTER_NOT_FOUND: "WEFT_ERR_TRIGGERS_DEAD_LETTER_NOT_FOUND",
  /** A manual invocation named an object that is not in the store. */
  OBJECT_NOT_FOUND: "WEFT_ERR_TRIGGERS_OBJECT_NOT_FOUND",
  /** An API request body or query is invalid. */
  REQUEST_INVALID: "WEFT_ERR_TRIGGERS_REQUEST_INVALID",
  /** A replay asked for a seq that the change log no longer holds. */
  REPLAY_TRUNCATED: "WEFT_ERR_TRIGGERS_REPLAY_TRUNCATED",
  /** The API tried to enable a trigger that the config disables. */
  DISABLED_IN_CONFIG: "WEFT_ERR_TRIGGERS_DISABLED_IN_CONFIG",
  /** The API was called before the triggers finished starting, or while the host stops. */
  NOT_RUNNING: "WEFT_ERR_TRIGGERS_NOT_RUNNING",
} as const;

export type TriggersErrorCodeValue =
  (typeof TriggersErrorCode)[keyof typeof TriggersErrorCode];

/** HTTP status of each code, for the API. */
export const statusByCode: Record<TriggersErrorCodeValue, number> = {
  [TriggersErrorCode.CONFIG_INVALID]: 500,
  [TriggersErrorCode.NOT_FOUND]: 404,
  [TriggersErrorCode.DEAD_LETTER_NOT_FOUND]: 404,
  [TriggersErrorCode.OBJECT_NOT_FOUND]: 404,
  [TriggersErrorCode.REQUEST_INVALID]: 400,
  [TriggersErrorCode.REPLAY_TRUNCATED]: 409,
  [TriggersErrorCode.DISABLED_IN_CONFIG]: 409,
  [TriggersErrorCode.NOT_RUNNING]: 503,
};

/** Creates a {@link WeftError} with one of the {@link TriggersErrorCode} codes. */
export const triggersError = errorFactory(TriggersErrorCode);
