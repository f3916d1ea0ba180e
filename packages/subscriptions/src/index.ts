export {
  subscriptionsPlugin as default,
  subscriptionsPlugin,
  subscriptionManagerOf,
} from "./plugin.js";
export {
  SubscriptionsConfigSchema,
  toSettings,
  type SubscriptionsConfig,
  type SubscriptionsSettings,
  type SlowConsumerPolicy,
} from "./config.js";
export { SubscriptionsErrorCode } from "./errors.js";
export {
  buildSchema,
  type GeneratedSchema,
  type SubscriptionTarget,
} from "./schema/build-schema.js";
export type { ClassFieldNames } from "./schema/names.js";
export { toCoreWhere } from "./schema/where-input.js";
export {
  SubscriptionManager,
  SubscribeRejectedError,
  type SubscriptionManagerOptions,
  type SubscribeOptions,
  type SubscriptionHandle,
  type ManagerStats,
} from "./manager/subscription-manager.js";
export type { SubscriptionSink } from "./manager/subscriber.js";
export { SerializedResult } from "./manager/serialized-result.js";
export type {
  GraphQLRequest,
  PreparedRequest,
  PreparedSubscription,
  PreparedOperation,
} from "./manager/prepare-request.js";
export { EndpointCloseCode } from "./transport/close-codes.js";
export type { ResolverContext } from "./queries/class-queries.js";
