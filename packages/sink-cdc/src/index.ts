import { cdcSinkPlugin } from "./plugin.js";

export { cdcSinkPlugin } from "./plugin.js";
export {
  configSchema,
  envOverrides,
  type CdcFormat,
  type CdcSinkConfig,
} from "./config.js";
export { CdcErrorCode, type CdcErrorCodeValue } from "./errors.js";
export { CHECKPOINT_KEY, type SinkCheckpoint } from "./checkpoint.js";
export { CLOUDEVENTS_CONTENT_TYPE } from "./formats/cloudevents.js";
export {
  SemanticType,
  ENVELOPE_SCHEMA_VERSION,
  SOURCE_SCHEMA_NAME,
  type ConnectSchema,
  type ConnectField,
} from "./formats/connect-schema.js";
export {
  createEncoder,
  type EncoderContext,
} from "./formats/create-encoder.js";
export { createTopicRouter } from "./routing.js";
export { messageBytes } from "./outgoing-batch.js";
export type {
  MessageEncoder,
  OutgoingMessage,
  SnapshotMarker,
  SnapshotRow,
  TransactionPosition,
} from "./formats/types.js";
export { isFatalProducerError } from "./kafka/producer-errors.js";

export default cdcSinkPlugin;
