import {
  AsyncParallelHook,
  AsyncSeriesHook,
  AsyncSeriesWaterfallHook,
  HookMap,
} from "tapable";
import type { ChangeEvent } from "../changes/types.js";
import type { WriteBatch } from "../write/write-batch.js";
import type { WriteRequest } from "../write/types.js";

/** Context passed to `afterWrite` taps besides the events. */
export interface AfterWriteContext {
  txId: string;
  /** The plugin that wrote, or `http`. */
  origin: string;
}

/** The host's lifecycle hooks. */
export interface HostHooks {
  /** After every plugin registered, before the store opens. */
  init: AsyncSeriesHook<[]>;
  /** Store open and server listening; sources start consuming here. */
  start: AsyncSeriesHook<[]>;
  /**
   * Shutdown step one, before writes drain: sources stop fetching and finish
   * and commit their in-flight batch. Taps run in parallel, each with its own
   * deadline.
   */
  stopIntake: AsyncParallelHook<[]>;
  /** A batch before commit: transform, vectorize or reject items. */
  beforeWrite: AsyncSeriesWaterfallHook<[WriteBatch]>;
  /** Per-class `beforeWrite` taps; they run after the global ones. */
  beforeWriteFor: HookMap<AsyncSeriesWaterfallHook<[WriteBatch]>>;
  /** After commit, with the committed change events. A failing tap is logged and never fails the write. */
  afterWrite: AsyncSeriesHook<[ChangeEvent[], AfterWriteContext]>;
  /** A write failed as a whole, or items were rejected. */
  writeError: AsyncParallelHook<[Error, WriteRequest[]]>;
  /** Shutdown: taps run in reverse registration order, each with its own deadline. */
  stop: AsyncSeriesHook<[]>;
}

export function createHooks(): HostHooks {
  return {
    init: new AsyncSeriesHook([]),
    start: new AsyncSeriesHook([]),
    stopIntake: new AsyncParallelHook([]),
    beforeWrite: new AsyncSeriesWaterfallHook(["batch"]),
    beforeWriteFor: new HookMap(() => new AsyncSeriesWaterfallHook(["batch"])),
    afterWrite: new AsyncSeriesHook(["events", "context"]),
    writeError: new AsyncParallelHook(["error", "requests"]),
    stop: new AsyncSeriesHook([]),
  };
}
