import {
  DurationSchema,
  Type,
  parseDuration,
  type ChangeOp,
  type Static,
  type TSchema,
  type Where,
} from "@weft/core";
import { TriggersErrorCode, triggersError } from "./errors.js";

function retryProperties(withDefaults: boolean) {
  const option = <T extends TSchema>(schema: T) =>
    withDefaults ? schema : Type.Optional(schema);
  const value = (defaultValue: unknown) =>
    withDefaults ? { default: defaultValue } : {};
  return {
    maxAttempts: option(
      Type.Integer({
        minimum: 1,
        ...value(10),
        description: "attempts per event, the first included",
      }),
    ),
    initialDelay: option(
      withDefaults ? DurationSchema("1s") : DurationSchema(),
    ),
    maxDelay: option(withDefaults ? DurationSchema("5m") : DurationSchema()),
    multiplier: option(
      Type.Number({
        minimum: 1,
        ...value(2),
        description: "factor between the delay caps of consecutive retries",
      }),
    ),
    jitter: option(
      Type.Union([Type.Literal("full"), Type.Literal("none")], {
        ...value("full"),
        description:
          "full: wait a random time between 0 and the delay cap; none: wait the cap",
      }),
    ),
  };
}

/** The retry policy of the plugin, which every trigger inherits. */
export const RetrySchema = Type.Object(retryProperties(true), {
  default: {},
  additionalProperties: false,
});

/** A trigger's own retry settings, each overriding the plugin's. */
export const RetryOverrideSchema = Type.Object(retryProperties(false), {
  additionalProperties: false,
});

const OperationSchema = Type.Union([
  Type.Literal("INSERT"),
  Type.Literal("UPDATE"),
  Type.Literal("DELETE"),
]);

/** One trigger: which changes, and the action that runs for each. */
export const TriggerSchema = Type.Object(
  {
    name: Type.String({
      pattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$",
      description:
        "unique name: letters, digits, dot, underscore and dash; used in the API path, metrics and state keys",
    }),
    class: Type.Optional(Type.String({ minLength: 1 })),
    classes: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    ),
    on: Type.Array(OperationSchema, {
      minItems: 1,
      default: ["INSERT", "UPDATE", "DELETE"],
    }),
    where: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    action: Type.Object(
      {
        use: Type.String({
          minLength: 1,
          description:
            "name of the action, as the plugin that provides it registers it",
        }),
      },
      {
        additionalProperties: true,
        description:
          "use plus the action's own settings, checked against the action's schema",
      },
    ),
    enabled: Type.Boolean({
      default: true,
      description: "false keeps the trigger stopped; the API cannot enable it",
    }),
    startFrom: Type.Union([Type.Literal("latest"), Type.Literal("earliest")], {
      default: "latest",
      description:
        "where a trigger without a stored position starts reading: after the last change, or at the oldest change the log holds",
    }),
    maxInFlight: Type.Optional(Type.Integer({ minimum: 1 })),
    maxPending: Type.Optional(Type.Integer({ minimum: 1 })),
    disableAfterFailures: Type.Optional(Type.Integer({ minimum: 0 })),
    retry: Type.Optional(RetryOverrideSchema),
  },
  { additionalProperties: false },
);

/** Settings of the `@weft/triggers` plugin. */
export const TriggersConfigSchema = Type.Object(
  {
    concurrency: Type.Integer({
      minimum: 1,
      default: 64,
      description: "worker pool size: deliveries in flight across all triggers",
    }),
    maxInFlight: Type.Integer({
      minimum: 1,
      default: 16,
      description: "deliveries in flight per trigger",
    }),
    maxPending: Type.Integer({
      minimum: 1,
      default: 10_000,
      description:
        "events a trigger holds (queued or retrying) before it pauses reading",
    }),
    disableAfterFailures: Type.Integer({
      minimum: 0,
      default: 100,
      description:
        "consecutive failed attempts after which a trigger disables itself; 0 never disables",
    }),
    stopTimeout: DurationSchema("5s"),
    retry: RetrySchema,
    triggers: Type.Array(TriggerSchema, { default: [] }),
  },
  { additionalProperties: false },
);

