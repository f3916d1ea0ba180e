export {
  startBroker,
  type Broker,
  type StartBrokerOptions,
  type StopBrokerOptions,
} from "./broker.js";
export { saslCredentials, type BrokerAddresses } from "./broker-config.js";
export { brokers, saslBrokers, tlsBrokers, tlsCa } from "./connection.js";
export {
  createTopic,
  produceMessages,
  readTopic,
  type CreateTopicOptions,
  type ProduceOptions,
  type ReadMessage,
  type ReadTopicOptions,
  type TestMessage,
} from "./kafka-io.js";
export {
  hasKcat,
  kcatConsume,
  kcatProduce,
  type KcatMessage,
  type KcatOptions,
} from "./kcat.js";
export {
  acquireSharedBroker,
  readSharedState,
  releaseSharedBroker,
  sharedStateFile,
  type AcquiredBroker,
  type ReleaseResult,
  type SharedBrokerState,
} from "./shared-broker.js";
export { uniqueTopic } from "./topics.js";
export {
  startWebhookReceiver,
  type ReceivedRequest,
  type WebhookReceiver,
  type WebhookReceiverOptions,
  type WebhookResponder,
  type WebhookResponse,
} from "./webhook-receiver.js";
