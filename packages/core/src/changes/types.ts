/** The kind of a committed change. */
export type ChangeOp = "INSERT" | "UPDATE" | "DELETE";

/** Where a write came from. */
export interface ChangeOrigin {
  /** The plugin that wrote, or `http` for the object API. */
  plugin: string;
  stream?: string;
  position?: string;
}

export interface ChangeMetadata {
  user?: string;
  /** W3C trace context of the write, passed on to sinks. */
  traceparent?: string;
}

/**
 * One committed change: the single model CDC, subscriptions and triggers read.
 * `before` is the full previous object for updates and deletes, null for
 * inserts; `after` is null for deletes.
 */
export interface ChangeEvent {
  /** Starts at 1, grows by one per event, no gaps. */
  seq: number;
  op: ChangeOp;
  class: string;
  id: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  vector?: number[];
  /** Commit time, ISO-8601. */
  timestamp: string;
  txId: string;
  origin: ChangeOrigin;
  metadata: ChangeMetadata;
}