export type TriggersConfig = Static<typeof TriggersConfigSchema>;
export type TriggerConfig = Static<typeof TriggerSchema>;

/** A retry policy in milliseconds. */
export interface RetryPolicy {
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  multiplier: number;
  jitter: "full" | "none";
}

/** A trigger with every inherited setting filled in and durations in milliseconds. */
export interface ResolvedTrigger {
  name: string;
  /** Config path, such as `plugins[1].triggers[0]`, for messages. */
  path: string;
  classes: string[] | undefined;
  on: ChangeOp[];
  where: Where | undefined;
  /** The action's name and its settings without `use`. */
  actionName: string;
  actionSettings: Record<string, unknown>;
  enabled: boolean;
  startFrom: "latest" | "earliest";
  maxInFlight: number;
  maxPending: number;
  disableAfterFailures: number;
  retry: RetryPolicy;
}

/**
 * Fills in inherited settings and checks what the schema cannot: unique
 * names, `class` and `classes` not both set, delays in order, and a pool
 * large enough to give every trigger one slot of its own.
 * @throws WeftError `WEFT_ERR_TRIGGERS_CONFIG_INVALID` naming the config path.
 */
export function resolveTriggers(
  config: TriggersConfig,
  basePath: string,
): ResolvedTrigger[] {
  const seen = new Map<string, string>();
  const triggers = config.triggers.map((trigger, i) => {
    const path = `${basePath}.triggers[${i}]`;
    const first = seen.get(trigger.name);
    if (first)
      invalid(
        `${path}.name`,
        `trigger name "${trigger.name}" is already used at ${first}; give each trigger its own name`,
      );
    seen.set(trigger.name, path);

    if (trigger.class !== undefined && trigger.classes !== undefined)
      invalid(path, "set either class or classes, not both");
    const { use, ...actionSettings } = trigger.action;
    return {
      name: trigger.name,
      path,
      classes: trigger.class !== undefined ? [trigger.class] : trigger.classes,
      on: [...new Set(trigger.on)],
      where: trigger.where,
      actionName: use,
      actionSettings,
      enabled: trigger.enabled,
      startFrom: trigger.startFrom,
      maxInFlight: trigger.maxInFlight ?? config.maxInFlight,
      maxPending: trigger.maxPending ?? config.maxPending,
      disableAfterFailures:
        trigger.disableAfterFailures ?? config.disableAfterFailures,
      retry: resolveRetry(
        { ...config.retry, ...definedOnly(trigger.retry ?? {}) },
        trigger.retry ? `${path}.retry` : `${basePath}.retry`,
      ),
    };
  });

  const enabled = triggers.filter((trigger) => trigger.enabled).length;
  if (enabled > config.concurrency) {
    invalid(
      `${basePath}.concurrency`,
      `concurrency ${config.concurrency} is lower than the ${enabled} enabled triggers; each trigger keeps one slot of the pool, so set concurrency to at least ${enabled}`,
    );
  }
  return triggers;
}

function resolveRetry(
  retry: Static<typeof RetrySchema>,
  path: string,
): RetryPolicy {
  const policy: RetryPolicy = {
    maxAttempts: retry.maxAttempts,
    initialDelayMs: parseDuration(retry.initialDelay, `${path}.initialDelay`),
    maxDelayMs: parseDuration(retry.maxDelay, `${path}.maxDelay`),
    multiplier: retry.multiplier,
    jitter: retry.jitter,
  };
  if (policy.initialDelayMs > policy.maxDelayMs) {
    invalid(
      `${path}.initialDelay`,
      `initialDelay (${policy.initialDelayMs} ms) is longer than maxDelay (${policy.maxDelayMs} ms); lower initialDelay or raise maxDelay`,
    );
  }
  return policy;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(value).filter(([, item]) => item !== undefined),
  ) as Partial<T>;
}

function invalid(path: string, message: string): never {
  throw triggersError(TriggersErrorCode.CONFIG_INVALID, `${path}: ${message}`, {
    details: { path },
  });
}
