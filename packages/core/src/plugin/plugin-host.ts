import type { TSchema, Static } from "@sinclair/typebox";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { ChangeFeed } from "../changes/change-feed.js";
import type { ChangeEvent } from "../changes/types.js";
import type { ClassDefinition } from "../classes/types.js";
import type { HostHooks } from "../hooks/hooks.js";
import type {
  RouteDefinition,
  UpgradeDefinition,
} from "../http/http-server.js";
import type { ChangeFilterSpec } from "../filter/change-filter.js";
import type { Predicate } from "../filter/compile-filter.js";
import type { Where } from "../filter/types.js";
import type { PluginState } from "../state/plugin-state.js";
import type { Store } from "../store/types.js";
import type { Vectorizer } from "../vectorizer/types.js";
import type {
  WriteOptions,
  WriteRequest,
  WriteResult,
} from "../write/types.js";

/** A plugin's readiness, as `/readyz` lists it. */
export type PluginStatus =
  "starting" | "ready" | "degraded" | "failed" | "stopping" | "stopped";

/** One delivery an action performs for a trigger. */
export interface ActionInvocation {
  trigger: string;
  event: ChangeEvent;
  /** 1 for the first attempt. */
  attempt: number;
  /** Stable across retries of the same event, usable as an idempotency key. */
  deliveryId: string;
  signal: AbortSignal;
}

/** The result of one attempt. */
export type ActionOutcome =
  | { ok: true; status?: number; detail?: string }
  | {
      ok: false;
      /** Whether a later attempt may succeed. */
      retryable: boolean;
      status?: number;
      message: string;
      /** The endpoint's requested wait before the next attempt, in milliseconds. */
      retryAfterMs?: number;
    };

/** A configured action, created once per trigger. */
export interface ActionHandler {
  execute(invocation: ActionInvocation): Promise<ActionOutcome>;
  close?(): Promise<void>;
}

/** An action capability: triggers look it up by name and create handlers from their `action` settings. */
export interface ActionDefinition<S extends TSchema = TSchema> {
  configSchema: S;
  create(
    config: Static<S>,
    context: { trigger: string; logger: Logger },
  ): ActionHandler;
}

/** Write-queue view for sources that pause under backpressure. */
export interface WriteQueue {
  readonly full: boolean;
  readonly pending: number;
  waitForCapacity(): Promise<void>;
}

/**
 * The host as one plugin sees it. Logs, metrics and state are bound to the
 * plugin; writes are attributed to it.
 */
export interface PluginHost {
  /** The plugin's name. */
  readonly name: string;
  readonly hooks: HostHooks;
  /** A pino child logger bound to `{ plugin }`. */
  readonly logger: Logger;
  /** The one prom-client registry behind `/metrics`. */
  readonly metrics: Registry;
  readonly classes: ReadonlyMap<string, ClassDefinition>;
  /** The change feed: `read(fromSeq)` yields history, then live events. */
  readonly changes: ChangeFeed;
  readonly writeQueue: WriteQueue;
  /** Whether the host is stopping. */
  readonly stopping: boolean;
  /** The HTTP server's URL once it listens. */
  readonly url: string | undefined;

  /** Writes one batch through hooks, validation and one store transaction. */
  write(
    requests: WriteRequest[],
    options?: WriteOptions,
  ): Promise<WriteResult[]>;
  /** The store, for reads. Available from the `init` hook on. */
  store(): Store;
  /** The durable state area of this plugin, or of another plugin by name. */
  state(plugin?: string): PluginState;

  provideStore(store: Store): void;
  provideVectorizer(name: string, vectorizer: Vectorizer): void;
  provideAction(name: string, action: ActionDefinition): void;
  vectorizer(name: string): Vectorizer;
  action(name: string): ActionDefinition;

  /** Reports readiness for `/readyz`. */
  setStatus(status: PluginStatus, details?: Record<string, unknown>): void;
  route(definition: Omit<RouteDefinition, "plugin">): void;
  upgrade(definition: Omit<UpgradeDefinition, "plugin">): void;
  /** Checks an `Authorization` value against the host's API keys; true when auth is off. */
  authenticate(authorization: string | undefined | null): boolean;

  compileFilter(where: Where | undefined, className?: string): Predicate;
  compileChangeFilter(
    spec: ChangeFilterSpec,
    path?: string,
  ): (event: ChangeEvent) => boolean;
}
