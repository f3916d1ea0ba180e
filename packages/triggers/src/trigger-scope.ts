import type { PluginHost, PluginState } from "@weft/core";
import type { ResolvedTrigger } from "./config.js";
import type { TriggerMetrics } from "./metrics.js";
import type { RateLimitedLog } from "./rate-limited-log.js";
import type { TriggerKeys } from "./records.js";

/** The dependencies that every part of one trigger's runner shares: the host, the trigger's config, its state keys, metrics and logs. */
export interface TriggerScope {
  host: PluginHost;
  trigger: ResolvedTrigger;
  /** The plugin's state area. */
  state: PluginState;
  keys: TriggerKeys;
  metrics: TriggerMetrics;
  logger: PluginHost["logger"];
  /** Log for failures that can repeat many times a second. It writes at most one line per key and interval. */
  failureLog: RateLimitedLog;
}
