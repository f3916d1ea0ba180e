export {
  WeftError,
  isWeftError,
  errorFactory,
  ErrorCode,
  type ErrorCodeValue,
  type ErrorDetails,
  type WeftErrorOptions,
} from "./errors.js";
export { Host, type HostOptions, type RegisteredPlugin } from "./host.js";
export {
  createHostFromConfig,
  createHostFromFile,
  type CreateHostOptions,
} from "./create-host.js";
export {
  loadConfig,
  checkLoadedConfig,
  type LoadedConfig,
  type LoadedPlugin,
  type LoadConfigOptions,
} from "./config/load-config.js";
export { formatProblems, type ConfigProblem } from "./config/config-problem.js";
export {
  HostConfigSchema,
  type HostConfig,
  type PluginEntry,
} from "./config/host-schema.js";
export { checkConfig, compileSchema } from "./config/check-schema.js";
export {
  definePlugin,
  isPlugin,
  type Plugin,
  type PluginDefinition,
  type EnvOverride,
  type RegisterContext,
  type Disposer,
} from "./plugin/define-plugin.js";
export type {
  PluginHost,
  PluginStatus,
  ActionDefinition,
  ActionHandler,
  ActionInvocation,
  ActionOutcome,
  WriteQueue,
} from "./plugin/plugin-host.js";
export {
  loadPlugin,
  resolvePluginFile,
  shortNames,
} from "./plugin/resolve-plugin.js";
export { memoryStorePlugin } from "./plugin/builtin-plugins.js";
export {
  createHooks,
  type HostHooks,
  type AfterWriteContext,
} from "./hooks/hooks.js";
export { ChangeFeed, type ReadOptions } from "./changes/change-feed.js";
export type {
  ChangeEvent,
  ChangeOp,
  ChangeOrigin,
  ChangeMetadata,
} from "./changes/types.js";
export type {
  ClassDefinition,
  PropertyDefinition,
  PropertyType,
  VectorizerBinding,
} from "./classes/types.js";
export { ClassSchema, propertyTypes } from "./classes/class-schema.js";
export {
  validateProperties,
  checkPropertyValue,
  type PropertyProblem,
} from "./classes/validate-object.js";
export {
  MAX_WHERE_DEPTH,
  compileFilter,
  likeToRegExp,
  type Predicate,
} from "./filter/compile-filter.js";
export {
  compileChangeFilter,
  type ChangeFilterSpec,
} from "./filter/change-filter.js";
export type { Where, Condition } from "./filter/types.js";
export {
  MemoryStore,
  MemoryStoreSchema,
  truncatedError,
  type MemoryStoreOptions,
} from "./store/memory-store.js";
export { applyMutation, type MutationEffect } from "./store/apply-mutation.js";
export { encodeCursor, decodeCursor } from "./store/list-cursor.js";
export type {
  Store,
  StoredObject,
  Mutation,
  CommitBatch,
  CommitResult,
  MutationOutcome,
  ListQuery,
  ListPage,
  Snapshot,
  SourcePosition,
  StateWrite,
  StoreOpenContext,
} from "./store/types.js";
export type { PluginState } from "./state/plugin-state.js";
export {
  WriteBatch,
  type WriteItem,
  type RejectOptions,
} from "./write/write-batch.js";
export type {
  WriteRequest,
  WriteOptions,
  WriteResult,
  ItemError,
} from "./write/types.js";
export {
  toObjectId,
  toObjectIdFromBytes,
  newObjectId,
  isObjectId,
  ID_NAMESPACE,
  type ObjectKey,
} from "./ids.js";
export {
  parseDuration,
  DurationSchema,
  type DurationInput,
} from "./duration.js";
export { createLogger, redactPaths } from "./logger.js";
export {
  createHashVectorizer,
  HASH_DIMENSIONS,
} from "./vectorizer/hash-vectorizer.js";
export { vectorText } from "./vectorizer/vectorize-tap.js";
export type { Vectorizer } from "./vectorizer/types.js";
export type {
  RouteDefinition,
  RouteContext,
  UpgradeDefinition,
} from "./http/http-server.js";
export { ApiKeyAuth } from "./http/auth.js";
export { readJson } from "./http/body.js";
export { sendJson } from "./http/send.js";
export { deepEqual, vectorsEqual } from "./deep-equal.js";
export { previewValue } from "./preview-value.js";
export { findTooDeep } from "./nesting-depth.js";
export { coreVersion } from "./version.js";
// Plugins declare their config schemas with the same TypeBox copy core checks them with.
export { Type, type Static, type TSchema } from "@sinclair/typebox";
