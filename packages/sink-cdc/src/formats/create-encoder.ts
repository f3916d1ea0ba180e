import type { ClassDefinition } from "@weft/core";
import type { CdcSinkConfig } from "../config.js";
import { createCloudEventsEncoder } from "./cloudevents.js";
import { createDebeziumEncoder } from "./debezium.js";
import { createPlainEncoder } from "./plain.js";
import type { MessageEncoder } from "./types.js";

/** What the encoders need besides the config. */
export interface EncoderContext {
  classes: ReadonlyMap<string, ClassDefinition>;
  topicFor: (className: string) => string;
  /** The sink package's version, sent as Debezium's `source.version`. */
  version: string;
}

/** Tells whether messages of a class carry its vector: the per-class setting, else `vectors.default`. */
export function vectorsIncluded(
  config: CdcSinkConfig,
  className: string,
): boolean {
  return (
    (config.vectors.classes[className] ?? config.vectors.default) === "include"
  );
}

/** Creates the encoder of the configured format. */
export function createEncoder(
  config: CdcSinkConfig,
  context: EncoderContext,
): MessageEncoder {
  const includeVector = (className: string) =>
    vectorsIncluded(config, className);
  const vectorFieldFor = (className: string) =>
    includeVector(className) ? config.vectors.field : undefined;

  switch (config.format) {
    case "debezium":
      return createDebeziumEncoder({
        classes: context.classes,
        topicFor: context.topicFor,
        name: config.name,
        database: config.database,
        version: context.version,
        schemas: config.schemas,
        vectorFieldFor,
      });
    case "plain":
      return createPlainEncoder({ topicFor: context.topicFor, includeVector });
    case "cloudevents":
      return createCloudEventsEncoder({
        topicFor: context.topicFor,
        name: config.name,
        vectorFieldFor,
      });
  }
}
