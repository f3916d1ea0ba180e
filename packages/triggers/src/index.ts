export { default, createTriggersPlugin, packageVersion } from "./plugin.js";
export {
  TriggersConfigSchema,
  TriggerSchema,
  RetrySchema,
  RetryOverrideSchema,
  resolveTriggers,
  type TriggersConfig,
  type TriggerConfig,
  type ResolvedTrigger,
  type RetryPolicy,
} from "./config.js";
export { TriggerEngine, type EngineOptions } from "./engine.js";
export {
  TriggerRunner,
  type TriggerStatus,
  type QueuedDelivery,
} from "./trigger-runner.js";
export { DeliveryPool, type PoolMember } from "./pool.js";
export { retryDelay } from "./retry.js";
export type {
  PendingDelivery,
  DeadLetter,
  DeadLetterReason,
  DeliverySource,
  AttemptError,
  TriggerControl,
} from "./records.js";
export { TriggersErrorCode, type TriggersErrorCodeValue } from "./errors.js";
